//! The edge: each gateway's objects for its kind (Istio, Ingress, Gateway
//! API, Kong), and Istio's mesh security (mTLS, authorization from edges,
//! JWT) when the platform runs in an Istio mesh.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Object, labels};
use crate::model::endpoint::CLUSTER_DOMAIN;
use crate::model::{Gateway, GatewayKind, MeshKind, Peer, Platform, Route, Service, ServiceId};

/// Every gateway and mesh-security object, in the wave of the last service
/// each one routes to, so routes never point at nothing.
pub fn render(platform: &Platform) -> Vec<Object> {
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
        let wave = routes
            .iter()
            .map(|r| platform.services[r.service.0].wave)
            .max()
            .unwrap_or(1);
        let values = match gateway.kind {
            GatewayKind::Istio => istio(platform, gateway, &routes),
            GatewayKind::Ingress => ingress(platform, gateway, &routes),
            GatewayKind::GatewayApi => gateway_api(platform, gateway, &routes),
            GatewayKind::Kong => kong(platform, gateway, &routes),
        };
        out.extend(values.into_iter().map(|v| Object::new(wave, None, None, v)));
    }
    if platform.network.mesh == Some(MeshKind::Istio) {
        out.extend(mesh_security(platform));
    }
    out
}

fn fqdn(service: &Service) -> String {
    format!(
        "{}.{}.svc.{CLUSTER_DOMAIN}",
        service.name, service.namespace
    )
}

/// The namespace a gateway's own objects live in: its proxy's, when the
/// proxy is a platform service, else that of its first route's service.
fn home(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> String {
    match gateway.proxy {
        Peer::Service(id) => platform.services[id.0].namespace.clone(),
        Peer::External { .. } => platform.services[routes[0].service.0].namespace.clone(),
    }
}

fn meta(platform: &Platform, name: &str, namespace: &str) -> Value {
    json!({ "name": name, "namespace": namespace, "labels": labels::platform(platform) })
}

fn hosts_or_any(route: &Route) -> Vec<String> {
    if route.hosts.is_empty() {
        vec!["*".to_string()]
    } else {
        route.hosts.clone()
    }
}

fn istio(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
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
    for route in routes {
        let service = &platform.services[route.service.0];
        let mut http = json!({
            "match": [{ "uri": { "prefix": route.path } }],
            "route": [{ "destination": { "host": fqdn(service), "port": { "number": route.port.service_port() } } }],
        });
        if let Some(rewrite) = &route.rewrite {
            http["rewrite"] = json!({ "uri": rewrite });
        }
        out.push(json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": meta(platform, &format!("{}-{}", gateway.name, service.name), &service.namespace),
            "spec": { "hosts": hosts_or_any(route), "gateways": [format!("{namespace}/{}", gateway.name)], "http": [http] },
        }));
        if let Some(jwt) = gateway.jwt.as_ref().filter(|_| route.auth) {
            out.push(json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "RequestAuthentication",
                "metadata": meta(platform, &format!("{}-jwt", service.name), &service.namespace),
                "spec": {
                    "selector": { "matchLabels": labels::selector(platform, service) },
                    "jwtRules": [{ "issuer": jwt.issuer, "jwksUri": jwt.jwks_uri, "forwardOriginalToken": true }],
                },
            }));
        }
    }
    out
}

