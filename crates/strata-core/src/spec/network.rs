//! The wire form of networking: gateways at the edge, routes that expose
//! services, policies for calls between services, and declared egress.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder, Map, Spanned, into_text};
use super::names::{LabelKey, Name};
use super::record::{keyword_enum, record};
use super::yaml::{Node, NodeKind};

record! {
    /// An entry point into the platform.
    pub struct GatewaySpec ("a gateway") {
        /// `istio`, `ingress`, `gateway-api` or `kong`.
        required kind: GatewayKind = "kind",
        /// Host names it serves.
        optional hosts: Vec<Spanned<super::names::HostName>> = "hosts",
        /// The TLS Secret for its hosts; plain HTTP when absent.
        optional tls: Name = "tls",
        /// IngressClass (`ingress`) or GatewayClass (`gateway-api`).
        optional class: String = "class",
        /// The platform service that runs the proxy (a Kong service, say).
        optional service: Name = "service",
        /// Where the gateway's proxy pods run, when not a platform service.
        optional controller: ControllerSpec = "controller",
        /// JWT validation of requests.
        optional jwt: JwtSpec = "jwt",
        /// Requests per minute per client, for every route (`kong`).
        optional rate_limit: u32 = "rateLimit",
        /// CORS for every route (`kong`, `istio`): origins, or `{ origins, methods }`.
        optional cors: CorsSpec = "cors",
        /// The namespace of its Gateway object (`istio`, `gateway-api`).
        optional namespace: Name = "namespace",
        /// How clients outside the cluster reach a proxy run by a platform service.
        optional expose: ListenSpec = "expose",
    }
}

record! {
    /// The Service and the firewall opening in front of a gateway's own proxy.
    pub struct ListenSpec ("a listener (`type`, `http`, `https`, `from`)") {
        /// `LoadBalancer` (by default), `NodePort` or `ClusterIP`.
        optional service_type: ServiceType = "type",
        /// The Service port for plain HTTP; 80 by default.
        optional http: u16 = "http",
        /// The Service port for HTTPS (needs `tls:`); 443 by default.
        optional https: u16 = "https",
        /// Address blocks allowed in; `0.0.0.0/0` by default.
        optional from: Vec<Spanned<Cidr>> = "from",
    }
}

record! {
    /// Cross-origin requests a route admits.
    pub struct CorsRecord ("CORS settings (`origins`, `methods`)") {
        /// Allowed origins; `*` in a host matches one label (`https://*.example.com`).
        required origins: Vec<Spanned<String>> = "origins",
        /// Allowed methods; GET, POST, PUT, PATCH, DELETE and OPTIONS by default.
        optional methods: Vec<Spanned<String>> = "methods",
    }
}

/// CORS: a list of origins, or a mapping with `origins` and `methods`.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsSpec(pub CorsRecord);

impl Decode for CorsSpec {
    const EXPECTED: &'static str = "a list of origins or `{ origins, methods }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Seq(_) => {
                let origins = d.spanned::<Vec<Spanned<String>>>(node)?;
                Some(CorsSpec(CorsRecord {
                    origins,
                    methods: None,
                }))
            }
            _ => CorsRecord::decode(node, d).map(CorsSpec),
        }
    }
}

impl JsonSchema for CorsSpec {
    fn schema_name() -> Cow<'static, str> {
        "Cors".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let record = generator.subschema_for::<CorsRecord>();
        json_schema!({ "anyOf": [{ "type": "array", "items": { "type": "string" } }, record] })
    }
}

keyword_enum! {
    /// The type of a gateway proxy's Service.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ServiceType (a "Service type") {
        /// A cloud load balancer.
        LoadBalancer = "LoadBalancer",
        /// A port on every node.
        NodePort = "NodePort",
        /// Inside the cluster only (another load balancer in front).
        ClusterIp = "ClusterIP",
    }
}

