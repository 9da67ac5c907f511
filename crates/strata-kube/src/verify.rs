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
//! out with the spec's path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use kube::client::Body;
use serde_json::Value;
use strata_core::kind;
use strata_core::model::{Platform, ProbeCheck, Protocol, Service};
use strata_core::network_policy::{self, Direction, Pod};
use strata_core::render::{self, Object, RenderedSet};

use crate::apply::{pod_spec, references};
use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::diff::{self, ChangeKind};
use crate::inventory::{self, InventoryError, Release, Revision};
use crate::status::{self, State};

/// The label an EndpointSlice names its Service by.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

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
    fn passed(check: Check, subject: impl Into<String>, detail: impl Into<String>) -> Self {
        Outcome {
            check,
            subject: subject.into(),
            service: None,
            verdict: Verdict::Passed,
            detail: detail.into(),
            next: None,
        }
    }

    fn failed(
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

    fn skipped(check: Check, subject: impl Into<String>, detail: impl Into<String>) -> Self {
        Outcome {
            verdict: Verdict::Skipped,
            ..Outcome::passed(check, subject, detail)
        }
    }

    fn of(mut self, service: Option<&str>) -> Self {
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
    let (endpoint_outcomes, ready) = endpoints(cluster, set, concurrency).await?;
    outcomes.extend(endpoint_outcomes);
    outcomes.extend(routes(cluster, set, &ready).await?);
    outcomes.extend(references_present(cluster, set, concurrency).await?);
    outcomes.extend(health(cluster, platform, set, options).await?);
    outcomes.extend(policies(cluster, platform, set).await?);
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

/// `(namespace, name)` of a Service.
type ServiceKey = (String, String);

/// Ready endpoints of a live Service, or `None` when it is not there.
async fn ready_endpoints(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<usize>, ClusterError> {
    let id = ObjectId {
        api_version: "v1".into(),
        kind: kind::SERVICE.into(),
        namespace: namespace.into(),
        name: name.into(),
    };
    if cluster.get(&id).await?.is_none() {
        return Ok(None);
    }
    let slices = cluster
        .list(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            namespace,
            &format!("{SERVICE_NAME_LABEL}={name}"),
        )
        .await?;
    Ok(Some(slices.iter().map(ready_in_slice).sum()))
}

/// The ready endpoints of an EndpointSlice: those whose `ready` condition
/// is not false (unset means ready, as the API documents it).
fn ready_in_slice(slice: &Value) -> usize {
    slice["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["conditions"]["ready"] != false)
        .count()
}

/// True when every rendered workload a Service selects has zero replicas,
/// so that no endpoint is what the spec says.
fn scaled_to_zero(set: &RenderedSet, service: &Object) -> bool {
    let Some(selector) = service.value["spec"]["selector"].as_object() else {
        return false;
    };
    let selected: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| kind::is_workload(o.kind()) && o.namespace() == service.namespace())
        .filter(|o| {
            let labels = &o.value["spec"]["template"]["metadata"]["labels"];
            selector.iter().all(|(k, v)| labels[k] == *v)
        })
        .collect();
    !selected.is_empty()
        && selected
            .iter()
            .all(|o| o.value["spec"]["replicas"].as_i64() == Some(0))
}

/// Each rendered Service with a selector, and its ready endpoints; also
/// the ready endpoints found, for the routes.
async fn endpoints(
    cluster: &Cluster,
    set: &RenderedSet,
    concurrency: usize,
) -> Result<(Vec<Outcome>, BTreeMap<ServiceKey, Option<usize>>), ClusterError> {
    let services: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::SERVICE)
        .filter(|o| {
            o.value["spec"]["selector"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        })
        .collect();
    let found: Vec<Result<(&Object, Option<usize>), ClusterError>> = stream::iter(services)
        .map(|o| async move { Ok((o, ready_endpoints(cluster, o.namespace(), o.name()).await?)) })
        .buffered(concurrency)
        .collect()
        .await;
    let mut outcomes = Vec::new();
    let mut ready = BTreeMap::new();
    for result in found {
        let (object, count) = result?;
        let id = ObjectId::of(&object.value);
        ready.insert(
            (object.namespace().to_string(), object.name().to_string()),
            count,
        );
        let outcome = match count {
            None => Outcome::failed(
                Check::Endpoints,
                id.to_string(),
                "not in the cluster",
                Next::Apply,
            ),
            Some(0) if scaled_to_zero(set, object) => Outcome::skipped(
                Check::Endpoints,
                id.to_string(),
                "no endpoints: its workloads are scaled to zero",
            ),
            Some(0) => Outcome::failed(
                Check::Endpoints,
                id.to_string(),
                "no ready endpoints: none of the pods it selects is ready",
                object
                    .service
                    .clone()
                    .map_or_else(|| Next::Describe(id.clone()), Next::Logs),
            ),
            Some(n) => Outcome::passed(
                Check::Endpoints,
                id.to_string(),
                format!("{n} ready endpoints"),
            ),
        };
        outcomes.push(outcome.of(object.service.as_deref()));
    }
    Ok((outcomes, ready))
}

/// The backend Services of a gateway route: an Ingress's, a Gateway API
/// route's (`backendRefs` of kind Service), an Istio VirtualService's
/// destinations inside the cluster.
fn backends(route: &Object) -> Vec<ServiceKey> {
    let namespace = route.namespace().to_string();
    let spec = &route.value["spec"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut out = BTreeSet::new();
    match route.kind() {
        kind::INGRESS => {
            let default = &spec["defaultBackend"]["service"]["name"];
            out.extend(default.as_str().map(|n| (namespace.clone(), n.to_string())));
            for rule in list(&spec["rules"]) {
                for path in list(&rule["http"]["paths"]) {
                    if let Some(name) = path["backend"]["service"]["name"].as_str() {
                        out.insert((namespace.clone(), name.to_string()));
                    }
                }
            }
        }
        "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" | "UDPRoute" => {
            for rule in list(&spec["rules"]) {
                for backend in list(&rule["backendRefs"]) {
                    let service = backend["kind"].as_str().is_none_or(|k| k == kind::SERVICE)
                        && backend["group"].as_str().is_none_or(str::is_empty);
                    if let (true, Some(name)) = (service, backend["name"].as_str()) {
                        let ns = backend["namespace"].as_str().unwrap_or(&namespace);
                        out.insert((ns.to_string(), name.to_string()));
                    }
                }
            }
        }
        kind::VIRTUAL_SERVICE => {
            for protocol in ["http", "tcp", "tls", "grpc"] {
                for rule in list(&spec[protocol]) {
                    for route in list(&rule["route"]) {
                        if let Some(host) = route["destination"]["host"].as_str() {
                            out.extend(cluster_service(host, &namespace));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out.into_iter().collect()
}

/// The Service a host names inside the cluster: `name`, `name.ns`,
/// `name.ns.svc…`; `None` for a host outside.
fn cluster_service(host: &str, namespace: &str) -> Option<ServiceKey> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((namespace.to_string(), (*name).to_string())),
        [name, ns] | [name, ns, "svc", ..] => Some(((*ns).to_string(), (*name).to_string())),
        _ => None,
    }
}

/// Each route's backends: there, with ready endpoints.
async fn routes(
    cluster: &Cluster,
    set: &RenderedSet,
    ready: &BTreeMap<ServiceKey, Option<usize>>,
) -> Result<Vec<Outcome>, ClusterError> {
    let mut outcomes = Vec::new();
    for route in &set.objects {
        let route_id = ObjectId::of(&route.value);
        for (namespace, name) in backends(route) {
            let count = match ready.get(&(namespace.clone(), name.clone())) {
                Some(count) => *count,
                None => ready_endpoints(cluster, &namespace, &name).await?,
            };
            let backend = format!("Service/{namespace}/{name}");
            let subject = format!("{route_id} → {backend}");
            let owner = set
                .objects
                .iter()
                .find(|o| {
                    o.kind() == kind::SERVICE && o.namespace() == namespace && o.name() == name
                })
                .and_then(|o| o.service.clone());
            let outcome = match count {
                None => Outcome::failed(
                    Check::Route,
                    subject,
                    format!("its backend {backend} is not in the cluster"),
                    Next::Apply,
                ),
                Some(0) => Outcome::failed(
                    Check::Route,
                    subject,
                    format!("its backend {backend} has no ready endpoints"),
                    owner.clone().map_or_else(
                        || {
                            Next::Describe(ObjectId {
                                api_version: "v1".into(),
                                kind: kind::SERVICE.into(),
                                namespace: namespace.clone(),
                                name: name.clone(),
                            })
                        },
                        Next::Logs,
                    ),
                ),
                Some(n) => Outcome::passed(
                    Check::Route,
                    subject,
                    format!("its backend has {n} ready endpoints"),
                ),
            };
            outcomes.push(outcome.of(owner.as_deref().or(route.service.as_deref())));
        }
    }
    Ok(outcomes)
}

/// Where a needed Secret or ConfigMap comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Rendered, or generated by `apply`.
    Strata,
    /// Made outside Strata, read by pods.
    Outside,
    /// A registry pull secret, made outside Strata.
    Pull,
}

/// Every generated Secret, and every Secret and ConfigMap a rendered pod
/// reads or pulls with: there.
async fn references_present(
    cluster: &Cluster,
    set: &RenderedSet,
    concurrency: usize,
) -> Result<Vec<Outcome>, ClusterError> {
    let rendered: BTreeSet<ObjectId> = set.objects.iter().map(|o| ObjectId::of(&o.value)).collect();
    let mut needed: BTreeMap<ObjectId, (Origin, Option<String>)> = BTreeMap::new();
    for secret in &set.generated_secrets {
        for namespace in &secret.namespaces {
            needed.insert(
                ObjectId::secret(namespace, &secret.name),
                (Origin::Strata, None),
            );
        }
    }
    for object in &set.objects {
        let Some(spec) = pod_spec(&object.value) else {
            continue;
        };
        for (kind, name) in references(spec) {
            let id = ObjectId {
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: object.namespace().into(),
                name,
            };
            let origin = if rendered.contains(&id) {
                Origin::Strata
            } else {
                Origin::Outside
            };
            needed
                .entry(id)
                .or_insert_with(|| (origin, object.service.clone()));
        }
    }
    for secret in &set.pull_secrets {
        for namespace in &secret.namespaces {
            needed
                .entry(ObjectId::secret(namespace, &secret.name))
                .or_insert((Origin::Pull, None));
        }
    }
    let checked: Vec<Result<Outcome, ClusterError>> = stream::iter(needed)
        .map(|(id, (origin, service))| async move {
            let present = cluster.get(&id).await?.is_some();
            let outcome = if present {
                Outcome::passed(Check::Reference, id.to_string(), "present")
            } else {
                let (detail, next) = match origin {
                    Origin::Strata => ("missing: Strata makes it on apply", Next::Apply),
                    Origin::Outside => (
                        "missing: pods read it, and it is made outside Strata",
                        Next::Create(id.clone()),
                    ),
                    Origin::Pull => (
                        "missing: pods pull their images with it",
                        Next::CreatePullSecret(id.clone()),
                    ),
                };
                Outcome::failed(Check::Reference, id.to_string(), detail, next)
            };
            Ok(outcome.of(service.as_deref()))
        })
        .buffered(concurrency)
        .collect()
        .await;
    checked.into_iter().collect()
}

/// The HTTP health URL of a service: its readiness probe's path, on the
/// rendered Service's port that leads to the probe's port, as
/// `(namespace, Service, port, path)`.
fn health_url(set: &RenderedSet, service: &Service) -> Option<(String, String, String, String)> {
    let probe = service.runtime.probes.as_ref()?.readiness.as_ref()?;
    let ProbeCheck::Http { port, path, .. } = &probe.check else {
        return None;
    };
    let number = service.ports.iter().find(|p| p.name == *port)?.number;
    let leads_to_probe = |p: &Value| {
        p["targetPort"] == port.as_str()
            || p["targetPort"].as_u64() == Some(u64::from(number))
            || (p["targetPort"].is_null() && p["port"].as_u64() == Some(u64::from(number)))
    };
    // The Service clients use (not a headless one) first.
    let mut candidates: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::SERVICE && o.service.as_deref() == Some(&service.name))
        .collect();
    candidates.sort_by_key(|o| o.value["spec"]["clusterIP"] == "None");
    candidates.into_iter().find_map(|o| {
        let ports = o.value["spec"]["ports"].as_array()?;
        let found = ports.iter().find(|p| leads_to_probe(p))?;
        let name = match found["name"].as_str() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => found["port"].as_u64()?.to_string(),
        };
        let path = if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        };
        Some((o.namespace().to_string(), o.name().to_string(), name, path))
    })
}

/// Each service's health URL, through the API server's service proxy.
async fn health(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
    options: &VerifyOptions,
) -> Result<Vec<Outcome>, ClusterError> {
    let mut outcomes = Vec::new();
    for service in &platform.services {
        if !service.kind.is_long_running() {
            continue;
        }
        let Some((namespace, name, port, path)) = health_url(set, service) else {
            if !service.ports.is_empty() {
                outcomes.push(
                    Outcome::skipped(
                        Check::Health,
                        format!("service {}", service.name),
                        "no health URL: its readiness probe is not an HTTP GET (`probes.path` sets one)",
                    )
                    .of(Some(&service.name)),
                );
            }
            continue;
        };
        let subject = format!("Service/{namespace}/{name}:{port}{path}");
        if service.replicas == 0 {
            outcomes.push(
                Outcome::skipped(Check::Health, subject, "not asked: scaled to zero")
                    .of(Some(&service.name)),
            );
            continue;
        }
        let url = format!("/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy{path}");
        let id = ObjectId {
            api_version: "v1".into(),
            kind: kind::SERVICE.into(),
            namespace: namespace.clone(),
            name: name.clone(),
        };
        let outcome =
            match tokio::time::timeout(options.health_timeout, get(cluster, &id, &url)).await {
                Err(_) => Outcome::failed(
                    Check::Health,
                    subject,
                    format!("no answer within {}s", options.health_timeout.as_secs()),
                    Next::Logs(service.name.clone()),
                ),
                Ok(Err(e)) => return Err(e),
                Ok(Ok((code, _))) if (200..300).contains(&code) => {
                    Outcome::passed(Check::Health, subject, format!("answered {code}"))
                }
                Ok(Ok((code, body))) => Outcome::failed(
                    Check::Health,
                    subject,
                    format!("answered {code}: {}", first_line(&body)),
                    Next::Logs(service.name.clone()),
                ),
            };
        outcomes.push(outcome.of(Some(&service.name)));
    }
    Ok(outcomes)
}

/// A GET of `url` on the API server: the status code and the body.
async fn get(cluster: &Cluster, id: &ObjectId, url: &str) -> Result<(u16, String), ClusterError> {
    let unreachable = |message: String| ClusterError::Unreachable {
        id: Box::new(id.clone()),
        message,
    };
    let request = http::Request::get(url)
        .body(Vec::new())
        .map_err(|e| unreachable(e.to_string()))?;
    let response = cluster
        .client()
        .send(request.map(Body::from))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let code = response.status().as_u16();
    let body = response
        .into_body()
        .collect_bytes()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

/// The gist of an answer: a Status's message, or the body's first line,
/// cut short.
fn first_line(body: &str) -> String {
    const LONGEST: usize = 120;
    let text = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.lines().next().unwrap_or("").trim().to_string());
    if text.chars().count() > LONGEST {
        format!("{}…", text.chars().take(LONGEST).collect::<String>())
    } else if text.is_empty() {
        "(empty body)".into()
    } else {
        text
    }
}

/// A service's pods as policies see them: its workload's pod template (a
/// CronJob's job template), or the labels its operator gives them.
fn pod_of(platform: &Platform, set: &RenderedSet, service: &Service) -> Pod {
    let template = set
        .objects
        .iter()
        .filter(|o| o.service.as_deref() == Some(&service.name))
        .find_map(|o| {
            let labels = match o.kind() {
                k if kind::is_workload(k) || k == kind::JOB => {
                    &o.value["spec"]["template"]["metadata"]["labels"]
                }
                kind::CRON_JOB => {
                    &o.value["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
                }
                _ => return None,
            };
            labels.as_object().cloned()
        });
    let labels = template.unwrap_or_else(|| {
        render::network::pod_selector(platform, service)
            .as_object()
            .cloned()
            .unwrap_or_default()
    });
    Pod {
        namespace: service.namespace.clone(),
        labels: labels
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string())))
            .collect(),
    }
}

/// Each declared call, on each port of the service called: admitted by
/// the live NetworkPolicies of the caller (egress) and the called (ingress).
async fn policies(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
) -> Result<Vec<Outcome>, ClusterError> {
    let namespaces: BTreeSet<&str> = platform
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .collect();
    let mut live = Vec::new();
    for namespace in namespaces {
        live.extend(
            cluster
                .list("networking.k8s.io/v1", "NetworkPolicy", namespace, "")
                .await?,
        );
    }
    let live: Vec<&Value> = live.iter().collect();
    let mut outcomes = Vec::new();
    for edge in &platform.edges {
        let (from, to) = (
            &platform.services[edge.from.0],
            &platform.services[edge.to.0],
        );
        if edge.from == edge.to || to.ports.is_empty() {
            continue;
        }
        let (caller, called) = (pod_of(platform, set, from), pod_of(platform, set, to));
        for port in &to.ports {
            let protocol = if port.protocol == Protocol::Udp {
                "UDP"
            } else {
                "TCP"
            };
            let subject = format!("{} → {} {}/{protocol}", from.name, to.name, port.number);
            let sends = network_policy::side_allows(
                &live,
                Direction::Egress,
                &caller,
                &called,
                port.number,
                protocol,
            );
            let receives = network_policy::side_allows(
                &live,
                Direction::Ingress,
                &called,
                &caller,
                port.number,
                protocol,
            );
            let outcome = match (sends, receives) {
                (true, true) => Outcome::passed(Check::Policy, subject, "admitted"),
                (false, _) => denied(
                    &live,
                    Direction::Egress,
                    &caller,
                    &from.name,
                    &to.name,
                    subject,
                ),
                (true, false) => denied(
                    &live,
                    Direction::Ingress,
                    &called,
                    &to.name,
                    &from.name,
                    subject,
                ),
            };
            outcomes.push(outcome.of(Some(&from.name)));
        }
    }
    Ok(outcomes)
}

/// The failure of a call `direction` refuses at `subject_pod` (of service
/// `own`, talking with `other`): which policies select it, and the most
/// specific of them to look at.
fn denied(
    live: &[&Value],
    direction: Direction,
    pod: &Pod,
    own: &str,
    other: &str,
    subject: String,
) -> Outcome {
    let selecting = network_policy::selecting(live, direction, pod);
    let names: Vec<&str> = selecting
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    let verb = match direction {
        Direction::Egress => format!("let {own} reach {other}"),
        Direction::Ingress => format!("admit {other} into {own}"),
    };
    let detail = format!(
        "refused: the {} policies selecting {own} in `{}` ({}) do not {verb} on this port",
        direction.policy_type().to_lowercase(),
        pod.namespace,
        names.join(", ")
    );
    // A policy for these pods says more than one for every pod.
    let look = selecting
        .iter()
        .find(|p| {
            p["spec"]["podSelector"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        })
        .or(selecting.first())
        .map(|p| {
            ObjectId::of(&{
                let mut value = (*p).clone();
                value["apiVersion"] = "networking.k8s.io/v1".into();
                value["kind"] = "NetworkPolicy".into();
                value
            })
        });
    Outcome::failed(
        Check::Policy,
        subject,
        detail,
        look.map_or(Next::Diff, Next::Describe),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn hosts_inside_the_cluster_name_their_service() {
        assert_eq!(
            cluster_service("api", "shop"),
            Some(("shop".into(), "api".into()))
        );
        assert_eq!(
            cluster_service("api.data.svc.cluster.local", "shop"),
            Some(("data".into(), "api".into()))
        );
        assert_eq!(cluster_service("example.com.eu", "shop"), None);
    }

    #[test]
    fn routes_name_their_backends() {
        let ingress = Object::new(
            1,
            None,
            None,
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "edge", "namespace": "shop"},
                "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        );
        assert_eq!(backends(&ingress), [("shop".into(), "web".into())]);
        let route = Object::new(
            1,
            None,
            None,
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "shop"},
                "spec": {"rules": [{"backendRefs": [{"name": "api", "port": 8080}, {"name": "b", "kind": "Bucket", "group": "x.io"}]}]}}),
        );
        assert_eq!(backends(&route), [("shop".into(), "api".into())]);
    }

    #[test]
    fn unset_readiness_counts_as_ready() {
        let slice = json!({"endpoints": [{"conditions": {"ready": true}}, {"conditions": {}}, {"conditions": {"ready": false}}]});
        assert_eq!(ready_in_slice(&slice), 2);
    }

    #[test]
    fn answers_are_cut_to_their_gist() {
        assert_eq!(
            first_line(
                r#"{"kind":"Status","message":"no endpoints available for service \"api\""}"#
            ),
            "no endpoints available for service \"api\""
        );
        assert_eq!(first_line("boom\nstack"), "boom");
        assert_eq!(first_line(""), "(empty body)");
    }
}
