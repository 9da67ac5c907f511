//! Gateways and their routes: the entry points into the platform, each
//! checked against what its kind (Ingress, Gateway API, Istio, Kong) can do.

use super::Resolver;
use super::ServiceNames;
use super::network::controller;
use crate::diag::suggestion;
use crate::model::{
    Cors, DEFAULT_CORS_METHODS, Gateway, GatewayKind, Jwt, Listen, MeshKind, Peer, Protocol, Route,
    Service, ServiceId, Span,
};
use crate::spec::network::{CorsSpec, ServiceType};

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
            None => DEFAULT_CORS_METHODS
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        },
    }
}

impl Resolver<'_> {
    pub(super) fn gateways(
        &mut self,
        index: &ServiceNames<'_>,
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
                    .map(|h| h.value.0.clone())
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
    pub(super) fn open_rewrites(&mut self, services: &[Service], routes: &[Route], spans: &[Span]) {
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
    pub(super) fn unsupported(
        &mut self,
        kind: GatewayKind,
        key: &str,
        span: Span,
        kinds: &[GatewayKind],
    ) {
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

    pub(super) fn route(
        &mut self,
        service: &Service,
        id: ServiceId,
        spec: &crate::spec::network::ExposeSpec,
        span: Span,
        gateways: &[Gateway],
    ) -> Option<Route> {
        let names: Vec<&str> = gateways.iter().map(|g| g.name.as_str()).collect();
        let gateway = match (&spec.via, gateways.len()) {
            (Some(via), _) => {
                if let Some(g) = gateways.iter().position(|g| g.name == via.value.0) {
                    g
                } else {
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
            }
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
            Some(name) => {
                if let Some(p) = service.ports.iter().find(|p| p.name == name.value.0) {
                    p.clone()
                } else {
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
            }
            None => {
                if let Some(p) = service
                    .ports
                    .iter()
                    .find(|p| matches!(p.protocol, Protocol::Http | Protocol::Grpc))
                {
                    p.clone()
                } else {
                    self.error(
                        "unroutable-service",
                        format!("`{}` has no HTTP or gRPC port to route to", service.name),
                        span,
                        "no HTTP port",
                        "name the port with `port:`, or declare an `http` port".into(),
                    );
                    return None;
                }
            }
        };
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
            Some(host) => vec![host.value.0.clone()],
            None => gateways[gateway].hosts.clone(),
        };
        Some(Route {
            gateway,
            service: id,
            hosts,
            path: spec
                .path
                .as_ref()
                .map_or_else(|| "/".to_string(), |p| p.value.0.clone()),
            rewrite: spec.rewrite.as_ref().map(|r| r.value.0.clone()),
            port,
            auth: spec.auth.as_ref().is_none_or(|a| a.value) && gateways[gateway].jwt.is_some(),
            rate_limit: spec
                .rate_limit
                .as_ref()
                .map(|r| r.value)
                .or(gateways[gateway].rate_limit),
            timeout_ms: spec.timeout.as_ref().map(|t| t.value.0),
            retries: spec.retries.as_ref().map(|r| r.value.0),
            cors: spec
                .cors
                .as_ref()
                .map(|c| cors(&c.value))
                .or_else(|| gateways[gateway].cors.clone()),
        })
    }
}
