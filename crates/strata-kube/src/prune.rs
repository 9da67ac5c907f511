//! Removing objects safely, for prune, destroy and rollback: what is
//! removed, in which order, and what is never removed (claims holding
//! data, namespaces holding objects Strata did not create, CRDs still in
//! use).

use std::collections::BTreeSet;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::render::{Object, RenderedSet, kind_rank};
use tokio::time::Instant;

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::inventory::{self, PLATFORM_LABEL};
use crate::progress::{Event, Progress};
use crate::steps::SETUP_KINDS;

/// The objects of `previous` that `current` no longer renders, by kind,
/// namespace and name; claims are left out (they hold data).
pub fn candidates<'a>(previous: &'a RenderedSet, current: &RenderedSet) -> Vec<&'a Object> {
    fn key(o: &Object) -> (&str, &str, &str) {
        (o.kind(), o.namespace(), o.name())
    }
    let now: std::collections::HashSet<(&str, &str, &str)> =
        current.objects.iter().map(key).collect();
    previous
        .objects
        .iter()
        .filter(|o| !now.contains(&key(o)))
        .filter(|o| o.kind() != kind::PERSISTENT_VOLUME_CLAIM)
        .collect()
}

/// Deletion order: waves from last to first, within a wave what refers to
/// workloads before workloads before what they use; CRDs, then namespaces,
/// at the very end.
pub fn order(objects: &[ObjectToRemove]) -> Vec<Vec<ObjectToRemove>> {
    let mut groups: Vec<Vec<ObjectToRemove>> = Vec::new();
    let is_last = |o: &ObjectToRemove| SETUP_KINDS.contains(&o.id.kind.as_str());
    let waves: BTreeSet<usize> = objects
        .iter()
        .filter(|o| !is_last(o))
        .map(|o| o.wave)
        .collect();
    for wave in waves.into_iter().rev() {
        let mut group: Vec<ObjectToRemove> = objects
            .iter()
            .filter(|o| o.wave == wave && !is_last(o))
            .cloned()
            .collect();
        group.sort_by_key(|o| std::cmp::Reverse(kind_rank(&o.id.kind)));
        groups.push(group);
    }
    for kind in SETUP_KINDS {
        let group: Vec<ObjectToRemove> = objects
            .iter()
            .filter(|o| o.id.kind == kind)
            .cloned()
            .collect();
        if !group.is_empty() {
            groups.push(group);
        }
    }
    groups
}

/// One object to remove, with what the checks before removal need.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectToRemove {
    /// Which object.
    pub id: ObjectId,
    /// Its wave, for ordering.
    pub wave: usize,
    /// The object as rendered (a CRD's names are read from it).
    pub value: Value,
}

impl ObjectToRemove {
    /// From a rendered object.
    pub fn of(object: &Object) -> Self {
        ObjectToRemove {
            id: ObjectId::of(&object.value),
            wave: object.wave,
            value: object.value.clone(),
        }
    }
}

/// What a removal did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Removed {
    /// Deleted.
    pub deleted: Vec<ObjectId>,
    /// Left in place, and why.
    pub kept: Vec<(ObjectId, String)>,
}

/// Removal stopped.
#[derive(Debug, thiserror::Error)]
pub enum RemovalError {
    /// The cluster refused a deletion or a check.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Objects still exist when the timeout passed (finalizers, stuck pods).
    #[error("still being deleted after {}s: {}; check their finalizers, then run the command again", timeout.as_secs(), ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Timeout {
        /// How long was waited.
        timeout: Duration,
        /// What was still there.
        ids: Vec<ObjectId>,
    },
}

/// How [`remove`] behaves.
#[derive(Debug, Clone, Copy)]
pub struct RemovalOptions {
    /// Wait until each group is gone before the next.
    pub wait: bool,
    /// Longest wait for one group.
    pub timeout: Duration,
    /// Time between checks.
    pub poll: Duration,
    /// Deletions in flight at once.
    pub concurrency: usize,
}

