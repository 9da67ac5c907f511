//! The edge: each gateway's objects for its kind (Istio, Ingress, Gateway
//! API, Kong), and Istio's mesh security (mTLS, authorization from edges,
//! JWT) when the platform runs in an Istio mesh.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Object, labels};
use crate::model::endpoint::CLUSTER_DOMAIN;
use crate::model::{
    Cors, Gateway, GatewayKind, KONG_TLS_PORT, KONG_TLS_PORT_NUMBER, MeshKind, Peer, Platform,
    Protocol, Route, Service, ServiceId, Spawned,
};
use crate::spec::network::ServiceType;

/// Every gateway and mesh-security object, in the wave of the last service
/// each one routes to, so routes never point at nothing; a Kong gateway's
/// configuration comes with its Kong pods, which read it at start (Kong
/// DB-less accepts upstreams that do not resolve yet).
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
        let wave = match (gateway.kind, &gateway.proxy) {
            (GatewayKind::Kong, Peer::Service(id)) => platform.services[id.0].wave,
            _ => routes
                .iter()
                .map(|r| platform.services[r.service.0].wave)
                .max()
                .unwrap_or(1),
        };
        let values = match gateway.kind {
            GatewayKind::Istio => istio(platform, gateway, &routes),
            GatewayKind::Ingress => ingress(platform, gateway, &routes),
            GatewayKind::GatewayApi => gateway_api(platform, gateway, &routes),
            GatewayKind::Kong => kong(platform, gateway, &routes),
        };
        out.extend(values.into_iter().map(|v| Object::new(wave, None, None, v)));
    }
    out.extend(request_authentications(platform));
    out.extend(public_entries(platform));
    if platform.network.mesh == Some(MeshKind::Istio) {
        out.extend(mesh_security(platform));
        out.extend(telemetry(platform));
    }
    out
}

/// Istio `Telemetry`: `default` in each meshed namespace from
/// `network.telemetry` (trace provider and sampling, access log filter),
/// and one per service with its own sampling.
fn telemetry(platform: &Platform) -> Vec<Object> {
    let Some(settings) = &platform.network.telemetry else {
        return Vec::new();
    };
    let tracing = |sampling: Option<u32>| {
        settings.tracing.as_ref().map(|provider| {
            let mut entry = json!({ "providers": [{ "name": provider }] });
            if let Some(percent) = sampling {
                entry["randomSamplingPercentage"] = json!(percent);
            }
            json!([entry])
        })
    };
    let mut out = Vec::new();
    for namespace in platform
        .namespaces
        .iter()
        .filter(|n| platform.in_mesh(&n.name))
    {
        let mut spec = json!({});
        if let Some(tracing) = tracing(settings.sampling) {
            spec["tracing"] = tracing;
        }
        if let Some(filter) = &settings.access_log {
            spec["accessLogging"] =
                json!([{ "providers": [{ "name": "envoy" }], "filter": { "expression": filter } }]);
        }
        out.push(Object::new(
            0,
            None,
            None,
            json!({
                "apiVersion": "telemetry.istio.io/v1",
                "kind": "Telemetry",
                "metadata": meta(platform, "default", &namespace.name),
                "spec": spec,
            }),
        ));
    }
    for service in &platform.services {
        if service.tracing_sampling.is_none() || !platform.in_mesh(&service.namespace) {
            continue;
        }
        let Some(tracing) = tracing(service.tracing_sampling) else {
            continue;
        };
        out.push(Object::new(
            service.wave,
            Some(&platform.tier_of(service).name),
            Some(&service.name),
            json!({
                "apiVersion": "telemetry.istio.io/v1",
                "kind": "Telemetry",
                "metadata": labels::metadata(platform, service, &service.name),
                "spec": { "selector": workload_selector(platform, service), "tracing": tracing },
            }),
        ));
    }
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

fn meta(platform: &Platform, name: &str, namespace: &str) -> Value {
    let mut metadata =
        json!({ "name": name, "namespace": namespace, "labels": labels::platform(platform) });
    if !platform.namespaces.iter().any(|n| n.name == namespace) {
        // A gateway's own namespace (`istio-system`) belongs to its
        // controller's installation, not to this set: say so to `lint`.
        metadata["annotations"] = json!({ crate::lint::IGNORE_ANNOTATION: "missing-namespace" });
    }
    metadata
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
        http["retries"] = super::traffic::retry_policy(attempts, route.timeout_ms);
    }
    if let Some(cors) = &route.cors {
        http["corsPolicy"] = istio_cors(cors);
    }
    http
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

/// One RequestAuthentication per service with a JWT-protected route through
/// an Istio gateway, or through any gateway in an Istio mesh (whose
/// AuthorizationPolicy requires the request principal it yields), holding
/// each gateway's issuer once.
fn request_authentications(platform: &Platform) -> Vec<Object> {
    let meshed = platform.network.mesh == Some(MeshKind::Istio);
    let mut rules: BTreeMap<ServiceId, Vec<Value>> = BTreeMap::new();
    for route in platform.routes.iter().filter(|r| r.auth) {
        let gateway = &platform.gateways[route.gateway];
        let Some(jwt) = gateway
            .jwt
            .as_ref()
            .filter(|_| meshed || gateway.kind == GatewayKind::Istio)
        else {
            continue;
        };
        let rule =
            json!({ "issuer": jwt.issuer, "jwksUri": jwt.jwks_uri, "forwardOriginalToken": true });
        let list = rules.entry(route.service).or_default();
        if !list.contains(&rule) {
            list.push(rule);
        }
    }
    rules
        .into_iter()
        .map(|(id, jwt_rules)| {
            let service = &platform.services[id.0];
            Object::new(
                service.wave,
                Some(&platform.tier_of(service).name),
                Some(&service.name),
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "RequestAuthentication",
                    "metadata": labels::metadata(platform, service, &format!("{}-jwt", service.name)),
                    "spec": {
                        "selector": workload_selector(platform, service),
                        "jwtRules": jwt_rules,
                    },
                }),
            )
        })
        .collect()
}

