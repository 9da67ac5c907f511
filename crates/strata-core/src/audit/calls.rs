//! Calls between services: without a timeout or a circuit breaker, and
//! start-up chains of waits too long to restart in time.

use super::{Check, Problem, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::model::{Edge, PathStep, Platform, ServiceId};

/// The names of the services that service `id` calls along edges `lacking`
/// a setting, in edge order.
fn callees_lacking(platform: &Platform, id: ServiceId, lacking: fn(&Edge) -> bool) -> Vec<&str> {
    platform
        .edges
        .iter()
        .filter(|e| e.from == id && lacking(e))
        .map(|e| platform.services[e.to.0].name.as_str())
        .collect()
}

/// Calls without a timeout.
pub(super) const CALL_WITHOUT_TIMEOUT: Check = Check {
    info: CheckInfo::new(
        "call-without-timeout",
        Priority::P1,
        "a service calls others without a timeout",
        "One slow dependency holds every caller's threads and connections until the whole chain stalls.",
        "set `defaults.calls: { timeout: 3s, connectTimeout: 1s }`, or per edge under the caller's `calls:`",
    ),
    run: |platform, _| {
        per_service(platform, |id, service| {
            let untimed = callees_lacking(platform, id, |e| e.calls.timeout_ms.is_none());
            (!untimed.is_empty()).then(|| {
                format!(
                    "`{}` calls {} with no timeout",
                    service.name,
                    untimed.join(", ")
                )
            })
        })
    },
};

/// Calls without a circuit breaker.
pub(super) const CALL_WITHOUT_BREAKER: Check = Check {
    info: CheckInfo::new(
        "call-without-circuit-breaker",
        Priority::P2,
        "a service calls others without a circuit breaker",
        "Callers keep hammering a failing dependency and fail slowly instead of fast.",
        "set `defaults.calls.circuitBreaker: 50%`",
    ),
    run: |platform, _| {
        per_service(platform, |id, service| {
            let unbroken = callees_lacking(platform, id, |e| e.calls.circuit_breaker.is_none());
            (!unbroken.is_empty()).then(|| {
                format!(
                    "`{}` calls {} with no circuit breaker",
                    service.name,
                    unbroken.join(", ")
                )
            })
        })
    },
};

/// A long chain of start-up waits.
pub(super) const LONG_CRITICAL_PATH: Check = Check {
    info: CheckInfo::new(
        "long-critical-path",
        Priority::P2,
        "the start-up chain is long",
        "Each step waits for the previous one to be ready: a cold start or a full restore takes the sum of them.",
        "drop `needs:` that are not start-up requirements (retry at runtime instead), or wait for services rather than whole tiers",
    ),
    run: |platform, options| {
        let path: Vec<&PathStep> = platform
            .critical_path
            .iter()
            .filter(|s| matches!(s, PathStep::Service(_)))
            .collect();
        if path.len() <= options.max_critical_path {
            return Vec::new();
        }
        let Some(PathStep::Service(last)) = path.last() else {
            return Vec::new();
        };
        let names: Vec<String> = platform
            .critical_path
            .iter()
            .map(|&s| platform.step_name(s))
            .collect();
        vec![Problem::platform(
            "platform".to_string(),
            format!(
                "{} services start one after another (more than {}): {}",
                path.len(),
                options.max_critical_path,
                names.join(" → ")
            ),
            platform.services[last.0].span,
        )]
    },
};
