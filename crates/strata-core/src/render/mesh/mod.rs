//! The Istio mesh's own objects: strict mTLS and each service's
//! authorization ([`security`]), the JWT checks of routes, telemetry
//! settings ([`telemetry`]), and the sidecar's merging of a pod's metrics
//! ([`metrics`]).

mod metrics;
mod security;
mod telemetry;

use serde_json::{Value, json};

use super::Object;
use crate::model::{MeshKind, Platform, Service};

pub use metrics::{MERGED_METRICS_PORT, scrape_port};

/// The JWT checks of routes through an Istio gateway (in a mesh or not)
/// and, in an Istio mesh, its security and telemetry objects.
pub(super) fn render(platform: &Platform) -> Vec<Object> {
    let mut out = security::request_authentications(platform);
    if platform.network.mesh == Some(MeshKind::Istio) {
        out.extend(security::policies(platform));
        out.extend(telemetry::render(platform));
    }
    out
}

/// An Istio `selector` of a service's pods: those an operator runs carry
/// the operator's labels, not Strata's (the NetworkPolicies' choice too).
fn workload_selector(platform: &Platform, service: &Service) -> Value {
    json!({ "matchLabels": super::network::pod_selector(platform, service) })
}
