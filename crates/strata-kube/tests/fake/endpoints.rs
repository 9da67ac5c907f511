//! Where a Service's traffic goes, as a real cluster reports it: the
//! EndpointSlices the endpoint-slice controller keeps for each Service with
//! a selector (one per Service, empty when no pod matches), and the API
//! server's service proxy (`services/NAME:PORT/proxy/PATH`), which
//! forwards to a ready endpoint and otherwise answers 503.
//!
//! The pods behind a Service are those of the stored workloads its
//! selector matches, ready as their made-up status says; a test may set a
//! Service's ready endpoints outright, and what its pods answer.

use serde_json::{Value, json};

use super::Call;
use super::routing::{Reply, failure};
use super::store::{State, id_of};

/// The selector of a Service, when it has one.
fn selector(service: &Value) -> Option<&serde_json::Map<String, Value>> {
    service["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
}

/// `(ready, not ready)` endpoints of `service`: the test's count, or the
/// replicas of the workloads its selector matches in its namespace.
fn endpoints_of(state: &State, service: &Value) -> (usize, usize) {
    if let Some(ready) = state.endpoints.get(&id_of(service)) {
        return (*ready, 0);
    }
    let Some(selector) = selector(service) else {
        return (0, 0);
    };
    let namespace = &service["metadata"]["namespace"];
    let (mut ready, mut total) = (0, 0);
    for stored in state.objects.values() {
        let value = &stored.value;
        let kind = value["kind"].as_str().unwrap_or("");
        if !["Deployment", "StatefulSet", "DaemonSet"].contains(&kind)
            || value["metadata"]["namespace"] != *namespace
        {
            continue;
        }
        let labels = &value["spec"]["template"]["metadata"]["labels"];
        if !selector.iter().all(|(k, v)| labels[k] == *v) {
            continue;
        }
        let seen = state.view(stored);
        let count = |v: &Value| usize::try_from(v.as_u64().unwrap_or(0)).unwrap_or(0);
        let (want, up) = if kind == "DaemonSet" {
            (
                count(&seen["status"]["desiredNumberScheduled"]),
                count(&seen["status"]["numberReady"]),
            )
        } else {
            (
                usize::try_from(value["spec"]["replicas"].as_u64().unwrap_or(1)).unwrap_or(1),
                count(&seen["status"]["readyReplicas"]),
            )
        };
        total += want;
        ready += up.min(want);
    }
    (ready, total - ready)
}

impl State {
    /// The EndpointSlices of the Services in `namespace` (every namespace
    /// when empty), one per Service with a selector.
    pub(super) fn endpoint_slices(&self, namespace: &str) -> Vec<Value> {
        self.objects
            .values()
            .map(|s| &s.value)
            .filter(|v| v["kind"] == "Service" && selector(v).is_some())
            .filter(|v| namespace.is_empty() || v["metadata"]["namespace"] == namespace)
            .map(|service| {
                let (ready, not_ready) = endpoints_of(self, service);
                let name = service["metadata"]["name"].as_str().unwrap_or("");
                let endpoints: Vec<Value> = (0..ready + not_ready)
                    .map(|i| {
                        let up = i < ready;
                        json!({"addresses": [format!("10.244.0.{}", i + 10)],
                            "conditions": {"ready": up, "serving": up, "terminating": false}})
                    })
                    .collect();
                let ports: Vec<Value> = service["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let number = p["targetPort"].as_u64().or_else(|| p["port"].as_u64());
                        json!({"name": p["name"].as_str().unwrap_or(""), "port": number,
                            "protocol": p["protocol"].as_str().unwrap_or("TCP")})
                    })
                    .collect();
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": format!("{name}-fake1"), "namespace": service["metadata"]["namespace"],
                        "labels": {"kubernetes.io/service-name": name,
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
                    "addressType": "IPv4", "endpoints": endpoints, "ports": ports})
            })
            .collect()
    }
}

/// A GET through the service proxy: `target` is `NAME:PORT` (the port's
/// name or number, or none for a Service's only port) and `path` what
/// follows `/proxy`. Forwarded to a ready endpoint, whose answer is the
/// test's or `200 ok`; otherwise the API server's 404 or 503.
pub(super) fn proxy(state: &mut State, namespace: &str, target: &str, path: &str) -> Reply {
    let (name, port) = target.split_once(':').unwrap_or((target, ""));
    let id = format!("Service/{namespace}/{name}");
    state.calls.push(Call {
        verb: "proxy",
        id: format!("{id}:{port}{path}"),
        dry_run: false,
    });
    let Some(service) = state
        .objects
        .values()
        .map(|s| &s.value)
        .find(|v| id_of(v) == id)
        .cloned()
    else {
        return failure(404, "NotFound", &format!("services \"{name}\" not found"));
    };
    let ports = service["spec"]["ports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let known = if port.is_empty() {
        ports.len() == 1
    } else {
        ports
            .iter()
            .any(|p| p["name"] == port || p["port"].as_u64().is_some_and(|n| n.to_string() == port))
    };
    if !known {
        return failure(
            503,
            "ServiceUnavailable",
            &format!("no service port {port:?} found for service \"{name}\""),
        );
    }
    let (ready, _) = endpoints_of(state, &service);
    if ready == 0 {
        return failure(
            503,
            "ServiceUnavailable",
            &format!("no endpoints available for service \"{target}\""),
        );
    }
    let (code, text) = state
        .proxy_answers
        .get(&id)
        .cloned()
        .unwrap_or((200, "ok".to_string()));
    (code, Value::Null, Some(text))
}