fn ingress(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    // An Ingress only reaches Services of its own namespace: one per
    // namespace, and one per rewritten service and prefix (a rewrite applies
    // to a whole Ingress).
    type Group<'a> = (String, Option<(String, String)>);
    let mut groups: BTreeMap<Group<'_>, Vec<&Route>> = BTreeMap::new();
    for route in routes {
        let service = &platform.services[route.service.0];
        let own = route
            .rewrite
            .as_ref()
            .map(|r| (service.name.clone(), r.clone()));
        groups
            .entry((service.namespace.clone(), own))
            .or_default()
            .push(route);
    }
    // Several rewrites of one service: numbered, so names stay unique.
    let mut rewrites: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (namespace, own) in groups.keys() {
        if let Some((service, _)) = own {
            *rewrites
                .entry((namespace.clone(), service.clone()))
                .or_default() += 1;
        }
    }
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for ((namespace, rewritten), members) in groups {
        let name = match &rewritten {
            None => gateway.name.clone(),
            Some((service, _)) => {
                let key = (namespace.clone(), service.clone());
                let n = seen.entry(key.clone()).or_default();
                *n += 1;
                if rewrites[&key] > 1 {
                    format!("{}-{service}-{n}", gateway.name)
                } else {
                    format!("{}-{service}", gateway.name)
                }
            }
        };
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
        if let Some((_, rewrite)) = &rewritten {
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
    // One HTTPRoute per service and host set (hostnames apply to a whole
    // HTTPRoute), with a rule per route; Gateway API orders matches across
    // routes by prefix length itself.
    type Group<'a> = ((ServiceId, Vec<String>), Vec<&'a Route>);
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
                    "backendRefs": [{ "name": service.name, "port": route.port.service_port() }],
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

/// The name of the ConfigMap holding a Kong gateway's declarative config.
pub fn kong_config_name(gateway: &Gateway) -> String {
    format!("{}-kong", gateway.name)
}

/// Kong's DB-less declarative configuration (format 3.0) for a gateway: one
/// Kong service per upstream (service, port, rewritten prefix and route
/// policy), each route named uniquely and carrying its own plugins; Kong
/// rejects two services or routes of one name.
pub fn kong_config(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Value {
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
                .edges
                .iter()
                .find(|e| e.from == proxy && e.to == *id)
                .map_or(platform.network.calls, |e| e.calls),
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

fn kong(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    let config = kong_config(platform, gateway, routes);
    vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(platform, &kong_config_name(gateway), &home(platform, gateway, routes)),
        "data": { "kong.yml": super::super::export::yaml(&config) },
    })]
}

/// An Istio `selector` of a service's pods: those an operator runs carry
/// the operator's labels, not Strata's (the NetworkPolicies' choice too).
pub(super) fn workload_selector(platform: &Platform, service: &Service) -> Value {
    json!({ "matchLabels": super::network::pod_selector(platform, service) })
}

/// The sidecar's port serving the pod's metrics merged with its own
/// (Istio's metrics merging), outside mTLS.
pub const MERGED_METRICS_PORT: u16 = 15020;

/// Whether the scraper reads a service's metrics from its sidecar's merged
/// endpoint: in the mesh, with scrape annotations (the sidecar injector
/// points them at [`MERGED_METRICS_PORT`]) on pods Strata runs. Its metrics
/// port then stays STRICT mTLS like any other.
pub fn merges_metrics(platform: &Platform, service: &Service) -> bool {
    service.runtime.metrics.is_some()
        && !platform.service_monitors
        && platform.in_mesh(&service.namespace)
        && !service.tuning.as_ref().is_some_and(|t| t.mode.operated)
}

/// The port the scraper connects to for a service's metrics.
pub fn scrape_port(platform: &Platform, service: &Service) -> Option<u16> {
    let metrics = service.runtime.metrics.as_ref()?;
    Some(if merges_metrics(platform, service) {
        MERGED_METRICS_PORT
    } else {
        metrics.number
    })
}

/// Asks the sidecar injector for metrics merging on a service's pods
/// explicitly, whatever the mesh-wide default (`enablePrometheusMerge`).
pub fn merge_metrics(platform: &Platform, service: &Service, objects: &mut [Value]) {
    if !merges_metrics(platform, service) {
        return;
    }
    for workload in objects.iter_mut().filter(|o| {
        matches!(
            o["kind"].as_str(),
            Some("Deployment" | "StatefulSet" | "DaemonSet")
        )
    }) {
        workload["spec"]["template"]["metadata"]["annotations"]["prometheus.istio.io/merge-metrics"] =
            json!("true");
    }
}

fn principal(service: &Service) -> String {
    account_principal(service, &service.name)
}

/// The mesh identity of a ServiceAccount in a service's namespace.
fn account_principal(service: &Service, account: &str) -> String {
    format!("{CLUSTER_DOMAIN}/ns/{}/sa/{account}", service.namespace)
}

/// The AuthorizationPolicy of the pods a meshed service spawns: only the
/// service reaches them, on their ports.
fn spawned_authorization(platform: &Platform, spawner: &Service) -> Option<Object> {
    let spawned = spawner.spawns.as_ref()?;
    let mut rules = Vec::new();
    if !spawned.ports.is_empty() {
        let ports: Vec<String> = spawned.ports.iter().map(|(_, p)| p.to_string()).collect();
        rules.push(json!({
            "from": [{ "source": { "principals": [principal(spawner)] } }],
            "to": [{ "operation": { "ports": ports } }],
        }));
    }
    Some(Object::new(
        spawner.wave,
        Some(&platform.tier_of(spawner).name),
        Some(&spawner.name),
        json!({
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": labels::metadata(platform, spawner, &Spawned::account(spawner)),
            "spec": { "selector": { "matchLabels": spawned.labels }, "action": "ALLOW", "rules": rules },
        }),
    ))
}

/// The request paths a public route admits at its service's sidecar, which
/// sees the path after the gateway's rewrite: the prefix itself and what is
/// below it. `None` for `/`, which admits every path.
fn public_paths(route: &Route) -> Option<Vec<String>> {
    let prefix = route.rewrite.as_deref().unwrap_or(&route.path);
    let prefix = prefix.trim_end_matches('/');
    (!prefix.is_empty()).then(|| vec![prefix.to_string(), format!("{prefix}/*")])
}

/// Strict mTLS in every namespace and, per service, authorization of exactly
/// its callers (and its gateway, and scraping of its metrics port).
fn mesh_security(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for namespace in platform
        .namespaces
        .iter()
        .filter(|n| platform.in_mesh(&n.name))
    {
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
        if platform.in_mesh(&service.namespace) {
            out.extend(spawned_authorization(platform, service));
        }
        // Without a sidecar, nothing would enforce these policies.
        if service.ports.is_empty()
            || !service.kind.is_long_running()
            || !platform.in_mesh(&service.namespace)
        {
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
        principals.extend(
            super::network::spawned_callers(platform, id)
                .map(|(spawner, _)| account_principal(spawner, &Spawned::account(spawner))),
        );
        // The blueprint's setup Jobs (buckets, databases, retention) call
        // their servers as `SERVICE-NAME`.
        principals.extend(
            service
                .tuning
                .iter()
                .flat_map(|t| &t.supplied.members)
                .filter(|group| group.setup_job)
                .map(|group| {
                    account_principal(service, &format!("{}-{}", service.name, group.name))
                }),
        );
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
            let mut operation = json!({ "ports": [route.port.number.to_string()] });
            let mut rule = json!({ "from": [{ "source": source }] });
            if route.auth {
                rule["from"][0]["source"]["requestPrincipals"] = json!(["*"]);
            } else if let Some(paths) = public_paths(route) {
                // Rules are ORed: a public route opens its own paths only,
                // never the JWT-protected routes on the same port.
                operation["paths"] = json!(paths);
            }
            rule["to"] = json!([{ "operation": operation }]);
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        if let Some(metrics) = service
            .runtime
            .metrics
            .as_ref()
            .filter(|_| !merges_metrics(platform, service))
        {
            // Scrapers usually run outside the mesh: plain text on this port
            // only, and, from anyone, only a GET of the metrics path (the
            // port may be the API's own, whose other paths need a caller's
            // identity or a JWT).
            rules.push(json!({ "to": [{ "operation": { "ports": [metrics.number.to_string()], "methods": ["GET"], "paths": [metrics.path] } }] }));
            out.push(Object::new(
                service.wave,
                Some(&platform.tier_of(service).name),
                Some(&service.name),
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "PeerAuthentication",
                    "metadata": labels::metadata(platform, service, &format!("{}-metrics", service.name)),
                    "spec": {
                        "selector": workload_selector(platform, service),
                        "mtls": { "mode": "STRICT" },
                        "portLevelMtls": { metrics.number.to_string(): { "mode": "PERMISSIVE" } },
                    },
                }),
            ));
        }
        out.extend(operator_access(platform, service));
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
                "spec": { "selector": workload_selector(platform, service), "action": "ALLOW", "rules": rules },
            }),
        ));
    }
    out
}

