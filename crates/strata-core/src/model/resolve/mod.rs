//! From a decoded spec to a [`Platform`]: defaults, environment, names,
//! references and waves, with every problem of the spec reported at once.

mod backup;
mod blueprint;
mod calls;
mod containers;
mod delivery;
mod env;
mod environment;
mod fill;
mod gateways;
mod limits;
mod mesh;
mod namespaces;
mod needs;
mod network;
mod operators;
mod probes;
mod runtime;
mod scheduling;
mod secrets;
mod service;
mod slo;
mod storage;
mod tiers;
mod tune;

pub use environment::environment_names;
pub use gateways::{KONG_TLS_PORT, KONG_TLS_PORT_NUMBER};
pub use limits::{DEFAULT_CPU_REQUEST, DEFAULT_MEMORY_REQUEST};
pub use probes::DEFAULT_STARTUP_SECONDS;
pub use runtime::{DEFAULT_CPU_TARGET, DEFAULT_TERMINATION_SECONDS, DEFAULT_USER};
pub use storage::DEFAULT_MOUNT_PATH;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::endpoint::Endpoints;
use super::{
    CallPolicy, Catalog, Container, Dependency, DependencyTarget, EnvVar, External, ExternalCall,
    FileContent, Lookup, Objectives, Platform, Service, ServiceId, Sidecar, TierId, external,
};
use crate::diag::{Diagnostic, suggestion};
use crate::source::Span;
use crate::spec::null::OrNone;
use crate::spec::platform::{EnvironmentSpec, PlatformSpec};
use crate::spec::service::ServiceSpec;
use crate::spec::{self, Document, Map, Spanned};
use environment::{overlay, select};

/// Resolves a parsed spec in environment `env` (or the base spec when `None`).
///
/// # Errors
/// Every problem found: unknown environment, overrides, names, references,
/// dependencies and cycles.
///
/// ```
/// use strata_core::{model, source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "
/// platform: demo
/// tiers:
///   - name: data
///     services:
///       db: { image: postgres:16, ports: { pg: 5432 }, storage: 10Gi }
///   - name: apps
///     services:
///       api: { image: demo/api:1.0, env: { DB: '${db.address}' } }
/// ");
/// let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
/// let api = platform.service("api").unwrap();
/// assert_eq!(api.wave, 2);
/// ```
pub fn resolve(
    doc: &Document,
    env: Option<&str>,
    catalog: Catalog,
) -> Result<Platform, Vec<Diagnostic>> {
    resolve_on(doc, env, catalog, None)
}

/// [`resolve`], wiring services on `threads` threads (`None`: as many as
/// the platform's size calls for).
fn resolve_on(
    doc: &Document,
    env: Option<&str>,
    catalog: Catalog,
    threads: Option<usize>,
) -> Result<Platform, Vec<Diagnostic>> {
    // The base spec is used as parsed; an environment's is the parsed one
    // with the environment's overrides applied.
    let (spec, environment) = match env {
        None => (Cow::Borrowed(&doc.spec), None),
        Some(name) => {
            let environment = select(doc, name).map_err(|d| vec![d])?;
            (Cow::Owned(overlay(doc, name)?), Some(environment))
        }
    };
    let mut resolver = Resolver {
        doc,
        spec: &spec,
        environment,
        env_name: env,
        renames: BTreeMap::new(),
        catalog,
        errors: Vec::new(),
        externals: Vec::new(),
        siblings: None,
        referenced: Vec::new(),
        threads,
    };
    let platform = resolver.run(env);
    if resolver.errors.is_empty() {
        Ok(platform)
    } else {
        resolver
            .errors
            .sort_by_key(|d| d.labels.first().map(|l| l.span.start()));
        resolver.errors.dedup();
        Err(resolver.errors)
    }
}

pub(in crate::model) struct Resolver<'a> {
    pub(in crate::model) doc: &'a Document,
    pub(in crate::model) spec: &'a PlatformSpec,
    pub(in crate::model) environment: Option<&'a EnvironmentSpec>,
    /// The environment's name, if one is selected.
    pub(in crate::model) env_name: Option<&'a str>,
    /// Namespaces the environment renames: base name to its name here.
    renames: BTreeMap<String, String>,
    catalog: Catalog,
    pub(in crate::model) errors: Vec<Diagnostic>,
    /// The platform's externals, resolved before the services that call them.
    pub(in crate::model) externals: Vec<External>,
    /// Every service as blueprint services see them, made when the first
    /// one is resolved and shared by all.
    pub(in crate::model) siblings: Option<std::sync::Arc<[crate::model::Sibling]>>,
    /// Externals referenced by the service being resolved (indices into
    /// `externals`), taken once its env and configuration are read.
    pub(in crate::model) referenced: Vec<usize>,
    /// Threads to build and wire services on; `None` for as many as the
    /// platform's size calls for.
    threads: Option<usize>,
}

