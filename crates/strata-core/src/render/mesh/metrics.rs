//! Istio's metrics merging: where a scraper reads a service's metrics when
//! the sidecar serves them together with its own.

use crate::model::{Platform, Service};

/// The sidecar's port serving the pod's metrics merged with its own
/// (Istio's metrics merging), outside mTLS.
pub const MERGED_METRICS_PORT: u16 = 15020;

/// The port the scraper connects to for a service's metrics.
pub fn scrape_port(platform: &Platform, service: &Service) -> Option<u16> {
    let metrics = service.runtime.metrics.as_ref()?;
    Some(if platform.merges_metrics(service) {
        MERGED_METRICS_PORT
    } else {
        metrics.number
    })
}