fn ingress(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    // An Ingress only reaches Services of its own namespace: one per
    // namespace, and one per rewritten route (rewrites apply to a whole Ingress).
    let mut groups: BTreeMap<(String, Option<String>), Vec<&Route>> = BTreeMap::new();
    for route in routes {
        let service = &platform.services[route.service.0];
        let own = route.rewrite.as_ref().map(|_| service.name.clone());
        groups
            .entry((service.namespace.clone(), own))
            .or_default()
            .push(route);
    }
    let mut out = Vec::new();
    for ((namespace, rewritten), members) in groups {
        let name = rewritten
            .as_ref()
            .map_or_else(|| gateway.name.clone(), |s| format!("{}-{s}", gateway.name));
        let mut by_host: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for route in &members {
            let service = &platform.services[route.service.0];
            let (path, path_type) = match &route.rewrite {
                Some(_) => (
                    format!("{}(/|$)(.*)", route.path.trim_end_matches('/')),
                    "ImplementationSpecific",
                ),
                None => (route.path.clone(), "Prefix"),
            };
            let backend = json!({ "path": path, "pathType": path_type, "backend": { "service": { "name": service.name, "port": { "number": route.port.service_port() } } } });
            let hosts = if route.hosts.is_empty() {
                vec![String::new()]
            } else {
                route.hosts.clone()
            };
            for host in hosts {
                by_host.entry(host).or_default().push(backend.clone());
            }
        }
        let rules: Vec<Value> = by_host
            .into_iter()
            .map(|(host, paths)| {
                let mut rule = json!({ "http": { "paths": paths } });
                if !host.is_empty() {
                    rule["host"] = json!(host);
                }
                rule
            })
            .collect();
        let mut spec = json!({ "rules": rules });
        if let Some(class) = &gateway.class {
            spec["ingressClassName"] = json!(class);
        }
        if let Some(tls) = &gateway.tls {
            let hosts: Vec<&String> = members
                .iter()
                .flat_map(|r| &r.hosts)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            spec["tls"] = json!([{ "hosts": hosts, "secretName": tls }]);
        }
        let mut metadata = meta(platform, &name, &namespace);
        if let Some(rewrite) = members.first().and_then(|r| r.rewrite.as_ref()) {
            metadata["annotations"] = json!({
                "nginx.ingress.kubernetes.io/use-regex": "true",
                "nginx.ingress.kubernetes.io/rewrite-target": format!("{}/$2", rewrite.trim_end_matches('/')),
            });
        }
        out.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec }));
    }
    out
}

fn gateway_api(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
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
    for route in routes {
        let service = &platform.services[route.service.0];
        let mut rule = json!({
            "matches": [{ "path": { "type": "PathPrefix", "value": route.path } }],
            "backendRefs": [{ "name": service.name, "port": route.port.service_port() }],
        });
        if let Some(rewrite) = &route.rewrite {
            rule["filters"] = json!([{ "type": "URLRewrite", "urlRewrite": { "path": { "type": "ReplacePrefixMatch", "replacePrefixMatch": rewrite } } }]);
        }
        let mut spec = json!({ "parentRefs": [{ "name": gateway.name, "namespace": namespace }], "rules": [rule] });
        if !route.hosts.is_empty() {
            spec["hostnames"] = json!(route.hosts);
        }
        out.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta(platform, &format!("{}-{}", gateway.name, service.name), &service.namespace),
            "spec": spec,
        }));
    }
    out
}

/// The name of the ConfigMap holding a Kong gateway's declarative config.
pub fn kong_config_name(gateway: &Gateway) -> String {
    format!("{}-kong", gateway.name)
}

/// Kong's DB-less declarative configuration (format 3.0) for a gateway.
pub fn kong_config(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Value {
    let services: Vec<Value> = routes
        .iter()
        .map(|route| {
            let service = &platform.services[route.service.0];
            let base = route.rewrite.as_deref().unwrap_or("");
            let mut plugins = Vec::new();
            if let Some(minute) = route.rate_limit {
                plugins.push(json!({ "name": "rate-limiting", "config": { "minute": minute, "policy": "local" } }));
            }
            if route.auth {
                plugins.push(json!({ "name": "jwt", "config": { "key_claim_name": "iss", "claims_to_verify": ["exp"] } }));
            }
            if !gateway.cors.is_empty() {
                plugins.push(json!({ "name": "cors", "config": { "origins": gateway.cors, "credentials": true } }));
            }
            let mut kong_route = json!({ "name": format!("{}-{}", gateway.name, service.name), "paths": [route.path], "strip_path": route.rewrite.is_some() });
            if !route.hosts.is_empty() {
                kong_route["hosts"] = json!(route.hosts);
            }
            json!({
                "name": service.name,
                "url": format!("http://{}:{}{}", fqdn(service), route.port.service_port(), base.trim_end_matches('/')),
                "connect_timeout": 1000,
                "routes": [kong_route],
                "plugins": plugins,
            })
        })
        .collect();
    json!({ "_format_version": "3.0", "_transform": true, "services": services })
}

fn kong(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    let config = kong_config(platform, gateway, routes);
    vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(platform, &kong_config_name(gateway), &home(platform, gateway, routes)),
        "data": { "kong.yml": super::super::export::yaml(&config) },
    })]
}

fn principal(service: &Service) -> String {
    format!(
        "{CLUSTER_DOMAIN}/ns/{}/sa/{}",
        service.namespace, service.name
    )
}