fn text<T: AsRef<str>>(s: &Spanned<T>) -> String {
    s.value.as_ref().to_string()
}

pub(in crate::model) fn labels<K: AsRef<str>, V: AsRef<str>>(
    map: Option<&Spanned<Map<K, V>>>,
) -> BTreeMap<String, String> {
    map.map(|m| {
        m.value
            .iter()
            .map(|(k, v)| (text(k), v.value.as_ref().to_string()))
            .collect()
    })
    .unwrap_or_default()
}

/// Services by name, the names borrowed from the spec.
type ServiceNames<'n> = HashMap<&'n str, ServiceId>;

/// What [`Resolver::wire`] finds for one service, written into it once
/// every service has been read.
struct Wired {
    needs: Vec<Dependency>,
    env: Vec<EnvVar>,
    init: Vec<Container>,
    sidecars: Vec<Sidecar>,
    externals: Vec<ExternalCall>,
    /// Its blueprint's config files with references resolved, by position.
    config: Vec<(usize, String)>,
}

/// Services below this many are built and wired on one thread: a thread costs more
/// than it saves there.
const ALONE_BELOW: usize = 512;

/// Threads that build and wire the services of a large platform: two, where the
/// machine has them. The split was only ever measured on two cores, so more
/// are not assumed to help.
fn threads(services: usize) -> usize {
    if services < ALONE_BELOW {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    }
}

impl<'a> Resolver<'a> {
    pub(in crate::model) fn error(
        &mut self,
        code: &'static str,
        message: String,
        span: Span,
        label: &str,
        help: String,
    ) {
        let diagnostic = Diagnostic::error(code, message)
            .at(&self.doc.file, span, label)
            .help(help);
        self.errors.push(diagnostic);
    }

