//! An in-process fake Kubernetes API server for the engine's tests: a
//! `tower::Service` handed to `kube::Client::new`, holding objects in
//! memory. It serves what Strata uses: discovery of resource lists, GET,
//! LIST (label selectors), POST, server-side apply with one field manager
//! per object (so conflicts can be provoked), merge patches, DELETE with
//! cascading namespaces and optional delays, dry runs, pod logs. Workload
//! status is made up on each GET from a per-object behaviour.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use kube::client::Body;
use serde_json::{Value, json};
use strata_kube::Cluster;

/// How a workload behaves when its status is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Ready at once (the default).
    Ready,
    /// Ready from the Nth GET on.
    ReadyAfter(usize),
    /// Never ready.
    Never,
    /// Reports a failure (deadline exceeded, job failed).
    Fail,
}

/// One request, as the engine made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `get`, `list`, `apply`, `create`, `merge`, `delete`, `log`.
    pub verb: &'static str,
    /// `Kind/ns/name`, `Kind/name`, or `Kind/ns` for lists.
    pub id: String,
    /// With `dryRun=All`.
    pub dry_run: bool,
}

#[derive(Clone)]
struct KindDef {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

struct Stored {
    value: Value,
    manager: String,
    deleting: Option<usize>,
}

type Key = (String, String, String, String);

#[derive(Default)]
struct State {
    kinds: Vec<KindDef>,
    objects: BTreeMap<Key, Stored>,
    calls: Vec<Call>,
    behaviors: HashMap<String, Behavior>,
    polls: HashMap<String, usize>,
    delete_delays: HashMap<String, usize>,
    refused_deletes: Vec<String>,
    apply_delay: Option<Duration>,
    in_flight: usize,
    max_in_flight: usize,
    version: u64,
    logs: HashMap<String, String>,
    /// Discovery requests of its group a new CRD's kind stays unlisted for.
    discovery_lag: usize,
    /// Kinds of new CRDs not listed yet, with the requests left.
    lagging: Vec<(KindDef, usize)>,
}

/// The fake API server; clones share state.
#[derive(Clone)]
pub struct Fake {
    state: Arc<Mutex<State>>,
}

const BUILT_IN: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    ("", "v1", "Service", "services", true),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "ResourceQuota", "resourcequotas", true),
    ("", "v1", "LimitRange", "limitranges", true),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    ("events.k8s.io", "v1", "Event", "events", true),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
];

