//! The fake's memory: the kinds it serves (built-in ones, and those of the
//! CRDs applied to it), the objects it holds, and what the tests set up or
//! look at afterwards (behaviours, delays, calls, logs).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

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
}

/// Group, plural, namespace, name.
pub(super) type Key = (String, String, String, String);

#[derive(Default)]
pub(super) struct State {
    pub(super) kinds: Vec<KindDef>,
    pub(super) objects: BTreeMap<Key, Stored>,
    pub(super) calls: Vec<Call>,
    pub(super) behaviors: HashMap<String, Behavior>,
    pub(super) polls: HashMap<String, usize>,
    pub(super) delete_delays: HashMap<String, usize>,
    pub(super) refused_deletes: Vec<String>,
    /// Objects whose GETs the caller may not make (403 Forbidden).
    pub(super) forbidden_gets: Vec<String>,
    pub(super) apply_delay: Option<Duration>,
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
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
        let metadata = &mut value["metadata"];
        if metadata.get("uid").is_none() {
            metadata["uid"] = json!(format!("uid-{}", self.version));
            metadata["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            metadata["generation"] = json!(1);
        }
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
    /// namespace gets what the cluster's controllers put in every one.
    pub(super) fn put(&mut self, key: Key, value: Value, manager: String) {
        let new_namespace = value["kind"] == "Namespace" && !self.objects.contains_key(&key);
        self.objects.insert(
            key.clone(),
            Stored {
                value,
                manager,
                deleting: None,
            },
        );
        if new_namespace {
            self.populate(&key.3);
        }
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
                key,
                Stored {
                    value,
                    manager: managers[0].into(),
                    deleting: None,
                },
            );
        }
    }

    /// What the garbage collector does once `owner` is gone: deletes the
    /// objects it owns, or with `orphan` only drops their reference to it.
    pub(super) fn collect_dependents(&mut self, owner: &Value, orphan: bool) {
        let uid = &owner["metadata"]["uid"];
        let owned = |v: &Value| {
            v["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == *uid))
        };
        if orphan {
            for stored in self.objects.values_mut().filter(|s| owned(&s.value)) {
                if let Some(refs) = stored.value["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != *uid);
                }
            }
        } else {
            self.objects.retain(|_, s| !owned(&s.value));
        }
    }

    /// Removes an object; a namespace takes what is in it along.
    pub(super) fn remove(&mut self, key: &Key) {
        if let Some(stored) = self.objects.remove(key)
            && stored.value["kind"] == "Namespace"
        {
            let ns = key.3.clone();
            self.objects.retain(|k, _| k.2 != ns);
        }
    }
}
