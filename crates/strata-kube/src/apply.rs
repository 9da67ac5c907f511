//! The wave engine: server-side apply step by step, each step waited for
//! until its workloads are ready, generated secrets created once, then a
//! revision recorded and what is no longer rendered pruned.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::stream::{self, StreamExt};
use serde_json::{Value, json};
use strata_core::kind;
use strata_core::render::{GeneratedSecret, Object, PullSecret, RenderedSet};
use tokio::time::Instant;

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::inventory::{self, InventoryError, PLATFORM_LABEL, Release};
use crate::progress::{Event, Progress};
use crate::prune::{self, ObjectToRemove, RemovalError, RemovalOptions, Removed};
use crate::readiness::{self, Readiness};
use crate::steps::{self, Selection, StepKind, UnknownName, group_of};

/// How an apply behaves.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `--only` / `--skip`.
    pub selection: Selection,
    /// Take over fields other managers own.
    pub force_conflicts: bool,
    /// Ask the server to validate only: nothing is written or waited for.
    pub dry_run: bool,
    /// When a step fails, re-apply the previous revision.
    pub atomic: bool,
    /// Longest wait for one step to become ready.
    pub timeout: Duration,
    /// Time between readiness checks.
    pub poll: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            selection: Selection::default(),
            force_conflicts: false,
            dry_run: false,
            atomic: false,
            timeout: Duration::from_secs(300),
            poll: Duration::from_secs(2),
            concurrency: 8,
        }
    }
}

/// A successful apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The revision recorded (none for a dry run).
    pub revision: Option<u32>,
    /// Every object applied, in order.
    pub applied: Vec<ObjectId>,
    /// Generated secrets created or completed.
    pub secrets: Vec<ObjectId>,
    /// What prune deleted and kept.
    pub pruned: Removed,
    /// Things a dry run could not check, and similar remarks.
    pub notes: Vec<String>,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// The server refused an object (conflict, invalid, forbidden…).
    #[error(transparent)]
    Refused(ClusterError),
    /// Objects were not ready when the step's timeout passed.
    #[error("not ready after {}s", .0.as_secs())]
    Timeout(Duration),
    /// Registry pull secrets the pods name do not exist in their namespaces;
    /// nothing of the waves was applied.
    #[error("{}", missing_pull_secrets(.0))]
    PullSecretsMissing(Vec<MissingPullSecret>),
    /// An object reported a failure it will not recover from.
    #[error("{id} failed: {reason}")]
    Failed {
        /// The object.
        id: ObjectId,
        /// What it reported.
        reason: String,
    },
}

/// A registry pull secret missing from a namespace whose pods need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPullSecret {
    /// The Secret's name.
    pub name: String,
    /// The namespace it is missing from.
    pub namespace: String,
    /// The registries whose credentials it should hold.
    pub registries: Vec<String>,
}

/// One line naming every missing pull secret, then how to create each.
fn missing_pull_secrets(missing: &[MissingPullSecret]) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|m| format!("`{}` in `{}`", m.name, m.namespace))
        .collect();
    let mut text = format!(
        "registry pull secrets are missing: {}; Strata does not create them, they hold registry credentials. Create each, then apply again:",
        names.join(", ")
    );
    for m in missing {
        let server = m.registries.first().map_or("REGISTRY", String::as_str);
        text.push_str(&format!(
            "\n  kubectl create secret docker-registry {} --docker-server={server} --docker-username=USER --docker-password=PASSWORD -n {}",
            m.name, m.namespace
        ));
    }
    text
}

/// A pod of a workload that is not ready, with what Kubernetes says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodReport {
    /// `namespace/name`.
    pub pod: String,
    /// Container states and pod conditions that explain it.
    pub problems: Vec<String>,
    /// Its latest events, `Reason: message`.
    pub events: Vec<String>,
}

/// A failed apply: where it stopped, what is and is not applied, and why.
#[derive(Debug)]
pub struct Failure {
    /// `setup` or `wave N`.
    pub step: String,
    /// What went wrong.
    pub cause: Cause,
    /// Objects applied before it stopped.
    pub applied: Vec<ObjectId>,
    /// Objects of the selection not applied.
    pub not_applied: Vec<ObjectId>,
    /// Objects of the failed step not ready, with the reason.
    pub not_ready: Vec<(ObjectId, String)>,
    /// Pods of those objects that are not ready.
    pub pods: Vec<PodReport>,
    /// With `--atomic`: what the rollback did.
    pub rollback: Option<Rollback>,
}

