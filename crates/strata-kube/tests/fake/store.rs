//! The fake's memory: the kinds it serves (built-in ones, and those of the
//! CRDs applied to it), the objects it holds, and what the tests set up or
//! look at afterwards (behaviours, delays, calls, logs).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::crds::Schema;
use super::{Behavior, Call};

/// A kind the fake serves.
#[derive(Clone)]
pub(super) struct KindDef {
    pub(super) group: String,
    pub(super) version: String,
    pub(super) kind: String,
    pub(super) plural: String,
    pub(super) namespaced: bool,
    /// The warning the server sends with each request of a deprecated
    /// version, as a CRD's `deprecationWarning` (or the default text).
    pub(super) deprecation: Option<String>,
    /// The schema of a CRD's version, which every object of the kind must
    /// meet; its unknown fields the server drops (or refuses, with strict
    /// field validation).
    pub(super) schema: Option<Arc<Schema>>,
}

/// An object held, with its one field manager.
pub(super) struct Stored {
    pub(super) value: Value,
    pub(super) manager: String,
    /// GETs left before a deletion finishes.
    pub(super) deleting: Option<usize>,
    /// When its controller next reports a change of status (ready): until
    /// then its made-up status says not ready.
    pub(super) settles: Option<Instant>,
}

/// One change of an object, as a watch sends it.
pub(super) struct Change {
    /// The resourceVersion the change made.
    pub(super) version: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub(super) kind: &'static str,
    pub(super) key: Key,
    /// The object as a GET showed it right after the change.
    pub(super) object: Value,
}

/// Group, plural, namespace, name.
pub(super) type Key = (String, String, String, String);

#[derive(Default)]
pub(super) struct State {
    pub(super) kinds: Vec<KindDef>,
    pub(super) objects: BTreeMap<Key, Stored>,
    pub(super) calls: Vec<Call>,
    pub(super) behaviors: HashMap<String, Behavior>,
    /// Every change so far, oldest first, for watches.
    pub(super) changes: Vec<Change>,
    /// How long a workload takes to become ready after a change of spec.
    pub(super) readiness_latency: Duration,
    /// How long each step of [`Behavior::ReadyAfter`] takes.
    pub(super) readiness_step: Duration,
    /// How long every request takes to be answered.
    pub(super) request_latency: Option<Duration>,
    pub(super) delete_delays: HashMap<String, usize>,
    pub(super) refused_deletes: Vec<String>,
    /// Objects whose GETs the caller may not make (403 Forbidden).
    pub(super) forbidden_gets: Vec<String>,
    pub(super) apply_delay: Option<Duration>,
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
    /// Service-proxy requests being answered now, and the most at once.
    pub(super) proxies_in_flight: usize,
    pub(super) max_proxies_in_flight: usize,
    pub(super) version: u64,
    pub(super) logs: HashMap<String, String>,
    /// Pods whose log requests fail, with the code and message.
    pub(super) log_failures: HashMap<String, (u16, String)>,
    /// Discovery requests of its group a new CRD's kind stays unlisted for.
    pub(super) discovery_lag: usize,
    /// Kinds of new CRDs not listed yet, with the requests left.
    pub(super) lagging: Vec<(KindDef, usize)>,
    /// Whether the cluster is OpenShift, which puts more in every namespace.
    pub(super) openshift: bool,
    /// Warnings of the request being answered, sent as `Warning` headers.
    pub(super) warnings: Vec<String>,
    /// Services whose ready endpoints the test sets, by id, instead of
    /// those of the workloads their selector matches.
    pub(super) endpoints: HashMap<String, usize>,
    /// What a Service's pods answer through the service proxy, by id, when
    /// not `200 ok`.
    pub(super) proxy_answers: HashMap<String, (u16, String)>,
}

const BUILT_IN: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Node", "nodes", false),
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
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        false,
    ),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
    ),
    ("events.k8s.io", "v1", "Event", "events", true),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
    ),
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

