//! Who talks to whom: gateways and routes into the platform, the edges of
//! the call graph with their call policies, externals, egress, and the
//! platform's network settings (isolation, mesh, scraping, telemetry).

use std::collections::BTreeMap;

use super::{GatewayKind, MeshKind, Platform, Port, ServiceId, ServiceType};

/// An entry point into the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Its name.
    pub name: String,
    /// What renders it.
    pub kind: GatewayKind,
    /// Host names it serves.
    pub hosts: Vec<String>,
    /// Its TLS Secret.
    pub tls: Option<String>,
    /// IngressClass or GatewayClass.
    pub class: Option<String>,
    /// Where its proxy pods run.
    pub proxy: Peer,
    /// JWT validation.
    pub jwt: Option<Jwt>,
    /// Requests per minute per client.
    pub rate_limit: Option<u32>,
    /// CORS for every route.
    pub cors: Option<Cors>,
    /// The namespace of its Gateway object, when the spec names one.
    pub namespace: Option<String>,
    /// How clients outside the cluster reach its proxy (a platform service).
    pub listen: Option<Listen>,
}

/// Cross-origin requests a route admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins (`*` in a host matches one label).
    pub origins: Vec<String>,
    /// Allowed methods.
    pub methods: Vec<String>,
}

/// The methods CORS allows when the spec lists none.
pub const DEFAULT_CORS_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The Service and firewall opening in front of a gateway's own proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// `LoadBalancer`, `NodePort` or `ClusterIP`.
    pub service_type: ServiceType,
    /// The Service port for plain HTTP.
    pub http: u16,
    /// The Service port for HTTPS, when the gateway has TLS.
    pub https: Option<u16>,
    /// Address blocks allowed in.
    pub from: Vec<String>,
}

/// Pods that send traffic to the platform's services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A service of the platform.
    Service(ServiceId),
    /// Pods elsewhere, by namespace and labels.
    External {
        /// Their namespace.
        namespace: String,
        /// Their labels (all pods of the namespace when empty).
        labels: BTreeMap<String, String>,
    },
}

/// JWT validation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt {
    /// Required issuer.
    pub issuer: String,
    /// Signing keys.
    pub jwks_uri: String,
}

/// A route from a gateway to a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Index into [`Platform::gateways`](super::Platform::gateways).
    pub gateway: usize,
    /// The service.
    pub service: ServiceId,
    /// Host names (empty: any host).
    pub hosts: Vec<String>,
    /// Path prefix.
    pub path: String,
    /// Prefix the path is rewritten to.
    pub rewrite: Option<String>,
    /// The service's port.
    pub port: Port,
    /// Whether a valid JWT is required.
    pub auth: bool,
    /// Requests per minute per client.
    pub rate_limit: Option<u32>,
    /// Time allowed for a whole request, ms.
    pub timeout_ms: Option<u64>,
    /// Retries by the gateway.
    pub retries: Option<u32>,
    /// CORS (the route's own, else the gateway's).
    pub cors: Option<Cors>,
}

/// A caller and the service it calls.
///
/// Held in 12 bytes: the two services as 32-bit indices, half a
/// [`ServiceId`]'s size, and how calls are made as the position of the
/// policy among the platform's distinct ones. A `tier/NAME` need makes an
/// edge to every service of the tier, so a large platform holds far more
/// edges than services, nearly all with the same few policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    from: u32,
    to: u32,
    calls: u32,
}

impl Edge {
    /// The edge from `from` to `to`, its calls made as the policy at
    /// position `calls` in [`Platform::call_policies`](super::Platform::call_policies) says.
    ///
    /// # Panics
    /// If an index does not fit in 32 bits: a platform of more than four
    /// billion services, which no spec file Strata reads can declare.
    pub fn new(from: ServiceId, to: ServiceId, calls: usize) -> Edge {
        let narrow = |index: usize| u32::try_from(index).expect("fewer than 2^32 services");
        Edge {
            from: narrow(from.0),
            to: narrow(to.0),
            calls: narrow(calls),
        }
    }

    /// How calls along it are made, among `platform`'s policies.
    pub fn calls<'p>(&self, platform: &'p Platform) -> &'p CallPolicy {
        &platform.call_policies[self.calls as usize]
    }

    /// The caller.
    pub fn from(&self) -> ServiceId {
        ServiceId(self.from as usize)
    }

    /// The service called.
    pub fn to(&self) -> ServiceId {
        ServiceId(self.to as usize)
    }
}

/// Timeouts, retries and circuit breaking of calls along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallPolicy {
    /// Whole-request timeout, ms.
    pub timeout_ms: Option<u64>,
    /// Connect timeout, ms.
    pub connect_timeout_ms: Option<u64>,
    /// Retries after a failed attempt.
    pub retries: Option<u32>,
    /// First retry back-off, ms.
    pub retry_backoff_ms: Option<u64>,
    /// Failure percentage that ejects an endpoint.
    pub circuit_breaker: Option<u32>,
    /// Connection pool size.
    pub pool: Option<u32>,
}

impl Default for CallPolicy {
    fn default() -> CallPolicy {
        CallPolicy::NONE
    }
}

