//! Calls between services: written out but not declared, towards services
//! nothing may reach, without a timeout or a circuit breaker, and start-up
//! chains of waits too long to restart in time.

use super::{Check, Problem, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::model::calls::{
    undeclared_calls, undeclared_message, unreachable_message, unreachable_services,
};
use crate::model::{CallPolicy, PathStep, Platform, ServiceId};

/// The names of the services that service `id` calls along edges `lacking`
/// a setting, in edge order.
fn callees_lacking(
    platform: &Platform,
    id: ServiceId,
    lacking: fn(&CallPolicy) -> bool,
) -> Vec<&str> {
    platform
        .edges
        .iter()
        .filter(|e| e.from() == id && lacking(e.calls(platform)))
        .map(|e| platform.services[e.to().0].name.as_str())
        .collect()
}

/// Hosts a service's env values or arguments name with no declared call:
/// the policies will block them (`check` warns of each too).
pub(super) const UNDECLARED_CALL: Check = Check {
    info: CheckInfo::new(
        "undeclared-call",
        Priority::P1,
        "a service dials a host the spec does not let it call",
        "Default-deny NetworkPolicies, and the mesh's AuthorizationPolicies, allow only the calls the spec declares: this one is refused at run time.",
        "declare the call: `needs: [CALLEE]` on the caller (with `calls: { CALLEE: { wait: false } }` if it need not wait), or write the host as `${CALLEE.host}`",
    ),
    run: |platform, _| {
        undeclared_calls(platform)
            .map(|mention| Problem {
                service: Some(mention.by),
                object: format!("service {}", platform.services[mention.by.0].name),
                message: undeclared_message(platform, mention),
                span: mention.span,
            })
            .collect()
    },
};

/// Services with ports that nothing may reach.
pub(super) const UNREACHABLE_SERVICE: Check = Check {
    info: CheckInfo::new(
        "unreachable-service",
        Priority::P2,
        "nothing may reach a service",
        "No service calls it and no gateway routes to it, so the policies admit nobody: either a call the spec does not declare will be blocked, or the service is not needed.",
        "declare its callers (`needs:`), or route to it (`expose:`); write `expose: []` when nothing is meant to reach it (a worker, a console opened with `kubectl port-forward`)",
    ),
    run: |platform, _| {
        unreachable_services(platform)
            .into_iter()
            .map(|id| {
                Problem::of(
                    id,
                    &platform.services[id.0],
                    unreachable_message(platform, id),
                )
            })
            .collect()
    },
};

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
            let untimed = callees_lacking(platform, id, |c| c.timeout_ms.is_none());
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
            let unbroken = callees_lacking(platform, id, |c| c.circuit_breaker.is_none());
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
