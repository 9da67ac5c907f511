//! Fields the API server refuses to change once an object exists: which
//! ones a new render changes, and the way out for each kind. Pure
//! judgements over the live object and the one applied.

use serde_json::Value;
use strata_core::kind;

use crate::cluster::ObjectId;

/// The fields of a StatefulSet's spec the API server lets change.
const STATEFUL_SET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// How to get past an immutable change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// A StatefulSet deleted with `--cascade=orphan` and created again: its
    /// pods and claims are kept and adopted by the new one (`--recreate`).
    RecreateKeepingPods,
    /// Commands to run before applying again, and what they cost.
    Commands {
        /// The commands, in order.
        commands: Vec<String>,
        /// What running them does beyond the change.
        cost: String,
    },
}

/// The fields `desired` changes in `live` that cannot change, as paths
/// (`spec.volumeClaimTemplates`); empty when none does. Fields `desired`
/// does not set, and values the server defaulted, are not changes.
pub fn forbidden_changes(live: &Value, desired: &Value) -> Vec<String> {
    let kind = desired["kind"].as_str().unwrap_or("");
    let spec_fields = |fields: &[&str]| -> Vec<String> {
        fields
            .iter()
            .filter(|f| !desired["spec"][**f].is_null())
            .filter(|f| !within(&desired["spec"][**f], &live["spec"][**f]))
            .map(|f| format!("spec.{f}"))
            .collect()
    };
    match kind {
        kind::STATEFUL_SET => desired["spec"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !STATEFUL_SET_MUTABLE.contains(&k.as_str()))
            .filter(|(k, v)| !within(v, &live["spec"][k.as_str()]))
            .map(|(k, _)| format!("spec.{k}"))
            .collect(),
        kind::DEPLOYMENT | kind::DAEMON_SET | kind::REPLICA_SET => spec_fields(&["selector"]),
        kind::JOB => spec_fields(&["selector", "template"]),
        kind::SERVICE => spec_fields(&["clusterIP"]),
        kind::PERSISTENT_VOLUME_CLAIM => spec_fields(&[
            "accessModes",
            "storageClassName",
            "volumeMode",
            "volumeName",
            "selector",
            "dataSource",
        ]),
        kind::STORAGE_CLASS => [
            "provisioner",
            "parameters",
            "reclaimPolicy",
            "volumeBindingMode",
        ]
        .iter()
        .filter(|f| !desired[**f].is_null() && !within(&desired[**f], &live[**f]))
        .map(|f| (*f).to_string())
        .collect(),
        kind::SECRET | kind::CONFIG_MAP => {
            let mut fields = Vec::new();
            if !desired["type"].is_null() && !within(&desired["type"], &live["type"]) {
                fields.push("type".to_string());
            }
            if live["immutable"] == true {
                for data in ["data", "binaryData", "stringData"] {
                    if !desired[data].is_null() && !within(&desired[data], &live[data]) {
                        fields.push(data.to_string());
                    }
                }
            }
            fields
        }
        _ => Vec::new(),
    }
}

/// True when every value `desired` sets is what `live` has (maps compared
/// key by key, lists item by item and of the same length).
pub(crate) fn within(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => d
            .iter()
            .all(|(k, v)| within(v, l.get(k).unwrap_or(&Value::Null))),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(d, l)| within(d, l))
        }
        (d, l) => d == l,
    }
}

