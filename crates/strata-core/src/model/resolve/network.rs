//! Resolving networking: the edges of the call graph with their call
//! policies, egress, spawned pods, the mesh's control plane and who scrapes
//! metrics; gateways and the mesh have files of their own.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Resolver;
use super::ServiceNames;
use crate::diag::suggestion;
use crate::model::{
    CallPolicy, DependencyTarget, Edge, Egress, Gateway, GatewayKind, KONG_TLS_PORT,
    KONG_TLS_PORT_NUMBER, MeshKind, Network, Peer, Port, Protocol, Route, Serve, Service,
    ServiceId, Span, Spawned, Tier,
};
use crate::spec::Spanned;
use crate::spec::network::{CallsSpec, ControllerSpec};
use crate::spec::service::SpawnsSpec;

/// Where Prometheus runs when the spec does not say.
pub(super) const DEFAULT_SCRAPER_NAMESPACE: &str = "monitoring";

/// Where Istio's control plane runs when the spec does not say.
pub(super) const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "istio-system";

/// The label of istiod's pods (every revision's).
pub(super) const CONTROL_PLANE_LABEL: (&str, &str) = ("app", "istiod");

/// The distinct call policies of a platform's edges, each kept once, in
/// first-seen order.
#[derive(Default)]
struct DistinctPolicies {
    policies: Vec<CallPolicy>,
    positions: HashMap<CallPolicy, usize>,
}

impl DistinctPolicies {
    /// The position of `calls` among them, added if new.
    fn position(&mut self, calls: CallPolicy) -> usize {
        *self.positions.entry(calls).or_insert_with(|| {
            self.policies.push(calls);
            self.policies.len() - 1
        })
    }
}

/// Everything networking adds to a platform.
pub(super) struct Networking {
    pub gateways: Vec<Gateway>,
    pub routes: Vec<Route>,
    pub edges: Vec<Edge>,
    pub call_policies: Vec<CallPolicy>,
    pub network: Network,
}

pub(super) fn controller(spec: &ControllerSpec) -> Peer {
    Peer::External {
        namespace: spec.namespace.value.0.clone(),
        labels: spec
            .labels
            .iter()
            .flat_map(|l| l.value.iter())
            .map(|(k, v)| (k.value.0.clone(), v.value.0.clone()))
            .collect(),
    }
}

