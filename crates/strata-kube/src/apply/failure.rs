//! What a failed apply reports: the step that failed and why, what was and
//! was not applied, the objects and pods that were not ready, and what
//! `--atomic` did about it.

use std::collections::BTreeSet;
use std::time::Duration;

use strata_core::render::Object;

use super::Applied;
use super::pods::PodReport;
use super::preflight::Missing;
use super::secrets::{MissingPullSecret, missing_pull_secrets};
use crate::cluster::{ClusterError, ObjectId};
use crate::immutable::Remedy;
use crate::prune::Removed;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// The server refused an object (conflict, invalid, forbidden…).
    #[error(transparent)]
    Refused(ClusterError),
    /// What the platform needs from the cluster and does not find there;
    /// nothing was applied.
    #[error("the cluster is not ready for the platform ({} problem(s)):{}", .0.len(), one_per_line(.0))]
    Missing(Vec<Missing>),
    /// A dry run: every object the server refused, across all waves.
    #[error("the API server refused {} objects:{}", .0.len(), one_per_line(.0))]
    Refusals(Vec<ClusterError>),
    /// The new render changes fields the API server keeps as they were
    /// created; nothing of the step after it was applied.
    #[error("{id}: {} cannot change once created; {}", fields.join(", "), way_out(remedy))]
    Immutable {
        /// The object.
        id: ObjectId,
        /// The fields changed, `spec.volumeClaimTemplates`.
        fields: Vec<String>,
        /// The way past it.
        remedy: Remedy,
    },
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

/// What to do about an immutable change.
fn way_out(remedy: &Remedy) -> String {
    match remedy {
        Remedy::RecreateKeepingPods => "apply again with --recreate to delete it with --cascade=orphan and create it anew (its pods and claims are kept)".into(),
        Remedy::Commands { commands, cost } => format!(
            "run `{}` ({cost}), then apply again",
            commands.join(" && ")
        ),
    }
}

/// Each item on a line of its own, indented under the first.
fn one_per_line(errors: &[impl std::fmt::Display]) -> String {
    errors.iter().fold(String::new(), |mut text, e| {
        text.push_str("\n    ");
        text.push_str(&e.to_string());
        text
    })
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
    /// Notes so far (objects a dry run could not check, and why).
    pub notes: Vec<String>,
    /// What the API server warned about so far.
    pub warnings: Vec<(ObjectId, String)>,
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

/// The failure of `step`, with what of `objects` was applied so far.
pub(super) fn fail(
    step: String,
    cause: Cause,
    objects: &[&Object],
    done: &Applied,
) -> Box<Failure> {
    // What was left alone as unchanged is where it should be: not listed
    // as left out.
    let applied: BTreeSet<&ObjectId> = done.applied.iter().chain(&done.skipped).collect();
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
        notes: done.notes.clone(),
        warnings: done.warnings.clone(),
    })
}
