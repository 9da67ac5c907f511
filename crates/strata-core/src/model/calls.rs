//! Calls the spec does not declare, found before the policies block them:
//! a host another service's text names with no edge to it
//! (`undeclared-call`), and a service nothing may reach
//! (`unreachable-service`). `check` reports them as warnings and `audit` as
//! findings; both read the functions here.
//!
//! Resolve keeps only the facts (it alone sees the spec's text and spans):
//! the [`Mention`]s, and the services whose `expose: []` says nothing is
//! meant to reach them. What they mean is worked out here from the
//! platform, on demand, so that `render` and `plan` never pay for it.

use std::borrow::Cow;
use std::net::IpAddr;

use super::{Peer, Platform, Reach, Service, ServiceId};
use crate::diag::Diagnostic;
use crate::source::Span;

/// A host of another service or of an external that a service's own text
/// names, as written: an environment value (references masked) or an
/// argument, of its container or of an init step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The service whose pods dial it.
    pub by: ServiceId,
    /// Whose host it is.
    pub target: Target,
    /// The host as written (`cartservice`, `pg-rw.data.svc`).
    pub host: String,
    /// Where it is written, as a message says it: the variable in
    /// backquotes (an init step's prefixed, as `fetch/URL`), or "an
    /// argument", "the command" (with "of the init step …" for a step's).
    pub place: String,
    /// The span of the value or the argument.
    pub span: Span,
}

/// What a host belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A service of the platform.
    Service(ServiceId),
    /// An external (index into [`Platform::externals`]).
    External(usize),
}

/// Whether calls into `service` that the graph does not declare are
/// refused: by the default-deny NetworkPolicies, or in the mesh by its
/// AuthorizationPolicy (rendered for long-running services with ports).
fn isolated(platform: &Platform, service: &Service) -> bool {
    platform.network.policies
        || (platform.in_mesh(&service.namespace)
            && service.kind.is_long_running()
            && !service.ports.is_empty())
}

/// The name of a mention's target.
fn target_name(platform: &Platform, target: Target) -> &str {
    match target {
        Target::Service(id) => &platform.services[id.0].name,
        Target::External(i) => &platform.externals[i].name,
    }
}

/// The mentions whose call the spec does not declare and the policies
/// would refuse, in spec order.
///
/// A call to a service is declared by an edge (`needs:`, a reference, a
/// gateway's routes), by the caller's `spawns.calls` (its value may be
/// meant for the pods it spawns), or by the caller being the scraper of a
/// service with metrics. A call to an external is declared by `needs:` or
/// a reference, or opened by an `egress:` block holding the external's.
pub fn undeclared_calls(platform: &Platform) -> impl Iterator<Item = &Mention> {
    platform.mentions.iter().filter(move |m| {
        let caller = &platform.services[m.by.0];
        match m.target {
            Target::Service(to) => {
                let declared = has_edge(platform, m.by, to)
                    || caller
                        .spawns
                        .as_ref()
                        .is_some_and(|s| s.calls.contains(&to))
                    || (platform.network.scraper == Peer::Service(m.by)
                        && platform.services[to.0].runtime.metrics.is_some());
                !declared && isolated(platform, &platform.services[to.0])
            }
            Target::External(i) => {
                let external = &platform.externals[i];
                let declared = caller.rare.externals.iter().any(|c| c.external == i)
                    || egress_opens(caller, &external.reach, &external.ports);
                !declared && platform.network.policies
            }
        }
    })
}

/// Whether an edge leads from `from` to `to`: read from the shorter of the
/// two services' own edges (a `tier/NAME` need gives a service an edge to
/// every service of a tier), not from a set of every edge of the platform,
/// which cost more than the rest of the warnings together.
fn has_edge(platform: &Platform, from: ServiceId, to: ServiceId) -> bool {
    if platform.lookup.outgoing_count(from) <= platform.lookup.incoming(to).len() {
        platform.edges_from(from).any(|e| e.to() == to)
    } else {
        platform.edges_to(to).any(|e| e.from() == from)
    }
}

/// Whether one of the caller's `egress:` blocks holds the external's
/// addresses on one of its ports.
fn egress_opens(caller: &Service, reach: &Reach, ports: &[(String, u16)]) -> bool {
    let Reach::Block(block) = reach else {
        return false;
    };
    caller.rare.egress.iter().any(|e| {
        within(block, &e.cidr)
            && (e.ports.is_empty() || ports.iter().any(|(_, p)| e.ports.contains(p)))
    })
}