/// What `--atomic` did after a failure.
#[derive(Debug)]
pub enum Rollback {
    /// The previous revision was applied again and recorded as this one.
    Done {
        /// The revision re-applied.
        to: u32,
        /// The revision recorded for the rollback.
        recorded: u32,
        /// Objects of the failed apply the previous revision did not have.
        removed: Removed,
    },
    /// There was no previous revision: nothing was rolled back.
    NothingToRollBackTo,
    /// The rollback failed too.
    Failed(String),
}

/// Why `apply` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// `--only` / `--skip` names something unknown.
    #[error(transparent)]
    Selection(#[from] UnknownName),
    /// Revisions could not be read or written.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A step failed.
    #[error("{} failed: {}", .0.step, .0.cause)]
    Failed(Box<Failure>),
    /// Everything was applied, but pruning failed; no revision was
    /// recorded, so the next run prunes the same objects again.
    #[error(
        "applied, but pruning failed: {0}; no revision was recorded: run again to finish pruning"
    )]
    Prune(RemovalError),
}

/// Applies `set` to the cluster; see the module docs for the order.
pub async fn apply(
    cluster: &Cluster,
    set: &RenderedSet,
    release: &Release,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<Applied, ApplyError> {
    options.selection.check(set)?;
    let previous = if options.dry_run {
        None
    } else {
        inventory::latest(cluster, release).await?
    };
    let objects = with_home(set, options.selection.select(set), release);
    let mut done = Applied::default();
    if let Err(mut failure) = run(cluster, set, &objects, options, progress, &mut done).await {
        if options.atomic && !options.dry_run {
            failure.rollback = Some(
                roll_back(
                    cluster,
                    release,
                    previous.as_ref(),
                    set,
                    &failure.applied,
                    options,
                    progress,
                )
                .await,
            );
        }
        return Err(ApplyError::Failed(failure));
    }
    if options.dry_run {
        return Ok(done);
    }
    // Prune before recording: if pruning fails, the previous revision stays
    // the latest, and the next run computes the same candidates again.
    if let Some(previous) = &previous {
        done.pruned = prune_gone(cluster, &previous.set, set, options, progress).await?;
    }
    let revision = inventory::record(cluster, release, set, &options.selection, "apply").await?;
    done.revision = Some(revision);
    Ok(done)
}

/// Removes what `before` rendered and `after` does not.
async fn prune_gone(
    cluster: &Cluster,
    before: &RenderedSet,
    after: &RenderedSet,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<Removed, ApplyError> {
    let gone: Vec<ObjectToRemove> = prune::candidates(before, after)
        .into_iter()
        .map(ObjectToRemove::of)
        .collect();
    if gone.is_empty() {
        return Ok(Removed::default());
    }
    progress.event(Event::Step {
        label: "prune".into(),
        objects: gone.len(),
    });
    prune::remove(
        cluster,
        &gone,
        &after.platform,
        removal(options, false),
        progress,
    )
    .await
    .map_err(ApplyError::Prune)
}

/// Re-applies revision `number` and records it as a new revision; objects
/// of the current revision it does not have are pruned.
pub async fn rollback(
    cluster: &Cluster,
    release: &Release,
    number: u32,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<Applied, ApplyError> {
    let target = inventory::load(cluster, release, number).await?;
    let current = inventory::latest(cluster, release).await?;
    let objects = with_home(&target.set, target.selection.select(&target.set), release);
    let mut done = Applied::default();
    run(cluster, &target.set, &objects, options, progress, &mut done)
        .await
        .map_err(ApplyError::Failed)?;
    if let Some(current) = current {
        done.pruned = prune_gone(cluster, &current.set, &target.set, options, progress).await?;
    }
    let revision = inventory::record(
        cluster,
        release,
        &target.set,
        &target.selection,
        &format!("rollback to {number}"),
    )
    .await?;
    done.revision = Some(revision);
    Ok(done)
}

/// `objects` with the namespace holding the revisions, whatever the
/// selection: the revision is recorded there.
fn with_home<'a>(
    set: &'a RenderedSet,
    mut objects: Vec<&'a Object>,
    release: &Release,
) -> Vec<&'a Object> {
    let home = set
        .objects
        .iter()
        .find(|o| o.kind() == kind::NAMESPACE && o.name() == release.namespace);
    if let Some(home) = home
        && !objects.iter().any(|o| std::ptr::eq(*o, home))
    {
        objects.insert(0, home);
    }
    objects
}

fn removal(options: &ApplyOptions, wait: bool) -> RemovalOptions {
    RemovalOptions {
        wait,
        timeout: options.timeout,
        poll: options.poll,
        concurrency: options.concurrency,
    }
}

async fn roll_back(
    cluster: &Cluster,
    release: &Release,
    previous: Option<&inventory::Revision>,
    attempted: &RenderedSet,
    applied: &[ObjectId],
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Rollback {
    let Some(previous) = previous else {
        return Rollback::NothingToRollBackTo;
    };
    progress.event(Event::Note(format!(
        "rolling back to revision {}",
        previous.number
    )));
    let objects = previous.selection.select(&previous.set);
    let mut done = Applied::default();
    let options = ApplyOptions {
        atomic: false,
        ..options.clone()
    };
    if let Err(failure) = run(
        cluster,
        &previous.set,
        &objects,
        &options,
        progress,
        &mut done,
    )
    .await
    {
        return Rollback::Failed(format!("{} failed: {}", failure.step, failure.cause));
    }
    let recorded = match inventory::record(
        cluster,
        release,
        &previous.set,
        &previous.selection,
        &format!("rollback to {} (atomic)", previous.number),
    )
    .await
    {
        Ok(n) => n,
        Err(e) => return Rollback::Failed(e.to_string()),
    };
    let applied: BTreeSet<&ObjectId> = applied.iter().collect();
    let attempted_and_applied = RenderedSet {
        objects: attempted
            .objects
            .iter()
            .filter(|o| applied.contains(&ObjectId::of(&o.value)))
            .cloned()
            .collect(),
        ..attempted.clone()
    };
    let extra: Vec<ObjectToRemove> = prune::candidates(&attempted_and_applied, &previous.set)
        .into_iter()
        .map(ObjectToRemove::of)
        .collect();
    match prune::remove(
        cluster,
        &extra,
        &release.platform,
        removal(&options, false),
        progress,
    )
    .await
    {
        Ok(removed) => Rollback::Done {
            to: previous.number,
            recorded,
            removed,
        },
        Err(e) => Rollback::Failed(e.to_string()),
    }
}

/// Applies `objects` step by step into `done`; on failure, what happened.
async fn run(
    cluster: &Cluster,
    set: &RenderedSet,
    objects: &[&Object],
    options: &ApplyOptions,
    progress: &dyn Progress,
    done: &mut Applied,
) -> Result<(), Box<Failure>> {
    let steps = steps::steps(objects);
    let new_namespaces: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o.kind() == kind::NAMESPACE)
        .map(|o| o.name())
        .collect();
    let new_kinds: BTreeSet<(&str, &str)> = objects
        .iter()
        .filter(|o| o.kind() == kind::CUSTOM_RESOURCE_DEFINITION)
        .map(|o| {
            (
                o.value["spec"]["group"].as_str().unwrap_or(""),
                o.value["spec"]["names"]["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Generated secrets go to the namespaces this apply creates or uses.
    let used_namespaces: BTreeSet<&str> = objects
        .iter()
        .map(|o| {
            if o.kind() == kind::NAMESPACE {
                o.name()
            } else {
                o.namespace()
            }
        })
        .collect();
    let secrets = where_needed(
        &set.generated_secrets,
        |s| &s.namespaces,
        |_, ns| options.selection.is_all() || used_namespaces.contains(ns),
    );
    // Pull secrets are checked where the selected pods name them; a dry run
    // creates no namespace, so it cannot tell a missing secret from a
    // namespace still to come.
    let pull_secrets = if options.dry_run {
        Vec::new()
    } else {
        where_needed(
            &set.pull_secrets,
            |s| &s.namespaces,
            |s, ns| {
                objects
                    .iter()
                    .any(|o| o.namespace() == ns && names_pull_secret(&o.value, &s.name))
            },
        )
    };
    let mut secrets_done = false;
    for step in &steps {
        if step.kind != StepKind::Setup && !secrets_done {
            secrets_done = true;
            check_pull_secrets(cluster, &pull_secrets)
                .await
                .map_err(|cause| fail(step.label(), cause, objects, done))?;
            generate(cluster, &set.platform, &secrets, options, progress, done)
                .await
                .map_err(|e| fail(step.label(), Cause::Refused(e), objects, done))?;
        }
        progress.event(Event::Step {
            label: step.label(),
            objects: step.objects.len(),
        });
        for batch in step.batches() {
            let results: Vec<(&Object, Result<Value, ClusterError>)> = stream::iter(batch)
                .map(|object| {
                    let new_kinds = &new_kinds;
                    async move {
                        let mut result = cluster
                            .apply(&object.value, options.force_conflicts, options.dry_run)
                            .await;
                        // An API server lists a new CRD's kind in discovery a
                        // moment after the CRD is Established: ask again.
                        let mut attempts = 0;
                        while matches!(result, Err(ClusterError::UnknownKind { .. }))
                            && !options.dry_run
                            && attempts < DISCOVERY_RETRIES
                            && new_kinds.contains(&(group_of(object.api_version()), object.kind()))
                        {
                            attempts += 1;
                            tokio::time::sleep(options.poll).await;
                            result = cluster
                                .apply(&object.value, options.force_conflicts, options.dry_run)
                                .await;
                        }
                        // A Job's pod template cannot change: a Job rendered
                        // anew (other topics, buckets, databases) replaces the
                        // old one, whose work is done or moot.
                        if object.kind() == kind::JOB
                            && !options.dry_run
                            && matches!(&result, Err(ClusterError::Api { code: 422, message, .. }) if message.contains("immutable"))
                        {
                            result = replace_job(cluster, object, options).await;
                        }
                        (object, result)
                    }
                })
                .buffered(options.concurrency.max(1))
                .collect()
                .await;
            let mut refused = None;
            for (object, result) in results {
                let id = ObjectId::of(&object.value);
                match result {
                    Ok(_) => {
                        progress.event(Event::Applied {
                            id: id.clone(),
                            service: object.service.clone(),
                        });
                        done.applied.push(id);
                    }
                    Err(e)
                        if options.dry_run
                            && e.is_not_found()
                            && new_namespaces.contains(object.namespace()) =>
                    {
                        done.notes.push(format!(
                            "{id}: not checked, namespace `{}` does not exist yet",
                            object.namespace()
                        ));
                    }
                    Err(ClusterError::UnknownKind { .. })
                        if options.dry_run
                            && new_kinds
                                .contains(&(group_of(object.api_version()), object.kind())) =>
                    {
                        done.notes
                            .push(format!("{id}: not checked, its CRD is not installed yet"));
                    }
                    Err(e) => {
                        refused.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = refused {
                return Err(fail(step.label(), Cause::Refused(e), objects, done));
            }
        }
        if options.dry_run {
            continue;
        }
        let waited: Vec<&Object> = step
            .objects
            .iter()
            .copied()
            .filter(|o| readiness::is_waited_for(o.api_version(), o.kind()))
            .collect();
        if let Err((cause, not_ready)) = wait(cluster, &waited, options, progress).await {
            let mut failure = fail(step.label(), cause, objects, done);
            failure.pods = diagnose(cluster, &waited, &not_ready).await;
            failure.not_ready = not_ready;
            return Err(failure);
        }
    }
    if !secrets_done {
        check_pull_secrets(cluster, &pull_secrets)
            .await
            .map_err(|cause| fail("secrets".into(), cause, objects, done))?;
        generate(cluster, &set.platform, &secrets, options, progress, done)
            .await
            .map_err(|e| fail("secrets".into(), Cause::Refused(e), objects, done))?;
    }
    Ok(())
}

fn fail(step: String, cause: Cause, objects: &[&Object], done: &Applied) -> Box<Failure> {
    let applied: BTreeSet<&ObjectId> = done.applied.iter().collect();
    Box::new(Failure {
        step,
        cause,
        applied: done.applied.clone(),
        not_applied: objects
            .iter()
            .map(|o| ObjectId::of(&o.value))
            .filter(|id| !applied.contains(id))
            .collect(),
        not_ready: Vec::new(),
        pods: Vec::new(),
        rollback: None,
    })
}

/// Polls `objects` until all are ready, one fails, or the timeout passes.
/// Deletes a Job, waits until it is gone, and applies it again.
async fn replace_job(
    cluster: &Cluster,
    object: &Object,
    options: &ApplyOptions,
) -> Result<Value, ClusterError> {
    let id = ObjectId::of(&object.value);
    cluster.delete(&id).await?;
    let deadline = Instant::now() + options.timeout;
    while cluster.get(&id).await?.is_some() && Instant::now() < deadline {
        tokio::time::sleep(options.poll).await;
    }
    cluster
        .apply(&object.value, options.force_conflicts, false)
        .await
}

/// How many times an object of a kind defined in this run is applied again
/// while discovery does not list the kind yet.
const DISCOVERY_RETRIES: u32 = 15;

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

async fn wait(
    cluster: &Cluster,
    objects: &[&Object],
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<(), (Cause, Vec<(ObjectId, String)>)> {
    let deadline = Instant::now() + options.timeout;
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

fn reasons(pending: &BTreeMap<ObjectId, (Option<String>, String)>) -> Vec<(ObjectId, String)> {
    pending
        .iter()
        .map(|(id, (_, reason))| (id.clone(), reason.clone()))
        .collect()
}

/// The label selector of a workload's pods, if it has pods.
pub fn pod_selector(object: &Value) -> Option<String> {
    let labels = match object["kind"].as_str()? {
        k if kind::is_workload(k) || k == kind::REPLICA_SET => {
            object["spec"]["selector"]["matchLabels"]
                .as_object()?
                .clone()
        }
        kind::JOB => {
            let mut m = serde_json::Map::new();
            m.insert(
                "job-name".into(),
                object["metadata"]["name"].as_str()?.into(),
            );
            m
        }
        _ => return None,
    };
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Reports on the pods of the not-ready workloads: container states,
/// unschedulable conditions, and their latest events.
async fn diagnose(
    cluster: &Cluster,
    objects: &[&Object],
    not_ready: &[(ObjectId, String)],
) -> Vec<PodReport> {
    let mut reports = Vec::new();
    let stuck: BTreeSet<&ObjectId> = not_ready.iter().map(|(id, _)| id).collect();
    for object in objects {
        let id = ObjectId::of(&object.value);
        if !stuck.contains(&id) {
            continue;
        }
        let Some(selector) = pod_selector(&object.value) else {
            continue;
        };
        let Ok(namespace) = cluster.namespace_of(&id).await else {
            continue;
        };
        let Ok(pods) = cluster.list("v1", kind::POD, &namespace, &selector).await else {
            continue;
        };
        let events = cluster
            .list("events.k8s.io/v1", kind::EVENT, &namespace, "")
            .await
            .unwrap_or_default();
        for pod in pods.iter().filter(|p| !pod_ready(p)).take(3) {
            let name = pod["metadata"]["name"].as_str().unwrap_or("");
            reports.push(PodReport {
                pod: format!("{namespace}/{name}"),
                problems: pod_problems(pod),
                events: pod_events(&events, name),
            });
        }
    }
    reports
}

fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// What a pod's status says is wrong.
pub fn pod_problems(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let status = &pod["status"];
    if let Some(conditions) = status["conditions"].as_array() {
        for c in conditions {
            if c["type"] == "PodScheduled" && c["status"] == "False" {
                out.push(format!(
                    "not scheduled: {}",
                    c["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in status[list].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            let restarts = c["restartCount"].as_i64().unwrap_or(0);
            if let Some(waiting) = c["state"]["waiting"].as_object() {
                out.push(
                    format!(
                        "container {name}: {} {}",
                        waiting
                            .get("reason")
                            .and_then(Value::as_str)
                            .unwrap_or("waiting"),
                        waiting.get("message").and_then(Value::as_str).unwrap_or("")
                    )
                    .trim()
                    .to_string(),
                );
            }
            if let Some(last) = c["lastState"]["terminated"].as_object() {
                out.push(format!(
                    "container {name}: last exit {} ({}), {restarts} restarts",
                    last.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
                    last.get("reason").and_then(Value::as_str).unwrap_or("")
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(format!(
            "phase {}",
            status["phase"].as_str().unwrap_or("unknown")
        ));
    }
    out
}

fn pod_events(events: &[Value], pod: &str) -> Vec<String> {
    let mut found: Vec<String> = events
        .iter()
        .filter(|e| e["regarding"]["name"] == pod || e["involvedObject"]["name"] == pod)
        .map(|e| {
            let note = e["note"].as_str().or(e["message"].as_str()).unwrap_or("");
            format!("{}: {note}", e["reason"].as_str().unwrap_or(""))
        })
        .collect();
    let keep = found.len().saturating_sub(5);
    found.drain(..keep);
    found
}

/// Each of `secrets` with those of its namespaces `wanted` keeps; a secret
/// left with none is dropped.
fn where_needed<'a, S>(
    secrets: &'a [S],
    namespaces: impl Fn(&'a S) -> &'a [String],
    wanted: impl Fn(&'a S, &str) -> bool,
) -> Vec<(&'a S, Vec<&'a str>)> {
    secrets
        .iter()
        .map(|s| {
            let kept: Vec<&str> = namespaces(s)
                .iter()
                .map(String::as_str)
                .filter(|ns| wanted(s, ns))
                .collect();
            (s, kept)
        })
        .filter(|(_, kept)| !kept.is_empty())
        .collect()
}

/// Creates each generated secret where it is missing and adds keys a copy
/// lacks; existing values are never changed. A secret written to several
/// namespaces gets the same values in each: a value that already exists in
/// one namespace is copied to the others, and only keys that exist nowhere
/// get new random values.
/// Whether `value` (an object, or a part of one) lists `name` under an
/// `imagePullSecrets` field, wherever its kind keeps it.
fn names_pull_secret(value: &Value, name: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, child)| {
            (key == "imagePullSecrets"
                && child
                    .as_array()
                    .is_some_and(|list| list.iter().any(|r| r["name"] == name)))
                || names_pull_secret(child, name)
        }),
        Value::Array(items) => items.iter().any(|item| names_pull_secret(item, name)),
        _ => false,
    }
}

/// Fails when a pull secret is missing from a namespace that needs it:
/// before the first wave, after the namespaces are created, rather than
/// pods waiting in `ImagePullBackOff` until the step times out.
async fn check_pull_secrets(
    cluster: &Cluster,
    secrets: &[(&PullSecret, Vec<&str>)],
) -> Result<(), Cause> {
    let mut missing = Vec::new();
    for (secret, namespaces) in secrets {
        for namespace in namespaces {
            let id = ObjectId::secret(namespace, &secret.name);
            match cluster.get(&id).await {
                Ok(Some(_)) => {}
                Ok(None) => missing.push(MissingPullSecret {
                    name: secret.name.clone(),
                    namespace: (*namespace).to_string(),
                    registries: secret.registries.clone(),
                }),
                Err(e) => return Err(Cause::Refused(e)),
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Cause::PullSecretsMissing(missing))
    }
}

async fn generate(
    cluster: &Cluster,
    platform: &str,
    secrets: &[(&GeneratedSecret, Vec<&str>)],
    options: &ApplyOptions,
    progress: &dyn Progress,
    done: &mut Applied,
) -> Result<(), ClusterError> {
    for (secret, namespaces) in secrets {
        let mut copies = Vec::new();
        for namespace in namespaces {
            let id = ObjectId::secret(namespace, &secret.name);
            let live = match cluster.get(&id).await {
                Ok(found) => found,
                // In a dry run the namespace may not exist yet.
                Err(e) if options.dry_run && e.is_not_found() => None,
                Err(e) => return Err(e),
            };
            copies.push((id, live));
        }
        let existing = |key: &str| {
            copies.iter().find_map(|(_, live)| {
                let encoded = live.as_ref()?["data"][key].as_str()?;
                String::from_utf8(STANDARD.decode(encoded).ok()?).ok()
            })
        };
        let values: BTreeMap<&str, String> = secret
            .keys
            .iter()
            .map(|k| (k.as_str(), existing(k).unwrap_or_else(random_value)))
            .collect();
        for (id, live) in &copies {
            let missing: Vec<String> = secret
                .keys
                .iter()
                .filter(|k| {
                    live.as_ref()
                        .is_none_or(|l| l["data"].get(k.as_str()).is_none())
                })
                .cloned()
                .collect();
            if missing.is_empty() {
                continue;
            }
            if options.dry_run {
                done.notes.push(match live {
                    None => format!("{id}: would be created with {}", missing.join(", ")),
                    Some(_) => format!("{id}: would get {}", missing.join(", ")),
                });
                continue;
            }
            let data: serde_json::Map<String, Value> = missing
                .iter()
                .filter_map(|k| Some((k.clone(), Value::from(values.get(k.as_str())?.clone()))))
                .collect();
            let written = match live {
                None => {
                    let value = json!({
                        "apiVersion": "v1",
                        "kind": kind::SECRET,
                        "metadata": {
                            "name": id.name,
                            "namespace": id.namespace,
                            // The platform label tells prune and destroy whose it is.
                            "labels": { "app.kubernetes.io/managed-by": "strata", PLATFORM_LABEL: platform },
                            "annotations": { "strata.dev/generated": secret.keys.join(",") },
                        },
                        "type": secret.secret_type,
                        "stringData": data,
                    });
                    cluster.create(&value, false).await?
                }
                Some(_) => {
                    cluster.merge(id, &json!({ "stringData": data })).await?;
                    true
                }
            };
            if written {
                progress.event(Event::SecretCreated {
                    id: id.clone(),
                    keys: missing,
                });
                done.secrets.push(id.clone());
            }
        }
    }
    Ok(())
}

/// 32 random letters and digits from the operating system's generator.
fn random_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut bytes = [0u8; 64];
        if getrandom::fill(&mut bytes).is_err() {
            continue;
        }
        // Rejection keeps every character equally likely.
        for b in bytes {
            if (b as usize) < 248 && out.len() < 32 {
                out.push(ALPHABET[b as usize % 62] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_are_long_alphanumeric_and_differ() {
        let a = random_value();
        let b = random_value();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn pods_are_found_by_the_workloads_selector() {
        let d = json!({"kind": kind::DEPLOYMENT, "metadata": {"name": "api"}, "spec": {"selector": {"matchLabels": {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "api"}}}});
        assert_eq!(
            pod_selector(&d).as_deref(),
            Some("app.kubernetes.io/instance=shop,app.kubernetes.io/name=api")
        );
        let job = json!({"kind": kind::JOB, "metadata": {"name": "migrate"}});
        assert_eq!(pod_selector(&job).as_deref(), Some("job-name=migrate"));
        assert_eq!(pod_selector(&json!({"kind": kind::CONFIG_MAP})), None);
    }

    #[test]
    fn pod_problems_explain_waiting_crashing_and_unschedulable_pods() {
        let pod = json!({"status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "message": "0/3 nodes are available: insufficient cpu"}],
            "containerStatuses": [{"name": "api", "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}});
        assert_eq!(
            pod_problems(&pod),
            [
                "not scheduled: 0/3 nodes are available: insufficient cpu",
                "container api: CrashLoopBackOff back-off 40s",
                "container api: last exit 1 (Error), 4 restarts"
            ]
        );
        assert_eq!(
            pod_problems(&json!({"status": {"phase": "Pending"}})),
            ["phase Pending"]
        );
    }

    #[test]
    fn pod_events_keep_the_latest_five_of_that_pod() {
        let mut events: Vec<Value> = (0..7)
            .map(|i| json!({"regarding": {"name": "api-1"}, "reason": "BackOff", "note": format!("n{i}")}))
            .collect();
        events.push(json!({"regarding": {"name": "other"}, "reason": "Pulled", "note": "x"}));
        let found = pod_events(&events, "api-1");
        assert_eq!(found.len(), 5);
        assert_eq!(found[0], "BackOff: n2");
        assert_eq!(found[4], "BackOff: n6");
    }
}
