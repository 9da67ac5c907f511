//! `strata audit`: the architecture review of a platform, as the Nova team
//! did by hand — single points of failure, shared databases, calls without
//! timeouts, long start-up chains, capacity, exposure, secrets, and
//! production defaults switched off. Each finding points at the spec.

use crate::diag::Diagnostic;
use crate::finding::{CheckInfo, Finding, Priority};
use crate::image::ImageRef;
use crate::model::{Platform, Profile, Protocol, Service, ServiceId, WorkloadKind};
use crate::plan::Plan;
use crate::secret_names::looks_secret;
use crate::source::Span;

/// Redis as a single point of failure.
pub static REDIS_SINGLE_POINT: CheckInfo = CheckInfo::new(
    "redis-single-point",
    Priority::P0,
    "Redis runs without Sentinel or cluster replicas",
    "Every service that caches, locks or queues through it stops when its one pod restarts.",
    "run it replicated with failover: `blueprint: redis, mode: sentinel, replicas: 3`",
);
/// PostgreSQL without high availability.
pub static POSTGRES_WITHOUT_HA: CheckInfo = CheckInfo::new(
    "postgres-without-ha",
    Priority::P1,
    "PostgreSQL runs as a single instance",
    "A node failure or an upgrade takes the database, and everything that writes to it, down.",
    "run it with a standby and failover: `blueprint: postgresql, mode: ha, replicas: 3`",
);
/// Other stateful stores with one replica.
pub static SINGLE_REPLICA_STORE: CheckInfo = CheckInfo::new(
    "single-replica-store",
    Priority::P1,
    "a stateful service runs one replica in a production environment",
    "Its data and its clients depend on one pod on one node.",
    "raise `replicas` (and use the system's own replication), or accept the risk with a note",
);
/// Several services on one database.
pub static SHARED_DATABASE: CheckInfo = CheckInfo::new(
    "shared-database",
    Priority::P0,
    "several services share one database server",
    "Without their own database and owner, one service's migration, lock or load is every service's outage.",
    "declare a database with its own owner for each service that calls it (`databases: [{ name, owner }]` on the `postgresql` or `mysql` blueprint), or give each its own server",
);
/// Calls without a timeout.
pub static CALL_WITHOUT_TIMEOUT: CheckInfo = CheckInfo::new(
    "call-without-timeout",
    Priority::P1,
    "a service calls others without a timeout",
    "One slow dependency holds every caller's threads and connections until the whole chain stalls.",
    "set `defaults.calls: { timeout: 3s, connectTimeout: 1s }`, or per edge under the caller's `calls:`",
);
/// Calls without a circuit breaker.
pub static CALL_WITHOUT_BREAKER: CheckInfo = CheckInfo::new(
    "call-without-circuit-breaker",
    Priority::P2,
    "a service calls others without a circuit breaker",
    "Callers keep hammering a failing dependency and fail slowly instead of fast.",
    "set `defaults.calls.circuitBreaker: 50%`",
);
/// A long chain of start-up waits.
pub static LONG_CRITICAL_PATH: CheckInfo = CheckInfo::new(
    "long-critical-path",
    Priority::P2,
    "the start-up chain is long",
    "Each step waits for the previous one to be ready: a cold start or a full restore takes the sum of them.",
    "drop `needs:` that are not start-up requirements (retry at runtime instead), or wait for services rather than whole tiers",
);
/// Capacity beyond budgets or node pools.
pub static OVER_CAPACITY: CheckInfo = CheckInfo::new(
    "over-capacity",
    Priority::P0,
    "the platform asks for more than its budgets or node pools hold",
    "Pods stay Pending, or quota rejects them, at the worst moment: a scale-up or a failover.",
    "raise the budget or the node pool, or lower requests (see `strata plan`)",
);
/// GPU workloads with no GPU pool.
pub static GPU_WITHOUT_POOL: CheckInfo = CheckInfo::new(
    "gpu-without-pool",
    Priority::P1,
    "a service needs GPUs but is not bound to a GPU node pool",
    "It waits for any node with a free GPU, or lands on tainted nodes it cannot tolerate.",
    "declare a GPU node pool (selector and `nvidia.com/gpu` taint) and set `pool:` on the service",
);
/// Exposed routes without TLS.
pub static ROUTE_WITHOUT_TLS: CheckInfo = CheckInfo::new(
    "route-without-tls",
    Priority::P1,
    "a route is exposed without TLS",
    "Credentials and tokens cross the network in clear text.",
    "set `tls:` on the gateway to a TLS Secret",
);
/// Secrets written in plain env.
pub static SECRET_IN_ENV: CheckInfo = CheckInfo::new(
    "secret-in-env",
    Priority::P0,
    "a secret is written in plain text in the spec",
    "It ends up in Git, in rendered manifests and in every reader's terminal.",
    "declare it under `secrets:` (generated or given) and use `{ secret: NAME, key: KEY }`",
);
/// Mutable image tags.
pub static MUTABLE_IMAGE: CheckInfo = CheckInfo::new(
    "mutable-image-tag",
    Priority::P1,
    "an image is not pinned to a version",
    "The same spec deploys different code on each pull, and a rollback restores nothing.",
    "pin the image: `REGISTRY/NAME:1.2.3` or a digest",
);
/// Probes switched off.
pub static PROBES_OFF: CheckInfo = CheckInfo::new(
    "probes-off",
    Priority::P2,
    "a long-running service has no probes",
    "Traffic reaches it before it is ready, and a hung process is never restarted.",
    "remove `probes: false`, or give it a port to probe",
);
/// Privileged or relaxed security.
pub static RELAXED_SECURITY: CheckInfo = CheckInfo::new(
    "relaxed-security",
    Priority::P1,
    "a service runs with less than the restricted security profile",
    "Root, extra capabilities or a writable root filesystem make a compromise of the process a compromise of the node.",
    "use `security: restricted`; if the image needs root, fix the image",
);
/// A Kubernetes API token mounted without a documented need.
pub static API_TOKEN: CheckInfo = CheckInfo::new(
    "api-token",
    Priority::P2,
    "a service mounts its service account token",
    "Whoever compromises the process can call the Kubernetes API as the service account.",
    "remove `serviceAccountToken: true` unless the service calls the Kubernetes API; if it does, grant its ServiceAccount only the access it needs",
);
/// Replicated services whose availability defaults are off.
pub static AVAILABILITY_OFF: CheckInfo = CheckInfo::new(
    "availability-off",
    Priority::P2,
    "a replicated service has no spread or no disruption budget",
    "A node failure or a drain can take all its replicas at once.",
    "remove `spread: false` / `disruptionBudget: false`",
);