/// Whether CIDR block `inner` lies within block `outer`.
fn within(inner: &str, outer: &str) -> bool {
    let parse = |cidr: &str| -> Option<(u128, u32, bool)> {
        let (address, bits) = cidr.split_once('/')?;
        let bits: u32 = bits.parse().ok()?;
        match address.parse::<IpAddr>().ok()? {
            // The address in the top bits, where a prefix length counts from.
            IpAddr::V4(a) if bits <= 32 => Some((u128::from(u32::from(a)) << 96, bits, true)),
            IpAddr::V6(a) if bits <= 128 => Some((u128::from(a), bits, false)),
            _ => None,
        }
    };
    let (Some((inner, inner_bits, v4)), Some((outer, outer_bits, outer_v4))) =
        (parse(inner), parse(outer))
    else {
        return false;
    };
    let mask = |bits: u32| u128::MAX.checked_shl(128 - bits.min(128)).unwrap_or(0);
    v4 == outer_v4
        && inner_bits >= outer_bits
        && inner & mask(outer_bits) == outer & mask(outer_bits)
}

/// The services with ports that nothing may reach through the policies, in
/// spec order, but those whose `expose: []` says nothing is meant to.
///
/// A long-running service with ports is reached by: a caller (an edge), a
/// pod another service spawns, a route of a gateway (its proxy being a
/// platform service or pods elsewhere), clients outside the cluster when
/// it is a gateway's proxy with `expose:` or its own Service is a NodePort
/// or LoadBalancer one, the mesh's sidecars when it is
/// istiod, and the scraper, which reaches its metrics port only: a service
/// whose every port is that one is reached too. Its own replicas, its
/// blueprint's setup jobs and its operator do not count, nor do jobs and
/// crons (they serve nobody), nor pods on their node's network (which no
/// NetworkPolicy covers).
pub fn unreachable_services(platform: &Platform) -> Vec<ServiceId> {
    // What reaches a service but its callers, and the services whose
    // `expose: []` says nothing is meant to: each marks its services once.
    let mut reached = vec![false; platform.services.len()];
    let others = platform
        .services
        .iter()
        .flat_map(|s| {
            s.spawns
                .iter()
                .flat_map(|spawned| spawned.calls.iter().copied())
        })
        .chain(
            platform
                .routes
                .iter()
                .filter(|r| platform.gateways[r.gateway].proxy != Peer::Service(r.service))
                .map(|r| r.service),
        )
        .chain(platform.gateways.iter().filter_map(|g| match g.proxy {
            Peer::Service(proxy) if g.listen.is_some() => Some(proxy),
            _ => None,
        }))
        .chain(platform.uncalled.iter().copied());
    for id in others {
        reached[id.0] = true;
    }
    platform
        .services
        .iter()
        .enumerate()
        .filter(|&(i, service)| {
            let id = ServiceId(i);
            !reached[i]
                && !service.front.is_public()
                && !service.ports.is_empty()
                && service.kind.is_long_running()
                && isolated(platform, service)
                && !service.host_access().is_some_and(|h| h.network)
                && !scraped_only(service)
                && !control_plane(platform, service)
                // A caller: its own edges to it, read last (a `tier/NAME`
                // need makes every service of a tier a callee).
                && !platform.edges_to(id).any(|e| e.from() != id)
        })
        .map(|(i, _)| ServiceId(i))
        .collect()
}

/// Whether the scraper reaches every port of a service: its only port is
/// its metrics port.
fn scraped_only(service: &Service) -> bool {
    service
        .runtime
        .metrics
        .as_ref()
        .is_some_and(|m| service.ports.iter().all(|p| p.number == m.number))
}

/// Whether a service's pods are the mesh's istiod, which every sidecar dials.
fn control_plane(platform: &Platform, service: &Service) -> bool {
    platform.network.mesh.is_some()
        && matches!(&platform.network.control_plane, Peer::External { namespace, labels }
            if *namespace == service.namespace
                && !labels.is_empty()
                && labels.iter().all(|(k, v)| service.labels.get(k) == Some(v)))
}