/// The way past a change of `fields` in the object `id`.
pub fn remedy(id: &ObjectId, fields: &[String]) -> Remedy {
    let kind = id.kind.to_lowercase();
    let namespace = if id.namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {}", id.namespace)
    };
    let delete = |extra: &str| format!("kubectl delete {kind} {}{namespace}{extra}", id.name);
    match id.kind.as_str() {
        // Orphaned pods are adopted by a StatefulSet of the same selector.
        kind::STATEFUL_SET if !fields.iter().any(|f| f == "spec.selector") => {
            Remedy::RecreateKeepingPods
        }
        kind::PERSISTENT_VOLUME_CLAIM => Remedy::Commands {
            commands: vec![delete("")],
            cost: "deleting the claim deletes its volume's data unless its PersistentVolume is retained; back it up first".into(),
        },
        kind::STORAGE_CLASS => Remedy::Commands {
            commands: vec![delete("")],
            cost: "claims already bound keep their volumes; other platforms using the class get the new definition".into(),
        },
        _ => Remedy::Commands {
            commands: vec![delete("")],
            cost: "its pods, if any, are replaced by the new object's".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(templates: &Value, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": kind::STATEFUL_SET, "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                "template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
                "volumeClaimTemplates": templates}})
    }

    #[test]
    fn a_stateful_set_names_its_claim_templates_not_its_replicas() {
        let claim = |size: &str| json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}]);
        // The server adds defaults and a status: not changes.
        let mut live = sts(&claim("1Gi"), 1);
        live["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = json!("Filesystem");
        live["spec"]["volumeClaimTemplates"][0]["status"] = json!({"phase": "Pending"});
        live["spec"]["podManagementPolicy"] = json!("OrderedReady");
        assert!(forbidden_changes(&live, &sts(&claim("1Gi"), 3)).is_empty());
        assert_eq!(
            forbidden_changes(&live, &sts(&claim("5Gi"), 1)),
            ["spec.volumeClaimTemplates"]
        );
        let mut renamed = sts(&claim("1Gi"), 1);
        renamed["spec"]["serviceName"] = json!("db-headless");
        assert_eq!(forbidden_changes(&live, &renamed), ["spec.serviceName"]);
    }

    #[test]
    fn other_kinds_name_their_immutable_fields() {
        let deploy = |app: &str| json!({"kind": kind::DEPLOYMENT, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}}}});
        assert!(forbidden_changes(&deploy("api"), &deploy("api")).is_empty());
        assert_eq!(
            forbidden_changes(&deploy("api"), &deploy("web")),
            ["spec.selector"]
        );
        let class = |fs: &str| json!({"kind": kind::STORAGE_CLASS, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "fsType": fs}});
        assert_eq!(
            forbidden_changes(&class("ext4"), &class("xfs")),
            ["parameters"]
        );
        let claim = |class: &str, size: &str| json!({"kind": kind::PERSISTENT_VOLUME_CLAIM, "spec": {"storageClassName": class, "resources": {"requests": {"storage": size}}}});
        assert!(forbidden_changes(&claim("fast", "1Gi"), &claim("fast", "2Gi")).is_empty());
        assert_eq!(
            forbidden_changes(&claim("fast", "1Gi"), &claim("slow", "1Gi")),
            ["spec.storageClassName"]
        );
        let cm = |immutable: bool, v: &str| json!({"kind": kind::CONFIG_MAP, "immutable": immutable, "data": {"k": v}});
        assert!(forbidden_changes(&cm(false, "a"), &cm(false, "b")).is_empty());
        assert_eq!(forbidden_changes(&cm(true, "a"), &cm(true, "b")), ["data"]);
    }

    #[test]
    fn remedies_keep_pods_for_stateful_sets_and_give_commands_otherwise() {
        let id = |kind: &str, namespace: &str| ObjectId {
            api_version: String::new(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: "x".into(),
        };
        assert_eq!(
            remedy(
                &id(kind::STATEFUL_SET, "shop"),
                &["spec.volumeClaimTemplates".into()]
            ),
            Remedy::RecreateKeepingPods
        );
        assert!(matches!(
            remedy(&id(kind::STATEFUL_SET, "shop"), &["spec.selector".into()]),
            Remedy::Commands { commands, .. } if commands == ["kubectl delete statefulset x -n shop"]
        ));
        assert!(matches!(
            remedy(&id(kind::STORAGE_CLASS, ""), &["parameters".into()]),
            Remedy::Commands { commands, .. } if commands == ["kubectl delete storageclass x"]
        ));
        assert!(matches!(
            remedy(&id(kind::PERSISTENT_VOLUME_CLAIM, "shop"), &["spec.storageClassName".into()]),
            Remedy::Commands { cost, .. } if cost.contains("data")
        ));
    }
}