    fn run(&mut self, env: Option<&str>) -> Platform {
        let spec = self.spec;
        let base_shared = spec
            .namespace
            .as_ref()
            .map_or_else(|| spec.platform.value.0.clone(), text);
        self.renames = self.namespace_renames(&base_shared);
        let shared_namespace = self.renamed(&base_shared);

        let mut tiers = self.tiers(&shared_namespace);
        let tier_index: HashMap<String, TierId> = tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), TierId(i)))
            .collect();
        let (mut services, specs, service_index) = self.services(&tiers);
        for (i, service) in services.iter().enumerate() {
            tiers[service.tier.0].services.push(ServiceId(i));
        }
        let tier_wait_spans = self.tier_waits(&mut tiers, &tier_index);
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        self.externals = self.resolve_externals(&names);
        let wired = self.wire_all(&services, &specs, &service_index, &tier_index);
        for (service, wired) in services.iter_mut().zip(wired) {
            service.needs = wired.needs;
            service.env = wired.env;
            if !(wired.init.is_empty() && wired.sidecars.is_empty() && wired.externals.is_empty()) {
                let extras = service.rare.make_mut();
                extras.init = wired.init;
                extras.sidecars = wired.sidecars;
                extras.externals = wired.externals;
            }
            if let Some(config) = &mut service.config {
                for (position, text) in wired.config {
                    config.files[position].content = FileContent::Inline(text);
                }
            }
        }
        self.backups(&mut services, &specs, &service_index);
        let tier_names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
        let mut operator_errors =
            operators::check_operators(&self.catalog, spec, &tier_names, &self.doc.file);
        // An operator installed by a tier the environment leaves out.
        for (_, operator) in spec.operators.iter().flat_map(|o| o.value.iter()) {
            if let Some(tier) = &operator.value.tier
                && self.left_out(&tier.value.0, true, tier.span)
            {
                operator_errors.retain(|e| e.labels.first().map(|l| l.span) != Some(tier.span));
            }
        }
        self.errors.extend(operator_errors);
        let objectives: Vec<(&ServiceSpec, bool)> = specs
            .iter()
            .zip(&services)
            .map(|(spec, service)| (&**spec, tiers[service.tier.0].mesh))
            .collect();
        self.errors.extend(slo::check_slo(
            &self.catalog,
            spec,
            &objectives,
            &self.doc.file,
        ));
        let node_pools = self.node_pools();
        let default_pool = spec.defaults.as_ref().and_then(|d| d.value.pool.as_ref());
        let names: Vec<String> = node_pools.iter().map(|p| p.name.clone()).collect();
        let check_pool = |resolver: &mut Self, pool: &Spanned<spec::names::Name>| {
            if !names.contains(&pool.value.0) {
                let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
                let help = suggestion(&pool.value.0, &candidates, "node pool");
                resolver.error(
                    "unknown-pool",
                    format!("`{}` is not a node pool of this platform", pool.value.0),
                    pool.span,
                    "no such node pool",
                    help,
                );
            }
        };
        if let Some(pool) = default_pool {
            check_pool(self, pool);
        }
        for (service, service_spec) in services.iter_mut().zip(&specs) {
            let own = service_spec.pool.as_ref().map(|p| match &p.value {
                OrNone::Value(name) => Some(Spanned {
                    value: name.clone(),
                    span: p.span,
                }),
                OrNone::None => None,
            });
            if let Some(Some(pool)) = &own {
                check_pool(self, pool);
            }
            // Operators of other modes' pools are theirs; a daemon runs on every node.
            service.pool = match own {
                Some(own) => own.map(|p| p.value.0),
                None => default_pool.map(|p| p.value.0.clone()),
            };
        }
        let priorities = self.priorities(&services, &specs);
        let networking = self.networking(&mut services, &specs, &tiers, &service_index);
        let (tenants, namespaces) = self.namespaces(&tiers, &services);
        self.check_unbounded(&services, &specs, &namespaces);
        let secrets = self.secrets(&services, &specs, &shared_namespace);
        let registries = self.registries(&secrets);
        let storage_classes = self.storage_classes();
        let (waves, critical_path) = self.waves(&mut services, &mut tiers, &tier_wait_spans);
        let argocd = self.argocd(env, &shared_namespace);
        let mentions = self.mentions(&services, &specs);
        let lookup = Lookup::new(&services, &networking.edges);
        Platform {
            name: spec.platform.value.0.clone(),
            environment: env.map(str::to_string),
            production: self
                .environment
                .and_then(|e| e.production.as_ref())
                .map_or(env != Some("local"), |p| p.value),
            labels: self.own_labels(spec.labels.as_ref()),
            shared_namespace,
            tiers,
            services,
            namespaces,
            node_pools,
            priorities,
            argocd,
            tenants,
            storage_classes,
            secrets,
            service_monitors: spec
                .monitoring
                .as_ref()
                .and_then(|m| m.value.service_monitors.as_ref())
                .is_some_and(|s| s.value),
            slo: spec
                .monitoring
                .as_ref()
                .and_then(|m| m.value.slo.as_ref())
                .map(|s| Objectives::of(&s.value)),
            gateways: networking.gateways,
            routes: networking.routes,
            edges: networking.edges,
            call_policies: networking.call_policies,
            externals: std::mem::take(&mut self.externals),
            mentions,
            uncalled: calls::uncalled(&specs),
            network: networking.network,
            registries,
            waves,
            critical_path,
            file: self.doc.file.clone(),
            lookup,
        }
    }

    /// Every service's waits, variables, init steps, sidecars, externals
    /// and blueprint config, read against every other's exports.
    fn wire_all(
        &mut self,
        services: &[Service],
        specs: &[service::Filled<'_>],
        service_index: &ServiceNames<'_>,
        tier_index: &HashMap<String, TierId>,
    ) -> Vec<Wired> {
        let threads = self.threads_for(services.len());
        self.on_threads(threads, services.len(), |resolver, i| {
            resolver.wire(i, services, &specs[i], service_index, tier_index)
        })
    }

    /// Threads for per-service work on `services` services: `self.threads`,
    /// or as many as the platform's size calls for.
    fn threads_for(&self, services: usize) -> usize {
        self.threads
            .unwrap_or_else(|| threads(services))
            .clamp(1, services.max(1))
    }

    /// `work` done for each of `0..count` in order, on `threads` threads,
    /// each on a contiguous run with a resolver of its own, whose errors are
    /// merged in that order: the results and every diagnostic are those of
    /// one thread. Each thread writes its results straight into their places
    /// in the one vector returned, so large ones (services) are never held
    /// twice: a vector per run moved into a vector of all would hold every
    /// service twice at once.
    fn on_threads<R: Send>(
        &mut self,
        threads: usize,
        count: usize,
        work: impl Fn(&mut Resolver<'a>, usize) -> R + Sync,
    ) -> Vec<R> {
        if threads <= 1 {
            return (0..count).map(|i| work(self, i)).collect();
        }
        let run = count.div_ceil(threads);
        let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(count).collect();
        let this: &Self = self;
        let work = &work;
        let found: Vec<Vec<Diagnostic>> = std::thread::scope(|scope| {
            let fill = move |(t, places): (usize, &mut [Option<R>])| {
                let mut worker = this.worker();
                for (offset, place) in places.iter_mut().enumerate() {
                    *place = Some(work(&mut worker, t * run + offset));
                }
                worker.errors
            };
            let mut runs = slots.chunks_mut(run).enumerate();
            let first = runs.next();
            let others: Vec<_> = runs
                .map(|places| scope.spawn(move || fill(places)))
                .collect();
            let first = first.map(fill).unwrap_or_default();
            std::iter::once(first)
                .chain(others.into_iter().map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                }))
                .collect()
        });
        for errors in found {
            self.errors.extend(errors);
        }
        // Collected in place, into the memory of the places (a `flatten`
        // would not know the length, and grow a new vector by doubling).
        slots
            .into_iter()
            .map(|place| place.expect("each thread fills every place of its run"))
            .collect()
    }

    /// A resolver for another thread: this one's settings and externals,
    /// errors and references of its own.
    fn worker(&self) -> Resolver<'a> {
        Resolver {
            doc: self.doc,
            spec: self.spec,
            environment: self.environment,
            env_name: self.env_name,
            renames: self.renames.clone(),
            catalog: self.catalog,
            errors: Vec::new(),
            externals: self.externals.clone(),
            siblings: self.siblings.clone(),
            referenced: Vec::new(),
            threads: Some(1),
        }
    }

    /// Service `i`'s waits, variables, init steps, sidecars, externals and
    /// blueprint config, with the errors of each.
    fn wire(
        &mut self,
        i: usize,
        services: &[Service],
        service_spec: &ServiceSpec,
        service_index: &ServiceNames<'_>,
        tier_index: &HashMap<String, TierId>,
    ) -> Wired {
        let endpoints = Endpoints::new(services);
        let service = &services[i];
        let mut needs = self.needs(service_spec, service_index, tier_index);
        let (env, mut references) =
            self.env(service_spec.env.as_ref(), "", service_index, endpoints);
        let (init, init_references) =
            self.init_steps(service, service_spec, service_index, endpoints);
        references.extend(init_references);
        let (sidecars, sidecar_references) =
            self.sidecars(service, service_spec, service_index, endpoints);
        references.extend(sidecar_references);
        let (config_references, config) = self.blueprint_config(service, service_index, endpoints);
        // A service may read its own endpoint (an advertised address, say)
        // without waiting for itself.
        let own = DependencyTarget::Service(ServiceId(i));
        needs.extend(
            references
                .into_iter()
                .chain(config_references)
                .filter(|r| r.target != own),
        );
        // Externals are running already: an edge, never a wait.
        let mut referenced = std::mem::take(&mut self.referenced);
        referenced.sort_unstable();
        let externals = referenced
            .into_iter()
            .map(|external| ExternalCall {
                external,
                calls: CallPolicy::default(),
            })
            .collect();
        self.calls_without_waiting(&service.name, &mut needs, service_spec, service_index);
        // Kept as long as the platform: without the room left by growing.
        needs.shrink_to_fit();
        Wired {
            needs,
            env,
            init,
            sidecars,
            externals,
            config,
        }
    }

    /// Labels the spec adds to objects, with the keys Strata sets itself
    /// reported rather than silently overwritten.
    pub(in crate::model) fn own_labels<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        map: Option<&Spanned<Map<K, V>>>,
    ) -> BTreeMap<String, String> {
        for (key, _) in map.iter().flat_map(|m| m.value.iter()) {
            let name = key.value.as_ref();
            let why = match name {
                "app.kubernetes.io/part-of" => Some(
                    "Strata sets it to the platform's name: rename the platform (`platform:`), or use a key of your own",
                ),
                "app.kubernetes.io/name"
                | "app.kubernetes.io/instance"
                | "app.kubernetes.io/component"
                | "app.kubernetes.io/managed-by" => Some(
                    "Strata sets it on every object (selectors rely on it): use a key of your own",
                ),
                _ if name.starts_with("strata.dev/") => {
                    Some("the `strata.dev/` prefix is Strata's own: use a key of your own")
                }
                _ if name.starts_with("pod-security.kubernetes.io/") => Some(
                    "Pod Security levels are set with `namespaces.NAME.podSecurity: { enforce, audit, warn }`",
                ),
                _ => None,
            };
            if let Some(help) = why {
                self.error(
                    "reserved-label",
                    format!("the label `{name}` is set by Strata"),
                    key.span,
                    "reserved label",
                    help.into(),
                );
            }
        }
        labels(map)
    }
}

