//! Gateway API gateways: a `Gateway` with a listener per protocol, and one
//! HTTPRoute per service and host set.

use serde_json::{Value, json};

use super::{home, meta};
use crate::model::{Gateway, Platform, Route, ServiceId};

/// A Gateway API gateway's objects: its `Gateway` and HTTPRoutes.
/// Routes that share one HTTPRoute: their service and host set, and the
/// routes themselves.
type Group<'a> = ((ServiceId, Vec<String>), Vec<&'a Route>);

pub(super) fn objects(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    let namespace = home(platform, gateway, routes);
    let mut listeners = vec![
        json!({ "name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": { "namespaces": { "from": "All" } } }),
    ];
    if let Some(tls) = &gateway.tls {
        listeners.push(json!({
            "name": "https",
            "protocol": "HTTPS",
            "port": 443,
            "tls": { "mode": "Terminate", "certificateRefs": [{ "kind": "Secret", "name": tls }] },
            "allowedRoutes": { "namespaces": { "from": "All" } },
        }));
    }
    let mut out = vec![json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": meta(platform, &gateway.name, &namespace),
        "spec": { "gatewayClassName": gateway.class.clone().unwrap_or_else(|| "default".into()), "listeners": listeners },
    })];
    // One HTTPRoute per service and host set (hostnames apply to a whole
    // HTTPRoute), with a rule per route; Gateway API orders matches across
    // routes by prefix length itself.
    let mut groups: Vec<Group<'_>> = Vec::new();
    for route in routes {
        let key = (route.service, route.hosts.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(route),
            None => groups.push((key, vec![route])),
        }
    }
    for ((id, hosts), members) in &groups {
        let service = &platform.services[id.0];
        let rules: Vec<Value> = members
            .iter()
            .map(|route| {
                let mut rule = json!({
                    "matches": [{ "path": { "type": "PathPrefix", "value": route.path } }],
                    "backendRefs": [{ "name": service.front.name, "port": route.port.service_port() }],
                });
                if let Some(rewrite) = &route.rewrite {
                    rule["filters"] = json!([{ "type": "URLRewrite", "urlRewrite": { "path": { "type": "ReplacePrefixMatch", "replacePrefixMatch": rewrite } } }]);
                }
                if let Some(ms) = route.timeout_ms {
                    rule["timeouts"] = json!({ "request": format!("{ms}ms") });
                }
                rule
            })
            .collect();
        let mut spec = json!({ "parentRefs": [{ "name": gateway.name, "namespace": namespace }], "rules": rules });
        if !hosts.is_empty() {
            spec["hostnames"] = json!(hosts);
        }
        let groups_of_service: Vec<_> = groups.iter().filter(|((s, _), _)| s == id).collect();
        let name = if groups_of_service.len() > 1 {
            let n = 1 + groups_of_service
                .iter()
                .position(|((_, h), _)| h == hosts)
                .unwrap_or(0);
            format!("{}-{}-{n}", gateway.name, service.name)
        } else {
            format!("{}-{}", gateway.name, service.name)
        };
        out.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta(platform, &name, &service.namespace),
            "spec": spec,
        }));
    }
    out
}
