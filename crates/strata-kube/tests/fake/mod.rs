//! An in-process fake Kubernetes API server for the engine's tests: a
//! `tower::Service` handed to `kube::Client::new`, holding objects in
//! memory. It serves what Strata and kubectl use: discovery (API versions,
//! groups, resource lists), GET, LIST (label selectors), POST, server-side
//! apply with one field manager per object (so conflicts can be provoked),
//! merge patches (with a resourceVersion precondition), GET and LIST of
//! metadata only (`PartialObjectMetadata[List]`), DELETE with
//! cascading namespaces, dependents deleted or orphaned (`propagationPolicy`)
//! and optional delays, dry runs, pod logs, EndpointSlices and the service
//! proxy (`endpoints`), and RBAC for callers acting as
//! a ServiceAccount (by impersonation). Like a real server it refuses
//! changes to fields fixed at creation, holds every custom resource it is
//! sent (create, server-side apply, merge patch; dry runs too) to the schema
//! of the CRD version it serves, with the tests' one schema check (`crds`):
//! an undeclared field refused with strict field validation, else dropped
//! with a warning; a wrong type or a value not allowed refused (422
//! Invalid); and it sends `Warning` headers (deprecated versions).
//! Workload status is made up on each GET from a per-object behaviour;
//! custom resources get one only when their operator "runs" (a behaviour
//! is set), in their CRD's shape. As on a real cluster, every new namespace
//! gets what the controllers put in each (`kube-root-ca.crt`, the `default`
//! ServiceAccount; more on OpenShift), written by their field managers.
//!
//! This module is what tests use: set behaviours up, look at what is stored
//! and which calls were made. The server itself is in its parts: `routing`
//! reads a request, `rbac` says whether its caller may, `requests`
//! carries it out on the `store`, `fields` holds the API server's rules for
//! fields, `status` makes up status, `endpoints` makes up EndpointSlices
//! and answers the service proxy, and `service` speaks HTTP.

#![allow(dead_code)]

#[path = "../crds/mod.rs"]
pub(crate) mod crds;
mod endpoints;
mod fields;
mod rbac;
mod requests;
mod routing;
mod service;
mod status;
mod store;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use strata_kube::Cluster;

pub(crate) use status::Behavior;
use store::State;
pub(crate) use store::id_of;

/// One request, as the engine made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    /// `get`, `list`, `watch`, `apply`, `create`, `merge`, `delete`,
    /// `log`, `proxy`; `get-metadata` and `list-metadata` for metadata
    /// only (`PartialObjectMetadata`); and `ready` where the fake's controllers reported an object
    /// ready after its readiness latency, among the requests.
    pub(crate) verb: &'static str,
    /// `Kind/ns/name`, `Kind/name`, or `Kind/ns` for lists.
    pub(crate) id: String,
    /// With `dryRun=All`.
    pub(crate) dry_run: bool,
}

/// The fake API server; clones share state.
#[derive(Clone)]
pub(crate) struct Fake {
    state: Arc<Mutex<State>>,
    /// Woken at each request, so that watches look for changes.
    changed: Arc<tokio::sync::Notify>,
}

