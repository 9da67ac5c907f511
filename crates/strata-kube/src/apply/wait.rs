//! Waiting for a step: every object polled until all are ready, one
//! reports a failure it will not recover from, or the timeout passes.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::render::Object;
use tokio::time::Instant;

use super::{ApplyOptions, Cause};
use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::progress::{Event, Progress};
use crate::readiness::{self, Readiness};

/// Polls `objects` until all are ready, one fails, or the timeout passes;
/// on failure, why, with each object not ready and the reason.
pub(super) async fn wait(
    cluster: &Cluster,
    objects: &[&Object],
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<(), (Cause, Vec<(ObjectId, String)>)> {
    let started = Instant::now();
    let deadline = started + options.timeout;
    let mut pending: BTreeMap<ObjectId, (Option<String>, String)> = objects
        .iter()
        .map(|o| {
            (
                ObjectId::of(&o.value),
                (o.service.clone(), "not checked yet".to_string()),
            )
        })
        .collect();
    loop {
        let ids: Vec<ObjectId> = pending.keys().cloned().collect();
        let verdicts: Vec<(ObjectId, Result<Readiness, ClusterError>)> = stream::iter(ids)
            .map(|id| async move {
                let verdict = match cluster.get(&id).await {
                    Ok(Some(live))
                        if readiness::unreconciled(&live)
                            && started.elapsed() >= options.operator_grace =>
                    {
                        Ok(Readiness::Failed(operator_silent(&live, options)))
                    }
                    Ok(Some(live)) => match readiness::judge(&live) {
                        Readiness::Progressing(_)
                            if live["kind"] == kind::PERSISTENT_VOLUME_CLAIM
                                && live["status"]["phase"] == "Pending"
                                && waits_for_first_consumer(cluster, &live).await =>
                        {
                            Ok(Readiness::Ready)
                        }
                        verdict => Ok(verdict),
                    },
                    Ok(None) => Ok(Readiness::Progressing("not found".into())),
                    Err(e) => Err(e),
                };
                (id, verdict)
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        for (id, verdict) in verdicts {
            let Some((service, last)) = pending.get_mut(&id) else {
                continue;
            };
            match verdict {
                Ok(Readiness::Ready) => {
                    progress.event(Event::Ready {
                        id: id.clone(),
                        service: service.clone(),
                    });
                    pending.remove(&id);
                }
                Ok(Readiness::Progressing(reason)) => {
                    if *last != reason {
                        progress.event(Event::Waiting {
                            id: id.clone(),
                            service: service.clone(),
                            reason: reason.clone(),
                        });
                        *last = reason;
                    }
                }
                Ok(Readiness::Failed(reason)) => {
                    let mut not_ready = reasons(&pending);
                    for entry in &mut not_ready {
                        if entry.0 == id {
                            entry.1.clone_from(&reason);
                        }
                    }
                    return Err((Cause::Failed { id, reason }, not_ready));
                }
                Err(e) => return Err((Cause::Refused(e), reasons(&pending))),
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err((Cause::Timeout(options.timeout), reasons(&pending)));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Why a custom resource still without status after the grace period is
/// not waited for any longer.
fn operator_silent(live: &Value, options: &ApplyOptions) -> String {
    let operator = readiness::operator_of(
        live["apiVersion"].as_str().unwrap_or(""),
        live["kind"].as_str().unwrap_or(""),
    )
    .unwrap_or("its operator");
    let namespace = live["metadata"]["namespace"].as_str().unwrap_or("");
    format!(
        "no status after {}s: its operator `{operator}` is not running{}; install it (see `operators:` in the spec) or check its logs",
        options.operator_grace.as_secs(),
        if namespace.is_empty() {
            String::new()
        } else {
            format!(" or does not watch namespace `{namespace}`")
        }
    )
}

fn reasons(pending: &BTreeMap<ObjectId, (Option<String>, String)>) -> Vec<(ObjectId, String)> {
    pending
        .iter()
        .map(|(id, (_, reason))| (id.clone(), reason.clone()))
        .collect()
}

/// Whether a pending claim's class binds it only when its first pod is
/// scheduled (`WaitForFirstConsumer`, the default of most clusters): such a
/// claim is as ready as it gets until a pod uses it, which may be never
/// (no replicas, a CronJob). A class that cannot be read counts as not.
async fn waits_for_first_consumer(cluster: &Cluster, claim: &Value) -> bool {
    let class = match claim["spec"]["storageClassName"].as_str() {
        Some(name) => cluster
            .get(&ObjectId {
                api_version: "storage.k8s.io/v1".into(),
                kind: kind::STORAGE_CLASS.into(),
                namespace: String::new(),
                name: name.into(),
            })
            .await
            .ok()
            .flatten(),
        None => cluster
            .list("storage.k8s.io/v1", kind::STORAGE_CLASS, "", "")
            .await
            .ok()
            .and_then(|classes| {
                classes.into_iter().find(|c| {
                    c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                        == "true"
                })
            }),
    };
    class.is_some_and(|c| c["volumeBindingMode"] == "WaitForFirstConsumer")
}
