//! Kubernetes objects to draft services: each workload with the Services,
//! autoscalers, claims, ConfigMaps and routes that belong to it. Objects
//! that belong to none are kept verbatim, or listed with why not.

pub(crate) mod pod;
mod routes;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as core;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use strata_core::diag::Diagnostic;
use strata_core::source::SourceFile;

use crate::draft::{Draft, Kind, Loc};
use crate::yaml::{self, Doc};
use crate::{Fate, Options};

/// One object of the input.
#[derive(Debug, Clone)]
pub struct Object {
    /// Its file.
    pub file: SourceFile,
    /// Its document.
    pub doc: Doc,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, or the import's.
    pub namespace: String,
}

impl Object {
    /// Where the value at `path` was written.
    pub fn loc(&self, path: &[&str]) -> Loc {
        Loc {
            file: self.file.clone(),
            span: self.doc.span(path),
        }
    }

    /// `Kind/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The object, or the part at `path`, as a typed value.
    pub fn typed<T: DeserializeOwned>(&self, path: &[&str]) -> Option<T> {
        let mut value = &self.doc.value;
        for step in path {
            value = value.get(step)?;
        }
        serde_json::from_value(value.clone()).ok()
    }

    /// The value at `path`.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        let mut value = &self.doc.value;
        for step in path {
            value = value.get(step)?;
        }
        Some(value)
    }

    /// `metadata.labels`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.typed(&["metadata", "labels"]).unwrap_or_default()
    }
}

/// The namespace of objects that name none.
pub(crate) fn default_namespace(options: &Options) -> String {
    options
        .namespace
        .clone()
        .unwrap_or_else(|| options.platform.clone())
}

/// Reads the objects of `file` (a stream; `kind: List` is unpacked).
///
/// # Errors
/// The file is not YAML, or a document is not an object with `kind` and
/// `metadata.name`.
pub fn collect(file: &SourceFile, options: &Options) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let docs = yaml::documents(file).map_err(|d| vec![d])?;
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let mut pending: Vec<Doc> = docs;
    pending.reverse();
    while let Some(doc) = pending.pop() {
        let kind = doc
            .value
            .get("kind")
            .and_then(Value::as_str)
            .map(str::to_string);
        let name = doc
            .value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string);
        match (kind, name) {
            (Some(kind), _) if kind.ends_with("List") => {
                if let Some(items) = doc.node.get("items")
                    && let strata_core::spec::yaml::NodeKind::Seq(items) = &items.kind
                {
                    for node in items.iter().rev() {
                        pending.push(Doc {
                            value: node.to_json(),
                            node: node.clone(),
                        });
                    }
                }
            }
            (Some(kind), Some(name)) => {
                let namespace = doc
                    .value
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map_or_else(|| default_namespace(options), str::to_string);
                objects.push(Object {
                    file: file.clone(),
                    doc,
                    kind,
                    name,
                    namespace,
                });
            }
            _ => errors.push(
                Diagnostic::error(
                    "invalid-manifest",
                    "this document is not a Kubernetes object: it lacks `kind` or `metadata.name`",
                )
                .at(file, doc.node.span, "not an object")
                .help("import Kubernetes manifests (`--from kubernetes`), or a compose file with `--from compose`"),
            ),
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(errors)
    }
}

/// The kinds whose objects become services.
fn workload_kind(kind: &str) -> Option<Kind> {
    Some(match kind {
        "Deployment" => Kind::Stateless,
        "StatefulSet" => Kind::Stateful,
        "DaemonSet" => Kind::Daemon,
        "Job" => Kind::Job,
        "CronJob" => Kind::Cron,
        _ => return None,
    })
}

/// The objects of the input, by kind, for the workloads to look up.
pub(crate) struct Index<'a> {
    pub(crate) objects: &'a [Object],
    /// Indices of objects some service has taken in.
    pub(crate) used: BTreeSet<usize>,
}

impl<'a> Index<'a> {
    /// The object of `kind` named `name` in `namespace`, and its index.
    pub(crate) fn find(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<(usize, &'a Object)> {
        self.objects
            .iter()
            .enumerate()
            .find(|(_, o)| o.kind == kind && o.namespace == namespace && o.name == name)
    }

    /// Every object of `kind`.
    pub(crate) fn of_kind(&self, kind: &'a str) -> impl Iterator<Item = (usize, &'a Object)> + 'a {
        self.objects
            .iter()
            .enumerate()
            .filter(move |(_, o)| o.kind == kind)
    }
}

