//! Zero-trust networking from the call graph: default deny in every
//! namespace the platform owns, DNS, and an allow for each edge, route,
//! scrape, external and declared egress — nothing else. Egress to a whole
//! tier is in `tier.rs`.

mod tier;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::body::{Body, Head};
use super::{Object, labels, object};
use crate::model::{
    DependencyTarget, Edge, MeshKind, Peer, Platform, Protocol, Reach, Route, Service, ServiceId,
    Spawned, TierId, Tuning, WorkloadKind,
};

use tier::{TierReach, needing_peer, tier_rules};
pub(super) use tier::{needs_key, needs_label};

/// Where cluster DNS runs.
const DNS_NAMESPACE: &str = "kube-system";
/// The label of cluster DNS pods (CoreDNS and kube-dns alike).
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
/// Istio's control plane ports that sidecars dial: xDS (with certificate
/// signing) and monitoring.
const ISTIO_CONTROL_PORTS: [u16; 2] = [15012, 15014];
/// The port of istiod's sidecar-injection and validation webhooks, which
/// the API server calls (the `istiod` Service's 443).
const ISTIO_WEBHOOK_PORT: u16 = 15017;

/// Whether the pods of a service talk among themselves (cluster members).
pub fn has_peers(service: &Service) -> bool {
    service.kind == WorkloadKind::Stateful && service.replicas > 1
}

/// The NetworkPolicies of the platform's namespaces and mesh control
/// plane, in wave 0 so that isolation is in place before any workload
/// starts; each service's own are made by `service_policies`.
pub fn render(platform: &Platform) -> Vec<Object> {
    if !platform.network.policies {
        return Vec::new();
    }
    let mut out = Vec::new();
    for namespace in &platform.namespaces {
        let meta = |name: &str| json!({ "name": name, "namespace": namespace.name, "labels": labels::platform(platform) });
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("default-deny"),
            "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] },
        }));
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-dns"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [namespace_peer(DNS_NAMESPACE, &BTreeMap::from([(DNS_LABEL.0.to_string(), DNS_LABEL.1.to_string())]))],
                    "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }],
                }],
            },
        }));
        if platform.network.mesh == Some(MeshKind::Istio) {
            out.push(json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": meta("allow-mesh-control-plane"),
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{
                        "to": [peer(platform, &platform.network.control_plane)],
                        "ports": tcp(&ISTIO_CONTROL_PORTS),
                    }],
                },
            }));
        }
    }
    out.extend(control_plane(platform));
    out.into_iter()
        .map(|value| Object::new(0, None, None, value))
        .collect()
}

/// What the policies of every service look up across the platform,
/// gathered once per render instead of by a scan of every service or
/// route for each service (which grew with the square of the services).
pub(super) struct Lookup<'p> {
    /// The services that spawn pods, in platform order: few, where the
    /// services are many.
    spawners: Vec<&'p Service>,
    /// The routes to each service, by its id, in platform order.
    routes: Vec<Vec<&'p Route>>,
    /// By tier id, for each tier some service needs as a whole, its reach
    /// for callers outside it: the same for each of them, where the tier
    /// has thousands of services.
    tiers: Vec<Option<TierReach>>,
    /// By service id, the tiers whose needs label its pods carry
    /// ([`needs_label`]), looked up for each of its callees.
    needs_labels: Vec<OnceLock<Vec<TierId>>>,
}

impl<'p> Lookup<'p> {
    /// The lookups of `platform`.
    pub(super) fn new(platform: &'p Platform) -> Self {
        let mut routes = vec![Vec::new(); platform.services.len()];
        for route in &platform.routes {
            if let Some(to) = routes.get_mut(route.service.0) {
                to.push(route);
            }
        }
        let mut tiers: Vec<Option<TierReach>> = platform.tiers.iter().map(|_| None).collect();
        if platform.network.policies {
            for need in platform.services.iter().flat_map(|s| &s.needs) {
                if let DependencyTarget::Tier(tier) = need.target
                    && let Some(reach @ None) = tiers.get_mut(tier.0)
                {
                    *reach = Some(TierReach::new(platform, tier, None));
                }
            }
        }
        Lookup {
            tiers,
            needs_labels: platform.services.iter().map(|_| OnceLock::new()).collect(),
            spawners: platform
                .services
                .iter()
                .filter(|s| s.spawns.is_some())
                .collect(),
            routes,
        }
    }

