//! `strata verify`: whether the platform as deployed is the platform as
//! specified, and working. Eight checks, each giving one outcome per thing
//! it looked at:
//!
//! - **revision**: the latest revision is what the spec renders now;
//! - **drift**: the live objects are as that revision applied them (the
//!   server's dry run of each, as `diff` compares);
//! - **workload**: each workload and operated resource is ready on its
//!   current revision (`readiness`, as `apply` waits for it);
//! - **endpoints**: each Service with a selector has ready endpoints
//!   (EndpointSlices);
//! - **route**: each gateway route's backend Service is there with ready
//!   endpoints;
//! - **reference**: each generated Secret, and each Secret and ConfigMap a
//!   pod reads or pulls with, exists;
//! - **health**: each service whose readiness probe is an HTTP GET answers
//!   it with 2xx through the API server's service proxy;
//! - **policy**: each declared call is admitted by the live
//!   NetworkPolicies of both sides ([`strata_core::network_policy`]).
//!
//! A failed outcome says what to run next ([`Next`]); the binary spells it
//! out with the spec's path. The first three checks are here; `traffic`
//! has endpoints, routes and health, `references` the Secrets and
//! ConfigMaps, `policy` the calls.

mod policy;
mod references;
mod traffic;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;
use strata_core::kind;
use strata_core::model::Platform;
use strata_core::render::{Object, RenderedSet};

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::diff::{self, ChangeKind};
use crate::inventory::{self, InventoryError, Release, Revision};
use crate::status::{self, State};

/// How `verify` runs.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Longest wait for one health URL's answer.
    pub health_timeout: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            concurrency: 8,
            health_timeout: Duration::from_secs(10),
        }
    }
}

/// What is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The latest revision is what the spec renders.
    Revision,
    /// Live objects are as the latest revision applied them.
    Drift,
    /// A workload is ready on its current revision.
    Workload,
    /// A Service has ready endpoints.
    Endpoints,
    /// A gateway route's backend is there with ready endpoints.
    Route,
    /// A Secret or ConfigMap the pods need exists.
    Reference,
    /// A service's health URL answers 2xx.
    Health,
    /// A declared call is admitted by the live NetworkPolicies.
    Policy,
}

impl Check {
    /// Every check, in the order they are reported.
    pub const ALL: [Check; 8] = [
        Check::Revision,
        Check::Drift,
        Check::Workload,
        Check::Endpoints,
        Check::Route,
        Check::Reference,
        Check::Health,
        Check::Policy,
    ];

    /// Its name in output: `workload`, `health`…
    pub fn name(self) -> &'static str {
        match self {
            Check::Revision => "revision",
            Check::Drift => "drift",
            Check::Workload => "workload",
            Check::Endpoints => "endpoints",
            Check::Route => "route",
            Check::Reference => "reference",
            Check::Health => "health",
            Check::Policy => "policy",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one thing fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As it should be.
    Passed,
    /// Not as it should be.
    Failed,
    /// Not checked, and why is in the detail (scaled to zero…).
    Skipped,
}

/// What to run next about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// `strata apply` the spec.
    Apply,
    /// `strata diff` the spec, to see what changed by hand.
    Diff,
    /// `strata logs` of a service.
    Logs(String),
    /// `kubectl describe` an object.
    Describe(ObjectId),
    /// Create a Secret or ConfigMap Strata does not make: `kubectl create`.
    Create(ObjectId),
    /// Create a registry pull secret: `kubectl create secret docker-registry`.
    CreatePullSecret(ObjectId),
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Which check.
    pub check: Check,
    /// What was checked: `Deployment/shop/api`, `web → api 8080/TCP`.
    pub subject: String,
    /// The service it belongs to, if any.
    pub service: Option<String>,
    /// Passed, failed or skipped.
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// What to run next, for a failure.
    pub next: Option<Next>,
}

impl Outcome {
    pub(super) fn passed(
        check: Check,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Outcome {
            check,
            subject: subject.into(),
            service: None,
            verdict: Verdict::Passed,
            detail: detail.into(),
            next: None,
        }
    }

