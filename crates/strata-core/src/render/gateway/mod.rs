//! The edge: each gateway's objects, one module per kind (Ingress, Gateway
//! API, Istio, Kong), and the public Service and NetworkPolicy of a gateway
//! exposed outside the cluster. The mesh's checks of the traffic a gateway
//! lets in are [`super::mesh`]'s.

mod gateway_api;
mod ingress;
mod istio;
mod kong;

use serde_json::{Value, json};

use super::{Object, labels, network};
use crate::model::{Gateway, GatewayKind, KONG_TLS_PORT, Peer, Platform, Protocol, Route, Service};
use crate::spec::network::ServiceType;

pub(crate) use kong::{ProxyPod, proxy_pod};

/// Every gateway's objects, in the wave of the last service each one routes
/// to, so routes never point at nothing (a Kong gateway's configuration
/// comes with its Kong pods, which read it at start: Kong DB-less accepts
/// upstreams that do not resolve yet); then the public entries of the
/// gateways exposed outside the cluster.
pub(super) fn render(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for (index, gateway) in platform.gateways.iter().enumerate() {
        let routes: Vec<&Route> = platform
            .routes
            .iter()
            .filter(|r| r.gateway == index)
            .collect();
        if routes.is_empty() {
            continue;
        }
        let wave = match (gateway.kind, &gateway.proxy) {
            (GatewayKind::Kong, Peer::Service(id)) => platform.services[id.0].wave,
            _ => routes
                .iter()
                .map(|r| platform.services[r.service.0].wave)
                .max()
                .unwrap_or(1),
        };
        let values = match gateway.kind {
            GatewayKind::Istio => istio::objects(platform, gateway, &routes),
            GatewayKind::Ingress => ingress::objects(platform, gateway, &routes),
            GatewayKind::GatewayApi => gateway_api::objects(platform, gateway, &routes),
            GatewayKind::Kong => kong::objects(platform, gateway, &routes),
        };
        out.extend(values.into_iter().map(|v| Object::new(wave, None, None, v)));
    }
    out.extend(public_entries(platform));
    out
}

/// The namespace a gateway's own objects live in: the one the spec names,
/// else its proxy's when the proxy is a platform service, else that of its
/// first route's service.
fn home(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> String {
    if let Some(namespace) = &gateway.namespace {
        return namespace.clone();
    }
    match gateway.proxy {
        Peer::Service(id) => platform.services[id.0].namespace.clone(),
        Peer::External { .. } => platform.services[routes[0].service.0].namespace.clone(),
    }
}

/// The metadata of a gateway's own object, in `namespace`.
pub(super) fn meta(platform: &Platform, name: &str, namespace: &str) -> Value {
    let mut metadata =
        json!({ "name": name, "namespace": namespace, "labels": labels::platform(platform) });
    if !platform.namespaces.iter().any(|n| n.name == namespace) {
        // A gateway's own namespace (`istio-system`) belongs to its
        // controller's installation, not to this set: say so to `lint`.
        metadata["annotations"] = json!({ crate::finding::IGNORE_ANNOTATION: "missing-namespace" });
    }
    metadata
}

/// A regular expression matching an origin with `*` for one host label.
fn origin_regex(origin: &str) -> String {
    origin
        .split('*')
        .map(regex_escape)
        .collect::<Vec<_>>()
        .join("[a-zA-Z0-9-]+")
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The proxy's container ports for plain HTTP and for HTTPS.
fn proxy_ports(service: &Service, gateway: &Gateway) -> (Option<String>, Option<String>) {
    let plain = service
        .ports
        .iter()
        .find(|p| p.name != KONG_TLS_PORT && p.name != "https" && p.protocol == Protocol::Http)
        .map(|p| p.name.clone());
    let tls = gateway.listen.as_ref().and_then(|l| l.https).map(|_| {
        if gateway.kind == GatewayKind::Kong {
            KONG_TLS_PORT.to_string()
        } else {
            "https".to_string()
        }
    });
    (plain, tls)
}

/// For each gateway with `expose:`, the Service clients outside the cluster
/// reach its proxy through (only the public ports: the proxy's own Service
/// keeps its in-cluster ports), and the NetworkPolicy admitting the `from`
/// blocks to the proxy's ports, which default deny blocks otherwise.
fn public_entries(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for gateway in &platform.gateways {
        let (Some(listen), Peer::Service(id)) = (&gateway.listen, &gateway.proxy) else {
            continue;
        };
        let service = &platform.services[id.0];
        let (plain, tls) = proxy_ports(service, gateway);
        let targets: Vec<(&str, u16, &crate::model::Port)> = [
            ("http", Some(listen.http), plain),
            ("https", listen.https, tls),
        ]
        .into_iter()
        .filter_map(|(name, number, target)| {
            let port = service
                .ports
                .iter()
                .find(|p| Some(&p.name) == target.as_ref())?;
            Some((name, number?, port))
        })
        .collect();
        let mut spec = json!({
            "type": listen.service_type.as_str(),
            "selector": labels::selector(platform, service),
            "ports": targets.iter().map(|(name, number, port)| json!({ "name": name, "port": number, "targetPort": port.name, "protocol": "TCP" })).collect::<Vec<_>>(),
        });
        if listen.service_type != ServiceType::ClusterIp {
            // Keeps the client's address, which the `from` blocks are matched against.
            spec["externalTrafficPolicy"] = json!("Local");
        }
        out.push(Object::new(
            service.wave,
            Some(&platform.tier_of(service).name),
            Some(&service.name),
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": labels::metadata(platform, service, &format!("{}-public", gateway.name)),
                "spec": spec,
            }),
        ));
        if !platform.network.policies {
            continue;
        }
        let ports: Vec<Value> = targets
            .iter()
            .map(|(_, _, p)| json!({ "protocol": "TCP", "port": p.number }))
            .collect();
        let from: Vec<Value> = listen
            .from
            .iter()
            .map(|cidr| json!({ "ipBlock": { "cidr": cidr } }))
            .collect();
        out.push(Object::new(
            0,
            Some(&platform.tier_of(service).name),
            Some(&service.name),
            network::policy_object(
                labels::metadata(platform, service, &format!("{}-public", gateway.name)),
                Value::Object(labels::selector(platform, service)),
                "Ingress",
                vec![json!({ "from": from, "ports": ports })],
            ),
        ));
    }
    out
}