/// Every audit check, in report order.
pub static CHECKS: [&CheckInfo; 16] = [
    &REDIS_SINGLE_POINT,
    &SHARED_DATABASE,
    &OVER_CAPACITY,
    &SECRET_IN_ENV,
    &POSTGRES_WITHOUT_HA,
    &SINGLE_REPLICA_STORE,
    &CALL_WITHOUT_TIMEOUT,
    &GPU_WITHOUT_POOL,
    &ROUTE_WITHOUT_TLS,
    &MUTABLE_IMAGE,
    &RELAXED_SECURITY,
    &CALL_WITHOUT_BREAKER,
    &LONG_CRITICAL_PATH,
    &PROBES_OFF,
    &API_TOKEN,
    &AVAILABILITY_OFF,
];

/// Audit settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Longest acceptable critical path, in services.
    pub max_critical_path: usize,
    /// Check ids switched off.
    pub disabled: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_critical_path: 6,
            disabled: Vec::new(),
        }
    }
}

/// What a service is, judged from its blueprint or its image's name.
fn system(service: &Service) -> &str {
    if let Some(blueprint) = &service.blueprint {
        return blueprint;
    }
    ImageRef::parse(service.image.as_deref().unwrap_or("")).base_name()
}

fn is_redis(s: &Service) -> bool {
    matches!(system(s), "redis" | "redis-stack" | "valkey" | "keydb")
}

fn is_sql(s: &Service) -> bool {
    matches!(
        system(s),
        "postgres" | "postgresql" | "mysql" | "mariadb" | "percona"
    )
}

fn is_postgres(s: &Service) -> bool {
    matches!(system(s), "postgres" | "postgresql")
}