impl Fake {
    /// An empty cluster serving the built-in kinds.
    pub fn new() -> Self {
        let state = State {
            kinds: BUILT_IN
                .iter()
                .map(|(g, v, k, p, n)| KindDef {
                    group: (*g).into(),
                    version: (*v).into(),
                    kind: (*k).into(),
                    plural: (*p).into(),
                    namespaced: *n,
                })
                .collect(),
            ..State::default()
        };
        Fake {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// A Strata cluster talking to this fake; default namespace `default`.
    pub fn cluster(&self) -> Cluster {
        Cluster::new(kube::Client::new(self.clone(), "default"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets how the object `Kind/ns/name` behaves.
    pub fn behave(&self, id: &str, behavior: Behavior) {
        self.lock().behaviors.insert(id.into(), behavior);
    }

    /// Makes a deletion of `id` take `gets` more GETs to finish.
    pub fn delete_after(&self, id: &str, gets: usize) {
        self.lock().delete_delays.insert(id.into(), gets);
    }

    /// Makes deletions of `id` fail with 403 Forbidden, or succeed again.
    pub fn refuse_delete(&self, id: &str, refuse: bool) {
        let mut state = self.lock();
        state.refused_deletes.retain(|r| r != id);
        if refuse {
            state.refused_deletes.push(id.into());
        }
    }

    /// Lists a new CRD's kind in discovery only after `requests` discovery
    /// requests, as an API server does a moment after Established.
    pub fn discovery_lag(&self, requests: usize) {
        self.lock().discovery_lag = requests;
    }

    /// Makes every apply take `delay` (to observe concurrency).
    pub fn apply_delay(&self, delay: Duration) {
        self.lock().apply_delay = Some(delay);
    }

    /// The most applies that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Forgets the requests so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Puts an object in place as `manager` would have (pods, events,
    /// objects of other tools).
    pub fn insert(&self, mut value: Value, manager: &str) {
        let mut state = self.lock();
        let def = state.def_of(&value).expect("a known kind");
        let key = state.key_of(&def, &value);
        state.stamp(&mut value, manager, "Update");
        state.objects.insert(
            key,
            Stored {
                value,
                manager: manager.into(),
                deleting: None,
            },
        );
    }

    /// Sets the log text of a pod.
    pub fn set_logs(&self, pod: &str, text: &str) {
        self.lock().logs.insert(pod.into(), text.into());
    }

    /// The stored object `Kind/ns/name` (or `Kind/name`), without made-up status.
    pub fn get(&self, id: &str) -> Option<Value> {
        let state = self.lock();
        state
            .objects
            .values()
            .find(|s| id_of(&s.value) == id)
            .map(|s| s.value.clone())
    }

    /// The ids of every stored object, sorted.
    pub fn ids(&self) -> Vec<String> {
        let state = self.lock();
        let mut ids: Vec<String> = state.objects.values().map(|s| id_of(&s.value)).collect();
        ids.sort();
        ids
    }

    /// The field manager of a stored object.
    pub fn manager(&self, id: &str) -> Option<String> {
        let state = self.lock();
        state
            .objects
            .values()
            .find(|s| id_of(&s.value) == id)
            .map(|s| s.manager.clone())
    }
}

/// `Kind/ns/name` or `Kind/name`.
pub fn id_of(value: &Value) -> String {
    let kind = value["kind"].as_str().unwrap_or("");
    let name = value["metadata"]["name"].as_str().unwrap_or("");
    match value["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => format!("{kind}/{ns}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

impl State {
    fn def_of(&self, value: &Value) -> Option<KindDef> {
        let api_version = value["apiVersion"].as_str().unwrap_or("");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = value["kind"].as_str().unwrap_or("");
        self.kinds
            .iter()
            .find(|d| d.group == group && d.version == version && d.kind == kind)
            .cloned()
    }

    fn key_of(&self, def: &KindDef, value: &Value) -> Key {
        let ns = if def.namespaced {
            value["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        (
            def.group.clone(),
            def.plural.clone(),
            ns,
            value["metadata"]["name"].as_str().unwrap_or("").into(),
        )
    }

    fn stamp(&mut self, value: &mut Value, manager: &str, operation: &str) {
        self.version += 1;
        let metadata = &mut value["metadata"];
        if metadata.get("uid").is_none() {
            metadata["uid"] = json!(format!("uid-{}", self.version));
            metadata["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            metadata["generation"] = json!(1);
        }
        metadata["resourceVersion"] = json!(self.version.to_string());
        metadata["managedFields"] = json!([{ "manager": manager, "operation": operation }]);
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .contains_key(&(String::new(), "namespaces".into(), String::new(), ns.into()))
    }

    fn register_crd(&mut self, crd: &Value) {
        let spec = &crd["spec"];
        for version in spec["versions"].as_array().into_iter().flatten() {
            let def = KindDef {
                group: spec["group"].as_str().unwrap_or("").into(),
                version: version["name"].as_str().unwrap_or("").into(),
                kind: spec["names"]["kind"].as_str().unwrap_or("").into(),
                plural: spec["names"]["plural"].as_str().unwrap_or("").into(),
                namespaced: spec["scope"] != "Cluster",
            };
            self.kinds.retain(|d| {
                !(d.group == def.group && d.version == def.version && d.kind == def.kind)
            });
            if self.discovery_lag > 0 {
                self.lagging.push((def, self.discovery_lag));
            } else {
                self.kinds.push(def);
            }
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some(stored) = self.objects.remove(key)
            && stored.value["kind"] == "Namespace"
        {
            let ns = key.3.clone();
            self.objects.retain(|k, _| k.2 != ns);
        }
    }

    /// The object as a GET shows it: with a made-up status for workloads.
    fn view(&self, stored: &Stored, polls: usize) -> Value {
        let mut value = stored.value.clone();
        if value.get("status").is_some() {
            return value;
        }
        let id = id_of(&value);
        let explicit = self.behaviors.get(&id).copied();
        let behavior = explicit.unwrap_or(Behavior::Ready);
        let ready = match behavior {
            Behavior::Ready => true,
            Behavior::ReadyAfter(n) => polls >= n,
            Behavior::Never | Behavior::Fail => false,
        };
        let failed = behavior == Behavior::Fail;
        let generation = value["metadata"]["generation"].as_i64().unwrap_or(1);
        let replicas = value["spec"]["replicas"].as_i64().unwrap_or(1);
        let status = match value["kind"].as_str().unwrap_or("") {
            "Namespace" => json!({"phase": "Active"}),
            "CustomResourceDefinition" if ready => {
                json!({"conditions": [{"type": "Established", "status": "True"}]})
            }
            "CustomResourceDefinition" => json!({}),
            "Deployment" if failed => {
                json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": 0,
                "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet has timed out progressing."}]})
            }
            "Deployment" => {
                let available = if ready { replicas } else { 0 };
                json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": available, "availableReplicas": available})
            }
            "StatefulSet" => {
                let ready_n = if ready { replicas } else { 0 };
                json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready_n, "updatedReplicas": replicas, "currentRevision": "r1", "updateRevision": "r1"})
            }
            "DaemonSet" => {
                let n = if ready { 1 } else { 0 };
                json!({"observedGeneration": generation, "desiredNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": n, "numberReady": n})
            }
            "Job" if failed => {
                json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]})
            }
            "Job" if ready => {
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
            }
            "Job" => json!({"active": 1}),
            "PersistentVolumeClaim" if ready => json!({"phase": "Bound"}),
            "PersistentVolumeClaim" => json!({"phase": "Pending"}),
            _ if explicit.is_some() && ready => {
                json!({"conditions": [{"type": "Ready", "status": "True"}]})
            }
            _ if explicit.is_some() => {
                json!({"conditions": [{"type": "Ready", "status": "False", "reason": "Reconciling"}]})
            }
            _ => return value,
        };
        value["status"] = status;
        value
    }
}

/// Deep merge: maps merge, other values replace; `null` removes with
/// `nulls_delete` (merge patches).
fn merge(target: &mut Value, patch: &Value, nulls_delete: bool) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() && nulls_delete {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v, nulls_delete);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Leaf fields of `applied` whose value in `live` differs: `.spec.replicas`.
fn conflicts(applied: &Value, live: &Value, path: &str, out: &mut Vec<String>) {
    match applied.as_object() {
        Some(map) => {
            for (k, v) in map {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if path == ".metadata" && matches!(k.as_str(), "name" | "namespace") {
                    continue;
                }
                if let Some(l) = live.get(k) {
                    conflicts(v, l, &format!("{path}.{k}"), out);
                }
            }
        }
        None => {
            if applied != live {
                out.push(path.to_string());
            }
        }
    }
}

/// Secrets: the server turns `stringData` into base64 `data`.
fn fold_string_data(value: &mut Value) {
    if value["kind"] != "Secret" {
        return;
    }
    if let Some(string_data) = value.as_object_mut().and_then(|o| o.remove("stringData"))
        && let Some(map) = string_data.as_object()
    {
        if !value["data"].is_object() {
            value["data"] = json!({});
        }
        for (k, v) in map {
            value["data"][k] = json!(STANDARD.encode(v.as_str().unwrap_or("")));
        }
    }
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}),
    )
}