    /// Whether the pods of service `id` carry the label of needing all of
    /// `tier` (whether [`needs_label`] lists it).
    fn carries_needs_label(&self, platform: &Platform, id: ServiceId, tier: TierId) -> bool {
        self.needs_labels[id.0]
            .get_or_init(|| needs_label(platform, &platform.services[id.0]))
            .contains(&tier)
    }

    /// The spawners whose spawned pods call service `id`, as
    /// [`spawned_callers`] finds them.
    fn spawned_callers(&self, id: ServiceId) -> impl Iterator<Item = (&'p Service, &'p Spawned)> {
        self.spawners.iter().filter_map(move |s| {
            s.spawns
                .as_deref()
                .filter(|spawned| spawned.calls.contains(&id))
                .map(|spawned| (*s, spawned))
        })
    }
}

/// The NetworkPolicies of service `id` (its ingress, its egress, those of
/// the pods it spawns), in wave 0 with the platform's.
///
/// Its ingress and egress policies are deferred: whether each exists (has
/// a rule) is found by the walk that makes its rules, made to note only
/// that a rule is there ([`Any`]).
pub(super) fn service_policies<'a>(
    platform: &'a Platform,
    lookup: &'a Lookup<'_>,
    id: ServiceId,
    service: &'a Service,
) -> Vec<Body<'a>> {
    if !platform.network.policies {
        return Vec::new();
    }
    // What both take from the service, made once for both when the first
    // is made.
    let own: Rc<OnceCell<Own<'a>>> = Rc::default();
    let mut out = Vec::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        let mut any = Any(false);
        direction.rules(platform, lookup, id, service, &mut any);
        if !any.0 {
            continue;
        }
        let name = format!("{}-{}", service.name, direction.key());
        let head = Head::new(
            "networking.k8s.io/v1",
            crate::kind::NETWORK_POLICY,
            &service.namespace,
            name.clone(),
        );
        let own = Rc::clone(&own);
        out.push(Body::deferred(head, move || {
            let own = own.get_or_init(|| Own {
                labels: labels::ServiceLabels::new(platform, service),
                selector: pod_selector(platform, service),
            });
            let mut rules = Vec::new();
            direction.rules(platform, lookup, id, service, &mut rules);
            policy_object(
                own.labels.metadata(&name),
                own.selector.clone(),
                direction.as_str(),
                rules,
            )
        }));
    }
    out.extend(spawned(platform, service).into_iter().map(Body::Made));
    out
}

/// Where the rules of a policy go as they are found: into its body, or
/// only noted ([`Any`]), so that one walk decides both whether a policy
/// exists and what it holds.
trait Rules {
    /// Adds the rule `make` makes.
    fn add(&mut self, make: impl FnOnce() -> Value);
}

impl Rules for Vec<Value> {
    fn add(&mut self, make: impl FnOnce() -> Value) {
        self.push(make());
    }
}

/// Whether any rule was found; none is made.
struct Any(bool);

impl Rules for Any {
    fn add(&mut self, _: impl FnOnce() -> Value) {
        self.0 = true;
    }
}

/// The direction of one of a service's own policies.
#[derive(Debug, Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    /// Its `policyTypes` entry.
    fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    /// Its key in a policy's spec, and the end of the policy's name.
    fn key(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The rules of service `id`'s policy of this direction, into `rules`.
    fn rules(
        self,
        platform: &Platform,
        lookup: &Lookup<'_>,
        id: ServiceId,
        service: &Service,
        rules: &mut impl Rules,
    ) {
        match self {
            Direction::Ingress => ingress(platform, lookup, id, service, rules),
            Direction::Egress => egress(platform, lookup, id, service, rules),
        }
    }
}

