//! Call policy between services (timeouts, retries, circuit breaking,
//! connection pools, per-pod rate limits): Istio DestinationRules,
//! VirtualServices and EnvoyFilters in a mesh,
//! environment variables for the caller's client libraries without one.

use serde_json::{Value, json};

use super::{Object, labels};
use crate::model::{CallPolicy, LoadBalancer, MeshKind, Platform, Protocol, Service, ServiceId};

/// Seconds an ejected endpoint stays out, and how often endpoints are judged.
const EJECTION_SECONDS: u32 = 30;
const OUTLIER_INTERVAL_SECONDS: u32 = 10;

/// Mesh traffic policy objects, one DestinationRule and one VirtualService
/// per service that is called; nothing without a mesh.
pub(super) fn render(platform: &Platform) -> Vec<Object> {
    if platform.network.mesh != Some(MeshKind::Istio) {
        return Vec::new();
    }
    let mut out: Vec<Object> = platform
        .services
        .iter()
        .filter_map(|service| rate_limit(platform, service))
        .collect();
    for (i, service) in platform.services.iter().enumerate() {
        // Only callers with a sidecar apply these policies.
        let inbound: Vec<_> = platform
            .edges_to(ServiceId(i))
            .filter(|e| platform.in_mesh(&platform.services[e.from().0].namespace))
            .collect();
        if inbound.is_empty() || service.ports.is_empty() {
            continue;
        }
        // A DestinationRule is per destination: the platform's default
        // policy under the service's `serve:` sets it; callers with their
        // own get their own routes.
        let shared = platform.network.calls.under(service.rare.serve.calls);
        let mut traffic = json!({});
        if let Some(lb) = load_balancer(service) {
            traffic["loadBalancer"] = lb;
        }
        if !platform.in_mesh(&service.namespace) {
            // No sidecar on the other side: plain text, not auto mTLS.
            traffic["tls"] = json!({ "mode": "DISABLE" });
        }
        if shared.pool.is_some() || shared.connect_timeout_ms.is_some() {
            let mut tcp = json!({});
            if let Some(pool) = shared.pool {
                tcp["maxConnections"] = json!(pool);
            }
            if let Some(ms) = shared.connect_timeout_ms {
                tcp["connectTimeout"] = json!(format!("{ms}ms"));
            }
            traffic["connectionPool"] = json!({ "tcp": tcp });
        }
        if let Some(percent) = shared.circuit_breaker {
            traffic["outlierDetection"] = json!({
                "consecutive5xxErrors": 5,
                "interval": format!("{OUTLIER_INTERVAL_SECONDS}s"),
                "baseEjectionTime": format!("{EJECTION_SECONDS}s"),
                "maxEjectionPercent": percent,
            });
        }
        let wrap = |value: Value| {
            Object::new(
                service.wave,
                Some(&platform.tier_of(service).name),
                Some(&service.name),
                value,
            )
        };
        // Timeouts and retries are HTTP-level: a plain TCP service (Redis,
        // PostgreSQL…) gets the connection settings of its DestinationRule only.
        let speaks_http = service
            .ports
            .iter()
            .any(|p| matches!(p.protocol, Protocol::Http | Protocol::Grpc));
        for (name, host) in hosts(service) {
            if traffic.as_object().is_some_and(|t| !t.is_empty()) {
                out.push(wrap(json!({
                    "apiVersion": "networking.istio.io/v1",
                    "kind": "DestinationRule",
                    "metadata": labels::metadata(platform, service, &name),
                    "spec": { "host": host, "trafficPolicy": traffic },
                })));
            }
            let mut http: Vec<Value> = inbound
                .iter()
                .filter(|e| *e.calls(platform) != shared)
                .filter_map(|e| {
                    let caller = &platform.services[e.from().0];
                    let mut route = route_policy(&host, *e.calls(platform))?;
                    route["match"] = json!([{ "sourceLabels": super::network::pod_selector(platform, caller), "sourceNamespace": caller.namespace }]);
                    Some(route)
                })
                .collect();
            if let Some(default) = route_policy(&host, shared) {
                http.push(default);
            }
            if speaks_http && !http.is_empty() {
                out.push(wrap(json!({
                    "apiVersion": "networking.istio.io/v1",
                    "kind": "VirtualService",
                    "metadata": labels::metadata(platform, service, &format!("{name}-calls")),
                    "spec": { "hosts": [host], "http": http },
                })));
            }
        }
    }
    out
}

