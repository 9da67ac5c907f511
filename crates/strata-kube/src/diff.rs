//! `strata diff`: what an apply would change. The desired object is the
//! server's own answer to a dry-run apply, so defaults and other managers'
//! fields are on both sides; fields the server maintains are removed, and
//! Secret values are never printed.

use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};
use similar::TextDiff;
use strata_core::export::yaml;
use strata_core::kind;
use strata_core::render::Object;

use crate::cluster::{Cluster, ClusterError, ObjectId};

/// Metadata the server maintains.
const SERVER_METADATA: [&str; 6] = [
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// Annotations controllers and kubectl write.
const SERVER_ANNOTATIONS: [&str; 3] = [
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
    "deprecated.daemonset.template.generation",
];

/// How an object would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Changed.
    Changed,
    /// Pruned: in the last revision, no longer rendered.
    Removed,
}

/// One object's difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The object.
    pub id: ObjectId,
    /// Added, changed or removed.
    pub kind: ChangeKind,
    /// A unified diff of the YAML, live (`-`) to desired (`+`).
    pub diff: String,
    /// Fields another field manager owns, which `apply` would refuse to
    /// take without `--force-conflicts` (the diff shows them taken).
    pub conflicts: Vec<crate::cluster::FieldConflict>,
}

/// The object without what the server maintains: status, server metadata,
/// controller annotations; Secret values replaced by a fingerprint.
pub fn normalize(value: &Value) -> Value {
    let mut out = value.clone();
    if let Some(object) = out.as_object_mut() {
        object.remove("status");
    }
    if let Some(metadata) = out["metadata"].as_object_mut() {
        for key in SERVER_METADATA {
            metadata.remove(key);
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            for key in SERVER_ANNOTATIONS {
                annotations.remove(key);
            }
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    if out["kind"] == kind::SECRET {
        redact(&mut out);
    }
    out
}

/// Replaces each Secret value by its length and a fingerprint, so a change
/// shows without the value.
fn redact(secret: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(values) = secret[field].as_object_mut() {
            let redacted: Map<String, Value> = values
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().unwrap_or("");
                    (
                        k.clone(),
                        Value::from(format!(
                            "(redacted, {} bytes, fingerprint {:016x})",
                            text.len(),
                            fingerprint(text)
                        )),
                    )
                })
                .collect();
            *values = redacted;
        }
    }
}

/// FNV-1a: enough to tell two values apart, not to recover one.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A unified diff from `live` to `desired` (either absent), or `None`
/// when they are equal after normalising.
pub fn unified(id: &ObjectId, live: Option<&Value>, desired: Option<&Value>) -> Option<String> {
    let text = |v: Option<&Value>| v.map(|v| yaml(&normalize(v))).unwrap_or_default();
    let (before, after) = (text(live), text(desired));
    if before == after {
        return None;
    }
    let label = id.to_string();
    Some(
        TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("live/{label}"), &format!("desired/{label}"))
            .to_string(),
    )
}

/// The changes applying `objects` would make, plus removals of `pruned`.
pub async fn diff(
    cluster: &Cluster,
    objects: &[&Object],
    pruned: &[&Object],
    concurrency: usize,
) -> Result<Vec<Change>, ClusterError> {
    let results: Vec<Result<Option<Change>, ClusterError>> = stream::iter(objects)
        .map(|object| change(cluster, object))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut changes = Vec::new();
    for result in results {
        changes.extend(result?);
    }
    for object in pruned {
        let id = ObjectId::of(&object.value);
        let live = match cluster.get(&id).await {
            Ok(live) => live,
            Err(ClusterError::UnknownKind { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(live) = live
            && let Some(diff) = unified(&id, Some(&live), None)
        {
            changes.push(Change {
                id,
                kind: ChangeKind::Removed,
                diff,
                conflicts: Vec::new(),
            });
        }
    }
    Ok(changes)
}

async fn change(cluster: &Cluster, object: &Object) -> Result<Option<Change>, ClusterError> {
    let id = ObjectId::of(&object.value);
    let live = match cluster.get(&id).await {
        Ok(live) => live,
        Err(ClusterError::UnknownKind { .. }) => None,
        Err(e) => return Err(e),
    };
    // Unforced first, as `apply` would: a conflict is reported, then the
    // forced dry run shows what taking the fields would change.
    let mut conflicts = Vec::new();
    let attempt = match cluster.apply(&object.value, false, true).await {
        Err(ClusterError::Conflict {
            conflicts: found, ..
        }) => {
            conflicts = found;
            cluster.apply(&object.value, true, true).await
        }
        other => other,
    };
    let desired = match attempt {
        Ok(desired) => desired,
        Err(e) if e.is_not_found() => object.value.clone(),
        Err(ClusterError::UnknownKind { .. }) => object.value.clone(),
        Err(e) => return Err(e),
    };
    let kind = if live.is_some() {
        ChangeKind::Changed
    } else {
        ChangeKind::Added
    };
    Ok(
        unified(&id, live.as_ref(), Some(&desired)).map(|diff| Change {
            id,
            kind,
            diff,
            conflicts,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> ObjectId {
        ObjectId::of(
            &json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}}),
        )
    }

    #[test]
    fn server_noise_does_not_make_a_difference() {
        let desired = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}, "spec": {"replicas": 2}});
        let live = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT,
            "metadata": {"name": "api", "namespace": "shop", "uid": "u1", "resourceVersion": "42", "generation": 3,
                "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "strata"}],
                "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {"replicas": 2}, "status": {"readyReplicas": 2}});
        assert_eq!(unified(&id(), Some(&live), Some(&desired)), None);
    }

    #[test]
    fn a_changed_field_is_a_unified_diff() {
        let live = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}, "spec": {"replicas": 2}});
        let desired = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}, "spec": {"replicas": 3}});
        let diff = unified(&id(), Some(&live), Some(&desired)).unwrap();
        assert!(
            diff.starts_with("--- live/Deployment/shop/api\n+++ desired/Deployment/shop/api\n"),
            "{diff}"
        );
        assert!(diff.contains("-  replicas: 2\n"), "{diff}");
        assert!(diff.contains("+  replicas: 3\n"), "{diff}");
    }

    #[test]
    fn an_added_object_is_all_plus_lines() {
        let desired =
            json!({"apiVersion": "v1", "kind": kind::CONFIG_MAP, "metadata": {"name": "c"}});
        let diff = unified(&id(), None, Some(&desired)).unwrap();
        assert!(diff.lines().skip(3).all(|l| l.starts_with('+')), "{diff}");
    }

    #[test]
    fn secret_values_never_appear() {
        let live = json!({"apiVersion": "v1", "kind": kind::SECRET, "metadata": {"name": "s"}, "data": {"password": "aHVudGVyMg=="}});
        let desired = json!({"apiVersion": "v1", "kind": kind::SECRET, "metadata": {"name": "s"}, "data": {"password": "c2VjcmV0"}});
        let diff = unified(&id(), Some(&live), Some(&desired)).unwrap();
        assert!(
            !diff.contains("aHVudGVyMg==") && !diff.contains("c2VjcmV0"),
            "{diff}"
        );
        assert!(diff.contains("redacted, 12 bytes"), "{diff}");
        let same = unified(&id(), Some(&live), Some(&live));
        assert_eq!(same, None);
    }
}
