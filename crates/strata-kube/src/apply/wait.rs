//! Waiting for a step: every object judged as the cluster reports it,
//! through one watch per kind and namespace, until all are ready, one
//! reports a failure it will not recover from, or the timeout passes. A
//! slow re-read of what is still pending (`ApplyOptions::resync`) is only
//! a safety net for a watch that went quiet without saying so.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::FutureExt;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::render::Object;
use tokio::time::Instant;

use super::{ApplyOptions, Cause};
use crate::cluster::{Change, Cluster, ClusterError, ObjectId};
use crate::progress::{Event, Progress};
use crate::readiness::{self, Readiness};

/// An object waited for: its service, why it is not ready yet, and how it
/// last looked.
struct Pending {
    service: Option<String>,
    reason: String,
    live: Option<Value>,
}

/// Waits for `objects` until all are ready, one fails, or the timeout
/// passes; on failure, why, with each object not ready and the reason.
/// Verdicts that arrive together are taken in the order of their ids, so
/// what is printed and which failure is reported do not depend on the
/// order the cluster's answers raced in.
pub(super) async fn wait(
    cluster: &Cluster,
    objects: &[&Object],
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<(), (Cause, Vec<(ObjectId, String)>)> {
    let started = Instant::now();
    let deadline = started + options.timeout;
    let mut pending: BTreeMap<ObjectId, Pending> = objects
        .iter()
        .map(|o| {
            (
                ObjectId::of(&o.value),
                Pending {
                    service: o.service.clone(),
                    reason: "not checked yet".to_string(),
                    live: None,
                },
            )
        })
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let mut watches = Vec::new();
    let mut watched = BTreeSet::new();
    for id in pending.keys() {
        let kind = cluster.kind(id).await.map_err(|e| refused(e, &pending))?;
        let namespace = cluster
            .namespace_of(id)
            .await
            .map_err(|e| refused(e, &pending))?;
        if watched.insert((id.api_version.clone(), id.kind.clone(), namespace.clone())) {
            watches.push(cluster.watch(&id.api_version, &kind, &namespace).boxed());
        }
    }
    let mut changes = stream::select_all(watches);
    let mut judge = Judge {
        cluster,
        options,
        started,
        classes: HashMap::new(),
    };
    let mut resync = started + options.resync;
    let grace = started + options.operator_grace;
    let mut grace_passed = false;
    loop {
        let mut seen: Vec<(ObjectId, Option<Value>)> = Vec::new();
        tokio::select! {
            change = changes.next() => {
                // What else has arrived with it is taken in the same round.
                let mut next = change;
                while let Some(change) = next {
                    match change {
                        Ok(Change::Present(live)) => seen.push((ObjectId::of(&live), Some(live))),
                        Ok(Change::Gone(id)) => seen.push((id, None)),
                        Err(e) => return Err(refused(e, &pending)),
                    }
                    next = changes.next().now_or_never().flatten();
                }
            }
            () = tokio::time::sleep_until(resync) => {
                resync = Instant::now() + options.resync;
                for id in pending.keys() {
                    match cluster.get(id).await {
                        Ok(live) => seen.push((id.clone(), live)),
                        Err(e) => return Err(refused(e, &pending)),
                    }
                }
            }
            () = tokio::time::sleep_until(grace), if !grace_passed => {
                // Custom resources still without status are judged again
                // now that their operator had its time.
                grace_passed = true;
                seen.extend(pending.iter().map(|(id, p)| (id.clone(), p.live.clone())));
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err((Cause::Timeout(options.timeout), reasons(&pending)));
            }
        }
        // Only the latest of each object counts, in the order of the ids.
        let latest: BTreeMap<ObjectId, Option<Value>> = seen
            .into_iter()
            .filter(|(id, _)| pending.contains_key(id))
            .collect();
        for (id, live) in latest {
            let verdict = match &live {
                Some(live) => judge.verdict(live).await,
                None => Readiness::Progressing("not found".into()),
            };
            let Some(entry) = pending.get_mut(&id) else {
                continue;
            };
            entry.live = live;
            match verdict {
                Readiness::Ready => {
                    progress.event(Event::Ready {
                        id: id.clone(),
                        service: entry.service.clone(),
                    });
                    pending.remove(&id);
                }
                Readiness::Progressing(reason) => {
                    if entry.reason != reason {
                        progress.event(Event::Waiting {
                            id: id.clone(),
                            service: entry.service.clone(),
                            reason: reason.clone(),
                        });
                        entry.reason = reason;
                    }
                }
                Readiness::Failed(reason) => {
                    let mut not_ready = reasons(&pending);
                    for entry in &mut not_ready {
                        if entry.0 == id {
                            entry.1.clone_from(&reason);
                        }
                    }
                    return Err((Cause::Failed { id, reason }, not_ready));
                }
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
    }
}

/// A refusal while waiting, with what was still pending.
fn refused(
    error: ClusterError,
    pending: &BTreeMap<ObjectId, Pending>,
) -> (Cause, Vec<(ObjectId, String)>) {
    (Cause::Refused(error), reasons(pending))
}

/// Judges live objects for one wait, remembering storage classes read.
struct Judge<'a> {
    cluster: &'a Cluster,
    options: &'a ApplyOptions,
    started: Instant,
    /// Whether each storage class (by name; empty for the default) binds
    /// claims only for their first consumer.
    classes: HashMap<String, bool>,
}

impl Judge<'_> {
    /// What `live` says of itself, with what the cluster around it says:
    /// a custom resource without status past the grace period has no
    /// operator, and a pending claim waiting for its first consumer is as
    /// ready as it gets.
    async fn verdict(&mut self, live: &Value) -> Readiness {
        if readiness::unreconciled(live) && self.started.elapsed() >= self.options.operator_grace {
            return Readiness::Failed(operator_silent(live, self.options));
        }
        match readiness::judge(live) {
            Readiness::Progressing(_)
                if live["kind"] == kind::PERSISTENT_VOLUME_CLAIM
                    && live["status"]["phase"] == "Pending"
                    && self.waits_for_first_consumer(live).await =>
            {
                Readiness::Ready
            }
            verdict => verdict,
        }
    }

    async fn waits_for_first_consumer(&mut self, claim: &Value) -> bool {
        let class = claim["spec"]["storageClassName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if let Some(&known) = self.classes.get(&class) {
            return known;
        }
        let answer = waits_for_first_consumer(self.cluster, claim).await;
        self.classes.insert(class, answer);
        answer
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

fn reasons(pending: &BTreeMap<ObjectId, Pending>) -> Vec<(ObjectId, String)> {
    pending
        .iter()
        .map(|(id, p)| (id.clone(), p.reason.clone()))
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
