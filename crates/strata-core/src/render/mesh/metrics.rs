//! Istio's metrics merging: where a scraper reads a service's metrics when
//! the sidecar serves them together with its own.

use serde_json::{Value, json};

use crate::model::{Platform, Service};

/// The sidecar's port serving the pod's metrics merged with its own
/// (Istio's metrics merging), outside mTLS.
pub const MERGED_METRICS_PORT: u16 = 15020;

/// Whether the scraper reads a service's metrics from its sidecar's merged
/// endpoint: in the mesh, with scrape annotations (the sidecar injector
/// points them at [`MERGED_METRICS_PORT`]) on pods Strata runs. Its metrics
/// port then stays STRICT mTLS like any other.
pub fn merges_metrics(platform: &Platform, service: &Service) -> bool {
    service.runtime.metrics.is_some()
        && !platform.service_monitors
        && platform.in_mesh(&service.namespace)
        && !service.tuning.as_ref().is_some_and(|t| t.mode.operated)
}

/// The port the scraper connects to for a service's metrics.
pub fn scrape_port(platform: &Platform, service: &Service) -> Option<u16> {
    let metrics = service.runtime.metrics.as_ref()?;
    Some(if merges_metrics(platform, service) {
        MERGED_METRICS_PORT
    } else {
        metrics.number
    })
}

/// Asks the sidecar injector for metrics merging on a service's pods
/// explicitly, whatever the mesh-wide default (`enablePrometheusMerge`).
pub fn merge_metrics(platform: &Platform, service: &Service, objects: &mut [Value]) {
    if !merges_metrics(platform, service) {
        return;
    }
    for workload in objects.iter_mut().filter(|o| {
        matches!(
            o["kind"].as_str(),
            Some("Deployment" | "StatefulSet" | "DaemonSet")
        )
    }) {
        workload["spec"]["template"]["metadata"]["annotations"]["prometheus.istio.io/merge-metrics"] =
            json!("true");
    }
}