record! {
    /// The Kubernetes Service in front of a service's pods.
    pub struct ServiceObjectSpec ("a Service (`type`, `name`, `externalTrafficPolicy`, `from`, `annotations`)") {
        /// `ClusterIP` (by default), or `NodePort` / `LoadBalancer` to reach
        /// the service from outside the cluster without a gateway.
        optional service_type: ServiceType = "type",
        /// The Service's name when clients dial a fixed one; the service's
        /// name by default.
        optional name: super::names::Name = "name",
        /// `Cluster` or `Local` (keeps the client's address, and so the
        /// `from` blocks' meaning); for `NodePort` and `LoadBalancer` only.
        optional external_traffic_policy: TrafficPolicy = "externalTrafficPolicy",
        /// Address blocks allowed in from outside the cluster; every address
        /// by default. For `NodePort` and `LoadBalancer` only.
        optional from: Vec<Spanned<Cidr>> = "from",
        /// Annotations of the Service (a cloud load balancer's settings).
        optional annotations: Map<super::names::LabelKey, String> = "annotations",
    }
}

keyword_enum! {
    /// Where a NodePort or LoadBalancer Service sends outside traffic.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TrafficPolicy (an "external traffic policy") {
        /// To any ready pod, on any node; the client's address is lost.
        Cluster = "Cluster",
        /// Only to pods on the node it arrived at; the client's address is kept.
        Local = "Local",
    }
}

record! {
    /// Pods outside the platform, found by namespace and labels.
    pub struct ControllerSpec ("a controller (`namespace`, `labels`)") {
        /// Their namespace.
        required namespace: Name = "namespace",
        /// Their labels.
        optional labels: Map<LabelKey, super::names::LabelValue> = "labels",
    }
}

record! {
    /// Where JSON Web Tokens come from.
    pub struct JwtSpec ("JWT settings (`issuer`, `jwksUri`)") {
        /// The `iss` claim required.
        required issuer: String = "issuer",
        /// Where the signing keys are published.
        required jwks_uri: String = "jwksUri",
    }
}

record! {
    /// A route from a gateway to a service.
    pub struct ExposeSpec ("a route (`via`, `path`, `host`…)") {
        /// The gateway, by name; the only one when absent.
        optional via: Name = "via",
        /// Host name; the gateway's hosts when absent.
        optional host: super::names::HostName = "host",
        /// Path prefix; `/` when absent.
        optional path: super::names::HttpPath = "path",
        /// Prefix the path is rewritten to before it reaches the service.
        optional rewrite: super::names::HttpPath = "rewrite",
        /// The port, by name; the first HTTP or gRPC port when absent.
        optional port: super::names::PortName = "port",
        /// Require a valid JWT (when the gateway has `jwt:`); `true` by default.
        optional auth: bool = "auth",
        /// Requests per minute per client, overriding the gateway's.
        optional rate_limit: u32 = "rateLimit",
        /// Time allowed for a whole request through the gateway.
        optional timeout: Millis = "timeout",
        /// Retries by the gateway after a failed attempt.
        optional retries: Retries = "retries",
        /// CORS for this route, overriding the gateway's.
        optional cors: CorsSpec = "cors",
    }
}

record! {
    /// How a caller treats calls to another service.
    pub struct CallsSpec ("a call policy (`timeout`, `retries`, `circuitBreaker`…)") {
        /// Time allowed for a whole request.
        optional timeout: Millis = "timeout",
        /// Time allowed to connect.
        optional connect_timeout: Millis = "connectTimeout",
        /// Retries after a failed attempt.
        optional retries: Retries = "retries",
        /// Wait before the first retry, doubled each time.
        optional retry_backoff: Millis = "retryBackoff",
        /// Share of failing requests that ejects an endpoint, such as `50%`.
        optional circuit_breaker: super::runtime::Percent = "circuitBreaker",
        /// Most connections open to the service.
        optional pool: u32 = "pool",
        /// Whether the caller waits for the callee before it starts; `false`
        /// keeps the call (policies, call settings) but not the start-up
        /// order. Per callee only.
        optional wait: bool = "wait",
    }
}

record! {
    /// Traffic a service may send outside the cluster.
    pub struct EgressSpec ("an egress rule (`cidr`, `ports`)") {
        /// Addresses, in CIDR notation (`10.0.0.0/8`, `0.0.0.0/0`).
        required cidr: Cidr = "cidr",
        /// TCP ports; every port when absent.
        optional ports: Vec<Spanned<u16>> = "ports",
    }
}

