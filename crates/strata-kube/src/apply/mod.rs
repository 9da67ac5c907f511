//! The wave engine: server-side apply step by step, each step waited for
//! until its workloads are ready, generated secrets created once, then
//! what is no longer rendered pruned and a revision recorded. An object
//! rendered as the latest revision recorded it, and live as that revision
//! left it (one list per kind and namespace), is not sent again; an apply
//! that changes nothing records no revision.

mod failure;
mod pods;
mod preflight;
mod secrets;
mod wait;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::render::{Object, RenderedSet};
use tokio::time::Instant;

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::immutable;
use crate::inventory::{self, InventoryError, Release, Stamps};
use crate::progress::{Event, Progress};
use crate::prune::{self, ObjectToRemove, RemovalError, RemovalOptions, Removed};
use crate::readiness;
use crate::steps::{self, Selection, StepKind, UnknownName, group_of};

use failure::fail;
use pods::diagnose;
use secrets::Secrets;
use wait::wait;

pub use failure::{Cause, Failure, Rollback};
pub use pods::{PodReport, pod_problems, pod_selector};
pub use preflight::Missing;
pub(crate) use preflight::{pod_spec, references};
pub use secrets::MissingPullSecret;

/// How an apply behaves.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is one of apply's independent command-line switches"
)]
pub struct ApplyOptions {
    /// `--only` / `--skip`.
    pub selection: Selection,
    /// Take over fields other managers own.
    pub force_conflicts: bool,
    /// Ask the server to validate only: nothing is written or waited for.
    pub dry_run: bool,
    /// When a step fails, re-apply the previous revision.
    pub atomic: bool,
    /// A StatefulSet whose immutable fields (claim templates) change is
    /// deleted with its pods and claims left in place, and created again.
    pub recreate: bool,
    /// Longest wait for one step to become ready.
    pub timeout: Duration,
    /// Time between checks of what cannot be watched: a kind new to
    /// discovery, an object being deleted.
    pub poll: Duration,
    /// Readiness comes by watch; this is how long a wait goes without any
    /// news before it reads what is pending again, in case a watch was
    /// lost without an error.
    pub resync: Duration,
    /// How long a custom resource of an operated kind may stay without any
    /// status before its operator is reported as not running.
    pub operator_grace: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Leave alone what is rendered as the latest revision recorded it and
    /// live as that revision left it; false (`--no-skip`) sends everything.
    pub skip_unchanged: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            selection: Selection::default(),
            force_conflicts: false,
            dry_run: false,
            atomic: false,
            recreate: false,
            timeout: Duration::from_mins(5),
            poll: Duration::from_secs(2),
            resync: Duration::from_secs(30),
            operator_grace: Duration::from_mins(1),
            concurrency: 8,
            skip_unchanged: true,
        }
    }
}

/// A successful apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The latest revision once done: the one this apply recorded, or, when
    /// it changed nothing (`recorded` false), the latest one it found, which
    /// it matches; none for a dry run.
    pub revision: Option<u32>,
    /// Whether `revision` was recorded by this apply.
    pub recorded: bool,
    /// Every object applied, in order.
    pub applied: Vec<ObjectId>,
    /// Objects not sent: unchanged since the latest revision, in the
    /// rendering and in the cluster.
    pub skipped: Vec<ObjectId>,
    /// How each object applied or skipped looks live, recorded with the
    /// revision.
    pub stamps: Stamps,
    /// Generated secrets created or completed.
    pub secrets: Vec<ObjectId>,
    /// What prune deleted and kept.
    pub pruned: Removed,
    /// Things a dry run could not check, and similar remarks.
    pub notes: Vec<String>,
    /// What the API server warned about while applying (deprecated API
    /// versions and the like), each once.
    pub warnings: Vec<(ObjectId, String)>,
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
    let objects = with_home(set, options.selection.select(set), release);
    let mut done = Applied::default();
    // What the platform needs from the cluster, checked before anything
    // changes, while the latest revision is read and compared with the
    // cluster: neither reads what the other does, and each waits on its
    // round trips.
    let compared = async {
        if options.dry_run {
            return Ok((None, Unchanged::default()));
        }
        let previous = inventory::latest_against(cluster, release, set).await?;
        let unchanged = match &previous {
            Some(previous) if options.skip_unchanged => {
                unchanged(cluster, previous, set, &objects, options).await
            }
            _ => Unchanged::default(),
        };
        Ok::<_, InventoryError>((previous, unchanged))
    };
    let (compared, checked) = futures::join!(
        compared,
        preflight::check(cluster, set, &objects, options.concurrency)
    );
    let (previous, unchanged) = compared?;
    let (missing, unchecked) = checked.map_err(|e| {
        ApplyError::Failed(fail("preflight".into(), Cause::Refused(e), &objects, &done))
    })?;
    done.notes.extend(unchecked);
    if !missing.is_empty() {
        return Err(ApplyError::Failed(fail(
            "preflight".into(),
            Cause::Missing(missing),
            &objects,
            &done,
        )));
    }
    if let Err(mut failure) = run(
        cluster, set, &objects, &unchanged, options, progress, &mut done,
    )
    .await
    {
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
        done.pruned = prune_gone(cluster, previous.set_or(set), set, options, progress).await?;
        // A copy of the latest revision would tell nothing new, and ten
        // such copies would push out of the cluster the history that
        // `rollback` goes back to.
        let same_render = unchanged
            .same_render
            .unwrap_or_else(|| previous.set_or(set).objects == set.objects);
        if same_render && changed_nothing(previous, set, &options.selection, &done) {
            done.revision = Some(previous.number);
            return Ok(done);
        }
    }
    let revision = inventory::record(
        cluster,
        release,
        set,
        &done.stamps,
        &options.selection,
        "apply",
    )
    .await?;
    done.revision = Some(revision);
    done.recorded = true;
    Ok(done)
}