/// An operator reaches the pods it runs on its ports (status, admin,
/// agent), usually from outside the mesh, where STRICT mTLS would refuse its
/// plain text (or its own TLS): per group of pods, those ports are
/// PERMISSIVE and allowed from any source. The group's NetworkPolicy still
/// admits only the operator's namespace when a tier installs it.
fn operator_access(platform: &Platform, service: &Service) -> Vec<Object> {
    let Some(tuning) = service.tuning.as_ref() else {
        return Vec::new();
    };
    tuning
        .supplied
        .members
        .iter()
        .filter(|group| !group.operator_ports.is_empty())
        // Port-level mTLS needs a plain label selector.
        .filter(|group| group.selector.get("matchExpressions").is_none())
        .flat_map(|group| {
            let name = format!("{}-{}-operator", service.name, group.name);
            let ports: serde_json::Map<String, Value> = group
                .operator_ports
                .iter()
                .map(|p| (p.to_string(), json!({ "mode": "PERMISSIVE" })))
                .collect();
            let numbers: Vec<String> = group.operator_ports.iter().map(u16::to_string).collect();
            [
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "PeerAuthentication",
                    "metadata": labels::metadata(platform, service, &name),
                    "spec": { "selector": group.selector, "mtls": { "mode": "STRICT" }, "portLevelMtls": ports },
                }),
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "AuthorizationPolicy",
                    "metadata": labels::metadata(platform, service, &name),
                    "spec": { "selector": group.selector, "action": "ALLOW", "rules": [{ "to": [{ "operation": { "ports": numbers } }] }] },
                }),
            ]
        })
        .map(|value| {
            Object::new(
                service.wave,
                Some(&platform.tier_of(service).name),
                Some(&service.name),
                value,
            )
        })
        .collect()
}

