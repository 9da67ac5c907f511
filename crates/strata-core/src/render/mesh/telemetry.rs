//! Istio `Telemetry`: trace providers, sampling and access logs.

use serde_json::json;

use super::workload_selector;
use crate::model::Platform;
use crate::render::gateway::meta;
use crate::render::{Object, labels};

/// Istio `Telemetry`: `default` in each meshed namespace from
/// `network.telemetry` (trace provider and sampling, access log filter),
/// and one per service with its own sampling.
pub(super) fn render(platform: &Platform) -> Vec<Object> {
    let Some(settings) = &platform.network.telemetry else {
        return Vec::new();
    };
    let tracing = |sampling: Option<u32>| {
        settings.tracing.as_ref().map(|provider| {
            let mut entry = json!({ "providers": [{ "name": provider }] });
            if let Some(percent) = sampling {
                entry["randomSamplingPercentage"] = json!(percent);
            }
            json!([entry])
        })
    };
    let mut out = Vec::new();
    for namespace in platform
        .namespaces
        .iter()
        .filter(|n| platform.in_mesh(&n.name))
    {
        let mut spec = json!({});
        if let Some(tracing) = tracing(settings.sampling) {
            spec["tracing"] = tracing;
        }
        if let Some(filter) = &settings.access_log {
            spec["accessLogging"] =
                json!([{ "providers": [{ "name": "envoy" }], "filter": { "expression": filter } }]);
        }
        out.push(Object::new(
            0,
            None,
            None,
            json!({
                "apiVersion": "telemetry.istio.io/v1",
                "kind": "Telemetry",
                "metadata": meta(platform, "default", &namespace.name),
                "spec": spec,
            }),
        ));
    }
    for service in &platform.services {
        if service.rare.tracing_sampling.is_none() || !platform.in_mesh(&service.namespace) {
            continue;
        }
        let Some(tracing) = tracing(service.rare.tracing_sampling) else {
            continue;
        };
        out.push(Object::new(
            service.wave,
            Some(&platform.tier_of(service).name),
            Some(&service.name),
            json!({
                "apiVersion": "telemetry.istio.io/v1",
                "kind": "Telemetry",
                "metadata": labels::metadata(platform, service, &service.name),
                "spec": { "selector": workload_selector(platform, service), "tracing": tracing },
            }),
        ));
    }
    out
}