/// `Kind/ns/name` or `Kind/name`.
pub(crate) fn id_of(value: &Value) -> String {
    let kind = value["kind"].as_str().unwrap_or("");
    let name = value["metadata"]["name"].as_str().unwrap_or("");
    match value["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => format!("{kind}/{ns}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

/// Whether objects of `api_version` have a `metadata.generation`, which
/// moves with each change of spec: as on a real server, those of the core
/// group (Services, ConfigMaps, Secrets…), RBAC and storage do not.
fn has_generation(api_version: &Value) -> bool {
    let group = api_version
        .as_str()
        .unwrap_or("")
        .split_once('/')
        .map_or("", |(g, _)| g);
    !matches!(
        group,
        "" | "rbac.authorization.k8s.io" | "storage.k8s.io" | "scheduling.k8s.io"
    )
}

/// One more generation for an object whose spec changed, if its kind
/// counts them.
pub(super) fn next_generation(value: &mut Value) {
    if let Some(generation) = value["metadata"]["generation"].as_i64() {
        value["metadata"]["generation"] = json!(generation + 1);
    }
}

/// Where `value`, of kind `def`, is stored.
pub(super) fn key_of(def: &KindDef, value: &Value) -> Key {
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

impl State {
    /// An empty cluster serving the built-in kinds.
    pub(super) fn new() -> Self {
        State {
            kinds: BUILT_IN
                .iter()
                .map(|(g, v, k, p, n)| KindDef {
                    group: (*g).into(),
                    version: (*v).into(),
                    kind: (*k).into(),
                    plural: (*p).into(),
                    namespaced: *n,
                    deprecation: None,
                    schema: None,
                })
                .collect(),
            readiness_step: Duration::from_secs(1),
            ..State::default()
        }
    }

    pub(super) fn def_of(&self, value: &Value) -> Option<KindDef> {
        let api_version = value["apiVersion"].as_str().unwrap_or("");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = value["kind"].as_str().unwrap_or("");
        self.kinds
            .iter()
            .find(|d| d.group == group && d.version == version && d.kind == kind)
            .cloned()
    }

    /// Sets the metadata the server maintains, as `manager` writing it.
    pub(super) fn stamp(&mut self, value: &mut Value, manager: &str, operation: &str) {
        self.version += 1;
        if value["metadata"].get("uid").is_none() {
            let metadata = &mut value["metadata"];
            metadata["uid"] = json!(format!("uid-{}", self.version));
            metadata["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            if has_generation(&value["apiVersion"]) {
                value["metadata"]["generation"] = json!(1);
            }
        }
        let metadata = &mut value["metadata"];
        metadata["resourceVersion"] = json!(self.version.to_string());
        metadata["managedFields"] = json!([{ "manager": manager, "operation": operation }]);
    }

    pub(super) fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .contains_key(&(String::new(), "namespaces".into(), String::new(), ns.into()))
    }

    /// Serves the kind a CRD defines, at once or after the discovery lag.
    pub(super) fn register_crd(&mut self, crd: &Value) {
        let spec = &crd["spec"];
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"] == false {
                continue;
            }
            let group = spec["group"].as_str().unwrap_or("");
            let name = version["name"].as_str().unwrap_or("");
            let kind = spec["names"]["kind"].as_str().unwrap_or("");
            let deprecation = (version["deprecated"] == true).then(|| {
                version["deprecationWarning"].as_str().map_or_else(
                    || format!("{group}/{name} {kind} is deprecated"),
                    str::to_string,
                )
            });
            let def = KindDef {
                group: group.into(),
                version: name.into(),
                kind: kind.into(),
                plural: spec["names"]["plural"].as_str().unwrap_or("").into(),
                namespaced: spec["scope"] != "Cluster",
                deprecation,
                schema: version["schema"]["openAPIV3Schema"].is_object().then(|| {
                    let schema = Schema::resource(&version["schema"]["openAPIV3Schema"])
                        .unwrap_or_else(|e| {
                            panic!("{kind}.{group}/{name}: the schema does not compile: {e}")
                        });
                    Arc::new(schema)
                }),
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

    /// Stores `value` (of kind `def`) as `manager` wrote it; a new
    /// namespace gets what the cluster's controllers put in each one. A new
    /// object, or one whose spec changed (a new generation), is not ready
    /// until its controller has had the time its behaviour says.
    pub(super) fn put(&mut self, key: Key, value: Value, manager: String) {
        let before = self.objects.get(&key);
        let new = before.is_none();
        let respecified = before
            .is_none_or(|b| b.value["metadata"]["generation"] != value["metadata"]["generation"]);
        let settles = if respecified {
            self.settling(&value)
        } else {
            before.and_then(|b| b.settles)
        };
        let new_namespace = value["kind"] == "Namespace" && new;
        self.objects.insert(
            key.clone(),
            Stored {
                value,
                manager,
                deleting: None,
                settles,
            },
        );
        self.changed(if new { "ADDED" } else { "MODIFIED" }, &key);
        if new_namespace {
            self.populate(&key.3);
        }
    }

    /// When an object just (re)specified reports ready, if not at once: its
    /// kind has a status and its behaviour takes time.
    fn settling(&self, value: &Value) -> Option<Instant> {
        let behavior = self.behaviors.get(&id_of(value)).copied();
        if !State::has_status(value, behavior.is_some()) {
            return None;
        }
        let delay = match behavior.unwrap_or(Behavior::Ready) {
            Behavior::Ready => self.readiness_latency,
            Behavior::ReadyAfter(steps) => {
                self.readiness_latency
                    + self.readiness_step * u32::try_from(steps).unwrap_or(u32::MAX)
            }
            Behavior::Never | Behavior::Fail => return None,
        };
        (!delay.is_zero()).then(|| Instant::now() + delay)
    }

    /// Records the change of the object at `key`, as it now is, for watches.
    pub(super) fn changed(&mut self, kind: &'static str, key: &Key) {
        let Some(stored) = self.objects.get(key) else {
            return;
        };
        let object = self.view(stored);
        self.changes.push(Change {
            version: self.version,
            kind,
            key: key.clone(),
            object,
        });
    }

    /// Records that `value`, at `key`, is gone, with a resourceVersion of
    /// its own as a server gives the deletion.
    fn deleted(&mut self, key: Key, mut value: Value) {
        self.version += 1;
        value["metadata"]["resourceVersion"] = json!(self.version.to_string());
        self.changes.push(Change {
            version: self.version,
            kind: "DELETED",
            key,
            object: value,
        });
    }

    /// What controllers have done by now: each object whose time has come
    /// reports ready, a change of its resourceVersion watches see.
    pub(super) fn settle(&mut self) {
        let now = Instant::now();
        let due: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, s)| s.settles.is_some_and(|at| at <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.version += 1;
            let version = self.version.to_string();
            if let Some(stored) = self.objects.get_mut(&key) {
                stored.settles = None;
                stored.value["metadata"]["resourceVersion"] = json!(version);
                let id = id_of(&stored.value);
                self.calls.push(Call {
                    verb: "ready",
                    id,
                    dry_run: false,
                });
            }
            self.changed("MODIFIED", &key);
        }
    }

    /// The next time an object reports ready, if any is still to.
    pub(super) fn next_settling(&self) -> Option<Instant> {
        self.objects.values().filter_map(|s| s.settles).min()
    }

    /// What a real cluster's controllers put in every namespace, as they
    /// write it: `kube-root-ca.crt` and the `default` ServiceAccount by
    /// kube-controller-manager; on OpenShift, `openshift-service-ca.crt`
    /// (its CA bundle injected by the service CA operator) and the
    /// image pullers' RoleBinding.
    fn populate(&mut self, ns: &str) {
        let mut made = vec![
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": ns}, "data": {"ca.crt": "-----BEGIN CERTIFICATE-----"}}),
                vec!["kube-controller-manager"],
            ),
            (
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}),
                vec!["kube-controller-manager"],
            ),
        ];
        if self.openshift {
            made.push((
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "openshift-service-ca.crt", "namespace": ns,
                    "annotations": {"service.beta.openshift.io/inject-cabundle": "true"}}, "data": {"service-ca.crt": "-----BEGIN CERTIFICATE-----"}}),
                vec!["kube-controller-manager", "service-ca-operator"],
            ));
            made.push((
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-pullers", "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": format!("system:serviceaccounts:{ns}")}]}),
                vec!["openshift-controller-manager"],
            ));
        }
        for (mut value, managers) in made {
            let def = self.def_of(&value).expect("a built-in kind");
            let key = key_of(&def, &value);
            self.stamp(&mut value, managers[0], "Update");
            value["metadata"]["managedFields"] = managers
                .iter()
                .map(|m| json!({"manager": m, "operation": "Update"}))
                .collect();
            self.objects.insert(
                key.clone(),
                Stored {
                    value,
                    manager: managers[0].into(),
                    deleting: None,
                    settles: None,
                },
            );
            self.changed("ADDED", &key);
        }
    }

    /// What the garbage collector does once `owner` is gone: deletes the
    /// objects it owns, or with `orphan` only drops their reference to it.
    pub(super) fn collect_dependents(&mut self, owner: &Value, orphan: bool) {
        let uid = &owner["metadata"]["uid"];
        let owned: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, s)| {
                s.value["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == *uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in owned {
            if orphan {
                self.version += 1;
                let version = self.version.to_string();
                if let Some(stored) = self.objects.get_mut(&key) {
                    if let Some(refs) = stored.value["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != *uid);
                    }
                    stored.value["metadata"]["resourceVersion"] = json!(version);
                }
                self.changed("MODIFIED", &key);
            } else if let Some(stored) = self.objects.remove(&key) {
                self.deleted(key, stored.value);
            }
        }
    }

    /// Removes an object; a namespace takes what is in it along.
    pub(super) fn remove(&mut self, key: &Key) {
        let Some(stored) = self.objects.remove(key) else {
            return;
        };
        let namespace = stored.value["kind"] == "Namespace";
        self.deleted(key.clone(), stored.value);
        if namespace {
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.2 == key.3)
                .cloned()
                .collect();
            for key in inside {
                if let Some(stored) = self.objects.remove(&key) {
                    self.deleted(key, stored.value);
                }
            }
        }
    }
}