impl Fake {
    /// An empty cluster serving the built-in kinds.
    pub(crate) fn new() -> Self {
        Fake {
            state: Arc::new(Mutex::new(State::new())),
            changed: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// A Strata cluster talking to this fake; default namespace `default`.
    pub(crate) fn cluster(&self) -> Cluster {
        Cluster::new(kube::Client::new(self.clone(), "default"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Serves `kind` of `api_version` as a CRD installed beforehand would
    /// (an operator's kinds), with the plural `kind` in lowercase plus `s`.
    pub(crate) fn serve_kind(&self, api_version: &str, kind: &str, namespaced: bool) {
        let mut state = self.lock();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let known = state
            .kinds
            .iter()
            .any(|d| d.group == group && d.version == version && d.kind == kind);
        if !known {
            state.kinds.push(store::KindDef {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: format!("{}s", kind.to_lowercase()),
                namespaced,
                deprecation: None,
                schema: None,
            });
        }
    }

    /// Installs the CRDs of a YAML file (an operator's, from
    /// `testdata/crds`) as `kubectl apply` would: stored, and their served
    /// versions listed in discovery, deprecated ones sending their warning.
    pub(crate) fn install_crds(&self, path: &std::path::Path) {
        let text = std::fs::read_to_string(path).expect("a CRD file");
        let file = strata_core::source::SourceFile::new(path.display().to_string(), text);
        let docs = strata_core::spec::yaml::parse_all(&file).expect("YAML");
        for doc in docs {
            let crd = doc.to_json();
            if crd["kind"] != "CustomResourceDefinition" {
                continue;
            }
            self.lock().register_crd(&crd);
            self.insert(crd, "kubectl");
        }
    }

    /// Whether the fake serves `kind` of `api_version`.
    pub(crate) fn serves(&self, api_version: &str, kind: &str) -> bool {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        self.lock()
            .kinds
            .iter()
            .any(|d| d.group == group && d.version == version && d.kind == kind)
    }

    /// Sets how the object `Kind/ns/name` behaves.
    pub(crate) fn behave(&self, id: &str, behavior: Behavior) {
        self.lock().behaviors.insert(id.into(), behavior);
    }

    /// Makes a deletion of `id` take `gets` more GETs to finish.
    pub(crate) fn delete_after(&self, id: &str, gets: usize) {
        self.lock().delete_delays.insert(id.into(), gets);
    }

    /// Makes deletions of `id` fail with 403 Forbidden, or succeed again.
    pub(crate) fn refuse_delete(&self, id: &str, refuse: bool) {
        let mut state = self.lock();
        state.refused_deletes.retain(|r| r != id);
        if refuse {
            state.refused_deletes.push(id.into());
        }
    }

    /// Makes GETs of `id` fail with 403 Forbidden, as for a caller whose
    /// role does not reach it.
    pub(crate) fn forbid_get(&self, id: &str) {
        self.lock().forbidden_gets.push(id.into());
    }

    /// Lists a new CRD's kind in discovery only after `requests` discovery
    /// requests, as an API server does a moment after Established.
    pub(crate) fn discovery_lag(&self, requests: usize) {
        self.lock().discovery_lag = requests;
    }

    /// Makes every apply take `delay` (to observe concurrency).
    pub(crate) fn apply_delay(&self, delay: Duration) {
        self.lock().apply_delay = Some(delay);
    }

    /// Makes every request take `latency` before it is answered, as the
    /// round trip to a real API server does.
    pub(crate) fn request_latency(&self, latency: Duration) {
        self.lock().request_latency = Some(latency);
    }

    /// Makes workloads (and the custom resources whose operator runs)
    /// report ready `latency` after each change of their spec rather than
    /// at once, and each step of [`Behavior::ReadyAfter`] take `step`;
    /// watches see each change when it happens.
    pub(crate) fn readiness(&self, latency: Duration, step: Duration) {
        let mut state = self.lock();
        state.readiness_latency = latency;
        state.readiness_step = step;
    }

    /// Edits a stored object as `kubectl edit` by `manager` would: a
    /// change of spec makes a new generation.
    pub(crate) fn edit(&self, id: &str, manager: &str, edit: impl FnOnce(&mut Value)) {
        {
            let mut state = self.lock();
            let (key, mut value) = state
                .objects
                .iter()
                .find(|(_, s)| id_of(&s.value) == id)
                .map(|(k, s)| (k.clone(), s.value.clone()))
                .expect("a stored object");
            let spec = value["spec"].clone();
            edit(&mut value);
            if value["spec"] != spec {
                store::next_generation(&mut value);
            }
            state.stamp(&mut value, manager, "Update");
            state.put(key, value, manager.into());
        }
        self.changed.notify_waiters();
    }

    /// The most applies that were in flight at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// The most service-proxy requests (health URLs) answered at once.
    pub(crate) fn max_proxies_in_flight(&self) -> usize {
        self.lock().max_proxies_in_flight
    }

    /// Every request so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Forgets the requests so far.
    pub(crate) fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Puts an object in place as `manager` would have (pods, events,
    /// objects of other tools).
    pub(crate) fn insert(&self, mut value: Value, manager: &str) {
        let mut state = self.lock();
        let def = state.def_of(&value).expect("a known kind");
        let key = store::key_of(&def, &value);
        state.stamp(&mut value, manager, "Update");
        state.put(key, value, manager.into());
        drop(state);
        self.changed.notify_waiters();
    }

    /// Makes the cluster an OpenShift one: every new namespace also gets
    /// `openshift-service-ca.crt` and the image pullers' RoleBinding.
    pub(crate) fn openshift(&self) {
        self.lock().openshift = true;
    }

    /// Sets the log text of a pod.
    pub(crate) fn set_logs(&self, pod: &str, text: &str) {
        self.lock().logs.insert(pod.into(), text.into());
    }

    /// Makes log requests of `pod` fail as when its node's kubelet does
    /// not answer: the API server's 500 with the dial error.
    pub(crate) fn kubelet_down(&self, pod: &str, node: &str) {
        self.lock().log_failures.insert(
            pod.into(),
            (
                500,
                format!("Get \"https://{node}:10250/containerLogs/shop/{pod}/api\": dial tcp {node}:10250: connect: connection refused"),
            ),
        );
    }

    /// Makes the Service `Service/ns/name` have `ready` ready endpoints,
    /// whatever its workloads say (0: its pods all fail readiness).
    pub(crate) fn endpoints(&self, service: &str, ready: usize) {
        self.lock().endpoints.insert(service.into(), ready);
    }

    /// Makes the pods of `Service/ns/name` answer `code` with `text`
    /// through the service proxy (`200 ok` otherwise).
    pub(crate) fn proxy_answer(&self, service: &str, code: u16, text: &str) {
        self.lock()
            .proxy_answers
            .insert(service.into(), (code, text.into()));
    }

    /// Removes an object at once, as `kubectl delete` by someone else.
    pub(crate) fn remove(&self, id: &str) {
        let mut state = self.lock();
        let key = state
            .objects
            .iter()
            .find(|(_, s)| id_of(&s.value) == id)
            .map(|(k, _)| k.clone());
        if let Some(key) = key {
            state.remove(&key);
        }
    }

    /// The stored object `Kind/ns/name` (or `Kind/name`), without made-up status.
    pub(crate) fn get(&self, id: &str) -> Option<Value> {
        let state = self.lock();
        state
            .objects
            .values()
            .find(|s| id_of(&s.value) == id)
            .map(|s| s.value.clone())
    }

    /// The ids of every stored object, sorted.
    pub(crate) fn ids(&self) -> Vec<String> {
        let state = self.lock();
        let mut ids: Vec<String> = state.objects.values().map(|s| id_of(&s.value)).collect();
        ids.sort();
        ids
    }

    /// The field manager of a stored object.
    pub(crate) fn manager(&self, id: &str) -> Option<String> {
        let state = self.lock();
        state
            .objects
            .values()
            .find(|s| id_of(&s.value) == id)
            .map(|s| s.manager.clone())
    }
}
