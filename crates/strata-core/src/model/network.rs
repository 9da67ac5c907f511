//! Resolving networking: gateways and their routes, the edges of the call
//! graph with their call policies, egress, and who scrapes metrics.

use std::collections::{BTreeMap, HashMap};

use super::resolve::Resolver;
use super::*;
use crate::diag::suggestion;
use crate::spec::Spanned;
use crate::spec::network::{CallsSpec, ControllerSpec};
use crate::spec::service::ServiceSpec;

/// Where Prometheus runs when the spec does not say.
pub const DEFAULT_SCRAPER_NAMESPACE: &str = "monitoring";

/// Everything networking adds to a platform.
pub(super) struct Networking {
    pub gateways: Vec<Gateway>,
    pub routes: Vec<Route>,
    pub edges: Vec<Edge>,
    pub network: Network,
}

fn controller(spec: &ControllerSpec) -> Peer {
    Peer::External {
        namespace: spec.namespace.value.0.clone(),
        labels: spec
            .labels
            .iter()
            .flat_map(|l| l.value.iter())
            .map(|(k, v)| (k.value.0.clone(), v.value.clone()))
            .collect(),
    }
}

/// Where a gateway kind's proxy usually runs.
fn default_proxy(kind: GatewayKind, gateway: &str) -> Peer {
    let (namespace, labels): (&str, &[(&str, &str)]) = match kind {
        GatewayKind::Istio => ("istio-system", &[("istio", "ingressgateway")]),
        GatewayKind::Ingress => (
            "ingress-nginx",
            &[("app.kubernetes.io/name", "ingress-nginx")],
        ),
        GatewayKind::GatewayApi => (
            "gateway-system",
            &[("gateway.networking.k8s.io/gateway-name", gateway)],
        ),
        GatewayKind::Kong => ("kong", &[("app.kubernetes.io/name", "kong")]),
    };
    Peer::External {
        namespace: namespace.to_string(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

impl Resolver<'_> {
    fn service_peer(
        &mut self,
        name: &Spanned<crate::spec::names::Name>,
        index: &HashMap<String, ServiceId>,
        what: &str,
    ) -> Option<ServiceId> {
        match index.get(&name.value.0) {
            Some(&id) => Some(id),
            None => {
                let mut names: Vec<&str> = index.keys().map(String::as_str).collect();
                names.sort_unstable();
                let help = suggestion(&name.value.0, &names, "service");
                self.error(
                    "unknown-service",
                    format!(
                        "the {what} `{}` is not a service of this platform",
                        name.value.0
                    ),
                    name.span,
                    "no such service",
                    help,
                );
                None
            }
        }
    }

    /// Gateways, routes, edges and network settings; `services[i].egress` is filled in.
    pub(super) fn networking(
        &mut self,
        services: &mut [Service],
        specs: &[ServiceSpec],
        tiers: &[Tier],
    ) -> Networking {
        let index: HashMap<String, ServiceId> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), ServiceId(i)))
            .collect();
        let gateways = self.gateways(&index);
        let mut routes = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            for route in spec.expose.iter().flat_map(|e| &e.value.0) {
                if let Some(r) = self.route(
                    &services[i],
                    ServiceId(i),
                    &route.value,
                    route.span,
                    &gateways,
                ) {
                    routes.push(r);
                }
            }
            services[i].egress = spec
                .egress
                .iter()
                .flat_map(|e| &e.value)
                .map(|e| Egress {
                    cidr: e.value.cidr.value.0.clone(),
                    ports: e
                        .value
                        .ports
                        .iter()
                        .flat_map(|p| &p.value)
                        .map(|p| p.value)
                        .collect(),
                })
                .collect();
        }
        let defaults = self
            .spec
            .defaults
            .as_ref()
            .and_then(|d| d.value.calls.as_ref());
        if let Some(wait) = defaults.and_then(|c| c.value.wait.as_ref()) {
            self.error(
                "wait-in-defaults",
                "`wait` is set per callee, not for every call".into(),
                wait.span,
                "not a default",
                "write it under a service's `calls:`, such as `calls: { search: { wait: false } }`"
                    .into(),
            );
        }
        let calls = defaults.map(|c| policy(&c.value)).unwrap_or_default();
        for (service, spec) in services.iter_mut().zip(specs) {
            for call in &mut service.externals {
                let name = &self.externals[call.external].name;
                let own = spec.calls.as_ref().and_then(|c| c.value.get(name));
                call.calls = own.map_or(calls, |o| overlay(calls, policy(&o.value)));
            }
        }
        let edges = self.edges(services, specs, tiers, &gateways, &routes, calls);
        let settings = self.spec.network.as_ref().map(|n| &n.value);
        let isolated = settings
            .and_then(|n| n.policies.as_ref())
            .is_none_or(|p| p.value);
        if isolated && settings.and_then(|n| n.api_server.as_ref()).is_none() {
            for spec in specs {
                if let Some(access) = &spec.access {
                    self.error(
                        "missing-api-server",
                        "a service with `access` cannot reach the API server through the default-deny NetworkPolicies".into(),
                        access.span,
                        "calls the API server",
                        "set `network: { apiServer: CIDR }` to the addresses `kubectl get endpoints kubernetes` lists, so its egress allows them on 443 and 6443".into(),
                    );
                }
            }
        }
        let monitoring = self.spec.monitoring.as_ref().map(|m| &m.value);
        let scraper = match (
            monitoring.and_then(|m| m.scraper.as_ref()),
            monitoring.and_then(|m| m.controller.as_ref()),
        ) {
            (Some(service), _) => self
                .service_peer(service, &index, "scraper")
                .map(Peer::Service),
            (None, Some(c)) => Some(controller(&c.value)),
            (None, None) => None,
        }
        .unwrap_or_else(|| Peer::External {
            namespace: DEFAULT_SCRAPER_NAMESPACE.into(),
            labels: BTreeMap::from([("app.kubernetes.io/name".into(), "prometheus".into())]),
        });
        Networking {
            gateways,
            routes,
            edges,
            network: Network {
                policies: settings
                    .and_then(|n| n.policies.as_ref())
                    .is_none_or(|p| p.value),
                mesh: settings.and_then(|n| n.mesh.as_ref()).map(|m| m.value),
                api_server: settings
                    .and_then(|n| n.api_server.as_ref())
                    .map(|c| c.value.0.clone()),
                scraper,
                calls,
            },
        }
    }

    fn gateways(&mut self, index: &HashMap<String, ServiceId>) -> Vec<Gateway> {
        let mut gateways = Vec::new();
        for (name, spec) in self.spec.gateways.iter().flat_map(|g| g.value.iter()) {
            let spec = &spec.value;
            let proxy = match (&spec.service, &spec.controller) {
                (Some(service), _) => self
                    .service_peer(service, index, "gateway service")
                    .map(Peer::Service),
                (None, Some(c)) => Some(controller(&c.value)),
                (None, None) => None,
            }
            .unwrap_or_else(|| default_proxy(spec.kind.value, &name.value.0));
            gateways.push(Gateway {
                name: name.value.0.clone(),
                kind: spec.kind.value,
                hosts: spec
                    .hosts
                    .iter()
                    .flat_map(|h| &h.value)
                    .map(|h| h.value.clone())
                    .collect(),
                tls: spec.tls.as_ref().map(|t| t.value.0.clone()),
                class: spec.class.as_ref().map(|c| c.value.clone()),
                proxy,
                jwt: spec.jwt.as_ref().map(|j| Jwt {
                    issuer: j.value.issuer.value.clone(),
                    jwks_uri: j.value.jwks_uri.value.clone(),
                }),
                rate_limit: spec.rate_limit.as_ref().map(|r| r.value),
                cors: spec
                    .cors
                    .iter()
                    .flat_map(|c| &c.value)
                    .map(|c| c.value.clone())
                    .collect(),
            });
        }
        gateways
    }

    fn route(
        &mut self,
        service: &Service,
        id: ServiceId,
        spec: &crate::spec::network::ExposeSpec,
        span: Span,
        gateways: &[Gateway],
    ) -> Option<Route> {
        let names: Vec<&str> = gateways.iter().map(|g| g.name.as_str()).collect();
        let gateway = match (&spec.via, gateways.len()) {
            (Some(via), _) => match gateways.iter().position(|g| g.name == via.value.0) {
                Some(g) => g,
                None => {
                    let help = if names.is_empty() {
                        "declare it under `gateways:`".to_string()
                    } else {
                        suggestion(&via.value.0, &names, "gateway")
                    };
                    self.error(
                        "unknown-gateway",
                        format!("`{}` is not a gateway of this platform", via.value.0),
                        via.span,
                        "no such gateway",
                        help,
                    );
                    return None;
                }
            },
            (None, 1) => 0,
            (None, 0) => {
                self.error(
                    "unknown-gateway",
                    format!("`{}` is exposed, but the platform has no gateway", service.name),
                    span,
                    "exposed through what?",
                    "declare one under `gateways:`, such as `edge: { kind: ingress, hosts: [app.example.com] }`".into(),
                );
                return None;
            }
            (None, _) => {
                self.error(
                    "ambiguous-gateway",
                    format!(
                        "the platform has {} gateways; which one exposes `{}`?",
                        gateways.len(),
                        service.name
                    ),
                    span,
                    "which gateway?",
                    format!("add `via:` with one of {}", names.join(", ")),
                );
                return None;
            }
        };
        let port = match &spec.port {
            Some(name) => match service.ports.iter().find(|p| p.name == name.value.0) {
                Some(p) => p.clone(),
                None => {
                    let ports: Vec<&str> = service.ports.iter().map(|p| p.name.as_str()).collect();
                    let help = suggestion(&name.value.0, &ports, "port");
                    self.error(
                        "unknown-port",
                        format!(
                            "the route port `{}` is not a port of `{}`",
                            name.value.0, service.name
                        ),
                        name.span,
                        "no such port",
                        help,
                    );
                    return None;
                }
            },
            None => match service
                .ports
                .iter()
                .find(|p| matches!(p.protocol, Protocol::Http | Protocol::Grpc))
            {
                Some(p) => p.clone(),
                None => {
                    self.error(
                        "unroutable-service",
                        format!("`{}` has no HTTP or gRPC port to route to", service.name),
                        span,
                        "no HTTP port",
                        "name the port with `port:`, or declare an `http` port".into(),
                    );
                    return None;
                }
            },
        };
        for path in [spec.path.as_ref(), spec.rewrite.as_ref()]
            .into_iter()
            .flatten()
        {
            if !path.value.starts_with('/') {
                self.error(
                    "invalid-path",
                    format!("`{}` is not an HTTP path", path.value),
                    path.span,
                    "no leading `/`",
                    format!("write `/{}`", path.value),
                );
            }
        }
        let hosts = match &spec.host {
            Some(host) => vec![host.value.clone()],
            None => gateways[gateway].hosts.clone(),
        };
        Some(Route {
            gateway,
            service: id,
            hosts,
            path: spec
                .path
                .as_ref()
                .map_or_else(|| "/".to_string(), |p| p.value.clone()),
            rewrite: spec.rewrite.as_ref().map(|r| r.value.clone()),
            port,
            auth: spec.auth.as_ref().is_none_or(|a| a.value) && gateways[gateway].jwt.is_some(),
            rate_limit: spec
                .rate_limit
                .as_ref()
                .map(|r| r.value)
                .or(gateways[gateway].rate_limit),
        })
    }

    /// Every caller → callee pair: from `needs:` (a tier means each of its
    /// services), `${…}` references, and gateway services to their routes.
    fn edges(
        &mut self,
        services: &[Service],
        specs: &[ServiceSpec],
        tiers: &[Tier],
        gateways: &[Gateway],
        routes: &[Route],
        defaults: CallPolicy,
    ) -> Vec<Edge> {
        // Pairs in first-seen order; the set keeps it linear on large platforms.
        let mut pairs: Vec<(ServiceId, ServiceId)> = Vec::new();
        let mut seen: std::collections::HashSet<(ServiceId, ServiceId)> =
            std::collections::HashSet::new();
        for (i, service) in services.iter().enumerate() {
            for need in &service.needs {
                let targets: Vec<ServiceId> = match need.target {
                    DependencyTarget::Service(s) => vec![s],
                    DependencyTarget::Tier(t) => tiers[t.0].services.clone(),
                };
                for target in targets.into_iter().filter(|t| t.0 != i) {
                    if seen.insert((ServiceId(i), target)) {
                        pairs.push((ServiceId(i), target));
                    }
                }
            }
        }
        for route in routes {
            if let Peer::Service(proxy) = gateways[route.gateway].proxy
                && proxy != route.service
                && seen.insert((proxy, route.service))
            {
                pairs.push((proxy, route.service));
            }
        }
        let mut edges = Vec::with_capacity(pairs.len());
        for (from, to) in pairs {
            let own = specs[from.0]
                .calls
                .as_ref()
                .and_then(|c| c.value.get(&services[to.0].name));
            let calls = own.map_or(defaults, |o| overlay(defaults, policy(&o.value)));
            edges.push(Edge { from, to, calls });
        }
        for (i, spec) in specs.iter().enumerate() {
            for (callee, _) in spec.calls.iter().flat_map(|c| c.value.iter()) {
                let called = edges
                    .iter()
                    .any(|e| e.from.0 == i && services[e.to.0].name == callee.value.0)
                    || services[i]
                        .externals
                        .iter()
                        .any(|c| self.externals[c.external].name == callee.value.0);
                if !called {
                    let mine: Vec<&str> = edges
                        .iter()
                        .filter(|e| e.from.0 == i)
                        .map(|e| services[e.to.0].name.as_str())
                        .collect();
                    let help = if mine.is_empty() {
                        format!(
                            "`{}` calls no service; add the callee to `needs:` first",
                            services[i].name
                        )
                    } else {
                        suggestion(&callee.value.0, &mine, "callee")
                    };
                    self.error(
                        "unknown-callee",
                        format!("`{}` does not call `{}`", services[i].name, callee.value.0),
                        callee.span,
                        "not a callee",
                        help,
                    );
                }
            }
        }
        edges
    }
}

fn policy(spec: &CallsSpec) -> CallPolicy {
    CallPolicy {
        timeout_ms: spec.timeout.as_ref().map(|t| t.value.0),
        connect_timeout_ms: spec.connect_timeout.as_ref().map(|t| t.value.0),
        retries: spec.retries.as_ref().map(|r| r.value),
        retry_backoff_ms: spec.retry_backoff.as_ref().map(|b| b.value.0),
        circuit_breaker: spec.circuit_breaker.as_ref().map(|c| c.value.0),
        pool: spec.pool.as_ref().map(|p| p.value),
    }
}

/// `own` field by field over `base`.
fn overlay(base: CallPolicy, own: CallPolicy) -> CallPolicy {
    CallPolicy {
        timeout_ms: own.timeout_ms.or(base.timeout_ms),
        connect_timeout_ms: own.connect_timeout_ms.or(base.connect_timeout_ms),
        retries: own.retries.or(base.retries),
        retry_backoff_ms: own.retry_backoff_ms.or(base.retry_backoff_ms),
        circuit_breaker: own.circuit_breaker.or(base.circuit_breaker),
        pool: own.pool.or(base.pool),
    }
}
