//! Cluster and namespace setup, applied before any wave: Namespaces with
//! Pod Security labels, their ResourceQuotas and LimitRanges, PriorityClasses
//! and StorageClasses.

use serde_json::{Map, Value, json};

use super::{Object, labels};
use crate::model::{
    Budget, ContainerLimits, DEFAULT_CPU_REQUEST, DEFAULT_MEMORY_REQUEST, MeshKind, Platform,
    Profile,
};
use crate::quantity::{Measure, Quantity};

/// Setup objects, all in wave 0.
pub(super) fn render(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for namespace in &platform.namespaces {
        // Unless the spec says otherwise, the namespace enforces the least
        // restrictive profile its services need, and warns and audits
        // against `restricted` regardless.
        let levels = namespace.pod_security;
        let enforce = platform.enforced_level(&namespace.name);
        let warn = levels.warn.unwrap_or(Profile::Restricted);
        let audit = levels.audit.unwrap_or(Profile::Restricted);
        let mut ns_labels = labels::platform(platform);
        // Sidecars make the mesh policies rendered here effective; a tier
        // with `mesh: false` keeps its namespace out, and a namespace's own
        // `istio-injection` label overrides this one.
        if platform.network.mesh == Some(MeshKind::Istio) {
            let injection = if platform.in_mesh(&namespace.name) {
                "enabled"
            } else {
                "disabled"
            };
            ns_labels.insert("istio-injection".into(), json!(injection));
        }
        for (k, v) in &namespace.labels {
            ns_labels.insert(k.clone(), json!(v));
        }
        if let Some(tenant) = &namespace.tenant {
            ns_labels.insert("strata.dev/tenant".into(), json!(tenant));
        }
        ns_labels.insert(
            "pod-security.kubernetes.io/enforce".into(),
            json!(enforce.as_str()),
        );
        ns_labels.insert(
            "pod-security.kubernetes.io/enforce-version".into(),
            json!("latest"),
        );
        ns_labels.insert(
            "pod-security.kubernetes.io/warn".into(),
            json!(warn.as_str()),
        );
        ns_labels.insert(
            "pod-security.kubernetes.io/audit".into(),
            json!(audit.as_str()),
        );
        let mut metadata = json!({ "name": namespace.name, "labels": ns_labels });
        if !namespace.annotations.is_empty() {
            metadata["annotations"] = json!(namespace.annotations);
        }
        out.push(setup(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": metadata,
        })));
        let meta = |name: &str| json!({ "name": name, "namespace": namespace.name, "labels": labels::platform(platform) });
        if let Some(budget) = namespace.budget {
            out.push(setup(quota(&budget, meta("budget"))));
        }
        if namespace.budget.is_some() || namespace.limits.is_some() {
            let limits = namespace.limits.unwrap_or_default();
            out.push(setup(limit_range(&limits, meta("defaults"))));
        }
    }
    for priority in &platform.priorities {
        let mut object = json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": { "name": priority.name, "labels": labels::platform(platform) },
            "value": priority.value,
            "globalDefault": priority.default,
        });
        if let Some(description) = &priority.description {
            object["description"] = json!(description);
        }
        out.push(setup(object));
    }
    for class in &platform.storage_classes {
        let mut metadata = json!({ "name": class.name, "labels": labels::platform(platform) });
        if class.default {
            metadata["annotations"] =
                json!({ "storageclass.kubernetes.io/is-default-class": "true" });
        }
        let mut object = json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": metadata,
            "provisioner": class.provisioner,
            "reclaimPolicy": class.reclaim_policy,
            "volumeBindingMode": class.volume_binding_mode,
            "allowVolumeExpansion": class.allow_volume_expansion,
        });
        if !class.parameters.is_empty() {
            object["parameters"] = json!(class.parameters);
        }
        out.push(setup(object));
    }
    out
}

fn setup(value: Value) -> Object {
    Object::new(0, None, None, value)
}

/// The ResourceQuota `budget` of a namespace.
fn quota(budget: &Budget, metadata: Value) -> Value {
    let mut hard = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            hard.insert(key.into(), json!(v));
        }
    };
    put(
        "requests.cpu",
        budget.cpu.map(|q| q.to_kubernetes(Measure::Cpu)),
    );
    put(
        "requests.memory",
        budget.memory.map(|q| q.to_kubernetes(Measure::Bytes)),
    );
    put(
        "limits.cpu",
        budget.limits_cpu.map(|q| q.to_kubernetes(Measure::Cpu)),
    );
    put(
        "limits.memory",
        budget
            .limits_memory
            .map(|q| q.to_kubernetes(Measure::Bytes)),
    );
    put("requests.nvidia.com/gpu", budget.gpu.map(|g| g.to_string()));
    put(
        "requests.storage",
        budget.storage.map(|q| q.to_kubernetes(Measure::Bytes)),
    );
    put("persistentvolumeclaims", budget.pvcs.map(|n| n.to_string()));
    put("pods", budget.pods.map(|n| n.to_string()));
    json!({ "apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata, "spec": { "hard": hard } })
}

/// The LimitRange `defaults`: a quota on requests rejects pods without them,
/// so every container (raw manifests included) gets a default; the spec's
/// `limits` replace the built-in values and add bounds.
fn limit_range(limits: &ContainerLimits, metadata: Value) -> Value {
    let cpu = |q: Quantity| json!(q.to_kubernetes(Measure::Cpu));
    let memory = |q: Quantity| json!(q.to_kubernetes(Measure::Bytes));
    let request = &limits.default_request;
    let limit = &limits.default_limit;
    let mut item = json!({
        "type": "Container",
        "defaultRequest": {
            "cpu": cpu(request.cpu.unwrap_or(DEFAULT_CPU_REQUEST)),
            "memory": memory(request.memory.unwrap_or(DEFAULT_MEMORY_REQUEST)),
        },
        "default": {
            "cpu": cpu(limit.cpu.unwrap_or(DEFAULT_CPU_REQUEST.times(2))),
            "memory": memory(limit.memory.unwrap_or(DEFAULT_MEMORY_REQUEST.times(2))),
        },
    });
    for (key, bound) in [("max", &limits.max), ("min", &limits.min)] {
        let mut values = Map::new();
        if let Some(q) = bound.cpu {
            values.insert("cpu".into(), cpu(q));
        }
        if let Some(q) = bound.memory {
            values.insert("memory".into(), memory(q));
        }
        if !values.is_empty() {
            item[key] = Value::Object(values);
        }
    }
    json!({ "apiVersion": "v1", "kind": "LimitRange", "metadata": metadata, "spec": { "limits": [item] } })
}
