//! `strata destroy`: every rendered object deleted, last wave first, each
//! wave gone before the next; claims and generated secrets (the data) kept
//! unless asked, namespaces kept while they hold either or anything Strata
//! did not create; the revisions forgotten.

use std::time::Duration;

use strata_core::kind;
use strata_core::render::RenderedSet;

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::inventory::{self, InventoryError, Release};
use crate::progress::{Event, Progress};
use crate::prune::{self, ObjectToRemove, RemovalError, RemovalOptions, Removed};

/// How destroy behaves.
#[derive(Debug, Clone, Copy)]
pub struct DestroyOptions {
    /// Also delete PersistentVolumeClaims (of claims and StatefulSets) and
    /// generated secrets.
    pub delete_data: bool,
    /// Longest wait for one wave to be gone.
    pub timeout: Duration,
    /// Time between checks.
    pub poll: Duration,
    /// Deletions in flight at once.
    pub concurrency: usize,
}

/// Why destroy stopped.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    /// A deletion failed or did not finish.
    #[error(transparent)]
    Removal(#[from] RemovalError),
    /// Revisions could not be read or deleted.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A claim lookup failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// What destroy removes, before any check against the cluster: every
/// rendered object except claims, plus with `delete_data` the rendered
/// claims and the generated secrets. Claims of StatefulSets are found live.
pub fn targets(set: &RenderedSet, delete_data: bool) -> (Vec<ObjectToRemove>, Vec<ObjectId>) {
    let mut remove = Vec::new();
    let mut kept = Vec::new();
    for object in &set.objects {
        let item = ObjectToRemove::of(object);
        if object.kind() == kind::PERSISTENT_VOLUME_CLAIM && !delete_data {
            kept.push(item.id);
        } else {
            remove.push(item);
        }
    }
    for secret in &set.generated_secrets {
        for namespace in &secret.namespaces {
            let id = ObjectId::secret(namespace, &secret.name);
            if delete_data {
                // A rendered Secret of the same name is already in the list.
                if !remove.iter().any(|o| o.id == id) {
                    remove.push(ObjectToRemove {
                        id,
                        wave: 0,
                        value: serde_json::Value::Null,
                    });
                }
            } else {
                kept.push(id);
            }
        }
    }
    (remove, kept)
}

/// Destroys `set`; see the module docs.
pub async fn destroy(
    cluster: &Cluster,
    set: &RenderedSet,
    release: &Release,
    options: DestroyOptions,
    progress: &dyn Progress,
) -> Result<Removed, DestroyError> {
    let (mut remove, kept) = targets(set, options.delete_data);
    if options.delete_data {
        remove.extend(stateful_claims(cluster, set).await?);
    }
    remove.retain(|o| !(o.id.kind == kind::SECRET && kept.contains(&o.id)));
    // Deleting a namespace deletes what is in it: one that holds a claim or
    // a generated secret destroy keeps is kept too.
    let holding: Vec<String> = kept.iter().map(|id| id.namespace.clone()).collect();
    let mut kept_namespaces = Vec::new();
    remove.retain(|o| {
        let holds = o.id.kind == kind::NAMESPACE && holding.contains(&o.id.name);
        if holds {
            kept_namespaces.push(o.id.clone());
        }
        !holds
    });
    progress.event(Event::Step {
        label: "destroy".into(),
        objects: remove.len(),
    });
    let mut removed = prune::remove(
        cluster,
        &remove,
        &prune::Owner {
            platform: &release.platform,
            environment: release.environment.as_deref(),
        },
        RemovalOptions {
            wait: true,
            timeout: options.timeout,
            poll: options.poll,
            concurrency: options.concurrency,
        },
        progress,
    )
    .await?;
    for id in kept_namespaces {
        let reason = "holds what destroy keeps (--delete-data removes it)";
        progress.event(Event::Kept {
            id: id.clone(),
            reason: reason.into(),
        });
        removed.kept.push((id, reason.into()));
    }
    for id in kept {
        let reason = if id.kind == kind::SECRET {
            "generated secret: its values are kept with the data (--delete-data removes it)"
        } else {
            "holds data (--delete-data removes it)"
        };
        progress.event(Event::Kept {
            id: id.clone(),
            reason: reason.into(),
        });
        removed.kept.push((id, reason.into()));
    }
    // Revisions live in a platform namespace: forget them before it goes,
    // or with it when it is kept.
    if removed
        .deleted
        .iter()
        .any(|id| id.kind == kind::NAMESPACE && id.name == release.namespace)
        || cluster
            .get(&ObjectId {
                api_version: "v1".into(),
                kind: kind::NAMESPACE.into(),
                namespace: String::new(),
                name: release.namespace.clone(),
            })
            .await?
            .is_some()
    {
        inventory::forget(cluster, release).await?;
    }
    Ok(removed)
}

/// The claims StatefulSets of `set` created from their templates.
async fn stateful_claims(
    cluster: &Cluster,
    set: &RenderedSet,
) -> Result<Vec<ObjectToRemove>, ClusterError> {
    let mut out = Vec::new();
    for object in set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::STATEFUL_SET)
    {
        let Some(selector) = crate::apply::pod_selector(&object.value) else {
            continue;
        };
        let id = ObjectId::of(&object.value);
        let namespace = cluster.namespace_of(&id).await?;
        let templates: Vec<&str> = object.value["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["metadata"]["name"].as_str())
            .collect();
        let claims = cluster
            .list("v1", kind::PERSISTENT_VOLUME_CLAIM, &namespace, &selector)
            .await?;
        for claim in claims {
            let claim_id = ObjectId::of(&claim);
            // `TEMPLATE-STATEFULSET-ORDINAL`, so another set's claims with
            // the same labels are never taken.
            let ours = templates.iter().any(|t| {
                claim_id
                    .name
                    .starts_with(&format!("{t}-{}-", object.name()))
            });
            if ours {
                out.push(ObjectToRemove {
                    id: ObjectId {
                        namespace: namespace.clone(),
                        ..claim_id
                    },
                    wave: object.wave,
                    value: claim,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::tests::{object, shop};
    use strata_core::render::GeneratedSecret;

    fn with_data() -> RenderedSet {
        let mut set = shop();
        set.objects.push(object(
            3,
            Some("apps"),
            kind::PERSISTENT_VOLUME_CLAIM,
            "apps",
            "api-data",
        ));
        set.generated_secrets.push(GeneratedSecret {
            name: "db".into(),
            namespaces: vec!["data".into()],
            keys: vec!["password".into()],
            secret_type: "Opaque".into(),
        });
        set
    }

    #[test]
    fn data_is_kept_unless_asked() {
        let (remove, kept) = targets(&with_data(), false);
        let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
        assert_eq!(
            kept,
            ["PersistentVolumeClaim/apps/api-data", "Secret/data/db"]
        );
        assert!(
            remove
                .iter()
                .all(|o| o.id.kind != kind::PERSISTENT_VOLUME_CLAIM)
        );
        assert_eq!(remove.len(), shop().objects.len());
    }

    #[test]
    fn delete_data_removes_claims_and_generated_secrets() {
        let (remove, kept) = targets(&with_data(), true);
        assert!(kept.is_empty());
        let ids: Vec<String> = remove.iter().map(|o| o.id.to_string()).collect();
        assert!(ids.contains(&"PersistentVolumeClaim/apps/api-data".to_string()));
        assert!(ids.contains(&"Secret/data/db".to_string()));
    }
}