/// Whether an apply of `set` with `selection`, done as `done` says,
/// changed nothing since `previous`, whose objects `set` renders alike:
/// the same selection, platform and generated secrets, and every object
/// live as that revision left it (none sent since, or sent and left as it
/// was).
fn changed_nothing(
    previous: &inventory::Latest,
    set: &RenderedSet,
    selection: &Selection,
    done: &Applied,
) -> bool {
    previous.selection == *selection
        && previous.stamps == done.stamps
        && previous.set.as_ref().is_none_or(|before| {
            before.platform == set.platform
                && before.environment == set.environment
                && before.generated_secrets == set.generated_secrets
        })
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
    let owner = prune::Owner {
        platform: &after.platform,
        environment: after.environment.as_deref(),
    };
    prune::remove(cluster, &gone, &owner, removal(options), progress)
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
    run(
        cluster,
        &target.set,
        &objects,
        &Unchanged::default(),
        options,
        progress,
        &mut done,
    )
    .await
    .map_err(ApplyError::Failed)?;
    if let Some(current) = current {
        done.pruned = prune_gone(cluster, &current.set, &target.set, options, progress).await?;
    }
    let revision = inventory::record(
        cluster,
        release,
        &target.set,
        &done.stamps,
        &target.selection,
        &format!("rollback to {number}"),
    )
    .await?;
    done.revision = Some(revision);
    done.recorded = true;
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

/// How prune and rollback remove objects: as fast as the apply goes,
/// without waiting for them to be gone.
fn removal(options: &ApplyOptions) -> RemovalOptions {
    RemovalOptions {
        wait: false,
        timeout: options.timeout,
        poll: options.poll,
        concurrency: options.concurrency,
    }
}

/// `--atomic` after a failure: re-applies the `previous` revision, records it
/// again, and removes what the failed apply added.
async fn roll_back(
    cluster: &Cluster,
    release: &Release,
    previous: Option<&inventory::Latest>,
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
    let before = previous.set_or(attempted);
    let objects = previous.selection.select(before);
    let mut done = Applied::default();
    let options = ApplyOptions {
        atomic: false,
        ..options.clone()
    };
    if let Err(failure) = run(
        cluster,
        before,
        &objects,
        &Unchanged::default(),
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
        before,
        &done.stamps,
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
    let extra: Vec<ObjectToRemove> = prune::candidates(&attempted_and_applied, before)
        .into_iter()
        .map(ObjectToRemove::of)
        .collect();
    let owner = prune::Owner {
        platform: &release.platform,
        environment: release.environment.as_deref(),
    };
    match prune::remove(cluster, &extra, &owner, removal(&options), progress).await {
        Ok(removed) => Rollback::Done {
            to: previous.number,
            recorded,
            removed,
        },
        Err(e) => Rollback::Failed(e.to_string()),
    }
}

/// What need not be sent again, found before the first wave.
#[derive(Debug, Default)]
struct Unchanged {
    /// The objects rendered as the latest revision recorded them and live
    /// with the stamp it recorded, with that stamp.
    stamps: Stamps,
    /// Those of them waited for that were ready when read: while this run
    /// has sent nothing, the cluster is as read, and their steps need not
    /// wait for them again.
    ready: BTreeSet<ObjectId>,
    /// Whether the whole set is rendered as the latest revision recorded
    /// it, when compared.
    same_render: Option<bool>,
}

/// The objects of `objects` rendered as `previous` recorded them and live
/// with the stamp it recorded: what need not be sent. The cluster is read
/// by one list per kind and namespace, of metadata only unless the kind is
/// waited for (then whole, for readiness); a list that fails leaves its
/// objects to be sent.
async fn unchanged(
    cluster: &Cluster,
    previous: &inventory::Latest,
    set: &RenderedSet,
    objects: &[&Object],
    options: &ApplyOptions,
) -> Unchanged {
    // Rendered as before, the usual case: one comparison of the whole set
    // then says it of every object, and the end of the apply need not
    // compare again.
    let same_render = previous
        .set
        .as_ref()
        .is_none_or(|before| before.objects == set.objects);
    let before: HashMap<ObjectId, &Value> = if same_render {
        HashMap::new()
    } else {
        previous
            .set_or(set)
            .objects
            .iter()
            .map(|o| (ObjectId::of(&o.value), &o.value))
            .collect()
    };
    let candidates: Vec<(ObjectId, &String)> = objects
        .iter()
        .filter_map(|o| {
            let id = ObjectId::of(&o.value);
            let stamp = previous.stamps.get(&id)?;
            (same_render || before.get(&id) == Some(&&o.value)).then_some((id, stamp))
        })
        .collect();
    let groups: BTreeSet<(&str, &str, &str)> = candidates
        .iter()
        .map(|(id, _)| {
            (
                id.api_version.as_str(),
                id.kind.as_str(),
                id.namespace.as_str(),
            )
        })
        .collect();
    let lists: Vec<Result<Vec<Value>, ClusterError>> = stream::iter(groups)
        .map(|(api_version, kind, namespace)| async move {
            if readiness::is_waited_for(api_version, kind) {
                cluster.list(api_version, kind, namespace, "").await
            } else {
                cluster
                    .list_metadata(api_version, kind, namespace, "")
                    .await
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut ready = BTreeSet::new();
    let mut live: HashMap<ObjectId, String> = HashMap::new();
    for value in lists.into_iter().flatten().flatten() {
        let id = ObjectId::of(&value);
        let Some(stamp) = inventory::stamp(&value) else {
            continue;
        };
        if readiness::is_waited_for(&id.api_version, &id.kind)
            && readiness::judge(&value) == readiness::Readiness::Ready
        {
            ready.insert(id.clone());
        }
        live.insert(id, stamp);
    }
    let stamps: Stamps = candidates
        .into_iter()
        .filter(|(id, stamp)| live.get(id) == Some(*stamp))
        .map(|(id, stamp)| (id, stamp.clone()))
        .collect();
    ready.retain(|id| stamps.contains_key(id));
    Unchanged {
        stamps,
        ready,
        same_render: Some(same_render),
    }
}

/// Applies `objects` step by step into `done`, sending none of those
/// `unchanged` but waiting for them like the others (a watch's first list
/// says at once that they are still ready), except, until something is
/// sent, those that were ready when read; on failure, what happened.
async fn run(
    cluster: &Cluster,
    set: &RenderedSet,
    objects: &[&Object],
    unchanged: &Unchanged,
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
    let secrets = Secrets::of(set, objects, options);
    let mut secrets_done = false;
    let mut dry_refusals: Vec<ClusterError> = Vec::new();
    for step in &steps {
        if step.kind != StepKind::Setup && !secrets_done {
            secrets_done = true;
            secrets
                .prepare(cluster, options, progress, done)
                .await
                .map_err(|cause| fail(step.label(), cause, objects, done))?;
        }
        progress.event(Event::Step {
            label: step.label(),
            objects: step.objects.len(),
        });
        for mut batch in step.batches() {
            batch.retain(|object| {
                let id = ObjectId::of(&object.value);
                let Some(stamp) = unchanged.stamps.get(&id) else {
                    return true;
                };
                done.stamps.insert(id.clone(), stamp.clone());
                done.skipped.push(id);
                false
            });
            let results: Vec<(&Object, Result<Value, ClusterError>)> = stream::iter(batch)
                .map(|object| {
                    let new_kinds = &new_kinds;
                    async move {
                        (
                            object,
                            apply_object(cluster, object, new_kinds, options).await,
                        )
                    }
                })
                .buffered(options.concurrency.max(1))
                .collect()
                .await;
            done.warnings.extend(cluster.take_warnings());
            let mut refused = Vec::new();
            for (object, result) in results {
                let id = ObjectId::of(&object.value);
                match result {
                    Ok(live) => {
                        progress.event(Event::Applied {
                            id: id.clone(),
                            service: object.service.clone(),
                        });
                        if let Some(stamp) = inventory::stamp(&live) {
                            done.stamps.insert(id.clone(), stamp);
                        }
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
                    Err(e) => refused.push(e),
                }
            }
            // A dry run checks every wave and reports every refusal at
            // the end; a real apply stops at the first.
            if options.dry_run {
                dry_refusals.extend(refused);
            } else if !refused.is_empty() {
                let cause = immutable_or(cluster, objects, refused.swap_remove(0)).await;
                return Err(fail(step.label(), cause, objects, done));
            }
        }
        if options.dry_run {
            continue;
        }
        // Nothing sent yet: the cluster is as read before the first wave.
        let as_read = done.applied.is_empty();
        let mut waited: Vec<&Object> = step
            .objects
            .iter()
            .copied()
            .filter(|o| readiness::is_waited_for(o.api_version(), o.kind()))
            .collect();
        waited.retain(|o| {
            let id = ObjectId::of(&o.value);
            if !(as_read && unchanged.ready.contains(&id)) {
                return true;
            }
            progress.event(Event::Ready {
                id,
                service: o.service.clone(),
            });
            false
        });
        if let Err((cause, not_ready)) = wait(cluster, &waited, options, progress).await {
            let mut failure = fail(step.label(), cause, objects, done);
            failure.pods = diagnose(cluster, &waited, &not_ready).await;
            failure.not_ready = not_ready;
            return Err(failure);
        }
    }
    if !secrets_done {
        secrets
            .prepare(cluster, options, progress, done)
            .await
            .map_err(|cause| fail("secrets".into(), cause, objects, done))?;
    }
    match dry_refusals.len() {
        0 => Ok(()),
        1 => Err(fail(
            "dry run".into(),
            Cause::Refused(dry_refusals.swap_remove(0)),
            objects,
            done,
        )),
        _ => Err(fail(
            "dry run".into(),
            Cause::Refusals(dry_refusals),
            objects,
            done,
        )),
    }
}

/// A refusal as what it is: a change of immutable fields, named, with the
/// way past it; otherwise the server's refusal as it came.
async fn immutable_or(cluster: &Cluster, objects: &[&Object], error: ClusterError) -> Cause {
    let ClusterError::Api { id, code: 422, .. } = &error else {
        return Cause::Refused(error);
    };
    let Some(object) = objects.iter().find(|o| ObjectId::of(&o.value) == **id) else {
        return Cause::Refused(error);
    };
    let Ok(Some(live)) = cluster.get(id).await else {
        return Cause::Refused(error);
    };
    let fields = immutable::forbidden_changes(&live, &object.value);
    if fields.is_empty() {
        return Cause::Refused(error);
    }
    let id = (**id).clone();
    Cause::Immutable {
        remedy: immutable::remedy(&id, &fields),
        id,
        fields,
    }
}

/// Applies one object. One of a kind this run defines is applied again while
/// discovery does not list the kind yet, and a Job whose pod template
/// changed is replaced.
async fn apply_object(
    cluster: &Cluster,
    object: &Object,
    new_kinds: &BTreeSet<(&str, &str)>,
    options: &ApplyOptions,
) -> Result<Value, ClusterError> {
    let mut result = cluster
        .apply(&object.value, options.force_conflicts, options.dry_run)
        .await;
    // An API server lists a new CRD's kind in discovery a moment after the
    // CRD is Established: ask again.
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
    // A Job's pod template cannot change: a Job rendered anew (other topics,
    // buckets, databases) replaces the old one, whose work is done or moot.
    if object.kind() == kind::JOB
        && !options.dry_run
        && matches!(&result, Err(ClusterError::Api { code: 422, message, .. }) if message.contains("immutable"))
    {
        result = replace(cluster, object, options, Replace::Whole).await;
    }
    // With --recreate, a StatefulSet whose claim templates change is
    // created anew over its pods and claims.
    if object.kind() == kind::STATEFUL_SET
        && options.recreate
        && !options.dry_run
        && matches!(&result, Err(ClusterError::Api { code: 422, .. }))
    {
        let id = ObjectId::of(&object.value);
        if let Some(live) = cluster.get(&id).await?
            && let fields = immutable::forbidden_changes(&live, &object.value)
            && !fields.is_empty()
            && immutable::remedy(&id, &fields) == immutable::Remedy::RecreateKeepingPods
        {
            result = replace(cluster, object, options, Replace::KeepingPods).await;
        }
    }
    result
}

/// How an object that cannot be updated in place is deleted before it is
/// applied again.
#[derive(Clone, Copy)]
enum Replace {
    /// A Job: deleted with its pods.
    Whole,
    /// A StatefulSet: deleted leaving its pods and claims, which the new
    /// one adopts.
    KeepingPods,
}

/// Deletes `object` as `how` says, waits until it is gone, and applies it
/// again.
async fn replace(
    cluster: &Cluster,
    object: &Object,
    options: &ApplyOptions,
    how: Replace,
) -> Result<Value, ClusterError> {
    let id = ObjectId::of(&object.value);
    match how {
        Replace::Whole => cluster.delete(&id).await?,
        Replace::KeepingPods => cluster.delete_orphaning(&id).await?,
    };
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
