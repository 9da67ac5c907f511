//! Mesh security: strict mTLS in every meshed namespace, each service's
//! AuthorizationPolicy admitting exactly its callers, gateways and
//! scrapers, the ports an operator reaches, and RequestAuthentications for
//! JWT-protected routes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::workload_selector;
use crate::model::CLUSTER_DOMAIN;
use crate::model::{GatewayKind, MeshKind, Peer, Platform, Route, Service, ServiceId, Spawned};
use crate::render::gateway::meta;
use crate::render::{Object, labels, network};

/// Strict mTLS in every namespace and, per service, authorization of exactly
/// its callers (and its gateway, and scraping of its metrics port).
pub(super) fn policies(platform: &Platform) -> Vec<Object> {
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
            .edges_to(id)
            .map(|e| principal(&platform.services[e.from().0]))
            .collect();
        if network::has_peers(service) {
            principals.push(principal(service));
        }
        principals.extend(
            network::spawned_callers(platform, id)
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
        // Backup pods, of this service and of those backed up into it.
        let backup_account =
            |s: &Service| account_principal(s, &crate::render::backup::cronjob_name(&s.name));
        // An operator's backups come from the service's own pods, admitted
        // along their edge.
        let has_job = crate::render::backup::has_job;
        principals.extend(has_job(service).then(|| backup_account(service)));
        principals.extend(
            platform
                .services
                .iter()
                .filter(|s| {
                    has_job(s)
                        && s.backup
                            .as_ref()
                            .is_some_and(|b| b.target.store == Some(id))
                })
                .map(backup_account),
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
            .filter(|_| !platform.merges_metrics(service))
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

fn principal(service: &Service) -> String {
    account_principal(service, &service.name)
}

/// The mesh identity of a ServiceAccount in a service's namespace.
fn account_principal(service: &Service, account: &str) -> String {
    format!("{CLUSTER_DOMAIN}/ns/{}/sa/{account}", service.namespace)
}

/// One RequestAuthentication per service with a JWT-protected route through
/// an Istio gateway, or through any gateway in an Istio mesh (whose
/// AuthorizationPolicy requires the request principal it yields), holding
/// each gateway's issuer once.
pub(super) fn request_authentications(platform: &Platform) -> Vec<Object> {
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