#[cfg(test)]
mod tests {
    use super::{Lookup, resolve_on};
    use crate::diag::Diagnostic;
    use crate::model::Platform;
    use crate::source::SourceFile;
    use crate::spec;

    /// The platform as text, its lookup (a hash map, whose order is the
    /// hasher's) left out, or the errors.
    fn shape(result: Result<Platform, Vec<Diagnostic>>) -> Result<String, Vec<Diagnostic>> {
        result.map(|mut platform| {
            platform.lookup = Lookup::default();
            format!("{platform:#?}")
        })
    }

    /// The spec resolved in each environment on one thread and on two and
    /// three, each the same; the one-thread results.
    fn same_on_threads(file: &SourceFile) -> Vec<Result<String, Vec<Diagnostic>>> {
        let doc = spec::parse(file).unwrap();
        let mut environments = vec![None];
        environments.extend(super::environment_names(&doc.spec).into_iter().map(Some));
        let catalog = crate::blueprint::catalog();
        environments
            .into_iter()
            .map(|env| {
                let alone = shape(resolve_on(&doc, env, catalog, Some(1)));
                for threads in [2, 3] {
                    let shared = shape(resolve_on(&doc, env, catalog, Some(threads)));
                    assert!(
                        alone == shared,
                        "{} in {env:?} on {threads} threads",
                        file.name()
                    );
                }
                alone
            })
            .collect()
    }