    pub(super) fn failed(
        check: Check,
        subject: impl Into<String>,
        detail: impl Into<String>,
        next: Next,
    ) -> Self {
        Outcome {
            verdict: Verdict::Failed,
            next: Some(next),
            ..Outcome::passed(check, subject, detail)
        }
    }

    pub(super) fn skipped(
        check: Check,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Outcome {
            verdict: Verdict::Skipped,
            ..Outcome::passed(check, subject, detail)
        }
    }

    pub(super) fn of(mut self, service: Option<&str>) -> Self {
        self.service = service.map(str::to_string);
        self
    }
}

/// Everything `verify` found, check by check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every outcome, by check in [`Check::ALL`] order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed outcomes.
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Failed)
    }

    /// `(passed, failed, skipped)` of one check.
    pub fn counts(&self, check: Check) -> (usize, usize, usize) {
        let of = |verdict| {
            self.outcomes
                .iter()
                .filter(|o| o.check == check && o.verdict == verdict)
                .count()
        };
        (
            of(Verdict::Passed),
            of(Verdict::Failed),
            of(Verdict::Skipped),
        )
    }
}

/// Why `verify` could not finish: the cluster refused or did not answer
/// (what it found wrong is in the [`Report`], not here).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A request failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Revisions could not be read.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

/// Verifies the platform `set` renders (from `platform`) against the
/// cluster; its revisions are `release`'s.
pub async fn verify(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
    release: &Release,
    options: &VerifyOptions,
) -> Result<Report, VerifyError> {
    let concurrency = options.concurrency.max(1);
    let objects: Vec<&Object> = set.objects.iter().collect();
    let latest = inventory::latest(cluster, release).await?;
    let mut outcomes = revision(set, release, latest.as_ref());
    if let Some(latest) = &latest {
        outcomes.extend(drift(cluster, latest, concurrency).await?);
    }
    outcomes.extend(workloads(cluster, &objects, concurrency).await?);
    let (endpoint_outcomes, ready) = traffic::endpoints(cluster, set, concurrency).await?;
    outcomes.extend(endpoint_outcomes);
    outcomes.extend(traffic::routes(cluster, set, &ready).await?);
    outcomes.extend(references::present(cluster, set, concurrency).await?);
    outcomes.extend(traffic::health(cluster, platform, set, options).await?);
    outcomes.extend(policy::calls(cluster, platform, set).await?);
    outcomes.sort_by_key(|o| o.check);
    Ok(Report { outcomes })
}

/// Whether the latest revision renders what the spec renders now.
fn revision(set: &RenderedSet, release: &Release, latest: Option<&Revision>) -> Vec<Outcome> {
    let subject = format!(
        "revision of `{}` ({})",
        release.platform,
        release.environment_label()
    );
    let Some(latest) = latest else {
        return vec![Outcome::failed(
            Check::Revision,
            subject,
            format!(
                "nothing is applied: no revision is recorded in namespace `{}`",
                release.namespace
            ),
            Next::Apply,
        )];
    };
    let by_id = |set: &RenderedSet| -> BTreeMap<ObjectId, Value> {
        set.objects
            .iter()
            .map(|o| (ObjectId::of(&o.value), o.value.clone()))
            .collect()
    };
    let (now, then) = (by_id(set), by_id(&latest.set));
    let added = now.keys().filter(|id| !then.contains_key(id)).count();
    let removed = then.keys().filter(|id| !now.contains_key(id)).count();
    let changed = now
        .iter()
        .filter(|(id, v)| then.get(id).is_some_and(|t| t != *v))
        .count();
    if added + removed + changed == 0 {
        return vec![Outcome::passed(
            Check::Revision,
            subject,
            format!("revision {} is what the spec renders", latest.number),
        )];
    }
    vec![Outcome::failed(
        Check::Revision,
        subject,
        format!(
            "the spec has changes revision {} does not: {added} objects to add, {changed} to change, {removed} to prune",
            latest.number
        ),
        Next::Diff,
    )]
}