/// `serve.rateLimit`: an EnvoyFilter adding Envoy's local rate limit to the
/// inbound HTTP listeners of the service's sidecars. Each sidecar keeps its
/// own bucket, so the limit is per pod, refilled once a minute.
fn rate_limit(platform: &Platform, service: &Service) -> Option<Object> {
    let limit = service.rare.serve.rate_limit_per_minute?;
    let enforced = json!({ "runtime_key": "local_rate_limit_enforced", "default_value": { "numerator": 100, "denominator": "HUNDRED" } });
    let enabled = json!({ "runtime_key": "local_rate_limit_enabled", "default_value": { "numerator": 100, "denominator": "HUNDRED" } });
    Some(Object::new(
        service.wave,
        Some(&platform.tier_of(service).name),
        Some(&service.name),
        json!({
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "EnvoyFilter",
            "metadata": labels::metadata(platform, service, &format!("{}-rate-limit", service.name)),
            "spec": {
                "workloadSelector": { "labels": super::network::pod_selector(platform, service) },
                "configPatches": [{
                    "applyTo": "HTTP_FILTER",
                    "match": {
                        "context": "SIDECAR_INBOUND",
                        "listener": { "filterChain": { "filter": { "name": "envoy.filters.network.http_connection_manager" } } },
                    },
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": {
                            "name": "envoy.filters.http.local_ratelimit",
                            "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                                "stat_prefix": "http_local_rate_limiter",
                                "token_bucket": { "max_tokens": limit, "tokens_per_fill": limit, "fill_interval": "60s" },
                                "filter_enabled": enabled,
                                "filter_enforced": enforced,
                            },
                        },
                    },
                }],
            },
        }),
    ))
}

/// The hosts callers dial, with the name of their policy objects: the
/// service's exported `host` (an operator's Service, such as CloudNativePG's
/// `NAME-rw` or Strimzi's bootstrap, when not the service's own name) and
/// its `readHost`, if any.
fn hosts(service: &Service) -> Vec<(String, String)> {
    let mut hosts = vec![(service.name.clone(), service.dialed_host())];
    if let Some(read) = service.exported("readHost") {
        hosts.push((format!("{}-read", service.name), read.to_string()));
    }
    hosts
}

/// The DestinationRule's `loadBalancer` from `serve:`: its own policy, or,
/// for session affinity alone, a hash of the client's address (sidecars
/// ignore the Service's `sessionAffinity`).
fn load_balancer(service: &Service) -> Option<Value> {
    let serve = &service.rare.serve;
    Some(match &serve.load_balancer {
        Some(LoadBalancer::RoundRobin) => json!({ "simple": "ROUND_ROBIN" }),
        Some(LoadBalancer::LeastRequest) => json!({ "simple": "LEAST_REQUEST" }),
        Some(LoadBalancer::Random) => json!({ "simple": "RANDOM" }),
        Some(LoadBalancer::Header(header)) => {
            json!({ "consistentHash": { "httpHeaderName": header } })
        }
        None if serve.session_affinity_seconds.is_some() => {
            json!({ "consistentHash": { "useSourceIp": true } })
        }
        None => return None,
    })
}

fn route_policy(host: &str, calls: CallPolicy) -> Option<Value> {
    if calls.timeout_ms.is_none() && calls.retries.is_none() {
        return None;
    }
    let mut route = json!({ "route": [{ "destination": { "host": host } }] });
    if let Some(ms) = calls.timeout_ms {
        route["timeout"] = json!(format!("{ms}ms"));
    }
    if let Some(attempts) = calls.retries {
        route["retries"] = retry_policy(attempts, calls.timeout_ms);
    }
    Some(route)
}

/// Istio's `retries` for `attempts` retries within `timeout_ms`: each try
/// gets an equal share of the timeout; with no retry, the one try has all of it.
pub(super) fn retry_policy(attempts: u32, timeout_ms: Option<u64>) -> Value {
    let mut retries = json!({ "attempts": attempts, "retryOn": "connect-failure,refused-stream,unavailable,cancelled,5xx" });
    if let Some(ms) = timeout_ms {
        retries["perTryTimeout"] = json!(format!("{}ms", (ms / (u64::from(attempts) + 1)).max(1)));
    }
    retries
}

/// `STRATA_CALL_<CALLEE>_*` variables telling a caller's client how to call
/// each service it needs, when there is no mesh to enforce it.
pub(super) fn env(platform: &Platform, caller: &Service) -> Vec<Value> {
    if platform.network.mesh.is_some() {
        return Vec::new();
    }
    let Some(id) = platform.service_id(&caller.name) else {
        return Vec::new();
    };
    let mut vars = Vec::new();
    for edge in platform.edges_from(id) {
        let c = *edge.calls(platform);
        let settings = [
            ("TIMEOUT_MS", c.timeout_ms),
            ("CONNECT_TIMEOUT_MS", c.connect_timeout_ms),
            ("RETRIES", c.retries.map(u64::from)),
            ("RETRY_BACKOFF_MS", c.retry_backoff_ms),
            ("CIRCUIT_BREAKER_PERCENT", c.circuit_breaker.map(u64::from)),
            ("POOL", c.pool.map(u64::from)),
        ];
        if settings.iter().all(|(_, value)| value.is_none()) {
            // Nothing to say about this call: most calls of a platform.
            continue;
        }
        let callee = platform.services[edge.to().0]
            .name
            .to_ascii_uppercase()
            .replace('-', "_");
        for (suffix, value) in settings {
            if let Some(value) = value {
                vars.push(super::object([
                    (
                        "name",
                        Value::String(format!("STRATA_CALL_{callee}_{suffix}")),
                    ),
                    ("value", Value::String(value.to_string())),
                ]));
            }
        }
    }
    vars
}