/// The database owners `callers` of `server` log in as, each with its
/// callers in order: a caller reading the password from an owner's Secret
/// logs in as that owner. Empty when no caller's login can be seen.
fn logins<'a>(
    platform: &Platform,
    server: &Service,
    callers: &[&'a str],
) -> Vec<(String, Vec<&'a str>)> {
    let Some(tuning) = &server.tuning else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<&'a str>)> = Vec::new();
    for caller in callers {
        let Some(service) = platform.service(caller) else {
            continue;
        };
        for owner in tuning.database_owners() {
            let secret = crate::blueprint::owner_secret_of(&server.name, &owner);
            let reads = service
                .env
                .iter()
                .any(|v| matches!(&v.value, crate::model::EnvValue::Secret { name, .. } if *name == secret));
            if !reads {
                continue;
            }
            match out.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, users)) => users.push(caller),
                None => out.push((owner, vec![caller])),
            }
        }
    }
    out
}

/// Reviews `platform` and returns its findings, most urgent first.
///
/// ```
/// use strata_core::{audit, model, source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: data\n    services:\n      redis: { image: redis:7.4.1, ports: { redis: 6379 }, storage: 1Gi }\n");
/// let platform = model::resolve(&spec::parse(&file).unwrap(), None).unwrap();
/// let findings = audit::audit(&platform, &audit::Options::default());
/// assert_eq!(findings[0].check.id, "redis-single-point");
/// assert_eq!(findings[0].location().unwrap(), "p.yaml:5:7");
/// ```
pub fn audit(platform: &Platform, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |check: &'static CheckInfo, object: String, message: String, span: Span| {
        if !options.disabled.iter().any(|d| d == check.id) {
            let mut finding = Finding::new(check, object, message);
            finding.diagnostic = Diagnostic {
                ..finding.diagnostic
            }
            .at(&platform.file, span, "here");
            findings.push(finding);
        }
    };
    // Single replicas are a choice, not a risk, where nothing depends on
    // the platform (`production: false`, and `local` by default).
    let local = !platform.production;
    let callers = |id: usize| {
        platform
            .edges
            .iter()
            .filter(|e| e.to.0 == id)
            .map(|e| platform.services[e.from.0].name.as_str())
            .collect::<Vec<_>>()
    };
    for (i, service) in platform.services.iter().enumerate() {
        let object = format!("service {}", service.name);
        let dependents = callers(i);
        if !local && service.replicas < 3 && is_redis(service) {
            add(
                &REDIS_SINGLE_POINT,
                object.clone(),
                format!(
                    "Redis `{}` runs {} replica(s) and {} service(s) depend on it",
                    service.name,
                    service.replicas,
                    dependents.len()
                ),
                service.span,
            );
        } else if !local && service.replicas < 2 && is_postgres(service) {
            add(
                &POSTGRES_WITHOUT_HA,
                object.clone(),
                format!("PostgreSQL `{}` runs a single instance", service.name),
                service.span,
            );
        } else if !local
            && service.replicas < 2
            && service.kind == WorkloadKind::Stateful
            && service.has_volume_per_pod()
        {
            add(
                &SINGLE_REPLICA_STORE,
                object.clone(),
                format!("`{}` keeps data on one replica", service.name),
                service.span,
            );
        }
        // Isolation is traced where callers read an owner's Secret (the only
        // way to its password): callers logging in as one owner share it.
        // Where no caller's login can be seen, it is counted: a blueprint
        // that declares an owner per caller lets each have its own.
        let owners = service
            .tuning
            .as_ref()
            .map_or(0, |t| t.database_owners().len());
        let logins = logins(platform, service, &dependents);
        if is_sql(service) && dependents.len() > 1 && !logins.is_empty() {
            for (owner, users) in logins.iter().filter(|(_, users)| users.len() > 1) {
                add(
                    &SHARED_DATABASE,
                    object.clone(),
                    format!(
                        "`{}` is shared: {} log in as `{owner}`",
                        service.name,
                        users.join(", ")
                    ),
                    service.span,
                );
            }
        } else if is_sql(service) && dependents.len() > 1 && owners < dependents.len() {
            add(
                &SHARED_DATABASE,
                object.clone(),
                format!(
                    "`{}` is shared by {} service(s) ({}) but declares {owners} database owner(s): {} more needed",
                    service.name,
                    dependents.len(),
                    dependents.join(", "),
                    dependents.len() - owners
                ),
                service.span,
            );
        }
        let out: Vec<_> = platform
            .edges
            .iter()
            .filter(|e| e.from == ServiceId(i))
            .collect();
        let untimed: Vec<&str> = out
            .iter()
            .filter(|e| e.calls.timeout_ms.is_none())
            .map(|e| platform.services[e.to.0].name.as_str())
            .collect();
        if !untimed.is_empty() {
            add(
                &CALL_WITHOUT_TIMEOUT,
                object.clone(),
                format!(
                    "`{}` calls {} with no timeout",
                    service.name,
                    untimed.join(", ")
                ),
                service.span,
            );
        }
        let unbroken: Vec<&str> = out
            .iter()
            .filter(|e| e.calls.circuit_breaker.is_none())
            .map(|e| platform.services[e.to.0].name.as_str())
            .collect();
        if !unbroken.is_empty() {
            add(
                &CALL_WITHOUT_BREAKER,
                object.clone(),
                format!(
                    "`{}` calls {} with no circuit breaker",
                    service.name,
                    unbroken.join(", ")
                ),
                service.span,
            );
        }
        if service.gpu > 0 {
            let pool = service
                .pool
                .as_ref()
                .and_then(|p| platform.node_pools.iter().find(|n| &n.name == p));
            let gpu_pool = pool.is_some_and(|p| {
                p.gpu.is_some_and(|g| g > 0)
                    || p.taints.iter().any(|t| t.key.contains("gpu"))
                    || p.selector.keys().any(|k| k.contains("gpu"))
            });
            if !gpu_pool {
                add(
                    &GPU_WITHOUT_POOL,
                    object.clone(),
                    format!(
                        "`{}` asks for {} GPU(s) on {}",
                        service.name,
                        service.gpu,
                        service
                            .pool
                            .as_deref()
                            .map_or("any node".to_string(), |p| format!(
                                "pool `{p}`, which has no GPUs"
                            ))
                    ),
                    service.span,
                );
            }
        }
        for route in platform.routes.iter().filter(|r| r.service == ServiceId(i)) {
            let gateway = &platform.gateways[route.gateway];
            if gateway.tls.is_none() {
                add(
                    &ROUTE_WITHOUT_TLS,
                    object.clone(),
                    format!(
                        "`{}` is exposed at {} through `{}` without TLS",
                        service.name, route.path, gateway.name
                    ),
                    service.span,
                );
            }
        }
        for var in service
            .env
            .iter()
            .chain(service.init.iter().flat_map(|s| &s.env))
        {
            if let crate::model::EnvValue::Literal(value) = &var.value
                && !value.is_empty()
                && looks_secret(&var.name)
            {
                add(
                    &SECRET_IN_ENV,
                    object.clone(),
                    format!("`{}` sets {} in plain text", service.name, var.name),
                    service.span,
                );
            }
        }
        // Its init steps' images run in its pods too.
        let images = service
            .image
            .iter()
            .chain(service.init.iter().map(|s| &s.image));
        for image in images {
            let reference = ImageRef::parse(image);
            if !image.is_empty()
                && reference.digest.is_none()
                && matches!(
                    reference.tag,
                    None | Some("latest" | "stable" | "main" | "master")
                )
            {
                add(
                    &MUTABLE_IMAGE,
                    object.clone(),
                    format!("`{}` runs `{image}`", service.name),
                    service.span,
                );
            }
        }
        let has_probe_port = service.ports.iter().any(|p| p.protocol != Protocol::Udp);
        if service.kind.is_long_running() && service.runtime.probes.is_none() {
            let why = if has_probe_port {
                "its probes are switched off"
            } else {
                "it has no port to probe"
            };
            add(
                &PROBES_OFF,
                object.clone(),
                format!("`{}` has no probes: {why}", service.name),
                service.span,
            );
        }
        let security = &service.runtime.security;
        let mut relaxed = Vec::new();
        if security.profile != Profile::Restricted {
            relaxed.push(format!("the {} profile", security.profile.as_str()));
        }
        if !security.read_only_root && security.profile != Profile::Privileged {
            relaxed.push("a writable root filesystem".to_string());
        }
        if service.host_access().is_some() {
            relaxed.push("the node's namespaces and files (its blueprint's)".to_string());
        }
        if !relaxed.is_empty() {
            add(
                &RELAXED_SECURITY,
                object.clone(),
                format!("`{}` runs with {}", service.name, relaxed.join(", ")),
                service.span,
            );
        }
        // A blueprint that mounts the token itself (Prometheus discovers its
        // targets through the API) documents the need in its recipe.
        let blueprint_needs_token = service.tuning.as_ref().is_some_and(|t| {
            (t.blueprint.recipe)(t).spec["serviceAccountToken"] == serde_json::Value::Bool(true)
        });
        if service.runtime.service_account_token && !blueprint_needs_token {
            add(
                &API_TOKEN,
                object.clone(),
                format!(
                    "`{}` mounts a service account token (`serviceAccountToken: true`)",
                    service.name
                ),
                service.span,
            );
        }
        let replicated = service.replicas > 1 || service.runtime.autoscale.is_some();
        if replicated && (!service.runtime.spread || !service.runtime.disruption_budget) {
            let off: Vec<&str> = [
                (!service.runtime.spread).then_some("spread"),
                (!service.runtime.disruption_budget).then_some("a disruption budget"),
            ]
            .into_iter()
            .flatten()
            .collect();
            add(
                &AVAILABILITY_OFF,
                object.clone(),
                format!(
                    "`{}` has {} replicas without {}",
                    service.name,
                    service.replicas,
                    off.join(" or ")
                ),
                service.span,
            );
        }
    }
    let path: Vec<&crate::model::PathStep> = platform
        .critical_path
        .iter()
        .filter(|s| matches!(s, crate::model::PathStep::Service(_)))
        .collect();
    if path.len() > options.max_critical_path
        && let Some(crate::model::PathStep::Service(last)) = path.last()
    {
        let names: Vec<String> = platform
            .critical_path
            .iter()
            .map(|&s| platform.step_name(s))
            .collect();
        let service = &platform.services[last.0];
        add(
            &LONG_CRITICAL_PATH,
            "platform".to_string(),
            format!(
                "{} services start one after another (more than {}): {}",
                path.len(),
                options.max_critical_path,
                names.join(" → ")
            ),
            service.span,
        );
    }
    let plan = Plan::new(platform);
    for fit in plan.fit.iter().filter(|f| !f.fits) {
        let span = platform
            .services
            .first()
            .map_or(Span::default(), |s| s.span);
        add(
            &OVER_CAPACITY,
            fit.scope.clone(),
            format!(
                "{}: {} requested, {} available",
                fit.resource, fit.requested, fit.available
            ),
            span,
        );
    }
    findings.sort_by_key(|f| f.check.priority);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::{model, spec};

    const SPEC: &str = "
