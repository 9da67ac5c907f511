//! The wire form of a service's storage: its persistent volume
//! (`storage`), its other named volumes (`volumes`), their access modes,
//! and its writable empty directories (`scratch`).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::amount::Bytes;
use super::decode::{Decode, Decoder};
use super::names::Name;
use super::null::{Clearable, is_none_word};
use super::record::{keyword_enum, record};
use super::service::one_of;
use super::yaml::{Node, NodeKind};

/// A writable empty directory: a path, or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum ScratchSpec {
    /// `/home/app/.cache`.
    Path(String),
    /// `{ path: /cache, memory: true, size: 256Mi }`.
    Detail(ScratchDetail),
}

impl ScratchSpec {
    /// The directory.
    pub fn path(&self) -> &str {
        match self {
            ScratchSpec::Path(path) => path,
            ScratchSpec::Detail(detail) => &detail.path.value,
        }
    }
}

impl Decode for ScratchSpec {
    const EXPECTED: &'static str = "an absolute path, or `{ path, memory, size }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => ScratchDetail::decode(node, d).map(ScratchSpec::Detail),
            _ => String::decode(node, d).map(ScratchSpec::Path),
        }
    }
}

record! {
    /// A writable empty directory written in full.
    pub struct ScratchDetail ("a scratch directory (`path`, `memory`, `size`)") {
        /// The directory.
        required path: String = "path",
        /// Whether it lives in memory (tmpfs), counted against the pod's
        /// memory; on the node's disk by default.
        optional memory: bool = "memory",
        /// The most it may hold; the pod is evicted past it.
        optional size: Bytes = "size",
    }
}

record! {
    /// A persistent volume written in full.
    pub struct VolumeSpec ("a volume (`size`, `class`, `mountPath`, `access`)") {
        /// Requested size.
        required size: Bytes = "size",
        /// StorageClass; the environment's or the default one when absent.
        optional class: String = "class",
        /// Where the volume is mounted; `/data` when absent.
        optional mount_path: String = "mountPath",
        /// How pods may mount it: `ReadWriteOnce` (the default), `ReadWriteMany`
        /// (one claim shared by every pod) or `ReadOnlyMany`.
        optional access: AccessMode = "access",
    }
}

record! {
    /// A persistent volume besides `storage`, named.
    pub struct NamedVolumeSpec ("a volume (`name`, `size`, `mountPath`, `class`, `access`)") {
        /// Its name, unique among the service's volumes (`data`, `tmp` and
        /// `config` are Strata's own).
        required name: Name = "name",
        /// Requested size.
        required size: Bytes = "size",
        /// Where it is mounted.
        required mount_path: String = "mountPath",
        /// StorageClass; the environment's or the default one when absent.
        optional class: String = "class",
        /// How pods may mount it, as `storage.access`.
        optional access: AccessMode = "access",
    }
}

keyword_enum! {
    /// How the pods of a service may mount its volume (a claim's access mode).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum AccessMode (an "access mode") {
        /// Read-write by the pods of one node.
        #[default]
        ReadWriteOnce = "ReadWriteOnce",
        /// Read-write by pods on any number of nodes (NFS, EFS, CephFS…).
        ReadWriteMany = "ReadWriteMany",
        /// Read-only by pods on any number of nodes.
        ReadOnlyMany = "ReadOnlyMany",
    }
}

impl AccessMode {
    /// Whether pods on several nodes can mount it at once.
    pub fn is_shared(self) -> bool {
        self != AccessMode::ReadWriteOnce
    }
}

/// A persistent volume: a bare size or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageSpec {
    /// `storage: 10Gi`.
    Size(Bytes),
    /// `storage: { size: 10Gi, class: fast-ssd, mountPath: /var/lib/data }`;
    /// boxed, as few services have storage.
    Volume(Box<VolumeSpec>),
    /// `storage: none` (or `~`): no volume, not even a blueprint's; the
    /// data lives as long as the pod.
    None,
}

impl Decode for StorageSpec {
    const EXPECTED: &'static str = "a size such as `10Gi`, `{ size, class, mountPath }` or `none`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            _ if is_none_word(&node) => Some(StorageSpec::None),
            NodeKind::Map(_) => {
                VolumeSpec::decode(node, d).map(|v| StorageSpec::Volume(Box::new(v)))
            }
            _ => Bytes::decode(node, d).map(StorageSpec::Size),
        }
    }
}

impl Clearable for StorageSpec {
    fn cleared() -> Self {
        StorageSpec::None
    }
}

impl JsonSchema for ScratchSpec {
    fn schema_name() -> Cow<'static, str> {
        "Scratch".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detail = generator.subschema_for::<ScratchDetail>();
        one_of(
            json_schema!({ "type": "string" }),
            detail,
            "An absolute path, or a directory with `memory` and `size`.",
        )
    }
}

impl JsonSchema for StorageSpec {
    fn schema_name() -> Cow<'static, str> {
        "Storage".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let size = generator.subschema_for::<Bytes>();
        let volume = generator.subschema_for::<VolumeSpec>();
        json_schema!({
            "description": "A volume size, a volume with class and mount path, or `none`.",
            "anyOf": [size, volume, { "const": "none" }],
        })
    }
}