/// What refuses an undeclared call into `callee`, for messages.
fn refuser(platform: &Platform, callee: &Service) -> Cow<'static, str> {
    if platform.network.policies {
        Cow::Borrowed("the default-deny NetworkPolicies")
    } else {
        Cow::Owned(format!("the AuthorizationPolicy of `{}`", callee.name))
    }
}

/// The message of an undeclared call: who calls whom, and where it is
/// written.
pub fn undeclared_message(platform: &Platform, mention: &Mention) -> String {
    let caller = &platform.services[mention.by.0].name;
    let target = target_name(platform, mention.target);
    let kind = match mention.target {
        Target::Service(_) => "service",
        Target::External(_) => "external",
    };
    let named = if mention.host == target {
        format!("named in {}", mention.place)
    } else {
        format!("named `{}` in {}", mention.host, mention.place)
    };
    format!("`{caller}` calls the {kind} `{target}`, {named}, and the spec declares no such call")
}

/// How to declare an undeclared call: the line to write.
fn undeclared_fix(platform: &Platform, mention: &Mention) -> String {
    let caller = &platform.services[mention.by.0].name;
    let target = target_name(platform, mention.target);
    let blocked = match mention.target {
        Target::Service(id) => refuser(platform, &platform.services[id.0]),
        Target::External(_) => format!("the egress NetworkPolicy of `{caller}`").into(),
    };
    let wait = match mention.target {
        Target::Service(_) => format!(
            " (and `calls: {{ {target}: {{ wait: false }} }}` if `{caller}` need not wait for it to start)"
        ),
        Target::External(_) => String::new(),
    };
    format!(
        "{blocked} will refuse the call unless it is declared: add `needs: [{target}]` to `{caller}`{wait}, or write the host as `${{{target}.host}}`"
    )
}

/// The message of an unreachable service.
pub fn unreachable_message(platform: &Platform, id: ServiceId) -> String {
    let service = &platform.services[id.0];
    let scraped = if service.runtime.metrics.is_some() {
        " (the scraper reaches its metrics port only)"
    } else {
        ""
    };
    format!(
        "nothing may reach `{}` through {}: no service calls it and no gateway routes to it{scraped}",
        service.name,
        refuser(platform, service)
    )
}

/// How to make an unreachable service reachable.
fn unreachable_fix(platform: &Platform, id: ServiceId) -> String {
    let name = &platform.services[id.0].name;
    format!(
        "declare its callers (`needs: [{name}]` on each service that calls it), or route to it from a gateway (`expose: {{ path: /{name} }}`); if nothing is meant to reach it (a worker whose port serves only its probes, a console opened with `kubectl port-forward`), say so with `expose: []`"
    )
}