platform: shop
environments:
  local: { replicas: 1 }
  prod: {}
namespaces:
  shop: { budget: { cpu: 1 } }
gateways:
  edge: { kind: ingress, hosts: [shop.example.com] }
nodePools:
  general: { selector: { pool: general } }
tiers:
  - name: data
    services:
      db: { image: postgres:16.4, ports: { pg: 5432 }, storage: 10Gi }
  - name: apps
    services:
      orders: { image: shop/orders:1.0.0, ports: { http: 8080 }, needs: [db], expose: { path: /orders } }
      billing:
        image: shop/billing
        ports: { http: 8080 }
        needs: [db]
        env: { STRIPE_API_KEY: sk_live_123 }
        replicas: 3
        spread: false
        probes: false
        security: { profile: baseline }
      vision: { image: shop/vision:1.0.0, gpu: 1, pool: general, resources: { requests: { cpu: 2 } } }
";

    fn ids(env: Option<&str>, options: &Options) -> Vec<&'static str> {
        let file = SourceFile::new("shop.yaml", SPEC);
        let platform = model::resolve(&spec::parse(&file).unwrap(), env).unwrap();
        audit(&platform, options)
            .iter()
            .map(|f| f.check.id)
            .collect()
    }

    #[test]
    fn the_review_finds_each_problem_of_the_spec() {
        let found = ids(Some("prod"), &Options::default());
        for id in [
            "shared-database",
            "over-capacity",
            "secret-in-env",
            "postgres-without-ha",
            "call-without-timeout",
            "gpu-without-pool",
            "route-without-tls",
            "mutable-image-tag",
            "relaxed-security",
            "call-without-circuit-breaker",
            "probes-off",
            "availability-off",
        ] {
            assert!(found.contains(&id), "{id} in {found:?}");
        }
        let priorities: Vec<Priority> = found
            .iter()
            .map(|id| CHECKS.iter().find(|c| c.id == *id).unwrap().priority)
            .collect();
        let mut sorted = priorities.clone();
        sorted.sort();
        assert_eq!(priorities, sorted, "most urgent first");
    }

    #[test]
    fn a_laptop_may_run_single_replicas_and_checks_can_be_disabled() {
        assert!(!ids(Some("local"), &Options::default()).contains(&"postgres-without-ha"));
        let options = Options {
            disabled: vec!["shared-database".into()],
            ..Options::default()
        };
        assert!(!ids(Some("prod"), &options).contains(&"shared-database"));
        let strict = Options {
            max_critical_path: 1,
            ..Options::default()
        };
        assert!(ids(Some("prod"), &strict).contains(&"long-critical-path"));
        assert!(!ids(Some("prod"), &Options::default()).contains(&"long-critical-path"));
    }

    fn findings(spec: &str, env: Option<&str>) -> Vec<Finding> {
        let file = SourceFile::new("t.yaml", spec);
        let platform = model::resolve(&spec::parse(&file).unwrap(), env).unwrap();
        audit(&platform, &Options::default())
    }

    const SHARED: &str = "
