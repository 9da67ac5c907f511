//! Resolving networking: gateways and their routes, the edges of the call
//! graph with their call policies, egress, and who scrapes metrics.

use std::collections::{BTreeMap, HashMap};

use super::Resolver;
use crate::diag::suggestion;
use crate::model::*;
use crate::spec::Spanned;
use crate::spec::network::{CallsSpec, ControllerSpec, CorsSpec, LoadBalancerSpec, ServiceType};
use crate::spec::service::{ServiceSpec, SpawnsSpec};

/// Where Prometheus runs when the spec does not say.
pub const DEFAULT_SCRAPER_NAMESPACE: &str = "monitoring";

/// Where Istio's control plane runs when the spec does not say.
pub const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "istio-system";

/// The label of istiod's pods (every revision's).
pub const CONTROL_PLANE_LABEL: (&str, &str) = ("app", "istiod");

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
            None if self.left_out(&name.value.0, false, name.span) => None,
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
        let gateways = self.gateways(&index, services);
        for gateway in &gateways {
            // Kong serves the gateway's TLS Secret itself, on a port of its own.
            if let (GatewayKind::Kong, Some(_), Peer::Service(id)) =
                (gateway.kind, &gateway.tls, &gateway.proxy)
                && !services[id.0].ports.iter().any(|p| p.name == KONG_TLS_PORT)
            {
                services[id.0].ports.push(Port {
                    name: KONG_TLS_PORT.to_string(),
                    number: KONG_TLS_PORT_NUMBER,
                    service_number: None,
                    protocol: Protocol::Http,
                });
            }
        }
        let mut routes: Vec<Route> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        // Two routes of one gateway, host and path: the gateway keeps one.
        let mut taken: HashMap<(usize, String, String), String> = HashMap::new();
        for (i, spec) in specs.iter().enumerate() {
            for route in spec.expose.iter().flat_map(|e| &e.value.0) {
                if let Some(r) = self.route(
                    &services[i],
                    ServiceId(i),
                    &route.value,
                    route.span,
                    &gateways,
                ) {
                    let hosts = if r.hosts.is_empty() {
                        vec!["*".to_string()]
                    } else {
                        r.hosts.clone()
                    };
                    let clash = hosts.iter().find_map(|host| {
                        taken
                            .insert(
                                (r.gateway, host.clone(), r.path.clone()),
                                services[i].name.clone(),
                            )
                            .map(|other| (host.clone(), other))
                    });
                    if let Some((host, other)) = clash {
                        self.error(
                            "duplicate-route",
                            format!(
                                "`{}` on `{host}` is already routed to `{other}` by gateway `{}`",
                                r.path, gateways[r.gateway].name
                            ),
                            route.span,
                            "a second route for this host and path",
                            "give one of them another `path:` or `host:`".into(),
                        );
                        continue;
                    }
                    spans.push(route.span);
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
        for (i, spec) in specs.iter().enumerate() {
            if let Some(spawns) = &spec.spawns {
                services[i].spawns =
                    Some(self.spawned(&services[i], &spawns.value, &index, services));
            }
        }
        self.open_rewrites(services, &routes, &spans);
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
        let meshed = self
            .spec
            .network
            .as_ref()
            .and_then(|n| n.value.mesh.as_ref())
            .is_some_and(|m| m.value == MeshKind::Istio);
        for (service, spec) in services.iter_mut().zip(specs) {
            if meshed && let Some(wait) = spec.wait_for_needs.as_ref().filter(|w| w.value) {
                self.error(
                    "wait-in-mesh",
                    format!("`{}` would wait in init containers inside an Istio mesh", service.name),
                    wait.span,
                    "init containers run before the sidecar",
                    "their connections go to a sidecar that has not started and fail, and a native sidecar (which `init:` steps get) accepts them itself, so the wait cannot tell a service that is not up; let `strata apply` order the waves instead".into(),
                );
            }
            let operated = service.tuning.as_ref().is_some_and(|t| t.mode.operated);
            service.serve = self.serve(spec, meshed, operated);
            self.check_rate_limit(service, spec, tiers, meshed, operated);
            for call in &mut service.externals {
                let name = &self.externals[call.external].name;
                let own = spec.calls.as_ref().and_then(|c| c.value.get(name));
                call.calls = own.map_or(calls, |o| overlay(calls, policy(&o.value)));
            }
        }
        let edges = self.edges(services, specs, tiers, &gateways, &routes, calls);
        let telemetry = self.telemetry(services, specs, tiers, meshed);
        if meshed {
            self.mesh_members(services, tiers, &edges, &routes, &gateways);
        } else {
            let spans: Vec<Span> = self
                .spec
                .tiers
                .value
                .iter()
                .filter_map(|t| t.value.mesh.as_ref().map(|m| m.span))
                .collect();
            for span in spans {
                self.error(
                    "missing-mesh",
                    "a tier's `mesh:` says whether it joins the mesh, and the platform has no mesh"
                        .into(),
                    span,
                    "no mesh to join",
                    "set `network: { mesh: istio }`, or remove `mesh:`".into(),
                );
            }
        }
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
        let control_plane = self.control_plane(tiers, meshed, isolated);
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
                control_plane,
                api_server: settings
                    .and_then(|n| n.api_server.as_ref())
                    .map(|c| c.value.0.clone()),
                scraper,
                calls,
                telemetry,
            },
        }
    }

    /// A service's `spawns:`, checked: labels to find the pods by, and
    /// callees that are services with ports.
    fn spawned(
        &mut self,
        spawner: &Service,
        spec: &SpawnsSpec,
        index: &HashMap<String, ServiceId>,
        services: &[Service],
    ) -> Spawned {
        if spec.labels.value.is_empty() {
            self.error(
                "invalid-spawns",
                format!("the pods `{}` spawns have no labels to be found by", spawner.name),
                spec.labels.span,
                "no labels",
                "write the labels it gives them, such as KubeSpawner's `{ component: singleuser-server }`: policies select them by those".into(),
            );
        }
        let mut calls = Vec::new();
        for name in spec.calls.iter().flat_map(|c| &c.value) {
            let Some(id) = self.service_peer(name, index, "callee of spawned pods") else {
                continue;
            };
            if services[id.0].ports.is_empty() {
                self.error(
                    "invalid-spawns",
                    format!(
                        "the pods `{}` spawns call `{}`, which has no ports",
                        spawner.name, name.value.0
                    ),
                    name.span,
                    "nothing to call",
                    format!(
                        "give `{}` its `ports:`, or remove it from `calls`",
                        name.value.0
                    ),
                );
            } else if !calls.contains(&id) {
                calls.push(id);
            }
        }
        Spawned {
            labels: spec
                .labels
                .value
                .iter()
                .map(|(k, v)| (k.value.0.clone(), v.value.clone()))
                .collect(),
            ports: spec
                .ports
                .iter()
                .flat_map(|p| p.value.iter())
                .map(|(k, v)| (k.value.0.clone(), v.value))
                .collect(),
            calls,
        }
    }

    /// `network.controlPlane`, checked: it needs a mesh, and istiod in a
    /// namespace of the platform's (behind its default deny) needs the API
    /// server's address, which it watches and which calls its webhook.
    fn control_plane(&mut self, tiers: &[Tier], meshed: bool, isolated: bool) -> Peer {
        let settings = self.spec.network.as_ref().map(|n| &n.value);
        let Some(spec) = settings.and_then(|n| n.control_plane.as_ref()) else {
            return Peer::External {
                namespace: DEFAULT_CONTROL_PLANE_NAMESPACE.into(),
                labels: BTreeMap::from([(
                    CONTROL_PLANE_LABEL.0.into(),
                    CONTROL_PLANE_LABEL.1.into(),
                )]),
            };
        };
        if !meshed {
            self.error(
                "missing-mesh",
                "`controlPlane` says where the mesh's istiod runs, and the platform has no mesh"
                    .into(),
                spec.span,
                "needs `network: { mesh: istio }`",
                "set `mesh: istio` beside it, or remove `controlPlane`".into(),
            );
        }
        let namespace = &spec.value.namespace.value.0;
        let owned = tiers.iter().any(|t| &t.namespace == namespace);
        if meshed && isolated && owned && settings.and_then(|n| n.api_server.as_ref()).is_none() {
            self.error(
                "missing-api-server",
                format!("istiod in `{namespace}` cannot reach the API server through the platform's default-deny NetworkPolicies"),
                spec.value.namespace.span,
                "a namespace of the platform",
                "set `network: { apiServer: CIDR }` to the addresses `kubectl get endpoints kubernetes` lists: istiod watches the API server, which calls its injection webhook".into(),
            );
        }
        let mut peer = controller(&spec.value);
        if let Peer::External { labels, .. } = &mut peer
            && labels.is_empty()
        {
            labels.insert(CONTROL_PLANE_LABEL.0.into(), CONTROL_PLANE_LABEL.1.into());
        }
        peer
    }

    fn gateways(
        &mut self,
        index: &HashMap<String, ServiceId>,
        services: &[Service],
    ) -> Vec<Gateway> {
        let mut gateways = Vec::new();
        for (name, spec) in self.spec.gateways.iter().flat_map(|g| g.value.iter()) {
            let spec = &spec.value;
            let kind = spec.kind.value;
            let proxy = match (&spec.service, &spec.controller) {
                (Some(service), _) => self
                    .service_peer(service, index, "gateway service")
                    .map(Peer::Service),
                (None, Some(c)) => Some(controller(&c.value)),
                (None, None) => None,
            }
            .unwrap_or_else(|| default_proxy(kind, &name.value.0));
            if let Some(limit) = &spec.rate_limit {
                self.unsupported(kind, "rateLimit", limit.span, &[GatewayKind::Kong]);
            }
            if let Some(cors) = &spec.cors {
                self.unsupported(kind, "cors", cors.span, CORS_KINDS);
            }
            if let (Some(_), Some(controller)) = (&spec.service, &spec.controller) {
                self.error(
                    "conflicting-keys",
                    format!(
                        "gateway `{}` has both `service` and `controller`",
                        name.value.0
                    ),
                    controller.span,
                    "its proxy is the service",
                    "remove `controller`: the proxy's pods are the service's".into(),
                );
            }
            if let Some(class) = &spec.class {
                self.unsupported(
                    kind,
                    "class",
                    class.span,
                    &[GatewayKind::Ingress, GatewayKind::GatewayApi],
                );
            }
            // An Ingress or a Gateway API route cannot check a token itself:
            // only the sidecars of an Istio mesh do it for them.
            let meshed = self
                .spec
                .network
                .as_ref()
                .and_then(|n| n.value.mesh.as_ref())
                .is_some_and(|m| m.value == MeshKind::Istio);
            if let Some(jwt) = &spec.jwt
                && !meshed
            {
                self.unsupported(
                    kind,
                    "jwt",
                    jwt.span,
                    &[GatewayKind::Istio, GatewayKind::Kong],
                );
            }
            if let Some(namespace) = &spec.namespace {
                if spec.service.is_some() {
                    self.error(
                        "conflicting-keys",
                        format!("gateway `{}` has both `namespace` and `service`", name.value.0),
                        namespace.span,
                        "its objects live with its service",
                        "remove `namespace`: a gateway run by a platform service lives in that service's namespace".into(),
                    );
                } else {
                    self.unsupported(
                        kind,
                        "namespace",
                        namespace.span,
                        &[GatewayKind::Istio, GatewayKind::GatewayApi],
                    );
                }
            }
            if let Some(listen) = &spec.expose
                && spec.service.is_none()
            {
                self.error(
                    "unsupported-for-gateway",
                    format!("gateway `{}` sets `expose` but runs no proxy of its own", name.value.0),
                    listen.span,
                    "only for a proxy run by a platform service",
                    "add `service:` naming the proxy, or expose the controller's own Service outside Strata".into(),
                );
            }
            if let (Some(listen), None) = (&spec.expose, &spec.tls)
                && let Some(https) = &listen.value.https
            {
                self.error(
                    "unsupported-for-gateway",
                    format!("gateway `{}` has an HTTPS port but no `tls:`", name.value.0),
                    https.span,
                    "no certificate to serve",
                    "add `tls:` with the TLS Secret, or remove `https`".into(),
                );
            }
            // HTTPS reaches Kong's own TLS listener, or a proxy's `https` port.
            let serves_tls = spec.tls.is_some()
                && (kind == GatewayKind::Kong
                    || matches!(proxy, Peer::Service(id) if services[id.0].ports.iter().any(|p| p.name == "https")));
            if let Some(listen) = &spec.expose
                && let Some(https) = &listen.value.https
                && spec.tls.is_some()
                && !serves_tls
            {
                self.error(
                    "unsupported-for-gateway",
                    format!(
                        "the proxy of gateway `{}` has no `https` port to send HTTPS to",
                        name.value.0
                    ),
                    https.span,
                    "no TLS port on the proxy",
                    "declare a port named `https` on the proxy service, or remove `https`".into(),
                );
            }
            if let Some(tls) = &spec.tls
                && kind == GatewayKind::Kong
                && spec.service.is_none()
            {
                self.error(
                    "unsupported-for-gateway",
                    format!("Strata cannot give the TLS Secret to Kong gateway `{}`: it does not run its proxy", name.value.0),
                    tls.span,
                    "Kong is not a platform service here",
                    "add `service:` naming the Kong service, or configure TLS in the Kong you run".into(),
                );
            }
            // Kong reads one declarative configuration: one gateway per Kong.
            if let (GatewayKind::Kong, Peer::Service(id), Some(service)) =
                (kind, &proxy, &spec.service)
                && let Some(other) = gateways.iter().find(|g: &&Gateway| {
                    g.kind == GatewayKind::Kong && g.proxy == Peer::Service(*id)
                })
            {
                self.error(
                    "conflicting-keys",
                    format!(
                        "Kong gateways `{}` and `{}` are both run by `{}`",
                        other.name, name.value.0, service.value.0
                    ),
                    service.span,
                    "already runs another Kong gateway",
                    "merge the two gateways, or run each on a Kong service of its own".into(),
                );
            }
            gateways.push(Gateway {
                name: name.value.0.clone(),
                kind,
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
                cors: spec.cors.as_ref().map(|c| cors(&c.value)),
                namespace: spec.namespace.as_ref().map(|n| n.value.0.clone()),
                listen: spec.expose.as_ref().map(|l| {
                    let l = &l.value;
                    Listen {
                        service_type: l
                            .service_type
                            .as_ref()
                            .map_or(ServiceType::LoadBalancer, |t| t.value),
                        http: l.http.as_ref().map_or(80, |p| p.value),
                        https: serves_tls.then(|| l.https.as_ref().map_or(443, |p| p.value)),
                        from: match &l.from {
                            Some(from) => from.value.iter().map(|c| c.value.0.clone()).collect(),
                            None => vec!["0.0.0.0/0".to_string()],
                        },
                    }
                }),
            });
        }
        gateways
    }

    /// In a mesh, a public route reaches its service's sidecar with the
    /// rewritten path, and the AuthorizationPolicy admits what is below it:
    /// for `/`, that is every path, JWT-protected routes of the same port
    /// included.
    fn open_rewrites(&mut self, services: &[Service], routes: &[Route], spans: &[Span]) {
        let meshed = self
            .spec
            .network
            .as_ref()
            .and_then(|n| n.value.mesh.as_ref())
            .is_some_and(|m| m.value == MeshKind::Istio);
        if !meshed {
            return;
        }
        for (route, span) in routes.iter().zip(spans) {
            let prefix = route.rewrite.as_deref().unwrap_or(&route.path);
            let opens_all = prefix.trim_end_matches('/').is_empty();
            let protected = routes.iter().any(|other| {
                other.auth
                    && other.service == route.service
                    && other.port.number == route.port.number
            });
            if !route.auth && opens_all && protected {
                self.error(
                    "open-rewrite",
                    format!(
                        "the public route `{}` of `{}` reaches it as `/`: it would admit every path of port {}, the JWT-protected routes' too",
                        route.path, services[route.service.0].name, route.port.number
                    ),
                    *span,
                    "opens the whole port",
                    "give it a prefix of its own (a `path:` or `rewrite:` such as `/login`), protect it with `auth: true`, or serve the protected routes on another port".into(),
                );
            }
        }
    }

    /// Reports `key` on a gateway of a kind that cannot render it.
    fn unsupported(&mut self, kind: GatewayKind, key: &str, span: Span, kinds: &[GatewayKind]) {
        if kinds.contains(&kind) {
            return;
        }
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        self.error(
            "unsupported-for-gateway",
            format!("`{key}` is not rendered for `{}` gateways", kind.as_str()),
            span,
            "not supported by this gateway kind",
            format!(
                "`{key}` is rendered for {} gateways only; remove it, or route through one of those",
                names.join(" and ")
            ),
        );
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
        let kind = gateways[gateway].kind;
        if let Some(limit) = &spec.rate_limit {
            self.unsupported(kind, "rateLimit", limit.span, &[GatewayKind::Kong]);
        }
        if let Some(cors) = &spec.cors {
            self.unsupported(kind, "cors", cors.span, CORS_KINDS);
        }
        if let Some(timeout) = &spec.timeout {
            self.unsupported(
                kind,
                "timeout",
                timeout.span,
                &[
                    GatewayKind::Istio,
                    GatewayKind::Kong,
                    GatewayKind::GatewayApi,
                ],
            );
        }
        if let Some(retries) = &spec.retries {
            self.unsupported(
                kind,
                "retries",
                retries.span,
                &[GatewayKind::Istio, GatewayKind::Kong],
            );
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
            timeout_ms: spec.timeout.as_ref().map(|t| t.value.0),
            retries: spec.retries.as_ref().map(|r| r.value),
            cors: spec
                .cors
                .as_ref()
                .map(|c| cors(&c.value))
                .or_else(|| gateways[gateway].cors.clone()),
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
            // The callee's `serve:` over the platform's defaults, the
            // caller's own `calls:` over both.
            let base = overlay(defaults, services[to.0].serve.calls);
            let calls = own.map_or(base, |o| overlay(base, policy(&o.value)));
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
                // A policy for a callee this environment leaves out has
                // nothing to apply to.
                if !called && self.left_out_by(&callee.value.0, false).is_none() {
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

impl Resolver<'_> {
    /// A service's `serve:`, checked: load balancing needs a mesh, and in a
    /// mesh session affinity needs a hash (sidecars ignore the Service's).
    fn serve(&mut self, spec: &ServiceSpec, meshed: bool, operated: bool) -> Serve {
        let Some(serve) = &spec.serve else {
            return Serve::default();
        };
        let serve = &serve.value;
        let load_balancer = serve.load_balancer.as_ref().map(|lb| match &lb.value {
            LoadBalancerSpec::RoundRobin => LoadBalancer::RoundRobin,
            LoadBalancerSpec::LeastRequest => LoadBalancer::LeastRequest,
            LoadBalancerSpec::Random => LoadBalancer::Random,
            LoadBalancerSpec::Hash(record) => {
                LoadBalancer::Header(record.hash.value.header.value.clone())
            }
        });
        if let Some(lb) = &serve.load_balancer
            && !meshed
        {
            self.error(
                "missing-mesh",
                "`loadBalancer` is rendered as an Istio DestinationRule, and the platform has no mesh".into(),
                lb.span,
                "needs `network: { mesh: istio }`",
                "set `network: { mesh: istio }`, or remove `loadBalancer` (kube-proxy spreads connections at random)".into(),
            );
        }
        if let Some(affinity) = &serve.session_affinity {
            if operated {
                self.error(
                    "unsupported-for-mode",
                    "the operator of this mode makes the service's Services, without session affinity".into(),
                    affinity.span,
                    "no Service of Strata's to set it on",
                    "remove `sessionAffinity`, or use a mode whose pods Strata runs".into(),
                );
            }
            if !(1..=86_400).contains(&affinity.value.0) {
                self.error(
                    "invalid-duration",
                    "a session affinity lasts from 1s to 24h".into(),
                    affinity.span,
                    "out of range",
                    "Kubernetes accepts `timeoutSeconds` up to 86400: write at most `24h`".into(),
                );
            }
            let hashed = matches!(load_balancer, None | Some(LoadBalancer::Header(_)));
            if meshed && !hashed {
                self.error(
                    "conflicting-keys",
                    "in a mesh, the sidecars balance requests themselves and ignore the Service's session affinity".into(),
                    affinity.span,
                    "lost with this load balancer",
                    "remove `loadBalancer` (affinity then hashes the client's address) or use `{ hash: { header: NAME } }`".into(),
                );
            }
        }
        Serve {
            load_balancer,
            session_affinity_seconds: serve.session_affinity.as_ref().map(|a| a.value.0),
            calls: CallPolicy {
                timeout_ms: serve.timeout.as_ref().map(|t| t.value.0),
                connect_timeout_ms: serve.connect_timeout.as_ref().map(|t| t.value.0),
                retries: serve.retries.as_ref().map(|r| r.value),
                retry_backoff_ms: serve.retry_backoff.as_ref().map(|b| b.value.0),
                circuit_breaker: serve.circuit_breaker.as_ref().map(|c| c.value.0),
                pool: serve.pool.as_ref().map(|p| p.value),
            },
            rate_limit_per_minute: serve.rate_limit.as_ref().map(|r| r.value),
        }
    }

    /// `serve.rateLimit` is an Envoy filter in the service's own sidecar: it
    /// needs a sidecar on pods Strata labels, an HTTP port to count requests
    /// on, and a limit that admits something.
    fn check_rate_limit(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        tiers: &[Tier],
        meshed: bool,
        operated: bool,
    ) {
        let Some(limit) = spec
            .serve
            .as_ref()
            .and_then(|s| s.value.rate_limit.as_ref())
        else {
            return;
        };
        let problem = if !meshed {
            Some((
                "missing-mesh",
                "`rateLimit` is enforced by the service's Istio sidecar, and the platform has no mesh".to_string(),
                "needs `network: { mesh: istio }`",
                "set `network: { mesh: istio }`, or limit requests at a Kong gateway's route (`rateLimit` under `expose`)".to_string(),
            ))
        } else if !tiers[service.tier.0].mesh {
            Some((
                "missing-mesh",
                format!(
                    "`{}` is in a tier with `mesh: false`: its pods have no sidecar to limit requests",
                    service.name
                ),
                "no sidecar",
                "remove `mesh: false` from its tier, or remove `rateLimit`".to_string(),
            ))
        } else if operated {
            Some((
                "unsupported-for-mode",
                "the operator of this mode runs the pods, with labels of its own".to_string(),
                "no pods of Strata's to select",
                "remove `rateLimit`, or use a mode whose pods Strata runs".to_string(),
            ))
        } else if !service
            .ports
            .iter()
            .any(|p| matches!(p.protocol, Protocol::Http | Protocol::Grpc))
        {
            Some((
                "unsupported-for-protocol",
                format!(
                    "`{}` has no HTTP or gRPC port whose requests a sidecar could count",
                    service.name
                ),
                "no HTTP port",
                "remove `rateLimit`; connections to TCP ports are limited with `pool`".to_string(),
            ))
        } else if limit.value == 0 {
            Some((
                "invalid-rate-limit",
                "a rate limit of 0 refuses every request".to_string(),
                "zero",
                "write the requests a minute each pod admits, such as `rateLimit: 1000`"
                    .to_string(),
            ))
        } else {
            None
        };
        if let Some((code, message, label, hint)) = problem {
            self.error(code, message, limit.span, label, hint);
        }
    }

    /// `network.telemetry` and each service's `tracing:`, checked; fills
    /// `tracing_sampling`.
    fn telemetry(
        &mut self,
        services: &mut [Service],
        specs: &[ServiceSpec],
        tiers: &[Tier],
        meshed: bool,
    ) -> Option<Telemetry> {
        let spec = self
            .spec
            .network
            .as_ref()
            .and_then(|n| n.value.telemetry.as_ref());
        if let Some(spec) = spec
            && !meshed
        {
            self.error(
                "missing-mesh",
                "`telemetry` configures the mesh's sidecars, and the platform has no mesh".into(),
                spec.span,
                "needs `network: { mesh: istio }`",
                "set `mesh: istio` beside it, or remove `telemetry`".into(),
            );
        }
        let telemetry = spec.map(|t| Telemetry {
            tracing: t.value.tracing.as_ref().map(|p| p.value.0.clone()),
            sampling: t.value.sampling.as_ref().map(|p| p.value.0),
            access_log: t.value.access_log.as_ref().map(|a| a.value.clone()),
        });
        let provider = telemetry.as_ref().is_some_and(|t| t.tracing.is_some());
        if let Some(sampling) = spec.and_then(|t| t.value.sampling.as_ref())
            && !provider
        {
            self.error(
                "missing-tracing",
                "`sampling` without a tracing provider".into(),
                sampling.span,
                "traced to where?",
                "add `tracing:` naming the provider of Istio's mesh config (`jaeger`, `zipkin`, `otel`…)".into(),
            );
        }
        for (service, spec) in services.iter_mut().zip(specs) {
            let Some(tracing) = &spec.tracing else {
                continue;
            };
            let in_mesh = meshed && tiers[service.tier.0].mesh;
            if !provider {
                self.error(
                    "missing-tracing",
                    format!(
                        "`{}` sets its sampling, but the mesh traces nothing",
                        service.name
                    ),
                    tracing.span,
                    "no tracing provider",
                    "add `network: { telemetry: { tracing: PROVIDER } }`".into(),
                );
            } else if !in_mesh {
                self.error(
                    "outside-mesh",
                    format!(
                        "`{}` has no sidecar to trace its requests: its tier is out of the mesh",
                        service.name
                    ),
                    tracing.span,
                    "not traced by the mesh",
                    "remove `tracing`, or let its tier join the mesh".into(),
                );
            }
            service.tracing_sampling = Some(tracing.value.sampling.value.0);
        }
        telemetry
    }

    /// Tiers' `mesh:` checked against each other and against the calls: a
    /// namespace is in the mesh or not, a caller without a sidecar cannot
    /// pass a meshed callee's STRICT mTLS, and a JWT is checked by the
    /// callee's sidecar, which a service out of the mesh does not have.
    fn mesh_members(
        &mut self,
        services: &[Service],
        tiers: &[Tier],
        edges: &[Edge],
        routes: &[Route],
        gateways: &[Gateway],
    ) {
        for (i, tier) in tiers.iter().enumerate() {
            if let Some(other) = tiers[..i]
                .iter()
                .find(|t| t.namespace == tier.namespace && t.mesh != tier.mesh)
            {
                let (inside, outside) = if tier.mesh {
                    (&tier.name, &other.name)
                } else {
                    (&other.name, &tier.name)
                };
                self.error(
                    "mixed-mesh",
                    format!(
                        "tiers `{inside}` and `{outside}` share namespace `{}`, but only `{inside}` is in the mesh",
                        tier.namespace
                    ),
                    tier.span,
                    "sidecar injection is per namespace",
                    "give both the same `mesh:`, or put them in namespaces of their own".into(),
                );
            }
        }
        let inside = |s: &Service| tiers[s.tier.0].mesh;
        for edge in edges {
            let (from, to) = (&services[edge.from.0], &services[edge.to.0]);
            if !inside(from) && inside(to) && !to.ports.is_empty() {
                self.error(
                    "outside-mesh",
                    format!(
                        "`{}` is out of the mesh and calls `{}`, whose STRICT mTLS refuses plain text",
                        from.name, to.name
                    ),
                    from.span,
                    "no sidecar to present an identity",
                    format!(
                        "let `{}`'s tier join the mesh, or keep `{}` out of it too",
                        from.name, to.name
                    ),
                );
            }
        }
        // The pods a service spawns run in its namespace, in or out of the
        // mesh with it.
        for spawner in services.iter().filter(|s| !inside(s)) {
            let callees = spawner.spawns.iter().flat_map(|s| &s.calls);
            for callee in callees.map(|c| &services[c.0]).filter(|c| inside(c)) {
                self.error(
                    "outside-mesh",
                    format!(
                        "the pods `{}` spawns are out of the mesh and call `{}`, whose STRICT mTLS refuses plain text",
                        spawner.name, callee.name
                    ),
                    spawner.span,
                    "no sidecar to present an identity",
                    format!(
                        "let `{}`'s tier join the mesh, or keep `{}` out of it too",
                        spawner.name, callee.name
                    ),
                );
            }
        }
        for route in routes.iter().filter(|r| r.auth) {
            let service = &services[route.service.0];
            if !inside(service) {
                self.error(
                    "outside-mesh",
                    format!(
                        "the JWT of `{}`'s route `{}` is checked by its sidecar, and its tier is out of the mesh",
                        service.name, route.path
                    ),
                    service.span,
                    "nothing would check the token",
                    format!(
                        "let its tier join the mesh, or make the route public (`auth: false`) through gateway `{}`",
                        gateways[route.gateway].name
                    ),
                );
            }
        }
    }
}

/// The port of a platform-run Kong serving its gateway's TLS Secret.
pub const KONG_TLS_PORT: &str = "proxy-tls";
/// Its number (Kong's usual `proxy_listen` for SSL).
pub const KONG_TLS_PORT_NUMBER: u16 = 8443;

/// The gateway kinds that render CORS.
const CORS_KINDS: &[GatewayKind] = &[GatewayKind::Istio, GatewayKind::Kong];

fn cors(spec: &CorsSpec) -> Cors {
    let record = &spec.0;
    Cors {
        origins: record
            .origins
            .value
            .iter()
            .map(|o| o.value.clone())
            .collect(),
        methods: match &record.methods {
            Some(methods) => methods
                .value
                .iter()
                .map(|m| m.value.to_ascii_uppercase())
                .collect(),
            None => DEFAULT_CORS_METHODS.iter().map(|m| m.to_string()).collect(),
        },
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
    base.under(own)
}