/// Strict mTLS in every namespace and, per service, authorization of exactly
/// its callers (and its gateway, and scraping of its metrics port).
fn mesh_security(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for namespace in &platform.namespaces {
        out.push(Object::new(
            0,
            None,
            None,
            json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "PeerAuthentication",
                "metadata": meta(platform, "default", &namespace.name),
                "spec": { "mtls": { "mode": "STRICT" } },
            }),
        ));
    }
    for (i, service) in platform.services.iter().enumerate() {
        if service.ports.is_empty() || !service.kind.is_long_running() {
            continue;
        }
        let id = ServiceId(i);
        let mut principals: Vec<String> = platform
            .edges
            .iter()
            .filter(|e| e.to == id)
            .map(|e| principal(&platform.services[e.from.0]))
            .collect();
        if super::network::has_peers(service) {
            principals.push(principal(service));
        }
        let mut rules = Vec::new();
        if !principals.is_empty() {
            rules.push(json!({ "from": [{ "source": { "principals": principals } }] }));
        }
        for route in platform.routes.iter().filter(|r| r.service == id) {
            let gateway = &platform.gateways[route.gateway];
            let source = match &gateway.proxy {
                Peer::Service(proxy) => {
                    json!({ "principals": [principal(&platform.services[proxy.0])] })
                }
                Peer::External { namespace, .. } => json!({ "namespaces": [namespace] }),
            };
            let mut rule = json!({ "from": [{ "source": source }], "to": [{ "operation": { "ports": [route.port.number.to_string()] } }] });
            if route.auth {
                rule["from"][0]["source"]["requestPrincipals"] = json!(["*"]);
            }
            rules.push(rule);
        }
        if let Some(metrics) = &service.runtime.metrics {
            // Scrapers usually run outside the mesh: plain text on this port only.
            rules.push(json!({ "to": [{ "operation": { "ports": [metrics.number.to_string()], "methods": ["GET"] } }] }));
            out.push(Object::new(
                service.wave,
                Some(&platform.tier_of(service).name),
                Some(&service.name),
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "PeerAuthentication",
                    "metadata": labels::metadata(platform, service, &format!("{}-metrics", service.name)),
                    "spec": {
                        "selector": { "matchLabels": labels::selector(platform, service) },
                        "mtls": { "mode": "STRICT" },
                        "portLevelMtls": { metrics.number.to_string(): { "mode": "PERMISSIVE" } },
                    },
                }),
            ));
        }
        // With no rule, an ALLOW policy denies everything: the intent for a
        // service nobody calls.
        out.push(Object::new(
            service.wave,
            Some(&platform.tier_of(service).name),
            Some(&service.name),
            json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": labels::metadata(platform, service, &service.name),
                "spec": { "selector": { "matchLabels": labels::selector(platform, service) }, "action": "ALLOW", "rules": rules },
            }),
        ));
    }
    out
}

/// Mounts the declarative config of each Kong gateway that `service` runs
/// into its workload, and switches Kong to DB-less mode.
pub fn mount_kong_config(platform: &Platform, service: &Service, objects: &mut [Value]) {
    for gateway in &platform.gateways {
        let runs_it = matches!(gateway.proxy, Peer::Service(id) if platform.services[id.0].name == service.name);
        if gateway.kind != GatewayKind::Kong || !runs_it {
            continue;
        }
        let Some(workload) = objects.iter_mut().find(|o| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "DaemonSet")
            )
        }) else {
            continue;
        };
        let pod = &mut workload["spec"]["template"]["spec"];
        let volume =
            json!({ "name": "kong-config", "configMap": { "name": kong_config_name(gateway) } });
        match pod["volumes"].as_array_mut() {
            Some(volumes) => volumes.push(volume),
            None => pod["volumes"] = json!([volume]),
        }
        let container = &mut pod["containers"][0];
        let mount = json!({ "name": "kong-config", "mountPath": "/kong", "readOnly": true });
        match container["volumeMounts"].as_array_mut() {
            Some(mounts) => mounts.push(mount),
            None => container["volumeMounts"] = json!([mount]),
        }
        let env = [
            json!({ "name": "KONG_DATABASE", "value": "off" }),
            json!({ "name": "KONG_DECLARATIVE_CONFIG", "value": "/kong/kong.yml" }),
        ];
        match container["env"].as_array_mut() {
            Some(vars) => vars.extend(env),
            None => container["env"] = json!(env),
        }
    }
}
