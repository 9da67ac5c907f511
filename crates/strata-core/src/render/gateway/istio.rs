//! Istio gateways: a `Gateway` of the ingress gateway's pods and, per host,
//! one VirtualService holding every route to it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{home, meta, origin_regex};
use crate::model::{Cors, Gateway, Peer, Platform, Route};
use crate::render::labels;

/// An Istio gateway's objects: its `Gateway`, selecting the proxy's pods,
/// and one VirtualService per host.
pub(super) fn objects(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    let namespace = home(platform, gateway, routes);
    let hosts: Vec<String> = if gateway.hosts.is_empty() {
        vec!["*".into()]
    } else {
        gateway.hosts.clone()
    };
    let selector = match &gateway.proxy {
        Peer::External { labels, .. } => json!(labels),
        Peer::Service(id) => json!(labels::selector(platform, &platform.services[id.0])),
    };
    let mut servers = vec![json!({
        "port": { "number": 80, "name": "http", "protocol": "HTTP" },
        "hosts": hosts,
    })];
    if let Some(tls) = &gateway.tls {
        servers[0]["tls"] = json!({ "httpsRedirect": true });
        servers.push(json!({
            "port": { "number": 443, "name": "https", "protocol": "HTTPS" },
            "hosts": hosts,
            "tls": { "mode": "SIMPLE", "credentialName": tls },
        }));
    }
    let mut out = vec![json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": meta(platform, &gateway.name, &namespace),
        "spec": { "selector": selector, "servers": servers },
    })];
    // Istio does not order routes across VirtualServices of one host: one
    // VirtualService per host holds them all, longest prefix first (the
    // sort is stable, so equal lengths keep the spec's order).
    let mut by_host: BTreeMap<String, Vec<&Route>> = BTreeMap::new();
    for route in routes {
        for host in hosts_or_any(route) {
            by_host.entry(host).or_default().push(route);
        }
    }
    for (host, mut members) in by_host {
        members.sort_by_key(|r| std::cmp::Reverse(r.path.len()));
        let http: Vec<Value> = members.iter().map(|r| istio_route(platform, r)).collect();
        out.push(json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": meta(platform, &host_object_name(gateway, &host), &namespace),
            "spec": { "hosts": [host], "gateways": [format!("{namespace}/{}", gateway.name)], "http": http },
        }));
    }
    out
}

fn hosts_or_any(route: &Route) -> Vec<String> {
    if route.hosts.is_empty() {
        vec!["*".to_string()]
    } else {
        route.hosts.clone()
    }
}

/// The name of a gateway's VirtualService for one host: `*` becomes
/// `wildcard` and dots dashes (`edge-api-example-com`); `edge` for any host.
fn host_object_name(gateway: &Gateway, host: &str) -> String {
    if host == "*" {
        return gateway.name.clone();
    }
    let slug = host.replace('*', "wildcard").replace('.', "-");
    format!("{}-{slug}", gateway.name)
}

/// Headers a browser may send cross-origin (Istio answers preflights with them).
const CORS_HEADERS: [&str; 3] = ["authorization", "content-type", "x-requested-with"];

fn istio_cors(cors: &Cors) -> Value {
    let origins: Vec<Value> = cors
        .origins
        .iter()
        .map(|o| {
            if o == "*" {
                json!({ "regex": ".*" })
            } else if o.contains('*') {
                json!({ "regex": origin_regex(o) })
            } else {
                json!({ "exact": o })
            }
        })
        .collect();
    json!({
        "allowOrigins": origins,
        "allowMethods": cors.methods,
        "allowHeaders": CORS_HEADERS,
        "allowCredentials": true,
    })
}

/// One entry of a VirtualService's `http:` list.
fn istio_route(platform: &Platform, route: &Route) -> Value {
    let service = &platform.services[route.service.0];
    let mut http = json!({
        "match": [{ "uri": { "prefix": route.path } }],
        "route": [{ "destination": { "host": service.fqdn(), "port": { "number": route.port.service_port() } } }],
    });
    if let Some(rewrite) = &route.rewrite {
        http["rewrite"] = json!({ "uri": rewrite });
    }
    if let Some(ms) = route.timeout_ms {
        http["timeout"] = json!(format!("{ms}ms"));
    }
    if let Some(attempts) = route.retries {
        http["retries"] = crate::render::traffic::retry_policy(attempts, route.timeout_ms);
    }
    if let Some(cors) = &route.cors {
        http["corsPolicy"] = istio_cors(cors);
    }
    http
}