/// Deletes `objects` of `platform` in [`order`], keeping namespaces that
/// hold claims or objects that are not the platform's, and CRDs whose kind
/// still has objects.
pub async fn remove(
    cluster: &Cluster,
    objects: &[ObjectToRemove],
    owner: &Owner<'_>,
    options: RemovalOptions,
    progress: &dyn Progress,
) -> Result<Removed, RemovalError> {
    let platform = owner.platform;
    let mut removed = Removed::default();
    // Cluster-scoped objects other platforms' revisions still hold are kept.
    let shared = if objects
        .iter()
        .any(|o| o.id.namespace.is_empty() && o.id.kind != kind::NAMESPACE)
    {
        match inventory::shared_holders(cluster, owner.platform, owner.environment).await {
            Ok(holders) => Some(holders),
            Err(inventory::InventoryError::Cluster(e)) => return Err(e.into()),
            // A damaged revision of another platform: nothing can be
            // known of what it holds, so nothing shared is deleted.
            Err(_) => None,
        }
    } else {
        Some(std::collections::BTreeMap::new())
    };
    // A namespace is searched for the kinds people create and for every kind
    // the platform itself puts there (custom resources included).
    let mut kinds: Vec<(String, String)> = NAMESPACE_CONTENTS
        .iter()
        .map(|(v, k)| ((*v).to_string(), (*k).to_string()))
        .collect();
    for object in objects {
        let kind = (object.id.api_version.clone(), object.id.kind.clone());
        if !object.id.namespace.is_empty() && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    for group in order(objects) {
        let mut deleting = Vec::new();
        for object in &group {
            let held = if object.id.namespace.is_empty() && object.id.kind != kind::NAMESPACE {
                match &shared {
                    Some(holders) => holders.get(&object.id).map(|who| {
                        format!("shared: {} still holds it", who.join(", "))
                    }),
                    None => Some(
                        "another platform's revision cannot be read, so whether it holds this is unknown".into(),
                    ),
                }
            } else {
                None
            };
            let reason = match held {
                Some(reason) => Some(reason),
                None => reason_to_keep(cluster, object, platform, &kinds).await?,
            };
            if let Some(reason) = reason {
                progress.event(Event::Kept {
                    id: object.id.clone(),
                    reason: reason.clone(),
                });
                removed.kept.push((object.id.clone(), reason));
            } else {
                deleting.push(object.id.clone());
            }
        }
        let results: Vec<Result<Option<ObjectId>, ClusterError>> = stream::iter(deleting)
            .map(|id| async move {
                match cluster.delete(&id).await {
                    Ok(true) => Ok(Some(id)),
                    // Already gone: nothing to wait for or report.
                    Ok(false) | Err(ClusterError::UnknownKind { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let mut deleting = Vec::new();
        for result in results {
            deleting.extend(result?);
        }
        if options.wait {
            wait_gone(cluster, &deleting, options).await?;
        }
        for id in deleting {
            progress.event(Event::Deleted { id: id.clone() });
            removed.deleted.push(id);
        }
    }
    Ok(removed)
}

async fn wait_gone(
    cluster: &Cluster,
    ids: &[ObjectId],
    options: RemovalOptions,
) -> Result<(), RemovalError> {
    let deadline = Instant::now() + options.timeout;
    let mut left: Vec<ObjectId> = ids.to_vec();
    loop {
        let mut still = Vec::new();
        for id in left {
            match cluster.get(&id).await {
                Ok(Some(_)) => still.push(id),
                Ok(None) | Err(ClusterError::UnknownKind { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(RemovalError::Timeout {
                timeout: options.timeout,
                ids: still,
            });
        }
        left = still;
        tokio::time::sleep(options.poll).await;
    }
}

/// The release removing objects: its own revisions do not keep them.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// The platform.
    pub platform: &'a str,
    /// Its environment, if any.
    pub environment: Option<&'a str>,
}

/// Kinds looked at in a namespace before deleting it: those people create.
const NAMESPACE_CONTENTS: &[(&str, &str)] = &[
    ("v1", kind::PERSISTENT_VOLUME_CLAIM),
    ("v1", kind::POD),
    ("apps/v1", kind::DEPLOYMENT),
    ("apps/v1", kind::STATEFUL_SET),
    ("apps/v1", kind::DAEMON_SET),
    ("batch/v1", kind::JOB),
    ("batch/v1", kind::CRON_JOB),
    ("v1", kind::SERVICE),
    ("v1", kind::CONFIG_MAP),
    ("v1", kind::SECRET),
    ("v1", kind::SERVICE_ACCOUNT),
    ("networking.k8s.io/v1", kind::INGRESS),
    ("networking.k8s.io/v1", kind::NETWORK_POLICY),
    ("rbac.authorization.k8s.io/v1", kind::ROLE),
    ("rbac.authorization.k8s.io/v1", kind::ROLE_BINDING),
    ("autoscaling/v2", kind::HORIZONTAL_POD_AUTOSCALER),
    ("policy/v1", kind::POD_DISRUPTION_BUDGET),
];

async fn reason_to_keep(
    cluster: &Cluster,
    object: &ObjectToRemove,
    platform: &str,
    kinds: &[(String, String)],
) -> Result<Option<String>, ClusterError> {
    match object.id.kind.as_str() {
        kind::NAMESPACE => {
            for (api_version, kind) in kinds {
                // A kind no longer served holds nothing; a cluster-scoped
                // one lists nothing in the namespace.
                let items = match cluster.list(api_version, kind, &object.id.name, "").await {
                    Ok(items) => items,
                    Err(ClusterError::UnknownKind { .. }) => continue,
                    Err(e) => return Err(e),
                };
                if kind == kind::PERSISTENT_VOLUME_CLAIM && !items.is_empty() {
                    return Ok(Some(format!(
                        "it holds {} PersistentVolumeClaim(s); deleting it would delete their data (destroy --delete-data removes them)",
                        items.len()
                    )));
                }
                if let Some(foreign) = items.iter().find(|i| is_foreign(i, platform)) {
                    return Ok(Some(format!(
                        "it holds {kind}/{}, which is not platform `{platform}`'s",
                        foreign["metadata"]["name"].as_str().unwrap_or("")
                    )));
                }
            }
            Ok(None)
        }
        kind::CUSTOM_RESOURCE_DEFINITION => {
            let spec = &object.value["spec"];
            let group = spec["group"].as_str().unwrap_or("");
            let kind = spec["names"]["kind"].as_str().unwrap_or("");
            let version = spec["versions"]
                .as_array()
                .and_then(|v| v.iter().find(|v| v["storage"] == true).or(v.first()))
                .and_then(|v| v["name"].as_str())
                .unwrap_or("v1");
            match cluster
                .list(&format!("{group}/{version}"), kind, "", "")
                .await
            {
                Ok(items) if !items.is_empty() => Ok(Some(format!(
                    "{} {kind} object(s) still exist; deleting the CRD would delete them",
                    items.len()
                ))),
                Ok(_) | Err(ClusterError::UnknownKind { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        }
        _ => Ok(None),
    }
}

/// True for an object that is not `platform`'s: neither labelled as one of
/// its objects (`app.kubernetes.io/part-of`, or `strata.dev/platform` on the
/// secrets and revisions `apply` writes), nor owned by another object, nor
/// being deleted, nor one the cluster itself puts in every namespace.
/// Another platform's objects, and raw manifests (which keep their own
/// labels), count as foreign: a namespace holding them is kept.
fn is_foreign(object: &Value, platform: &str) -> bool {
    let metadata = &object["metadata"];
    let owned = metadata["ownerReferences"]
        .as_array()
        .is_some_and(|o| !o.is_empty());
    let leaving = !metadata["deletionTimestamp"].is_null();
    let labels = &metadata["labels"];
    let ours =
        labels["app.kubernetes.io/part-of"] == platform || labels[PLATFORM_LABEL] == platform;
    !(is_cluster_made(object) || owned || leaving || ours)
}

/// Field managers of the cluster's own controllers: those that put
/// `kube-root-ca.crt`, the `default` ServiceAccount (Kubernetes),
/// `openshift-service-ca.crt` and the image-puller bindings (OpenShift) in
/// every namespace.
const CLUSTER_MANAGERS: &[&str] = &[
    "kube-controller-manager",
    "cluster-policy-controller",
    "openshift-controller-manager",
    "service-ca-operator",
    "k3s",
];

/// Objects the cluster itself made: every field manager is one of the
/// cluster's controllers, or a ServiceAccount token it minted. A server
/// that records no managers (before 1.18) is trusted for the two names
/// every namespace has.
fn is_cluster_made(object: &Value) -> bool {
    if object["type"] == "kubernetes.io/service-account-token" {
        return true;
    }
    match object["metadata"]["managedFields"].as_array() {
        Some(fields) if !fields.is_empty() => fields.iter().all(|f| {
            let manager = f["manager"].as_str().unwrap_or("");
            CLUSTER_MANAGERS.iter().any(|m| manager.starts_with(m))
        }),
        _ => matches!(
            (
                object["kind"].as_str().unwrap_or(""),
                object["metadata"]["name"].as_str().unwrap_or("")
            ),
            (kind::CONFIG_MAP, "kube-root-ca.crt") | (kind::SERVICE_ACCOUNT, "default")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::tests::{object, shop};
    use serde_json::json;

    #[test]
    fn candidates_are_what_is_no_longer_rendered_except_claims() {
        let previous = shop();
        let mut current = shop();
        current
            .objects
            .retain(|o| o.service.as_deref() != Some("api") && o.name() != "apps");
        let mut previous_with_claim = previous.clone();
        previous_with_claim.objects.push(object(
            3,
            Some("apps"),
            kind::PERSISTENT_VOLUME_CLAIM,
            "apps",
            "api-data",
        ));
        let keys: Vec<String> = candidates(&previous_with_claim, &current)
            .iter()
            .map(|o| o.key())
            .collect();
        assert_eq!(
            keys,
            [
                "Namespace//apps",
                "ServiceAccount/apps/api",
                "Deployment/apps/api"
            ]
        );
    }

    #[test]
    fn removal_goes_from_the_last_wave_down_with_namespaces_last() {
        let set = shop();
        let all: Vec<ObjectToRemove> = set.objects.iter().map(ObjectToRemove::of).collect();
        let groups: Vec<Vec<String>> = order(&all)
            .iter()
            .map(|g| g.iter().map(|o| o.id.to_string()).collect())
            .collect();
        assert_eq!(
            groups,
            vec![
                vec!["Deployment/apps/api", "ServiceAccount/apps/api"],
                vec![
                    "Cluster/data/pg",
                    "StatefulSet/data/db",
                    "ServiceAccount/data/db"
                ],
                vec!["Deployment/data/cnpg"],
                vec!["Secret/apps/shared", "Secret/data/creds"],
                vec!["CustomResourceDefinition/clusters.postgresql.cnpg.io"],
                vec!["Namespace/data", "Namespace/apps"],
            ]
        );
    }

    #[test]
    fn foreign_objects_are_those_that_are_not_the_platforms() {
        let mine = json!({"kind": kind::SERVICE, "metadata": {"name": "x", "labels": {"app.kubernetes.io/managed-by": "strata", "app.kubernetes.io/part-of": "shop"}}});
        let generated = json!({"kind": kind::SECRET, "metadata": {"name": "x", "labels": {"app.kubernetes.io/managed-by": "strata", "strata.dev/platform": "shop"}}});
        let pod = json!({"kind": kind::POD, "metadata": {"name": "x-1", "ownerReferences": [{"kind": kind::REPLICA_SET}]}});
        let root = json!({"kind": kind::CONFIG_MAP, "metadata": {"name": "kube-root-ca.crt", "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]}});
        let openshift_ca = json!({"kind": kind::CONFIG_MAP, "metadata": {"name": "openshift-service-ca.crt", "annotations": {"service.beta.openshift.io/inject-cabundle": "true"},
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}, {"manager": "service-ca-operator", "operation": "Update"}]}});
        let default_sa = json!({"kind": kind::SERVICE_ACCOUNT, "metadata": {"name": "default", "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]}});
        let old_server = json!({"kind": kind::SERVICE_ACCOUNT, "metadata": {"name": "default"}});
        // The names alone do not make an object the cluster's.
        let named_like_it = json!({"kind": kind::CONFIG_MAP, "metadata": {"name": "openshift-service-ca.crt", "managedFields": [{"manager": "kubectl-create", "operation": "Update"}]}});
        let edited = json!({"kind": kind::SERVICE_ACCOUNT, "metadata": {"name": "default", "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}, {"manager": "kubectl-edit", "operation": "Update"}]}});
        let leaving = json!({"kind": kind::CONFIG_MAP, "metadata": {"name": "x", "deletionTimestamp": "2026-11-30T12:00:00Z"}});
        let theirs = json!({"kind": kind::CONFIG_MAP, "metadata": {"name": "x", "managedFields": [{"manager": "kubectl-create"}]}});
        let other_platform = json!({"kind": kind::DEPLOYMENT, "metadata": {"name": "x", "labels": {"app.kubernetes.io/managed-by": "strata", "app.kubernetes.io/part-of": "blog"}, "managedFields": [{"manager": "strata", "operation": "Apply"}]}});
        let raw_manifest = json!({"kind": kind::DEPLOYMENT, "metadata": {"name": "operator", "managedFields": [{"manager": "strata", "operation": "Apply"}]}});
        for object in [
            &mine,
            &generated,
            &pod,
            &root,
            &openshift_ca,
            &default_sa,
            &old_server,
            &leaving,
        ] {
            assert!(!is_foreign(object, "shop"), "{object}");
        }
        for object in [
            &theirs,
            &other_platform,
            &raw_manifest,
            &named_like_it,
            &edited,
        ] {
            assert!(is_foreign(object, "shop"), "{object}");
        }
    }
}