/// istiod running in a namespace of the platform's, behind its default
/// deny: reached by sidecars of every namespace of the cluster on its xDS
/// and monitoring ports and by the API server on its webhook port, and
/// itself reaching the API server it watches.
fn control_plane(platform: &Platform) -> Vec<Value> {
    let Peer::External { namespace, labels } = &platform.network.control_plane else {
        return Vec::new();
    };
    let owned = platform.namespaces.iter().any(|n| &n.name == namespace);
    if platform.network.mesh != Some(MeshKind::Istio) || !owned {
        return Vec::new();
    }
    let meta = |name: &str| json!({ "name": name, "namespace": namespace, "labels": labels::platform(platform) });
    let mut ingress = vec![json!({
        "from": [{ "namespaceSelector": {} }],
        "ports": tcp(&ISTIO_CONTROL_PORTS),
    })];
    let mut egress = Vec::new();
    if let Some(cidr) = &platform.network.api_server {
        ingress.push(json!({
            "from": [{ "ipBlock": { "cidr": cidr } }],
            "ports": tcp(&[ISTIO_WEBHOOK_PORT]),
        }));
        egress.push(api_server_rule(cidr));
    }
    let mut out = vec![json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("mesh-control-plane-ingress"),
        "spec": { "podSelector": { "matchLabels": labels }, "policyTypes": ["Ingress"], "ingress": ingress },
    })];
    if !egress.is_empty() {
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("mesh-control-plane-egress"),
            "spec": { "podSelector": { "matchLabels": labels }, "policyTypes": ["Egress"], "egress": egress },
        }));
    }
    out
}

/// Ports as NetworkPolicy ports.
fn tcp(ports: &[u16]) -> Vec<Value> {
    ports.iter().map(|&p| port("TCP", p)).collect()
}

/// One NetworkPolicy port.
fn port(protocol: &'static str, number: u16) -> Value {
    object([
        ("protocol", Value::from(protocol)),
        ("port", Value::from(number)),
    ])
}

fn namespace_peer(namespace: &str, labels: &BTreeMap<String, String>) -> Value {
    json!({
        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": namespace } },
        "podSelector": if labels.is_empty() { json!({}) } else { json!({ "matchLabels": labels }) },
    })
}

/// The labels that find a service's pods in policies: Strata's selector, or
/// for a service whose operator runs the pods, the labels that operator
/// gives them (operators do not copy Strata's labels onto their pods).
pub fn pod_selector(platform: &Platform, service: &Service) -> Value {
    let operated = service.tuning.as_ref().filter(|t| t.mode.operated);
    match operated.and_then(|t| t.supplied.pods.as_ref()) {
        Some(pods) => json!(pods),
        None => Value::Object(labels::selector(platform, service)),
    }
}

/// Egress to the API server at `cidr`: the `kubernetes` Service's port 443
/// and the endpoints' usual 6443 (policies see the endpoint after DNAT).
pub fn api_server_rule(cidr: &str) -> Value {
    json!({
        "to": [{ "ipBlock": { "cidr": cidr } }],
        "ports": [{ "protocol": "TCP", "port": 443 }, { "protocol": "TCP", "port": 6443 }],
    })
}

/// A peer naming a service's pods in its namespace.
pub fn service_peer(platform: &Platform, service: &Service) -> Value {
    object([
        ("namespaceSelector", namespace_selector(&service.namespace)),
        (
            "podSelector",
            object([("matchLabels", pod_selector(platform, service))]),
        ),
    ])
}

/// A namespace selector naming `namespace`.
fn namespace_selector(namespace: &str) -> Value {
    object([(
        "matchLabels",
        object([("kubernetes.io/metadata.name", Value::from(namespace))]),
    )])
}

/// The rule reaching the first group of pods of a blueprint callee that
/// its callers reach on extra ports (a Sentinel group on 26379), if it
/// has one.
fn member_rule(callee: &Service, rules: &mut impl Rules) {
    let Some(supplied) = callee.tuning.as_ref().map(|t| &t.supplied) else {
        return;
    };
    let Some(group) = supplied.members.first() else {
        return;
    };
    if supplied.member_ports.is_empty() {
        return;
    }
    rules.add(|| {
        let group = json!({
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": callee.namespace } },
            "podSelector": group.selector,
        });
        json!({ "to": [group], "ports": tcp(&supplied.member_ports) })
    });
}