record! {
    /// Something the platform's services call that this spec does not run
    /// (a Kafka another team operates, a managed database): referenced like
    /// a service, `${NAME.address}`, and reached through the callers'
    /// egress policies.
    pub struct ExternalSpec ("an external dependency (`hosts`, `ports`, and `cidr` or `namespace`)") {
        /// What it is, for people reading the spec.
        optional description: String = "description",
        /// Its host names or addresses, one per broker or node; the first is `host`.
        required hosts: Vec<Spanned<String>> = "hosts",
        /// Its ports by name; the first is `port`.
        required ports: Map<Name, u16> = "ports",
        /// Where it is outside the cluster: callers' egress allows this block on its ports.
        optional cidr: Cidr = "cidr",
        /// Where it is inside the cluster: callers' egress allows this namespace on its ports.
        optional namespace: Name = "namespace",
        /// Labels of its pods in `namespace`; every pod there when absent.
        optional selector: Map<LabelKey, super::names::LabelValue> = "selector",
    }
}

record! {
    /// Network isolation settings of the platform.
    pub struct NetworkSpec ("network settings") {
        /// Default-deny NetworkPolicies with allows from the graph; `true` by default.
        optional policies: bool = "policies",
        /// The service mesh carrying calls between services (`istio`), if any.
        optional mesh: MeshKind = "mesh",
        /// The API server's addresses in CIDR notation (`kubectl get endpoints
        /// kubernetes`): services with `access:` may call them on 443 and 6443.
        optional api_server: Cidr = "apiServer",
        /// Traces and access logs of the mesh's sidecars (`istio`).
        optional telemetry: TelemetrySpec = "telemetry",
        /// Where the mesh's control plane (istiod) runs: its namespace and
        /// pod labels; `istio-system` and `app: istiod` by default.
        optional control_plane: ControllerSpec = "controlPlane",
    }
}

record! {
    /// What the mesh's sidecars report: traces to a provider, access logs.
    pub struct TelemetrySpec ("mesh telemetry (`tracing`, `sampling`, `accessLog`)") {
        /// The tracing provider, as Istio's mesh config names it (`extensionProviders`).
        optional tracing: Name = "tracing",
        /// Share of requests traced; the mesh's own default when absent.
        optional sampling: super::runtime::Percent = "sampling",
        /// Envoy access logs of requests matching this CEL expression
        /// (`response.code >= 400`); `"true"` logs every request.
        optional access_log: String = "accessLog",
    }
}

record! {
    /// A service's own tracing, over `network.telemetry`.
    pub struct TracingSpec ("tracing settings (`sampling`)") {
        /// Share of its requests traced.
        required sampling: super::runtime::Percent = "sampling",
    }
}

record! {
    /// How callers reach a service: load balancing, affinity, and the call
    /// policy every caller gets unless its own `calls:` says otherwise.
    pub struct ServeSpec ("callee settings (`loadBalancer`, `sessionAffinity`, `timeout`, `rateLimit`…)") {
        /// `round-robin`, `least-request`, `random`, or `{ hash: { header: NAME } }` (mesh only).
        optional load_balancer: LoadBalancerSpec = "loadBalancer",
        /// Keep a client on one pod for this long (`1h`; at most `24h`).
        optional session_affinity: super::runtime::Duration = "sessionAffinity",
        /// Time allowed for a whole request.
        optional timeout: Millis = "timeout",
        /// Time allowed to connect.
        optional connect_timeout: Millis = "connectTimeout",
        /// Retries after a failed attempt (`0`: never retried).
        optional retries: Retries = "retries",
        /// Wait before the first retry, doubled each time.
        optional retry_backoff: Millis = "retryBackoff",
        /// Share of failing requests that ejects an endpoint, such as `50%`.
        optional circuit_breaker: super::runtime::Percent = "circuitBreaker",
        /// Most connections open to the service.
        optional pool: u32 = "pool",
        /// Requests a minute each of its pods admits; more get `429` (Envoy's
        /// local rate limit in the pod's sidecar; Istio mesh only).
        optional rate_limit: u32 = "rateLimit",
    }
}

record! {
    /// Consistent hashing of requests onto pods.
    pub struct HashSpec ("a hash key (`header`)") {
        /// The request header whose value picks the pod (`x-user-id`).
        required header: String = "header",
    }
}

record! {
    /// A load balancer written as a mapping.
    pub struct LoadBalancerRecord ("a load balancer (`hash`)") {
        /// Requests with the same key go to the same pod.
        required hash: HashSpec = "hash",
    }
}