/// Turns `objects` into draft services, gateways and kept manifests.
pub fn build(objects: &[Object], options: &Options, draft: &mut Draft) {
    let mut index = Index {
        objects,
        used: BTreeSet::new(),
    };
    // Helm's test hooks run with `helm test`, not as part of the platform.
    for (i, object) in objects.iter().enumerate() {
        let hook = object
            .doc
            .value
            .pointer("/metadata/annotations/helm.sh~1hook")
            .and_then(Value::as_str);
        if hook.is_some_and(|h| h.split(',').any(|h| h.trim().starts_with("test"))) {
            index.used.insert(i);
            draft.note(
                &object.loc(&["metadata", "annotations"]),
                Fate::Dropped,
                object.id(),
                "a Helm test hook: `helm test` runs it, it is no part of the platform",
            );
        }
    }
    let mut pending = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        if index.used.contains(&i) {
            continue;
        }
        if let Some(kind) = workload_kind(&object.kind) {
            index.used.insert(i);
            let (service, rest) = pod::service(object, kind, &mut index, draft);
            pending.push((draft.services.len(), object, rest));
            draft.services.push(service);
        }
    }
    routes::services(&mut index, draft);
    for (at, object, rest) in pending {
        if let Some(rest) = rest {
            let mut service = draft.services[at].clone();
            pod::finish(object, &rest, draft, &mut service);
            draft.services[at] = service;
        }
    }
    routes::autoscalers(&mut index, draft);
    routes::disruption_budgets(&mut index, draft);
    routes::ingresses(&mut index, draft);
    routes::gateway_api(&mut index, draft);
    leftovers(&index, options, draft);
}

/// Objects no service took in: Namespaces become the spec's namespaces,
/// what Strata renders itself is listed, the rest is kept verbatim.
fn leftovers(index: &Index<'_>, options: &Options, draft: &mut Draft) {
    let service_accounts: BTreeSet<(String, String)> = draft
        .services
        .iter()
        .map(|s| (s.namespace.clone(), s.name.clone()))
        .collect();
    for (i, object) in index.objects.iter().enumerate() {
        if index.used.contains(&i) {
            continue;
        }
        let loc = object.loc(&[]);
        let id = object.id();
        match object.kind.as_str() {
            "Namespace" => {
                let labels: BTreeMap<String, String> = object
                    .labels()
                    .into_iter()
                    .filter(|(k, _)| !reserved_label(k) && k != "kubernetes.io/metadata.name")
                    .collect();
                draft.namespaces.insert(object.name.clone(), json!(labels));
            }
            "NetworkPolicy" => draft.note(
                &loc,
                Fate::Dropped,
                id,
                "Strata renders default-deny NetworkPolicies that allow exactly the calls of the spec; review the inferred `needs:` so that they allow what this policy did",
            ),
            "Secret" => {
                let keys = secret_keys(object);
                draft
                    .secrets
                    .entry(object.name.clone())
                    .or_default()
                    .extend(keys);
                draft.note(
                    &loc,
                    Fate::Dropped,
                    id,
                    "its values are not imported: the Secret must exist in the cluster (it does when Strata takes over a running platform), or declare it under `secrets:`",
                );
            }
            "ServiceAccount"
                if service_accounts.contains(&(object.namespace.clone(), object.name.clone()))
                    && object.at(&["secrets"]).is_none() =>
            {
                draft.note(
                    &loc,
                    Fate::Dropped,
                    id,
                    "Strata renders the service's ServiceAccount itself",
                );
            }
            _ => {
                let mut kept = object.doc.value.clone();
                if namespaced(&object.kind)
                    && kept.pointer("/metadata/namespace").is_none()
                    && let Some(meta) = kept.get_mut("metadata").and_then(Value::as_object_mut)
                {
                    meta.insert("namespace".into(), json!(default_namespace(options)));
                }
                draft.manifests.push(kept);
                draft.note(
                    &loc,
                    Fate::Manifest,
                    id,
                    format!(
                        "no spec key describes a {}: kept as it is under the `imported` tier's `manifests:`",
                        object.kind
                    ),
                );
            }
        }
    }
}

/// Whether objects of `kind` live in a namespace (the kinds Strata meets;
/// an unknown kind is taken as namespaced, as custom resources mostly are).
fn namespaced(kind: &str) -> bool {
    !matches!(
        kind,
        "Namespace"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "PersistentVolume"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "APIService"
            | "GatewayClass"
    )
}

/// The keys of a Secret object, never its values.
pub(crate) fn secret_keys(object: &Object) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for field in ["data", "stringData"] {
        if let Some(map) = object.at(&[field]).and_then(Value::as_object) {
            keys.extend(map.keys().cloned());
        }
    }
    keys
}

/// Label keys Strata sets itself, refused under `labels`/`podLabels`.
pub(crate) fn reserved_label(key: &str) -> bool {
    matches!(
        key,
        "app.kubernetes.io/name"
            | "app.kubernetes.io/instance"
            | "app.kubernetes.io/part-of"
            | "app.kubernetes.io/component"
            | "app.kubernetes.io/managed-by"
    ) || key.starts_with("strata.dev/")
        || key.starts_with("pod-security.kubernetes.io/")
}

/// A ConfigMap's entries, when the input has it.
pub(crate) fn config_map(
    index: &Index<'_>,
    namespace: &str,
    name: &str,
) -> Option<(usize, BTreeMap<String, String>)> {
    let (i, object) = index.find("ConfigMap", namespace, name)?;
    let map: core::ConfigMap = object.typed(&[])?;
    Some((i, map.data.unwrap_or_default()))
}