/// Everything `check` warns about: each undeclared call at the value or
/// argument that names the host, each unreachable service at its name, in
/// file order.
pub(super) fn warnings(platform: &Platform) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = undeclared_calls(platform)
        .map(|m| {
            Diagnostic::warning("undeclared-call", undeclared_message(platform, m))
                .at(
                    &platform.file,
                    m.span,
                    format!("dials `{}`", target_name(platform, m.target)),
                )
                .help(undeclared_fix(platform, m))
        })
        .collect();
    found.extend(unreachable_services(platform).into_iter().map(|id| {
        Diagnostic::warning("unreachable-service", unreachable_message(platform, id))
            .at(
                &platform.file,
                platform.services[id.0].span,
                "reached by nothing",
            )
            .help(unreachable_fix(platform, id))
    }));
    found.sort_by_key(|d| d.labels.first().map(|l| l.span.start()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;
    use crate::source::SourceFile;
    use crate::spec;

    /// `platform: shop`, its gateway and its data tier, then `apps`.
    fn shop(apps: &str) -> String {
        format!(
            "platform: shop
gateways:
  edge: {{ kind: ingress, hosts: [shop.example.com] }}
tiers:
  - name: data
    services:
      cache: {{ image: redis:7.4.1, ports: {{ redis: 6379 }}, expose: [] }}
  - name: apps
    services:
{apps}"
        )
    }

    fn warnings_of(text: &str, env: Option<&str>) -> Vec<Diagnostic> {
        let file = SourceFile::new("p.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), env).unwrap();
        platform.warnings()
    }

    /// `code location` of each warning.
    fn found(apps: &str) -> Vec<String> {
        warnings_of(&shop(apps), None)
            .iter()
            .map(|d| format!("{} {}", d.code, d.location().unwrap()))
            .collect()
    }

    #[test]
    fn an_undeclared_call_is_reported_at_the_value_that_names_the_host() {
        let text = shop(
            "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        env:
          CART_SERVICE_ADDR: cartservice:7070
      cartservice: { image: shop/cart:1.0.0, ports: { grpc: 7070 }, needs: [cache] }
",
        );
        let warnings = warnings_of(&text, None);
        let codes: Vec<&str> = warnings.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["undeclared-call", "unreachable-service"]);
        let call = &warnings[0];
        assert_eq!(call.severity, Severity::Warning);
        assert_eq!(call.location().unwrap(), "p.yaml:15:30");
        assert_eq!(
            call.message,
            "`frontend` calls the service `cartservice`, named in `CART_SERVICE_ADDR`, and the spec declares no such call"
        );
        let help = call.help.as_deref().unwrap();
        assert!(
            help.contains("add `needs: [cartservice]` to `frontend`"),
            "{help}"
        );
        assert!(
            help.contains("calls: { cartservice: { wait: false } }"),
            "{help}"
        );
        assert!(help.contains("${cartservice.host}"), "{help}");
        assert_eq!(
            warnings[1].location().unwrap(),
            "p.yaml:16:7",
            "cartservice's name"
        );
    }

    #[test]
    fn declaring_the_call_silences_it() {
        let base = "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        env: { CART_SERVICE_ADDR: cartservice:7070 }
      cartservice: { image: shop/cart:1.0.0, ports: { grpc: 7070 }, needs: [cache] }
";
        assert_eq!(found(base).len(), 2);
        for declared in [
            "        needs: [cartservice]\n",
            "        needs: [cartservice]\n        calls: { cartservice: { wait: false } }\n",
            "        needs: [tier/apps]\n",
        ] {
            let apps = base.replace("        expose", &format!("{declared}        expose"));
            let apps = apps.replace("needs: [tier/apps]", "needs: [tier/data, cartservice]");
            assert_eq!(found(&apps), Vec::<String>::new(), "{declared}");
        }
        let referenced = base.replace("cartservice:7070 }", "'${cartservice.host}:7070' }");
        assert_eq!(found(&referenced), Vec::<String>::new());
    }

    #[test]
    fn every_name_of_a_service_and_every_address_form_is_read() {
        let apps = "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        env:
          A_HOST: cartservice
          B: cartservice.shop:7070
          C: http://user:pw@cartservice.shop.svc:7070/x
          D: grpc://CartService.shop.svc.cluster.local.
          E: 'cache:6379,cartservice:7070'
          F: redis://:secret@cache:6379/0
          G: amqp://guest:guest@cache
          H: cartservice-0.cartservice:7070
        args: [--cart=cartservice:7070]
        init:
          fetch:
            image: busybox:1.37
            command: [sh, -c, 'wget -q http://cartservice:7070/ready']
            env: { URL: 'http://cartservice:7070' }
      cartservice: { image: shop/cart:1.0.0, ports: { grpc: 7070 }, needs: [cache] }
";
        let file = SourceFile::new("p.yaml", shop(apps));
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let places: Vec<(String, &str)> = undeclared_calls(&platform)
            .map(|m| (m.place.clone(), target_name(&platform, m.target)))
            .collect();
        let expected = [
            ("`A_HOST`", "cartservice"),
            ("`B`", "cartservice"),
            ("`C`", "cartservice"),
            ("`D`", "cartservice"),
            ("`E`", "cache"),
            ("`E`", "cartservice"),
            ("`F`", "cache"),
            ("`G`", "cache"),
            ("`H`", "cartservice"),
            ("`fetch/URL`", "cartservice"),
            ("the command of the init step `fetch`", "cartservice"),
            ("an argument", "cartservice"),
        ];
        let mut places = places;
        places.sort();
        let mut expected: Vec<(String, &str)> = expected
            .iter()
            .map(|(p, t)| ((*p).to_string(), *t))
            .collect();
        expected.sort();
        assert_eq!(places, expected);
    }

    #[test]
    fn words_that_only_equal_a_name_are_not_hosts() {
        let apps = "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        env:
          NOTE: the cartservice is down
          MODE: cartservice
          PATH_PREFIX: /cartservice/api
          OTHER_NAMESPACE: cartservice.elsewhere:7070
        args: [cartservice, --mode, cache]
      cartservice:
        image: shop/cart:1.0.0
        ports: { grpc: 7070 }
        needs: [cache]
        expose: []
        env: { ADVERTISED_ADDR: 'cartservice.shop.svc.cluster.local:7070' }
";
        assert_eq!(found(apps), Vec::<String>::new());
    }

    #[test]
    fn an_external_named_without_its_reference_is_an_undeclared_call() {
        let text = "platform: shop
externals:
  mail: { hosts: [smtp.example.com], ports: { smtp: 587 }, cidr: 203.0.113.0/24 }
tiers:
  - name: apps
    services:
      api:
        image: shop/api:1.0.0
        env: { SMTP_HOST: smtp.example.com }
";
        let warnings = warnings_of(text, None);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].location().unwrap(), "p.yaml:9:27");
        assert!(warnings[0].message.contains("the external `mail`"));
        assert!(
            warnings[0]
                .help
                .as_deref()
                .unwrap()
                .contains("the egress NetworkPolicy of `api`")
        );
        let with =
            |line: &str| text.replace("        env", &format!("        {line}\n        env"));
        for declared in [
            "needs: [mail]",
            "egress: [{ cidr: 0.0.0.0/0, ports: [587] }]",
        ] {
            assert!(warnings_of(&with(declared), None).is_empty(), "{declared}");
        }
        let other_port = with("egress: [{ cidr: 0.0.0.0/0, ports: [443] }]");
        assert_eq!(
            warnings_of(&other_port, None).len(),
            1,
            "443 does not open 587"
        );
    }

    #[test]
    fn only_what_refuses_undeclared_calls_is_warned_of() {
        let apps = "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        env: { CART_SERVICE_ADDR: cartservice:7070 }
      cartservice: { image: shop/cart:1.0.0, ports: { grpc: 7070 }, needs: [cache] }
";
        let open = shop(apps).replace("gateways:", "network: { policies: false }\ngateways:");
        assert!(warnings_of(&open, None).is_empty(), "nothing is blocked");
        let meshed = shop(apps).replace(
            "gateways:",
            "network: { policies: false, mesh: istio }\ngateways:",
        );
        let warnings = warnings_of(&meshed, None);
        assert_eq!(warnings.len(), 2);
        assert!(
            warnings[0]
                .help
                .as_deref()
                .unwrap()
                .starts_with("the AuthorizationPolicy of `cartservice`"),
            "{:?}",
            warnings[0].help
        );
    }

    #[test]
    fn whatever_admits_traffic_makes_a_service_reachable() {
        // Each of these services is reached by something, or runs to
        // completion, or says nothing is meant to reach it.
        let text = "platform: shop
monitoring: { scraper: prometheus }
gateways:
  edge: { kind: ingress, hosts: [shop.example.com] }
  api: { kind: kong, service: kong, expose: { type: LoadBalancer } }
tiers:
  - name: apps
    services:
      prometheus: { blueprint: prometheus, expose: [] }
      kong: { blueprint: kong }
      routed: { image: a:1.0.0, ports: { http: 80 }, expose: { via: edge, path: / } }
      proxied: { image: a:1.0.0, ports: { http: 80 }, expose: { via: api, path: /p } }
      called: { image: a:1.0.0, ports: { http: 80 } }
      caller: { image: a:1.0.0, needs: [called] }
      scraped: { image: a:1.0.0, ports: { metrics: 9100 } }
      batch: { image: a:1.0.0, kind: job, ports: { http: 80 } }
      quiet: { image: a:1.0.0, ports: { http: 80 }, expose: [] }
      spawned-call: { image: a:1.0.0, ports: { http: 80 } }
      hub:
        image: a:1.0.0
        expose: []
        ports: { http: 80 }
        spawns: { labels: { component: server }, calls: [spawned-call] }
      nodes: { blueprint: node-exporter }
      lonely: { image: a:1.0.0, ports: { http: 80, metrics: 9100 } }
      public: { image: a:1.0.0, ports: { http: 80 }, service: { type: NodePort } }
";
        let warnings = warnings_of(text, None);
        let found: Vec<String> = warnings
            .iter()
            .map(|d| format!("{} {}", d.code, d.location().unwrap()))
            .collect();
        assert_eq!(found, ["unreachable-service p.yaml:25:7"]);
        assert!(
            warnings[0]
                .message
                .contains("the scraper reaches its metrics port only")
        );
    }

    #[test]
    fn an_environment_s_own_value_is_reported_where_it_is_written() {
        let text = shop(
            "      frontend:
        image: shop/frontend:1.0.0
        ports: { http: 8080 }
        expose: { path: / }
        needs: [cartservice]
      cartservice: { image: shop/cart:1.0.0, ports: { grpc: 7070 }, needs: [cache] }
      other: { image: shop/other:1.0.0, ports: { grpc: 7070 }, expose: [] }
environments:
  prod:
    services:
      frontend: { env: { OTHER_ADDR: other:7070 } }
",
        );
        assert!(warnings_of(&text, None).is_empty());
        let warnings = warnings_of(&text, Some("prod"));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].location().unwrap(), "p.yaml:20:38");
    }

    #[test]
    fn a_pod_or_an_operator_s_service_is_its_service_s_host() {
        let text = "platform: shop
operators:
  cloudnative-pg: { installed: true }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, mode: ha, replicas: 3, storage: 1Gi }
  - name: apps
    services:
      api:
        image: shop/api:1.0.0
        env: { DATABASE_HOST: pg-rw, READ_URL: 'postgres://pg-ro.shop:5432/app', C: pg-1.pg.shop:5432 }