platform: t
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, databases: DATABASES }
  - name: apps
    services:
      a: { image: t/a:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }
      b: { image: t/b:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }
";

    #[test]
    fn a_database_server_is_shared_until_each_caller_can_have_its_own_owner() {
        let shared = |databases: &str| {
            findings(&SHARED.replace("DATABASES", databases), None)
                .into_iter()
                .filter(|f| f.check.id == "shared-database")
                .map(|f| f.diagnostic.message)
                .collect::<Vec<_>>()
        };
        assert!(shared("[a, b]").is_empty());
        assert!(shared("[{ name: a, owner: a }, { name: b, owner: b }, c]").is_empty());
        let one_owner = shared("[{ name: a, owner: app }, { name: b, owner: app }]");
        assert_eq!(one_owner.len(), 1, "{one_owner:?}");
        assert!(
            one_owner[0].contains("declares 1 database owner(s): 1 more needed"),
            "{one_owner:?}"
        );
        assert!(shared("[]")[0].contains("2 more needed"));
    }

    #[test]
    fn callers_reading_one_owners_password_share_its_database() {
        let spec = SHARED
            .replace(
                "DATABASES",
                "[{ name: core, owner: core }, { name: search, owner: search }]",
            )
            .replace(
                "env: { DB: '${pg.host}' } }\n      b:",
                "env: { DB: '${pg.host}', PW: { secret: pg-core, key: password } } }\n      b:",
            );
        let messages = |spec: &str| {
            findings(spec, None)
                .into_iter()
                .filter(|f| f.check.id == "shared-database")
                .map(|f| f.diagnostic.message)
                .collect::<Vec<_>>()
        };
        let b = "b: { image: t/b:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }";
        let reading = |secret: &str| {
            spec.replace(
                b,
                &b.replace(
                    "'${pg.host}' }",
                    &format!("'${{pg.host}}', PW: {{ secret: {secret}, key: password }} }}"),
                ),
            )
        };
        let own = reading("pg-search");
        assert!(messages(&own).is_empty(), "{:?}", messages(&own));
        let shared = reading("pg-core");
        assert_eq!(messages(&shared), ["`pg` is shared: a, b log in as `core`"]);
    }

    #[test]
    fn init_steps_are_audited_like_the_container() {
        let found = findings(
            "
platform: t
tiers:
  - name: apps
    services:
      api:
        image: t/api:1.0.0
        ports: { http: 8080 }
        init: { seed: { image: 't/seed:latest', env: { SEED_PASSWORD: hunter2 } } }
",
            None,
        );
        let messages = |id: &str| -> Vec<String> {
            found
                .iter()
                .filter(|f| f.check.id == id)
                .map(|f| f.diagnostic.message.clone())
                .collect()
        };
        assert_eq!(
            messages("mutable-image-tag"),
            ["`api` runs `t/seed:latest`"]
        );
        assert_eq!(
            messages("secret-in-env"),
            ["`api` sets SEED_PASSWORD in plain text"]
        );
    }

    fn ids_for_image(image: &str) -> Vec<&'static str> {
        let spec = format!(
            "platform: t\ntiers:\n  - name: apps\n    services:\n      s: {{ image: '{image}', ports: {{ http: 8080 }} }}\n"
        );
        findings(&spec, None).iter().map(|f| f.check.id).collect()
    }

    #[test]
    fn an_image_is_pinned_by_a_version_tag_or_a_digest() {
        for unpinned in [
            "nginx",
            "nginx:latest",
            "ghcr.io/o/r:main",
            "r:stable",
            "r:master",
            "localhost:5000/a/b",
            "registry:5000/x",
        ] {
            assert!(
                ids_for_image(unpinned).contains(&"mutable-image-tag"),
                "{unpinned}"
            );
        }
        for pinned in [
            "nginx:1.27",
            "nginx@sha256:abc",
            "nginx:latest@sha256:abc",
            "localhost:5000/a/b:1.0",
            "registry:5000",
            "a/b:",
            "a:1:latest",
        ] {
            assert!(
                !ids_for_image(pinned).contains(&"mutable-image-tag"),
                "{pinned}"
            );
        }
    }

    #[test]
    fn the_system_a_service_runs_is_read_from_its_image_s_last_name() {
        for redis in [
            "redis",
            "docker.io/library/redis:7",
            "ghcr.io/acme/redis-stack:7",
            "valkey@sha256:abc",
            "localhost:5000/keydb:6",
        ] {
            assert!(
                ids_for_image(redis).contains(&"redis-single-point"),
                "{redis}"
            );
        }
        for postgres in ["postgres:16", "localhost:5000/db/postgresql@sha256:abc"] {
            assert!(
                ids_for_image(postgres).contains(&"postgres-without-ha"),
                "{postgres}"
            );
        }
        for other in ["redis-exporter:1", "redis/other:1", "registry:5000"] {
            let found = ids_for_image(other);
            assert!(
                !found.contains(&"redis-single-point") && !found.contains(&"postgres-without-ha"),
                "{other}: {found:?}"
            );
        }
    }

    #[test]
    fn a_secret_looking_name_with_a_literal_value_is_found_even_naming_a_file() {
        let spec = "
platform: t
tiers:
  - name: apps
    services:
      s: { image: t/s:1.0.0, env: { DB_PASSWORD: x, my_token: y, PASSWD_FILE: z, Credential: '', HOST: h } }
";
        let messages: Vec<String> = findings(spec, None)
            .into_iter()
            .filter(|f| f.check.id == "secret-in-env")
            .map(|f| f.diagnostic.message)
            .collect();
        assert_eq!(
            messages,
            [
                "`s` sets DB_PASSWORD in plain text",
                "`s` sets my_token in plain text",
                "`s` sets PASSWD_FILE in plain text"
            ]
        );
    }

    #[test]
    fn a_mounted_token_is_its_own_finding_unless_the_blueprint_needs_it() {
        let found = findings(
            "
platform: t
tiers:
  - name: ops
    services:
      prometheus: { blueprint: prometheus }
      hub: { image: t/hub:1.0.0, ports: { http: 8080 }, serviceAccountToken: true }
",
            None,
        );
        let tokens: Vec<&str> = found
            .iter()
            .filter(|f| f.check.id == "api-token")
            .map(|f| f.object.as_str())
            .collect();
        assert_eq!(tokens, ["service hub"]);
        assert!(
            !found
                .iter()
                .any(|f| f.check.id == "relaxed-security" && f.object == "service hub"),
            "a token is not a relaxed security profile"
        );
    }

    #[test]
    fn environments_that_are_not_production_may_run_single_replicas() {
        let spec = "
platform: t
environments:
  dev: { production: false }
  local: {}
  sandbox: { production: true }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql }
";
        let has = |env: Option<&str>| {
            findings(spec, env)
                .iter()
                .any(|f| f.check.id == "postgres-without-ha")
        };
        assert!(has(None));
        assert!(!has(Some("dev")));
        assert!(!has(Some("local")));
        assert!(has(Some("sandbox")));
    }

    #[test]
    fn every_mode_a_fix_suggests_exists() {
        let catalog = crate::blueprint::Catalog::builtin();
        let lint_fixes = crate::lint::CHECKS.iter().map(|c| c.info.fix);
        for fix in CHECKS.iter().map(|c| c.fix).chain(lint_fixes) {
            let mut blueprint = None;
            for part in fix.split(['`', ',', '{', '}']) {
                let part = part.trim();
                if let Some(name) = part.strip_prefix("blueprint: ") {
                    blueprint = catalog.get(name.trim());
                    assert!(blueprint.is_some(), "`{name}` in {fix:?}");
                } else if let Some(mode) = part.strip_prefix("mode: ") {
                    let modes: Vec<&str> = match blueprint {
                        Some(b) => b.modes.iter().map(|m| m.name).collect(),
                        None => catalog
                            .all()
                            .flat_map(|b| b.modes.iter().map(|m| m.name))
                            .collect(),
                    };
                    assert!(modes.contains(&mode.trim()), "`mode: {mode}` in {fix:?}");
                }
            }
        }
    }
}