/// Live objects that differ from what the latest revision applied.
async fn drift(
    cluster: &Cluster,
    latest: &Revision,
    concurrency: usize,
) -> Result<Vec<Outcome>, ClusterError> {
    let applied = latest.selection.select(&latest.set);
    let changes = diff::diff(cluster, &applied, &[], concurrency).await?;
    let service_of = |id: &ObjectId| {
        applied
            .iter()
            .find(|o| ObjectId::of(&o.value) == *id)
            .and_then(|o| o.service.clone())
    };
    if changes.is_empty() {
        return Ok(vec![Outcome::passed(
            Check::Drift,
            format!("revision {}", latest.number),
            format!(
                "{} objects are as revision {} applied them",
                applied.len(),
                latest.number
            ),
        )]);
    }
    Ok(changes
        .into_iter()
        .map(|change| {
            let service = service_of(&change.id);
            let outcome = match change.kind {
                ChangeKind::Added => Outcome::failed(
                    Check::Drift,
                    change.id.to_string(),
                    format!(
                        "not in the cluster: deleted since revision {} applied it",
                        latest.number
                    ),
                    Next::Apply,
                ),
                _ => Outcome::failed(
                    Check::Drift,
                    change.id.to_string(),
                    format!(
                        "changed since revision {} applied it: {}",
                        latest.number,
                        changed_lines(&change.diff)
                    ),
                    Next::Diff,
                ),
            };
            outcome.of(service.as_deref())
        })
        .collect())
}

/// The first changed lines of a unified diff, live then applied, e.g.
/// `live replicas: 5, applied replicas: 2`.
fn changed_lines(diff: &str) -> String {
    const SHOWN: usize = 2;
    let body = diff
        .lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"));
    let live: Vec<&str> = body
        .clone()
        .filter_map(|l| l.strip_prefix('-'))
        .map(str::trim)
        .collect();
    let applied: Vec<&str> = body
        .filter_map(|l| l.strip_prefix('+'))
        .map(str::trim)
        .collect();
    let show = |lines: &[&str]| {
        let mut text = lines
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join("; ");
        if lines.len() > SHOWN {
            text.push_str(&format!("; … {} more", lines.len() - SHOWN));
        }
        text
    };
    match (live.is_empty(), applied.is_empty()) {
        (false, false) => format!("live `{}`, applied `{}`", show(&live), show(&applied)),
        (false, true) => format!("added live `{}`", show(&live)),
        (true, false) => format!("missing live `{}`", show(&applied)),
        (true, true) => "the objects differ".into(),
    }
}

/// Each workload's readiness, as `status` judges it.
async fn workloads(
    cluster: &Cluster,
    objects: &[&Object],
    concurrency: usize,
) -> Result<Vec<Outcome>, ClusterError> {
    let rows = status::status(cluster, objects, concurrency).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let subject = row.id.to_string();
            let look = || match &row.service {
                Some(service) if row.id.kind != kind::PERSISTENT_VOLUME_CLAIM => {
                    Next::Logs(service.clone())
                }
                _ => Next::Describe(row.id.clone()),
            };
            let conditions = if row.conditions.is_empty() {
                String::new()
            } else {
                format!(" ({})", row.conditions.join("; "))
            };
            let replicas = match (row.ready, row.desired) {
                (Some(r), Some(d)) => format!(", {r}/{d}"),
                _ => String::new(),
            };
            let outcome = match &row.state {
                State::Ready => {
                    Outcome::passed(Check::Workload, subject, format!("ready{replicas}"))
                }
                State::Missing => {
                    Outcome::failed(Check::Workload, subject, "not in the cluster", Next::Apply)
                }
                State::Progressing(why) => Outcome::failed(
                    Check::Workload,
                    subject,
                    format!("not ready: {why}{conditions}"),
                    look(),
                ),
                State::Failed(why) => Outcome::failed(
                    Check::Workload,
                    subject,
                    format!("failed: {why}{conditions}"),
                    look(),
                ),
            };
            outcome.of(row.service.as_deref())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_show_live_then_applied() {
        let diff = "--- live/Deployment/shop/api\n+++ desired/Deployment/shop/api\n@@ -1 +1 @@\n-  replicas: 5\n+  replicas: 2\n";
        assert_eq!(
            changed_lines(diff),
            "live `replicas: 5`, applied `replicas: 2`"
        );
        let more = "-a: 1\n-b: 2\n-c: 3\n";
        assert_eq!(changed_lines(more), "added live `a: 1; b: 2; … 1 more`");
    }
}