";
        let file = SourceFile::new("p.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let hosts: Vec<&str> = undeclared_calls(&platform)
            .map(|m| m.host.as_str())
            .collect();
        assert_eq!(hosts, ["pg-rw", "pg-ro.shop", "pg-1.pg.shop"]);
    }

    /// The edge test reads each service's own edges; it must say what a
    /// scan of every edge of the platform says, for every pair of services
    /// of every example (against a set of every edge, as it was found before), in every environment.
    #[test]
    fn an_edge_is_found_from_either_end() {
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
        for entry in std::fs::read_dir(examples).unwrap() {
            let path = entry.unwrap().path().join("platform.yaml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = SourceFile::new("platform.yaml", text);
            let doc = spec::parse(&file).unwrap();
            let environments = crate::model::environment_names(&doc.spec);
            for env in std::iter::once(None).chain(environments.into_iter().map(Some)) {
                let platform = crate::resolve(&doc, env).unwrap();
                let every: std::collections::HashSet<(ServiceId, ServiceId)> =
                    platform.edges.iter().map(|e| (e.from(), e.to())).collect();
                let n = platform.services.len();
                for from in (0..n).map(ServiceId) {
                    for to in (0..n).map(ServiceId) {
                        assert_eq!(
                            has_edge(&platform, from, to),
                            every.contains(&(from, to)),
                            "{path:?} {env:?} {from:?} -> {to:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_tier_need_reaches_every_service_of_the_tier() {
        let apps = "      worker: { image: shop/worker:1.0.0, needs: [tier/data] }
      api: { image: shop/api:1.0.0, ports: { http: 80 } }
";
        let text = shop(apps).replace(", expose: [] }", " }");
        assert_eq!(found_in(&text), ["unreachable-service p.yaml:11:7"]);
    }

    fn found_in(text: &str) -> Vec<String> {
        warnings_of(text, None)
            .iter()
            .map(|d| format!("{} {}", d.code, d.location().unwrap()))
            .collect()
    }

    #[test]
    fn blocks_hold_the_blocks_inside_them() {
        assert!(within("203.0.113.0/24", "0.0.0.0/0"));
        assert!(within("203.0.113.0/24", "203.0.0.0/16"));
        assert!(within("10.1.2.3/32", "10.1.2.3/32"));
        assert!(!within("203.0.113.0/24", "203.0.113.0/25"));
        assert!(!within("10.0.0.0/8", "11.0.0.0/8"));
        assert!(!within("10.0.0.0/8", "::/0"), "IPv4 is not inside IPv6");
        assert!(within("2001:db8::/48", "2001:db8::/32"));
        assert!(!within("nonsense", "0.0.0.0/0"));
    }
}