struct Parsed {
    def: Option<KindDef>,
    group: String,
    version: String,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
    discovery: bool,
    plural: String,
}

fn parse_path(state: &State, path: &str) -> Option<Parsed> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => (String::new(), (*v).to_string(), rest),
        ["apis", g, v, rest @ ..] => ((*g).to_string(), (*v).to_string(), rest),
        _ => return None,
    };
    let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    if rest.is_empty() {
        return Some(Parsed {
            def: None,
            group,
            version,
            namespace,
            name: None,
            sub: None,
            discovery: true,
            plural: String::new(),
        });
    }
    let plural = rest[0].to_string();
    let def = state
        .kinds
        .iter()
        .find(|d| d.group == group && d.version == version && d.plural == plural)
        .cloned();
    Some(Parsed {
        def,
        group,
        version,
        namespace,
        name: rest.get(1).map(|s| (*s).to_string()),
        sub: rest.get(2).map(|s| (*s).to_string()),
        discovery: false,
        plural,
    })
}

fn query(uri: &http::Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn matches_labels(value: &Value, selector: Option<&String>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => value["metadata"]["labels"][k] == v,
        None => value["metadata"]["labels"].get(term).is_some(),
    })
}

impl Fake {
    fn handle(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value, Option<String>) {
        let mut state = self.lock();
        let path = uri.path();
        if path == "/version" {
            return (
                200,
                json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake"}),
                None,
            );
        }
        let Some(parsed) = parse_path(&state, path) else {
            let (c, v) = status(
                404,
                "NotFound",
                &format!("the server could not find {path}"),
            );
            return (c, v, None);
        };
        let q = query(uri);
        let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
        if parsed.discovery {
            for (def, left) in &mut state.lagging {
                if def.group == parsed.group && def.version == parsed.version {
                    *left = left.saturating_sub(1);
                }
            }
            let (listed, lagging): (Vec<_>, Vec<_>) =
                state.lagging.drain(..).partition(|(_, left)| *left == 0);
            state.lagging = lagging;
            state.kinds.extend(listed.into_iter().map(|(def, _)| def));
            let gv = if parsed.group.is_empty() {
                parsed.version.clone()
            } else {
                format!("{}/{}", parsed.group, parsed.version)
            };
            let resources: Vec<Value> = state
                .kinds
                .iter()
                .filter(|d| d.group == parsed.group && d.version == parsed.version)
                .map(|d| json!({"name": d.plural, "singularName": d.kind.to_lowercase(), "namespaced": d.namespaced, "kind": d.kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}))
                .collect();
            if resources.is_empty() {
                let (c, v) = status(
                    404,
                    "NotFound",
                    &format!("the server could not find {path}"),
                );
                return (c, v, None);
            }
            return (
                200,
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
                None,
            );
        }
        let Some(def) = parsed.def.clone() else {
            let (c, v) = status(
                404,
                "NotFound",
                &format!(
                    "the server could not find the requested resource {}",
                    parsed.plural
                ),
            );
            return (c, v, None);
        };
        let ns = if def.namespaced {
            parsed.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let id = |name: &str| {
            if ns.is_empty() {
                format!("{}/{name}", def.kind)
            } else {
                format!("{}/{ns}/{name}", def.kind)
            }
        };
        let key = |name: &str| {
            (
                def.group.clone(),
                def.plural.clone(),
                ns.clone(),
                name.to_string(),
            )
        };
        match (method.as_str(), parsed.name.as_deref()) {
            ("GET", None) => {
                state.calls.push(Call {
                    verb: "list",
                    id: format!("{}/{ns}", def.kind),
                    dry_run: false,
                });
                let items: Vec<Value> = state
                    .objects
                    .iter()
                    .filter(|(k, _)| {
                        k.0 == def.group && k.1 == def.plural && (ns.is_empty() || k.2 == ns)
                    })
                    .filter(|(_, s)| matches_labels(&s.value, q.get("labelSelector")))
                    .map(|(_, s)| {
                        state.view(s, state.polls.get(&id_of(&s.value)).copied().unwrap_or(0))
                    })
                    .collect();
                (
                    200,
                    json!({"apiVersion": if def.group.is_empty() { def.version.clone() } else { format!("{}/{}", def.group, def.version) },
                    "kind": format!("{}List", def.kind), "metadata": {"resourceVersion": state.version.to_string()}, "items": items}),
                    None,
                )
            }
            ("GET", Some(name)) => {
                let name = name.to_string();
                if parsed.sub.as_deref() == Some("log") {
                    state.calls.push(Call {
                        verb: "log",
                        id: id(&name),
                        dry_run: false,
                    });
                    return match state.logs.get(&name) {
                        Some(text) => (200, Value::Null, Some(text.clone())),
                        None => {
                            let (c, v) =
                                status(404, "NotFound", &format!("pods \"{name}\" not found"));
                            (c, v, None)
                        }
                    };
                }
                state.calls.push(Call {
                    verb: "get",
                    id: id(&name),
                    dry_run: false,
                });
                let k = key(&name);
                let polls = {
                    let p = state.polls.entry(id(&name)).or_insert(0);
                    *p += 1;
                    *p
                };
                let gone = match state.objects.get_mut(&k) {
                    None => true,
                    Some(stored) => match stored.deleting {
                        Some(0) => true,
                        Some(n) => {
                            stored.deleting = Some(n - 1);
                            false
                        }
                        None => false,
                    },
                };
                if gone {
                    if state.objects.contains_key(&k) {
                        state.remove(&k);
                    }
                    let (c, v) = status(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", def.plural),
                    );
                    return (c, v, None);
                }
                let stored = &state.objects[&k];
                (200, state.view(stored, polls), None)
            }
            ("POST", None) => {
                let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
                    let (c, v) = status(400, "BadRequest", "body is not JSON");
                    return (c, v, None);
                };
                let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
                state.calls.push(Call {
                    verb: "create",
                    id: id(&name),
                    dry_run,
                });
                if def.namespaced && !state.namespace_exists(&ns) {
                    let (c, v) = status(404, "NotFound", &format!("namespaces \"{ns}\" not found"));
                    return (c, v, None);
                }
                let k = key(&name);
                if state.objects.contains_key(&k) {
                    let (c, v) = status(
                        409,
                        "AlreadyExists",
                        &format!("{} \"{name}\" already exists", def.plural),
                    );
                    return (c, v, None);
                }
                if def.namespaced {
                    value["metadata"]["namespace"] = json!(ns);
                }
                fold_string_data(&mut value);
                let manager = q
                    .get("fieldManager")
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                state.stamp(&mut value, &manager, "Update");
                if !dry_run {
                    state.objects.insert(
                        k,
                        Stored {
                            value: value.clone(),
                            manager,
                            deleting: None,
                        },
                    );
                }
                (201, value, None)
            }
            ("PATCH", Some(name)) => {
                let name = name.to_string();
                let Ok(patch) = serde_json::from_slice::<Value>(body) else {
                    let (c, v) = status(400, "BadRequest", "body is not JSON");
                    return (c, v, None);
                };
                let k = key(&name);
                let manager = q
                    .get("fieldManager")
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                if content_type.starts_with("application/merge-patch") {
                    state.calls.push(Call {
                        verb: "merge",
                        id: id(&name),
                        dry_run,
                    });
                    let Some(stored) = state.objects.get(&k) else {
                        let (c, v) = status(
                            404,
                            "NotFound",
                            &format!("{} \"{name}\" not found", def.plural),
                        );
                        return (c, v, None);
                    };
                    let mut value = stored.value.clone();
                    let mut patch = patch;
                    patch["kind"] = value["kind"].clone();
                    fold_string_data(&mut patch);
                    if let Some(p) = patch.as_object_mut() {
                        p.remove("kind");
                    }
                    merge(&mut value, &patch, true);
                    state.stamp(&mut value, &manager, "Update");
                    if !dry_run && let Some(stored) = state.objects.get_mut(&k) {
                        stored.value = value.clone();
                    }
                    return (200, value, None);
                }
                state.calls.push(Call {
                    verb: "apply",
                    id: id(&name),
                    dry_run,
                });
                if def.namespaced && !state.namespace_exists(&ns) {
                    let (c, v) = status(404, "NotFound", &format!("namespaces \"{ns}\" not found"));
                    return (c, v, None);
                }
                let force = q.get("force").is_some_and(|v| v == "true");
                let mut applied = patch.clone();
                if def.namespaced {
                    applied["metadata"]["namespace"] = json!(ns);
                }
                fold_string_data(&mut applied);
                let (mut value, owner) = match state.objects.get(&k) {
                    Some(stored) => {
                        if stored.manager != manager && !force {
                            let mut fields = Vec::new();
                            conflicts(&applied, &stored.value, "", &mut fields);
                            if !fields.is_empty() {
                                let causes: Vec<Value> = fields.iter().map(|f| json!({"reason": "FieldManagerConflict",
                                    "message": format!("conflict with \"{}\"", stored.manager), "field": f})).collect();
                                return (
                                    409,
                                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
                                    "message": format!("Apply failed with {} conflicts", fields.len()), "details": {"causes": causes}}),
                                    None,
                                );
                            }
                        }
                        // As an API server does: a Job's pod template is immutable.
                        if stored.value["kind"] == "Job"
                            && !applied["spec"]["template"].is_null()
                            && applied["spec"]["template"] != stored.value["spec"]["template"]
                        {
                            let (c, v) =
                                status(422, "Invalid", "Job \"spec.template\": field is immutable");
                            return (c, v, None);
                        }
                        // As an API server does: a Secret's type is immutable.
                        if stored.value["kind"] == "Secret"
                            && !applied["type"].is_null()
                            && applied["type"] != stored.value["type"]
                        {
                            let (c, v) =
                                status(422, "Invalid", "Secret \"type\": field is immutable");
                            return (c, v, None);
                        }
                        let mut value = stored.value.clone();
                        let spec_before = value["spec"].clone();
                        merge(&mut value, &applied, false);
                        if value["spec"] != spec_before {
                            let g = value["metadata"]["generation"].as_i64().unwrap_or(1);
                            value["metadata"]["generation"] = json!(g + 1);
                        }
                        (value, manager.clone())
                    }
                    None => (applied, manager.clone()),
                };
                state.stamp(&mut value, &owner, "Apply");
                if !dry_run {
                    if value["kind"] == "CustomResourceDefinition" {
                        state.register_crd(&value);
                    }
                    state.objects.insert(
                        k.clone(),
                        Stored {
                            value: value.clone(),
                            manager: owner,
                            deleting: None,
                        },
                    );
                    let stored = &state.objects[&k];
                    let polls = state.polls.get(&id(&name)).copied().unwrap_or(0);
                    return (200, state.view(stored, polls), None);
                }
                (200, value, None)
            }
            ("DELETE", Some(name)) => {
                let name = name.to_string();
                state.calls.push(Call {
                    verb: "delete",
                    id: id(&name),
                    dry_run,
                });
                let k = key(&name);
                if !state.objects.contains_key(&k) {
                    let (c, v) = status(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", def.plural),
                    );
                    return (c, v, None);
                }
                if dry_run {
                    return (200, state.objects[&k].value.clone(), None);
                }
                if state.refused_deletes.contains(&id(&name)) {
                    let (c, v) = status(
                        403,
                        "Forbidden",
                        &format!("{} \"{name}\" is forbidden: the fake refuses", def.plural),
                    );
                    return (c, v, None);
                }
                match state.delete_delays.get(&id(&name)).copied() {
                    Some(n) => {
                        let stored = state.objects.get_mut(&k).expect("checked above");
                        stored.deleting = Some(n);
                        stored.value["metadata"]["deletionTimestamp"] =
                            json!("2026-01-01T00:00:00Z");
                        (200, stored.value.clone(), None)
                    }
                    None => {
                        let value = state.objects[&k].value.clone();
                        state.remove(&k);
                        (200, value, None)
                    }
                }
            }
            _ => {
                let (c, v) = status(405, "MethodNotAllowed", "not supported by the fake");
                (c, v, None)
            }
        }
    }
}

impl tower::Service<Request<Body>> for Fake {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let fake = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let is_apply =
                parts.method == http::Method::PATCH && content_type.contains("apply-patch");
            let delay = if is_apply {
                let mut state = fake.lock();
                state.in_flight += 1;
                state.max_in_flight = state.max_in_flight.max(state.in_flight);
                state.apply_delay
            } else {
                None
            };
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let (code, value, text) = fake.handle(&parts.method, &parts.uri, &content_type, &body);
            if is_apply {
                fake.lock().in_flight -= 1;
            }
            let body = match text {
                Some(text) => Bytes::from(text),
                None => Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
            };
            Ok(Response::builder()
                .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body))
                .expect("a valid response"))
        })
    }
}