fn peer(platform: &Platform, peer: &Peer) -> Value {
    match peer {
        Peer::Service(id) => service_peer(platform, &platform.services[id.0]),
        Peer::External { namespace, labels } => namespace_peer(namespace, labels),
    }
}

fn ports(service: &Service) -> Vec<Value> {
    service
        .ports
        .iter()
        .map(|p| port(protocol(p.protocol), p.number))
        .collect()
}

/// What the two policies of one service take from it: its labels and the
/// selector of its pods, made once for both.
struct Own<'s> {
    labels: labels::ServiceLabels<'s>,
    selector: Value,
}

/// A NetworkPolicy of `metadata` over the pods `selector` matches, with
/// `rules` in one `direction` (`Ingress` or `Egress`).
pub(super) fn policy_object(
    metadata: Value,
    selector: Value,
    direction: &str,
    rules: Vec<Value>,
) -> Value {
    let key = if direction == "Ingress" {
        "ingress"
    } else {
        "egress"
    };
    object([
        ("apiVersion", json!("networking.k8s.io/v1")),
        ("kind", json!("NetworkPolicy")),
        ("metadata", metadata),
        (
            "spec",
            object([
                ("podSelector", object([("matchLabels", selector)])),
                ("policyTypes", json!([direction])),
                (key, Value::Array(rules)),
            ]),
        ),
    ])
}

/// A peer naming the pods a service spawns, in its namespace.
pub fn spawned_peer(spawner: &Service, spawned: &Spawned) -> Value {
    namespace_peer(&spawner.namespace, &spawned.labels)
}

/// The spawners whose spawned pods call service `id`.
pub fn spawned_callers(
    platform: &Platform,
    id: ServiceId,
) -> impl Iterator<Item = (&Service, &Spawned)> {
    platform.services.iter().filter_map(move |s| {
        s.spawns
            .as_deref()
            .filter(|spawned| spawned.calls.contains(&id))
            .map(|spawned| (s, spawned))
    })
}

/// The policies of the pods a service spawns: ingress from the service on
/// their ports, egress to the services they call.
fn spawned(platform: &Platform, spawner: &Service) -> Vec<Value> {
    let Some(spawned) = &spawner.spawns else {
        return Vec::new();
    };
    let policy = |direction: &str, key: &str, rules: Vec<Value>| {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": labels::metadata(platform, spawner, &format!("{}-spawned-{key}", spawner.name)),
            "spec": {
                "podSelector": { "matchLabels": spawned.labels },
                "policyTypes": [direction],
                key: rules,
            },
        })
    };
    let mut out = Vec::new();
    if !spawned.ports.is_empty() {
        let ports: Vec<u16> = spawned.ports.iter().map(|(_, p)| *p).collect();
        out.push(policy(
            "Ingress",
            "ingress",
            vec![json!({ "from": [service_peer(platform, spawner)], "ports": tcp(&ports) })],
        ));
    }
    let mut rules: Vec<Value> = Vec::new();
    for id in &spawned.calls {
        callee_rules(platform, &platform.services[id.0], &mut rules);
    }
    if !rules.is_empty() {
        out.push(policy("Egress", "egress", rules));
    }
    out
}

/// A caller's egress rules to one callee: its ports, and the extra ports
/// of its group (a Sentinel group's 26379).
fn callee_rules(platform: &Platform, callee: &Service, rules: &mut impl Rules) {
    if !callee.ports.is_empty() {
        rules.add(|| {
            object([
                ("to", Value::Array(vec![service_peer(platform, callee)])),
                ("ports", Value::Array(ports(callee))),
            ])
        });
    }
    member_rule(callee, rules);
}

/// A port's NetworkPolicy protocol.
fn protocol(protocol: Protocol) -> &'static str {
    if protocol == Protocol::Udp {
        "UDP"
    } else {
        "TCP"
    }
}

