//! Persistent volumes, scratch directories and the StorageClasses a
//! platform declares.

use super::{Resolver, text};
use crate::diag::suggestion;
use crate::model::{Config, NamedVolume, Profile, Runtime, Scratch, StorageClass, Volume};
use crate::quantity::Quantity;
use crate::spec::Spanned;
use crate::spec::service::ServiceSpec;
use crate::spec::storage::{ScratchSpec, StorageSpec, VolumeSpec};

/// The names of the pod volumes Strata makes itself, which a sidecar mounts
/// by name: the `storage`, `/tmp`, the configuration and every `scratch`
/// directory. A `volumes` entry takes none of them.
pub(super) const POD_VOLUMES: [&str; 4] = ["data", "tmp", "config", "scratch"];

/// Where a volume is mounted when the spec does not say.
pub const DEFAULT_MOUNT_PATH: &str = "/data";

impl Resolver<'_> {
    pub(super) fn volume(
        &mut self,
        storage: &Spanned<StorageSpec>,
        default_class: Option<&Spanned<String>>,
    ) -> Option<Volume> {
        let env_class = self.environment.and_then(|e| e.storage_class.as_ref());
        let (size, class, mount_path, access) = match &storage.value {
            StorageSpec::None => return None,
            StorageSpec::Size(size) => (size.0, None, None, None),
            StorageSpec::Volume(v) => (
                v.size.value.0,
                v.class.as_ref(),
                v.mount_path.as_ref(),
                v.access.as_ref(),
            ),
        };
        let class = env_class.or(class).or(default_class);
        if let Some(access) = access
            && access.value.is_shared()
            && class.is_none()
        {
            // The default class of most clusters is block storage, which
            // cannot be mounted on several nodes: the claim would stay Pending.
            self.error(
                "missing-storage-class",
                format!("a {} volume needs a StorageClass", access.value.as_str()),
                access.span,
                "no class",
                "name a class whose provisioner shares volumes across nodes (NFS, EFS, CephFS…): `class: NAME`".into(),
            );
        }
        if size == Quantity::default() {
            self.error(
                "invalid-quantity",
                "a volume of size zero".into(),
                storage.span,
                "zero",
                "give the volume a size such as `10Gi`".into(),
            );
        }
        if let Some(path) = mount_path
            && !path.value.starts_with('/')
        {
            self.error(
                "invalid-path",
                format!("`{}` is not an absolute path", path.value),
                path.span,
                "relative path",
                format!("mount paths start with `/`: `/{}`", path.value),
            );
        }
        Some(Volume {
            size,
            class: class.map(|c| c.value.clone()),
            access: access.map_or_else(Default::default, |a| a.value),
            mount_path: mount_path
                .map_or_else(|| DEFAULT_MOUNT_PATH.to_string(), |p| p.value.clone()),
        })
    }

    /// The service's `volumes`: names unique and not Strata's own, mount
    /// paths apart from `storage`'s and each other's.
    pub(super) fn named_volumes(
        &mut self,
        spec: &ServiceSpec,
        storage: Option<&Volume>,
        default_class: Option<&Spanned<String>>,
    ) -> Vec<NamedVolume> {
        let mut out: Vec<NamedVolume> = Vec::new();
        for entry in spec.rare.volumes.iter().flat_map(|v| &v.value) {
            let named = &entry.value;
            let name = &named.name.value.0;
            if POD_VOLUMES.contains(&name.as_str()) || out.iter().any(|v| &v.name == name) {
                self.error(
                    "duplicate-volume",
                    format!("the service already has a volume called `{name}`"),
                    named.name.span,
                    "name taken",
                    "give the volume another name (`data`, `tmp`, `config` and `scratch` are Strata's own)"
                        .into(),
                );
                continue;
            }
            let storage_spec = Spanned {
                value: StorageSpec::Volume(Box::new(VolumeSpec {
                    size: named.size.clone(),
                    class: named.class.clone(),
                    mount_path: Some(named.mount_path.clone()),
                    access: named.access.clone(),
                })),
                span: entry.span,
            };
            let Some(volume) = self.volume(&storage_spec, default_class) else {
                continue;
            };
            let path = volume.mount_path.trim_end_matches('/');
            let clash = storage
                .into_iter()
                .chain(out.iter().map(|v| &v.volume))
                .any(|v| v.mount_path.trim_end_matches('/') == path);
            if clash {
                self.error(
                    "duplicate-mount",
                    format!("`{path}` is already mounted: it is another volume's `mountPath`"),
                    named.mount_path.span,
                    "mounted twice",
                    "choose another directory".into(),
                );
                continue;
            }
            out.push(NamedVolume {
                name: name.clone(),
                volume,
            });
        }
        out
    }

    /// The service's extra writable directories: absolute, and not a path
    /// something else is already mounted at.
    pub(super) fn scratch<'v>(
        &mut self,
        spec: &ServiceSpec,
        volumes: impl Iterator<Item = &'v Volume>,
        config: Option<&Config>,
        runtime: &Runtime,
    ) -> Vec<Scratch> {
        let mut taken: Vec<(&str, &str)> = Vec::new();
        if runtime.security.read_only_root && runtime.security.profile != Profile::Privileged {
            taken.push(("/tmp", "`/tmp`, which is always writable"));
        }
        for volume in volumes {
            taken.push((&volume.mount_path, "a volume's `mountPath`"));
        }
        if let Some(config) = config {
            taken.push((&config.mount_path, "the configuration's `mountPath`"));
        }
        let mut out: Vec<Scratch> = Vec::new();
        for entry in spec.rare.scratch.iter().flat_map(|s| &s.value) {
            let path = Spanned {
                value: entry.value.path().to_string(),
                span: match &entry.value {
                    ScratchSpec::Detail(detail) => detail.path.span,
                    ScratchSpec::Path(_) => entry.span,
                },
            };
            let text = path.value.trim_end_matches('/');
            if !path.value.starts_with('/') || text.is_empty() {
                self.error(
                    "invalid-path",
                    format!("`{}` is not an absolute directory", path.value),
                    path.span,
                    "not absolute",
                    "scratch directories are absolute paths such as `/home/app/.cache`".into(),
                );
                continue;
            }
            let clash = taken
                .iter()
                .find(|(p, _)| *p == text)
                .map(|(_, what)| (*what).to_string())
                .or_else(|| {
                    out.iter()
                        .any(|s| s.path == text)
                        .then(|| "another scratch directory".to_string())
                });
            if let Some(what) = clash {
                self.error(
                    "duplicate-mount",
                    format!("`{text}` is already mounted: it is {what}"),
                    path.span,
                    "mounted twice",
                    "remove this entry, or choose another directory".into(),
                );
                continue;
            }
            let detail = match &entry.value {
                ScratchSpec::Detail(detail) => Some(detail),
                ScratchSpec::Path(_) => None,
            };
            out.push(Scratch {
                path: text.to_string(),
                memory: detail
                    .and_then(|d| d.memory.as_ref())
                    .is_some_and(|m| m.value),
                size: detail.and_then(|d| d.size.as_ref()).map(|s| s.value.0),
            });
        }
        out
    }

    pub(super) fn storage_classes(&mut self) -> Vec<StorageClass> {
        let mut classes = Vec::new();
        for (name, spec) in self
            .spec
            .storage_classes
            .iter()
            .flat_map(|s| s.value.iter())
        {
            let spec = &spec.value;
            let mut keyword =
                |value: Option<&Spanned<String>>, choices: &[&str], default: &str, what: &str| {
                    let Some(value) = value else {
                        return default.to_string();
                    };
                    if !choices.contains(&value.value.as_str()) {
                        let help = suggestion(&value.value, choices, what);
                        self.error(
                            "unknown-value",
                            format!("`{}` is not a {what}", value.value),
                            value.span,
                            "unknown value",
                            help,
                        );
                    }
                    value.value.clone()
                };
            let reclaim_policy = keyword(
                spec.reclaim_policy.as_ref(),
                &["Retain", "Delete"],
                "Retain",
                "reclaim policy",
            );
            let volume_binding_mode = keyword(
                spec.volume_binding_mode.as_ref(),
                &["WaitForFirstConsumer", "Immediate"],
                "WaitForFirstConsumer",
                "volume binding mode",
            );
            classes.push(StorageClass {
                name: text(name),
                provisioner: spec.provisioner.value.clone(),
                parameters: spec
                    .parameters
                    .iter()
                    .flat_map(|p| p.value.iter())
                    .map(|(k, v)| (text(k), v.value.clone()))
                    .collect(),
                reclaim_policy,
                volume_binding_mode,
                allow_volume_expansion: spec
                    .allow_volume_expansion
                    .as_ref()
                    .is_none_or(|a| a.value),
                default: spec.default.as_ref().is_some_and(|d| d.value),
            });
        }
        classes
    }
}
