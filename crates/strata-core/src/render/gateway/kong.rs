//! Kong gateways, DB-less: the declarative configuration in a ConfigMap,
//! and the Kong workload switched to read it (and to serve TLS).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{home, meta, origin_regex};
use crate::model::{
    Cors, Gateway, GatewayKind, KONG_TLS_PORT, KONG_TLS_PORT_NUMBER, Peer, Platform, Protocol,
    Route, Service, ServiceId,
};

/// A Kong gateway's object: the ConfigMap of its declarative configuration.
pub(super) fn objects(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    let config = kong_config(platform, gateway, routes);
    vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(platform, &kong_config_name(gateway), &home(platform, gateway, routes)),
        "data": { "kong.yml": crate::render::yaml(&config) },
    })]
}

/// The name of the ConfigMap holding a Kong gateway's declarative config.
fn kong_config_name(gateway: &Gateway) -> String {
    format!("{}-kong", gateway.name)
}

/// Kong's DB-less declarative configuration (format 3.0) for a gateway: one
/// Kong service per upstream (service, port, rewritten prefix and route
/// policy), each route named uniquely and carrying its own plugins; Kong
/// rejects two services or routes of one name.
fn kong_config(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Value {
    type Upstream = (ServiceId, u16, Option<String>, Option<u64>, Option<u32>);
    let mut upstreams: Vec<(Upstream, Vec<&Route>)> = Vec::new();
    for route in routes {
        let key = (
            route.service,
            route.port.service_port(),
            route.rewrite.clone(),
            route.timeout_ms,
            route.retries,
        );
        match upstreams.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(route),
            None => upstreams.push((key, vec![route])),
        }
    }
    let count = |id: ServiceId| upstreams.iter().filter(|((s, ..), _)| *s == id).count();
    let route_count = |id: ServiceId| routes.iter().filter(|r| r.service == id).count();
    let mut service_seen: BTreeMap<ServiceId, usize> = BTreeMap::new();
    let mut route_seen: BTreeMap<ServiceId, usize> = BTreeMap::new();
    let mut services = Vec::new();
    for ((id, port, rewrite, timeout, retries), members) in &upstreams {
        let service = &platform.services[id.0];
        let n = service_seen.entry(*id).or_default();
        *n += 1;
        let name = if count(*id) > 1 {
            format!("{}-{n}", service.name)
        } else {
            service.name.clone()
        };
        // Kong is the caller of every routed service: its call policy.
        let calls = match gateway.proxy {
            Peer::Service(proxy) => platform
                .edges_from(proxy)
                .find(|e| e.to() == *id)
                .map_or(platform.network.calls, |e| *e.calls(platform)),
            Peer::External { .. } => platform.network.calls,
        };
        let kong_routes: Vec<Value> = members
            .iter()
            .map(|route| {
                let k = route_seen.entry(*id).or_default();
                *k += 1;
                let route_name = if route_count(*id) > 1 {
                    format!("{}-{}-{k}", gateway.name, service.name)
                } else {
                    format!("{}-{}", gateway.name, service.name)
                };
                let mut plugins = Vec::new();
                if let Some(minute) = route.rate_limit {
                    plugins.push(json!({ "name": "rate-limiting", "config": { "minute": minute, "policy": "local" } }));
                }
                if route.auth {
                    plugins.push(json!({ "name": "jwt", "config": { "key_claim_name": "iss", "claims_to_verify": ["exp"] } }));
                }
                if let Some(cors) = &route.cors {
                    plugins.push(json!({ "name": "cors", "config": { "origins": kong_origins(cors), "methods": cors.methods, "credentials": true } }));
                }
                let mut kong_route = json!({ "name": route_name, "paths": [route.path], "strip_path": route.rewrite.is_some(), "plugins": plugins });
                if !route.hosts.is_empty() {
                    kong_route["hosts"] = json!(route.hosts);
                }
                kong_route
            })
            .collect();
        let base = rewrite.as_deref().unwrap_or("");
        let mut kong_service = json!({
            "name": name,
            "url": format!("http://{}:{port}{}", service.fqdn(), base.trim_end_matches('/')),
            "connect_timeout": calls.connect_timeout_ms.unwrap_or(1000),
            "routes": kong_routes,
        });
        if let Some(ms) = timeout.or(calls.timeout_ms) {
            kong_service["read_timeout"] = json!(ms);
            kong_service["write_timeout"] = json!(ms);
        }
        if let Some(n) = retries.or(calls.retries) {
            kong_service["retries"] = json!(n);
        }
        services.push(kong_service);
    }
    json!({ "_format_version": "3.0", "_transform": true, "services": services })
}

/// Origins as Kong's `cors` plugin takes them: exact strings, or regular
/// expressions for wildcard hosts.
fn kong_origins(cors: &Cors) -> Vec<String> {
    cors.origins
        .iter()
        .map(|o| {
            if o == "*" || !o.contains('*') {
                o.clone()
            } else {
                origin_regex(o)
            }
        })
        .collect()
}

/// Where Kong reads a gateway's TLS Secret.
const KONG_TLS_DIR: &str = "/kong-tls";

/// What the pods of a Kong proxy take from the gateways they serve: each
/// gateway's declarative configuration mounted read-only, DB-less mode and,
/// with `tls:`, the TLS listener serving the gateway's Secret.
#[derive(Debug, Default)]
pub(crate) struct ProxyPod {
    /// Pod volumes, in order.
    pub(crate) volumes: Vec<Value>,
    /// The container's mounts of them, in order.
    pub(crate) mounts: Vec<Value>,
    /// Variables set in the container, each over an earlier value.
    pub(crate) env: Vec<(&'static str, String)>,
}

/// The [`ProxyPod`] of `service`: empty unless it runs a Kong gateway.
pub(crate) fn proxy_pod(platform: &Platform, service: &Service) -> ProxyPod {
    let mut pod = ProxyPod::default();
    for gateway in &platform.gateways {
        let runs_it = matches!(gateway.proxy, Peer::Service(id) if platform.services[id.0].name == service.name);
        if gateway.kind != GatewayKind::Kong || !runs_it {
            continue;
        }
        pod.volumes.push(
            json!({ "name": "kong-config", "configMap": { "name": kong_config_name(gateway) } }),
        );
        pod.mounts
            .push(json!({ "name": "kong-config", "mountPath": "/kong", "readOnly": true }));
        pod.env.push(("KONG_DATABASE", "off".into()));
        pod.env
            .push(("KONG_DECLARATIVE_CONFIG", "/kong/kong.yml".into()));
        if let Some(tls) = &gateway.tls {
            pod.volumes
                .push(json!({ "name": "kong-tls", "secret": { "secretName": tls } }));
            pod.mounts
                .push(json!({ "name": "kong-tls", "mountPath": KONG_TLS_DIR, "readOnly": true }));
            let plain = service
                .ports
                .iter()
                .find(|p| p.name != KONG_TLS_PORT && p.protocol == Protocol::Http)
                .map_or(8000, |p| p.number);
            pod.env.push((
                "KONG_PROXY_LISTEN",
                format!("0.0.0.0:{plain}, 0.0.0.0:{KONG_TLS_PORT_NUMBER} ssl"),
            ));
            pod.env
                .push(("KONG_SSL_CERT", format!("{KONG_TLS_DIR}/tls.crt")));
            pod.env
                .push(("KONG_SSL_CERT_KEY", format!("{KONG_TLS_DIR}/tls.key")));
        }
    }
    pod
}