/// How a mesh spreads requests over a service's pods.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadBalancerSpec {
    /// `round-robin`.
    RoundRobin,
    /// `least-request`.
    LeastRequest,
    /// `random`.
    Random,
    /// `{ hash: { header: NAME } }`.
    Hash(LoadBalancerRecord),
}

impl Decode for LoadBalancerSpec {
    const EXPECTED: &'static str =
        "a load balancer (round-robin, least-request, random or `{ hash: { header } }`)";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => LoadBalancerRecord::decode(node, d).map(LoadBalancerSpec::Hash),
            _ => d
                .keyword(
                    &node,
                    ("a", "load balancer"),
                    &[("round-robin", 0), ("least-request", 1), ("random", 2)],
                )
                .map(|k| match k {
                    0 => LoadBalancerSpec::RoundRobin,
                    1 => LoadBalancerSpec::LeastRequest,
                    _ => LoadBalancerSpec::Random,
                }),
        }
    }
}

impl JsonSchema for LoadBalancerSpec {
    fn schema_name() -> Cow<'static, str> {
        "LoadBalancer".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let record = generator.subschema_for::<LoadBalancerRecord>();
        json_schema!({ "anyOf": [{ "type": "string", "enum": ["round-robin", "least-request", "random"] }, record] })
    }
}

keyword_enum! {
    /// The kinds of gateway Strata renders.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum GatewayKind (a "gateway kind") {
        /// Istio Gateway and VirtualServices.
        Istio = "istio",
        /// A Kubernetes Ingress.
        Ingress = "ingress",
        /// Gateway API Gateway and HTTPRoutes.
        GatewayApi = "gateway-api",
        /// Kong in DB-less mode, configured declaratively.
        Kong = "kong",
    }
}

keyword_enum! {
    /// The service meshes Strata renders traffic policy for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MeshKind (a "mesh") {
        /// Istio (sidecar or ambient).
        Istio = "istio",
    }
}

super::decode::bounded_count!(
    /// Retries after a failed attempt: at most 100.
    Retries,
    100,
    "every retry multiplies the load on a service that is already failing"
);

/// A duration in milliseconds: `100ms`, `3s`, `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Millis(pub u64);

impl Decode for Millis {
    const EXPECTED: &'static str = "a duration such as `100ms` or `3s`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        let split = text
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let factor = match unit {
            "ms" => Some(1.0),
            "s" => Some(1000.0),
            "m" => Some(60_000.0),
            _ => None,
        };
        match (number.parse::<f64>(), factor) {
            (Ok(n), Some(f)) if n.is_finite() && n >= 0.0 && n * f < 1e12 => {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "finite, non-negative and below 10^12, checked just above"
                )]
                let millis = (n * f).round() as u64;
                Some(Millis(millis))
            }
            _ => {
                let hint = if unit.is_empty() {
                    format!("add a unit: `{number}ms` or `{number}s`")
                } else {
                    "write milliseconds, seconds or minutes: `100ms`, `3s`, `1m`".to_string()
                };
                d.report(
                    d.error(
                        "invalid-duration",
                        format!("`{text}` is not a duration"),
                        node.span,
                        "not a duration",
                    )
                    .help(hint),
                );
                None
            }
        }
    }
}

/// An IPv4 or IPv6 block in CIDR notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr(pub String);

impl Decode for Cidr {
    const EXPECTED: &'static str = "a CIDR block such as `10.0.0.0/8`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        let valid = text.split_once('/').is_some_and(|(address, bits)| {
            let bits = bits.parse::<u8>();
            match address.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) => bits.is_ok_and(|b| b <= 32),
                Ok(std::net::IpAddr::V6(_)) => bits.is_ok_and(|b| b <= 128),
                Err(_) => false,
            }
        });
        if !valid {
            let hint = if text.parse::<std::net::IpAddr>().is_ok() {
                format!("add the prefix length: `{text}/32` for one address")
            } else {
                "write an address and a prefix length, such as `10.0.0.0/8`".to_string()
            };
            d.report(
                d.error(
                    "invalid-cidr",
                    format!("`{text}` is not a CIDR block"),
                    node.span,
                    "not a CIDR block",
                )
                .help(hint),
            );
            return None;
        }
        Some(Cidr(into_text(owned)))
    }
}

impl JsonSchema for Millis {
    fn schema_name() -> Cow<'static, str> {
        "Millis".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m)$" })
    }
}

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "An address block such as `10.0.0.0/8`." })
    }
}
