//! The mesh side of networking: how callers reach a service (`serve:`),
//! sidecar rate limits, telemetry, and which tiers join the mesh.

use super::Resolver;
use crate::model::{
    CallPolicy, Edge, Gateway, LoadBalancer, Protocol, Route, Serve, Service, Telemetry, Tier,
};
use crate::spec::network::LoadBalancerSpec;
use crate::spec::service::ServiceSpec;

impl Resolver<'_> {
    /// A service's `serve:`, checked: load balancing needs a mesh, and in a
    /// mesh session affinity needs a hash (sidecars ignore the Service's).
    pub(super) fn serve(&mut self, spec: &ServiceSpec, meshed: bool, operated: bool) -> Serve {
        let Some(serve) = &spec.rare.serve else {
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
                retries: serve.retries.as_ref().map(|r| r.value.0),
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
    pub(super) fn check_rate_limit(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        tiers: &[Tier],
        meshed: bool,
        operated: bool,
    ) {
        let Some(limit) = spec
            .rare
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
    pub(super) fn telemetry(
        &mut self,
        services: &mut [Service],
        specs: &[super::service::Filled<'_>],
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
            let Some(tracing) = &spec.rare.tracing else {
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
            service.rare.make_mut().tracing_sampling = Some(tracing.value.sampling.value.0);
        }
        telemetry
    }

    /// Tiers' `mesh:` checked against each other and against the calls: a
    /// namespace is in the mesh or not, a caller without a sidecar cannot
    /// pass a meshed callee's STRICT mTLS, and a JWT is checked by the
    /// callee's sidecar, which a service out of the mesh does not have.
    pub(super) fn mesh_members(
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
            let (from, to) = (&services[edge.from().0], &services[edge.to().0]);
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