fn ingress(
    platform: &Platform,
    lookup: &Lookup<'_>,
    id: ServiceId,
    service: &Service,
    rules: &mut impl Rules,
) {
    if service.ports.is_empty() {
        return;
    }
    // Each edge, its own pods as peers, or a spawner of pods calling it
    // makes a peer below.
    let called = platform.edges_to(id).next().is_some()
        || has_peers(service)
        || lookup.spawned_callers(id).next().is_some();
    if called {
        rules.add(|| {
            // Callers that need this service's whole tier are found by the
            // label their pods carry for it: one peer per namespace,
            // however many.
            let mut needing: BTreeSet<&str> = BTreeSet::new();
            let mut callers: Vec<Value> = Vec::new();
            for edge in platform.edges_to(id) {
                let caller = &platform.services[edge.from().0];
                if lookup.carries_needs_label(platform, edge.from(), service.tier) {
                    needing.insert(&caller.namespace);
                } else {
                    callers.push(service_peer(platform, caller));
                }
            }
            let callers: Vec<Value> = needing
                .into_iter()
                .map(|namespace| needing_peer(platform, service.tier, namespace))
                .chain(callers)
                .chain(has_peers(service).then(|| service_peer(platform, service)))
                .chain(
                    lookup
                        .spawned_callers(id)
                        .map(|(s, spawned)| spawned_peer(s, spawned)),
                )
                .collect();
            object([
                ("from", Value::Array(callers)),
                ("ports", Value::Array(ports(service))),
            ])
        });
    }
    for route in lookup.routes.get(id.0).into_iter().flatten() {
        let gateway = &platform.gateways[route.gateway];
        if matches!(gateway.proxy, Peer::Service(proxy) if proxy == id) {
            continue;
        }
        // A proxy that is a platform service is already a caller (an edge).
        if matches!(gateway.proxy, Peer::Service(_)) {
            continue;
        }
        rules.add(|| json!({ "from": [peer(platform, &gateway.proxy)], "ports": [{ "protocol": "TCP", "port": route.port.number }] }));
    }
    if service.front.is_public() {
        // A NodePort or LoadBalancer Service: clients outside the cluster,
        // from its `from` blocks, or from anywhere.
        rules.add(|| {
            let mut rule = json!({ "ports": ports(service) });
            if !service.front.from.is_empty() {
                rule["from"] = service
                    .front
                    .from
                    .iter()
                    .map(|cidr| json!({ "ipBlock": { "cidr": cidr } }))
                    .collect();
            }
            rule
        });
    }
    if let Some(port) = super::scrape_port(platform, service)
        && !matches!(platform.network.scraper, Peer::Service(s) if s == id)
    {
        rules.add(|| json!({ "from": [peer(platform, &platform.network.scraper)], "ports": [{ "protocol": "TCP", "port": port }] }));
    }
}

fn egress(
    platform: &Platform,
    lookup: &Lookup<'_>,
    id: ServiceId,
    service: &Service,
    rules: &mut impl Rules,
) {
    let covered = tier_rules(platform, lookup, id, service, rules);
    for callee_id in platform.edges_from(id).map(Edge::to) {
        let callee = &platform.services[callee_id.0];
        if covered.binary_search(&callee_id).is_ok() {
            // Reached through its tier's peer; its group's extra ports
            // are not the tier's.
            member_rule(callee, rules);
        } else {
            callee_rules(platform, callee, rules);
        }
    }
    if let Some(spawned) = service.spawns.as_ref().filter(|s| !s.ports.is_empty()) {
        rules.add(|| {
            let ports: Vec<u16> = spawned.ports.iter().map(|(_, p)| *p).collect();
            json!({ "to": [spawned_peer(service, spawned)], "ports": tcp(&ports) })
        });
    }
    if has_peers(service) {
        rules.add(|| {
            object([
                ("to", Value::Array(vec![service_peer(platform, service)])),
                ("ports", Value::Array(ports(service))),
            ])
        });
    }
    if matches!(platform.network.scraper, Peer::Service(s) if s == id) {
        for target in platform.services.iter().filter(|s| s.name != service.name) {
            if let Some(port) = super::scrape_port(platform, target) {
                rules.add(|| {
                    let ports = json!([{ "protocol": "TCP", "port": port }]);
                    if target.host_access().is_some_and(|h| h.network) {
                        // Pods on their node's network answer on the node's
                        // address, which no pod selector matches: the port,
                        // to any address.
                        json!({ "ports": ports })
                    } else {
                        json!({ "to": [service_peer(platform, target)], "ports": ports })
                    }
                });
            }
        }
    }
    if let Some(cidr) = platform
        .network
        .api_server
        .as_ref()
        .filter(|_| !service.rare.access.is_empty())
    {
        rules.add(|| api_server_rule(cidr));
    }
    for call in &service.rare.externals {
        rules.add(|| {
            let external = &platform.externals[call.external];
            let to = match &external.reach {
                Reach::Block(cidr) => json!({ "ipBlock": { "cidr": cidr } }),
                Reach::Pods { namespace, labels } => namespace_peer(namespace, labels),
            };
            let ports: Vec<Value> = external
                .ports
                .iter()
                .map(|(_, p)| json!({ "protocol": "TCP", "port": p }))
                .collect();
            json!({ "to": [to], "ports": ports })
        });
    }
    for egress in &service.rare.egress {
        rules.add(|| {
            let mut rule = json!({ "to": [{ "ipBlock": { "cidr": egress.cidr } }] });
            if !egress.ports.is_empty() {
                rule["ports"] = egress
                    .ports
                    .iter()
                    .map(|p| json!({ "protocol": "TCP", "port": p }))
                    .collect();
            }
            rule
        });
    }
}