/// Sets `name` in a container's environment, replacing an earlier value.
fn set_env(container: &mut Value, name: &str, value: &str) {
    let var = json!({ "name": name, "value": value });
    match container["env"].as_array_mut() {
        Some(vars) => match vars.iter_mut().find(|v| v["name"] == name) {
            Some(existing) => *existing = var,
            None => vars.push(var),
        },
        None => container["env"] = json!([var]),
    }
}

fn push(list: &mut Value, item: Value) {
    match list.as_array_mut() {
        Some(items) => items.push(item),
        None => *list = json!([item]),
    }
}

/// Where Kong reads a gateway's TLS Secret.
const KONG_TLS_DIR: &str = "/kong-tls";

/// Mounts the declarative config of each Kong gateway that `service` runs
/// into its workload, switches Kong to DB-less mode and, with `tls:`, adds
/// the TLS listener serving the gateway's Secret (mounted read-only).
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
        push(
            &mut pod["volumes"],
            json!({ "name": "kong-config", "configMap": { "name": kong_config_name(gateway) } }),
        );
        if let Some(tls) = &gateway.tls {
            push(
                &mut pod["volumes"],
                json!({ "name": "kong-tls", "secret": { "secretName": tls } }),
            );
        }
        let container = &mut pod["containers"][0];
        push(
            &mut container["volumeMounts"],
            json!({ "name": "kong-config", "mountPath": "/kong", "readOnly": true }),
        );
        set_env(container, "KONG_DATABASE", "off");
        set_env(container, "KONG_DECLARATIVE_CONFIG", "/kong/kong.yml");
        if gateway.tls.is_some() {
            push(
                &mut container["volumeMounts"],
                json!({ "name": "kong-tls", "mountPath": KONG_TLS_DIR, "readOnly": true }),
            );
            let plain = service
                .ports
                .iter()
                .find(|p| p.name != KONG_TLS_PORT && p.protocol == Protocol::Http)
                .map_or(8000, |p| p.number);
            set_env(
                container,
                "KONG_PROXY_LISTEN",
                &format!("0.0.0.0:{plain}, 0.0.0.0:{KONG_TLS_PORT_NUMBER} ssl"),
            );
            set_env(
                container,
                "KONG_SSL_CERT",
                &format!("{KONG_TLS_DIR}/tls.crt"),
            );
            set_env(
                container,
                "KONG_SSL_CERT_KEY",
                &format!("{KONG_TLS_DIR}/tls.key"),
            );
        }
    }
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
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": labels::metadata(platform, service, &format!("{}-public", gateway.name)),
                "spec": {
                    "podSelector": { "matchLabels": labels::selector(platform, service) },
                    "policyTypes": ["Ingress"],
                    "ingress": [{ "from": from, "ports": ports }],
                },
            }),
        ));
    }
    out
}