impl Resolver<'_> {
    pub(super) fn service_peer(
        &mut self,
        name: &Spanned<crate::spec::names::Name>,
        index: &ServiceNames<'_>,
        what: &str,
    ) -> Option<ServiceId> {
        match index.get(name.value.0.as_str()) {
            Some(&id) => Some(id),
            None if self.left_out(&name.value.0, false, name.span) => None,
            None => {
                let mut names: Vec<&str> = index.keys().copied().collect();
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

    /// Gateways, routes, edges and network settings; `services[i].egress` is
    /// filled in. `index` finds services by name.
    pub(super) fn networking(
        &mut self,
        services: &mut [Service],
        specs: &[super::service::Filled<'_>],
        tiers: &[Tier],
        index: &ServiceNames<'_>,
    ) -> Networking {
        let gateways = self.gateways(index, services);
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
                    node_port: None,
                    sidecar: None,
                });
            }
        }
        let mut routes: Vec<Route> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        // Two routes of one gateway, host and path: the gateway keeps one.
        let mut taken: HashMap<(usize, String, String), String> = HashMap::new();
        for (i, spec) in specs.iter().enumerate() {
            for route in spec.rare.expose.iter().flat_map(|e| &e.value.0) {
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
            let egress: Vec<Egress> = spec
                .rare
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
            if !egress.is_empty() {
                services[i].rare.make_mut().egress = egress;
            }
        }
        for (i, spec) in specs.iter().enumerate() {
            if let Some(spawns) = &spec.rare.spawns {
                services[i].spawns = Some(Box::new(self.spawned(
                    &services[i],
                    &spawns.value,
                    index,
                    services,
                )));
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
            if meshed && let Some(wait) = spec.rare.wait_for_needs.as_ref().filter(|w| w.value) {
                self.error(
                    "wait-in-mesh",
                    format!("`{}` would wait in init containers inside an Istio mesh", service.name),
                    wait.span,
                    "init containers run before the sidecar",
                    "their connections go to a sidecar that has not started and fail, and a native sidecar (which `init:` steps get) accepts them itself, so the wait cannot tell a service that is not up; let `strata apply` order the waves instead".into(),
                );
            }
            let operated = service.tuning.as_ref().is_some_and(|t| t.mode.operated);
            let serve = self.serve(spec, meshed, operated);
            if serve != Serve::NONE {
                service.rare.make_mut().serve = serve;
            }
            self.check_rate_limit(service, spec, tiers, meshed, operated);
            let externals = service
                .rare
                .set_mut()
                .into_iter()
                .flat_map(|e| &mut e.externals);
            for call in externals {
                let name = &self.externals[call.external].name;
                let own = spec.rare.calls.as_ref().and_then(|c| c.value.get(name));
                call.calls = own.map_or(calls, |o| overlay(calls, policy(&o.value)));
            }
        }
        let (edges, call_policies) = self.edges(services, specs, tiers, &gateways, &routes, calls);
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
                if let Some(access) = &spec.rare.access {
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
                .service_peer(service, index, "scraper")
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
            call_policies,
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
        index: &ServiceNames<'_>,
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
                .map(|(k, v)| (k.value.0.clone(), v.value.0.clone()))
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

    /// Every caller → callee pair: from `needs:` (a tier means each of its
    /// services), `${…}` references, a store the service's own pods send
    /// backups to, and gateway services to their routes; with the distinct
    /// call policies the edges point into.
    fn edges(
        &mut self,
        services: &[Service],
        specs: &[super::service::Filled<'_>],
        tiers: &[Tier],
        gateways: &[Gateway],
        routes: &[Route],
        defaults: CallPolicy,
    ) -> (Vec<Edge>, Vec<CallPolicy>) {
        // Edges in first-seen order. A `tier/NAME` need makes one edge per
        // service of the tier (hundreds of thousands on large platforms), so
        // each distinct call policy is kept once, and edges point to it.
        // The callee's `serve:` over the platform's defaults, the caller's
        // own `calls:` over both: per callee, the policy of callers without
        // their own, made once.
        let mut callee_policies: Vec<Option<usize>> = vec![None; services.len()];
        let mut distinct = DistinctPolicies::default();
        let mut edge = |from: ServiceId, to: ServiceId| {
            let own = specs[from.0]
                .rare
                .calls
                .as_ref()
                .and_then(|c| c.value.get(&services[to.0].name));
            let base = *callee_policies[to.0].get_or_insert_with(|| {
                distinct.position(overlay(defaults, services[to.0].rare.serve.calls))
            });
            let calls = match own {
                None => base,
                Some(own) => {
                    distinct.position(overlay(distinct.policies[base], policy(&own.value)))
                }
            };
            Edge::new(from, to, calls)
        };
        // Where each caller's edges start in `edges`, counted first so that
        // the edges (hundreds of thousands) are held in a vector of the size
        // they need, never one grown by doubling and copied.
        let mut first_pair: Vec<usize> = vec![0; services.len() + 1];
        need_pairs(services, tiers, |caller, _| first_pair[caller + 1] += 1);
        for i in 0..services.len() {
            first_pair[i + 1] += first_pair[i];
        }
        let mut edges: Vec<Edge> = Vec::with_capacity(first_pair[services.len()] + routes.len());
        need_pairs(services, tiers, |caller, callee| {
            edges.push(edge(ServiceId(caller), callee));
        });
        let from_needs = edges.len();
        // The pairs of the gateways' proxies, which routes add to.
        let mut proxied: HashSet<(ServiceId, ServiceId)> = HashSet::new();
        let mut proxies: HashSet<ServiceId> = HashSet::new();
        for route in routes {
            if let Peer::Service(proxy) = gateways[route.gateway].proxy
                && proxy != route.service
            {
                if proxies.insert(proxy) {
                    proxied.extend(
                        edges[first_pair[proxy.0]..first_pair[proxy.0 + 1]]
                            .iter()
                            .map(|e| (e.from(), e.to())),
                    );
                }
                if proxied.insert((proxy, route.service)) {
                    edges.push(edge(proxy, route.service));
                }
            }
        }
        edges.shrink_to_fit();
        // A caller's edges: those of its needs, then those routes add.
        let edges_of = |i: usize| {
            edges[first_pair[i]..first_pair[i + 1]]
                .iter()
                .chain(edges[from_needs..].iter().filter(move |e| e.from().0 == i))
        };
        for (i, spec) in specs.iter().enumerate() {
            for (callee, _) in spec.rare.calls.iter().flat_map(|c| c.value.iter()) {
                let called = edges_of(i).any(|e| services[e.to().0].name == callee.value.0)
                    || services[i]
                        .rare
                        .externals
                        .iter()
                        .any(|c| self.externals[c.external].name == callee.value.0);
                // A policy for a callee this environment leaves out has
                // nothing to apply to.
                if !called && self.left_out_by(&callee.value.0, false).is_none() {
                    let mine: Vec<&str> = edges_of(i)
                        .map(|e| services[e.to().0].name.as_str())
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
        (edges, distinct.policies)
    }
}

/// `each(caller, callee)` for every pair the services' own pods' needs
/// make (a tier need: each service of the tier), callers in order, each
/// callee once per caller in first-seen order, never the caller itself.
fn need_pairs(services: &[Service], tiers: &[Tier], mut each: impl FnMut(usize, ServiceId)) {
    // A caller's callees are told apart by marking them with the caller
    // rather than hashing every pair.
    let mut marked_by: Vec<usize> = vec![usize::MAX; services.len()];
    for (i, service) in services.iter().enumerate() {
        for need in service.needs.iter().filter(|n| n.from_pods()) {
            let targets = match &need.target {
                DependencyTarget::Service(s) => std::slice::from_ref(s),
                DependencyTarget::Tier(t) => &tiers[t.0].services[..],
            };
            for &target in targets {
                if target.0 != i && marked_by[target.0] != i {
                    marked_by[target.0] = i;
                    each(i, target);
                }
            }
        }
    }
}

fn policy(spec: &CallsSpec) -> CallPolicy {
    CallPolicy {
        timeout_ms: spec.timeout.as_ref().map(|t| t.value.0),
        connect_timeout_ms: spec.connect_timeout.as_ref().map(|t| t.value.0),
        retries: spec.retries.as_ref().map(|r| r.value.0),
        retry_backoff_ms: spec.retry_backoff.as_ref().map(|b| b.value.0),
        circuit_breaker: spec.circuit_breaker.as_ref().map(|c| c.value.0),
        pool: spec.pool.as_ref().map(|p| p.value),
    }
}

/// `own` field by field over `base`.
fn overlay(base: CallPolicy, own: CallPolicy) -> CallPolicy {
    base.under(own)
}