/// Egress to the API server: to `network.apiServer` when the platform
/// says where it is, else to any address on its ports.
pub fn api_server(platform: &Platform) -> Value {
    match &platform.network.api_server {
        Some(cidr) => api_server_rule(cidr),
        None => json!({ "ports": tcp(&[443, 6443]) }),
    }
}

/// NetworkPolicies for the groups of pods the platform's graph does not
/// name (a Sentinel group, an operator's pods, a Keeper ensemble), one per
/// group: the groups talk among themselves; the service's callers reach the
/// first group on the member ports; an operator reaches its ports, from its
/// namespace when a tier of the platform installs it; operated pods reach
/// the API server.
pub fn member_policies(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let groups = &tuning.supplied.members;
    let peers: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "podSelector": g.selector }))
        .collect();
    let callers: Vec<Value> = platform
        .service_id(&service.name)
        .into_iter()
        .flat_map(|id| platform.edges_to(id))
        .map(|e| service_peer(platform, &platform.services[e.from().0]))
        .collect();
    let operator = match &tuning.operator_namespace {
        Some(namespace) => {
            json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": namespace } } })
        }
        None => json!({ "namespaceSelector": {} }),
    };
    let mut out: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let mut ingress = vec![json!({ "from": peers })];
            if i == 0 && !callers.is_empty() && !tuning.supplied.member_ports.is_empty() {
                ingress.push(json!({ "from": callers, "ports": tcp(&tuning.supplied.member_ports) }));
            }
            if !group.operator_ports.is_empty() {
                ingress.push(json!({ "from": [operator], "ports": tcp(&group.operator_ports) }));
            }
            let mut egress = vec![json!({ "to": peers })];
            if tuning.mode.operated {
                egress.push(api_server(platform));
            }
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": labels::metadata(platform, service, &format!("{}-{}", service.name, group.name)),
                "spec": { "podSelector": group.selector, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress },
            })
        })
        .collect();
    // An operator in a namespace of the platform (installed by a tier) sits
    // behind that namespace's default deny: let it reach its pods and the
    // API server. Another namespace's policies are not this platform's.
    if let Some(namespace) = tuning
        .operator_namespace
        .as_ref()
        .filter(|n| platform.namespaces.iter().any(|own| own.name == **n))
    {
        let mut egress: Vec<Value> = groups
            .iter()
            .filter(|g| !g.operator_ports.is_empty())
            .map(|g| {
                json!({
                    "to": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": service.namespace } }, "podSelector": g.selector }],
                    "ports": tcp(&g.operator_ports),
                })
            })
            .collect();
        if !egress.is_empty() {
            egress.push(api_server(platform));
            let mut meta =
                labels::metadata(platform, service, &format!("{}-operator", service.name));
            meta["namespace"] = json!(namespace);
            out.push(json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": meta,
                "spec": { "podSelector": {}, "policyTypes": ["Egress"], "egress": egress },
            }));
        }
    }
    out
}