impl CallPolicy {
    /// Nothing set.
    pub const NONE: CallPolicy = CallPolicy {
        timeout_ms: None,
        connect_timeout_ms: None,
        retries: None,
        retry_backoff_ms: None,
        circuit_breaker: None,
        pool: None,
    };

    /// This policy with `own`'s settings, field by field, over it.
    #[must_use]
    pub fn under(self, own: CallPolicy) -> CallPolicy {
        CallPolicy {
            timeout_ms: own.timeout_ms.or(self.timeout_ms),
            connect_timeout_ms: own.connect_timeout_ms.or(self.connect_timeout_ms),
            retries: own.retries.or(self.retries),
            retry_backoff_ms: own.retry_backoff_ms.or(self.retry_backoff_ms),
            circuit_breaker: own.circuit_breaker.or(self.circuit_breaker),
            pool: own.pool.or(self.pool),
        }
    }

    /// The settings a client is told when no mesh enforces them, by the
    /// suffix of their `STRATA_CALL_<CALLEE>_*` variable.
    pub fn settings(&self) -> [(&'static str, Option<u64>); 6] {
        [
            ("TIMEOUT_MS", self.timeout_ms),
            ("CONNECT_TIMEOUT_MS", self.connect_timeout_ms),
            ("RETRIES", self.retries.map(u64::from)),
            ("RETRY_BACKOFF_MS", self.retry_backoff_ms),
            (
                "CIRCUIT_BREAKER_PERCENT",
                self.circuit_breaker.map(u64::from),
            ),
            ("POOL", self.pool.map(u64::from)),
        ]
    }
}

/// A dependency the spec does not run, called by name like a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// Its name, as references write it.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Its hosts, the first one being `host`.
    pub hosts: Vec<String>,
    /// Its ports by name, the first one being `port`.
    pub ports: Vec<(String, u16)>,
    /// How callers' egress policies find it.
    pub reach: Reach,
}

/// Where an external is, for NetworkPolicies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Outside the cluster, at these addresses (CIDR).
    Block(String),
    /// Inside the cluster, pods of a namespace this spec does not own.
    Pods {
        /// The namespace.
        namespace: String,
        /// Labels of its pods; every pod of the namespace when empty.
        labels: BTreeMap<String, String>,
    },
}

/// A service's calls to an external: an edge without a start-up wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalCall {
    /// Index into [`Platform::externals`](super::Platform::externals).
    pub external: usize,
    /// How calls are made.
    pub calls: CallPolicy,
}

/// Traffic allowed out of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Egress {
    /// Address block.
    pub cidr: String,
    /// TCP ports (all when empty).
    pub ports: Vec<u16>,
}

/// Platform-wide network settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Render default-deny NetworkPolicies with allows from the graph.
    pub policies: bool,
    /// The API server's addresses (CIDR), for services with `access`.
    pub api_server: Option<String>,
    /// The mesh carrying calls, if any.
    pub mesh: Option<MeshKind>,
    /// The mesh's control plane (istiod) pods, which every sidecar dials
    /// (`Peer::External`; meaningful only with a mesh).
    pub control_plane: Peer,
    /// Who scrapes metrics ports.
    pub scraper: Peer,
    /// The call policy of every edge that sets none of its own.
    pub calls: CallPolicy,
    /// What the mesh's sidecars report.
    pub telemetry: Option<Telemetry>,
}

/// Mesh telemetry settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Telemetry {
    /// The tracing provider's name in the mesh config.
    pub tracing: Option<String>,
    /// Share of requests traced, percent.
    pub sampling: Option<u32>,
    /// CEL filter of the requests logged.
    pub access_log: Option<String>,
}

/// How callers reach a service, from its `serve:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serve {
    /// How the mesh spreads requests over its pods.
    pub load_balancer: Option<LoadBalancer>,
    /// Seconds a client stays on one pod.
    pub session_affinity_seconds: Option<u64>,
    /// The call policy of its callers, under their own `calls:`.
    pub calls: CallPolicy,
    /// Requests a minute each pod admits, enforced by its sidecar.
    pub rate_limit_per_minute: Option<u32>,
}

impl Serve {
    /// Nothing set: callers reach the service as the platform says.
    pub const NONE: Serve = Serve {
        load_balancer: None,
        session_affinity_seconds: None,
        calls: CallPolicy::NONE,
        rate_limit_per_minute: None,
    };
}

impl Default for Serve {
    fn default() -> Serve {
        Serve::NONE
    }
}

/// A mesh load-balancing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadBalancer {
    /// Each pod in turn.
    RoundRobin,
    /// The pod with the fewest requests in flight.
    LeastRequest,
    /// Any pod.
    Random,
    /// The pod the hash of this request header picks.
    Header(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_keeps_its_services_and_policy_in_twelve_bytes() {
        let edge = Edge::new(ServiceId(3), ServiceId(70_000), 1);
        assert_eq!((edge.from(), edge.to()), (ServiceId(3), ServiceId(70_000)));
        assert_eq!(edge.calls, 1);
        assert_eq!(size_of::<Edge>(), 12);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "fewer than 2^32 services")]
    fn an_edge_refuses_a_service_past_32_bits() {
        let past = ServiceId(usize::try_from(u64::from(u32::MAX) + 1).unwrap());
        Edge::new(ServiceId(0), past, 0);
    }
}