    #[test]
    fn every_example_resolves_the_same_on_several_threads() {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut resolved = 0;
        for entry in std::fs::read_dir(examples).unwrap() {
            let path = entry.unwrap().path().join("platform.yaml");
            if !path.exists() {
                continue;
            }
            let file = SourceFile::new("platform.yaml", std::fs::read_to_string(&path).unwrap());
            for result in same_on_threads(&file) {
                result.unwrap();
                resolved += 1;
            }
        }
        assert!(resolved >= 5, "{resolved} environments");
    }

    #[test]
    fn errors_of_many_services_are_the_same_on_several_threads() {
        // One mistake per service, spread over the runs each thread takes,
        // and a duplicate name; every service below also referenced.
        let text = "\
platform: p
externals:
  payments: { hosts: [pay.example.com], ports: { https: 443 }, cidr: 10.0.0.0/8 }
environments:
  dev: { without: [search] }
tiers:
  - name: data
    services:
      db: { image: postgres:16, ports: { pg: 5432 }, storage: 1Gi }
      search: { image: s:1, ports: { http: 9200 } }
  - name: apps
    services:
      a: { image: a:1, env: { X: '${nope.host}' } }
      b: { image: b:1, env: { X: '${db.hots}' } }
      c: { image: c:1, env: { X: '${db.host' } }
      d: { image: d:1, needs: [nothing] }
      e: { image: e:1, calls: { db: { wait: false } } }
      f: { image: f:1, init: { f: { image: i:1 } } }
      g: { image: g:1, sidecars: { log: { image: l:1, mounts: [data] } } }
      h: { image: h:1, env: { X: '${payments.nope}', Y: '${search.url}' } }
      i: { image: i:1, env: { X: '${db.address}', Y: '${a.name}' }, needs: [tier/nope] }
      db: { image: x:1 }
      j: { image: j:1, env: { X: '${search.host}', Y: '${payments.host}' } }
";
        let file = SourceFile::new("p.yaml", text);
        let results = same_on_threads(&file);
        let codes = |result: &Result<String, Vec<Diagnostic>>| {
            let mut codes: Vec<&str> = result
                .as_ref()
                .unwrap_err()
                .iter()
                .map(|d| d.code)
                .collect();
            codes.sort_unstable();
            codes.dedup();
            codes
        };
        let mut expected = vec![
            "duplicate-service",
            "invalid-reference",
            "reserved-name",
            "unknown-callee",
            "unknown-dependency",
            "unknown-field",
            "unknown-reference",
            "unknown-tier",
            "unknown-volume",
            "wait-without-dependency",
        ];
        assert_eq!(codes(&results[0]), expected);
        // Without `search`, its references are errors of their own.
        expected.insert(2, "left-out");
        assert_eq!(codes(&results[1]), expected);
    }

    #[test]
    fn a_large_platform_resolves_the_same_on_its_own_threads() {
        let text = crate::synthetic::platform_yaml(super::ALONE_BELOW + 100, 4, 7);
        let file = SourceFile::new("synthetic.yaml", text);
        let doc = spec::parse(&file).unwrap();
        let catalog = crate::blueprint::catalog();
        for env in [None, Some("prod")] {
            let alone = shape(resolve_on(&doc, env, catalog, Some(1))).unwrap();
            assert_eq!(alone, shape(resolve_on(&doc, env, catalog, None)).unwrap());
        }
    }
}
