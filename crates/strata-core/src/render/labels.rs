//! The labels every object carries, and the selectors that find a
//! service's pods.

use serde_json::{Map, Value, json};

use crate::model::{Platform, Service};

/// `app.kubernetes.io/managed-by` on everything Strata renders.
pub const MANAGED_BY: &str = "strata";
/// The label carrying an object's tier (`kubectl wait -l strata.dev/tier=…`).
pub const TIER_LABEL: &str = "strata.dev/tier";

/// The label naming the platform on every object of a service, pods
/// included (part of Strata's own selector).
pub(super) const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Labels of objects that belong to the platform but to no service.
pub(super) fn platform(platform: &Platform) -> Map<String, Value> {
    let mut labels = Map::new();
    for (k, v) in &platform.labels {
        labels.insert(k.clone(), json!(v));
    }
    labels.insert("app.kubernetes.io/part-of".into(), json!(platform.name));
    labels.insert("app.kubernetes.io/managed-by".into(), json!(MANAGED_BY));
    labels
}

/// The recommended labels of every object of a service, and its tier.
pub(super) fn service(platform: &Platform, service: &Service) -> Map<String, Value> {
    let mut labels = self::platform(platform);
    for (k, v) in &service.labels {
        labels.insert(k.clone(), json!(v));
    }
    labels.extend(strata_selector(platform, service));
    labels.extend(selector(platform, service));
    let component = service
        .blueprint
        .as_deref()
        .unwrap_or(service.kind.as_str());
    // A selector taken over from a running workload may name the
    // component (`primary`): its value stays, or the pods would not match.
    labels
        .entry("app.kubernetes.io/component")
        .or_insert_with(|| json!(component));
    labels.insert(TIER_LABEL.into(), json!(platform.tier_of(service).name));
    labels
}

/// The labels that select a service's pods, never changed after creation:
/// Strata's own, or those the spec gives to take over a workload that
/// already runs (`selector:`).
pub(super) fn selector(platform: &Platform, service: &Service) -> Map<String, Value> {
    match &service.selector {
        Some(own) => own.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
        None => strata_selector(platform, service),
    }
}

/// Strata's own selector labels of a service.
fn strata_selector(platform: &Platform, service: &Service) -> Map<String, Value> {
    let mut labels = Map::new();
    labels.insert("app.kubernetes.io/name".into(), json!(service.name));
    labels.insert(INSTANCE_LABEL.into(), json!(platform.name));
    labels
}

/// Standard metadata for a namespaced object of a service.
pub fn metadata(platform: &Platform, service: &Service, name: &str) -> Value {
    super::object([
        ("name", json!(name)),
        ("namespace", json!(service.namespace)),
        ("labels", Value::Object(self::service(platform, service))),
    ])
}
