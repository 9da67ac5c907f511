//! From a decoded spec to a [`Platform`]: defaults, environment, names,
//! references and waves, with every problem of the spec reported at once.

mod environment;
mod fill;
mod network;
mod operators;
mod runtime;
mod slo;
mod tune;

pub use environment::environment_names;
pub use network::{KONG_TLS_PORT, KONG_TLS_PORT_NUMBER};
pub use runtime::{
    DEFAULT_CPU_TARGET, DEFAULT_PROBE_PATH, DEFAULT_STARTUP_SECONDS, DEFAULT_TERMINATION_SECONDS,
    DEFAULT_USER,
};

use std::collections::{BTreeMap, HashMap};

use super::endpoint::{exports, with_overrides};
use super::graph::layer;
use super::reference::{Piece, split};
use super::*;
use crate::diag::{Diagnostic, suggestion};
use crate::quantity::{Measure, Quantity};
use crate::source::Span;
use crate::spec::names::EnvName;
use crate::spec::platform::{BudgetSpec, ContainerLimitsSpec, EnvironmentSpec, PlatformSpec};
use crate::spec::service::{
    EnvValueSpec, NeedSpec, PortSpec, ResourceList, ResourcesSpec, ServiceSpec, StorageSpec,
    VolumeSpec,
};
use crate::spec::{self, Document, Map, Spanned};
use environment::{overlay, select};

/// Requests of a service when neither it nor `defaults` sets them.
pub const DEFAULT_CPU_REQUEST: Quantity = Quantity::from_milli(100);
/// Memory request of a service when neither it nor `defaults` sets one.
pub const DEFAULT_MEMORY_REQUEST: Quantity = Quantity::from_milli(128 * 1024 * 1024 * 1000);
/// Where a volume is mounted when the spec does not say.
pub const DEFAULT_MOUNT_PATH: &str = "/data";

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
    let (spec, environment) = match env {
        None => (doc.spec.clone(), None),
        Some(name) => {
            let environment = select(doc, name).map_err(|d| vec![d])?.clone();
            let root = overlay(doc, name)?;
            (spec::decode_root(&doc.file, &root)?, Some(environment))
        }
    };
    let mut resolver = Resolver {
        doc,
        spec: &spec,
        environment: environment.as_ref(),
        env_name: env,
        renames: BTreeMap::new(),
        catalog,
        errors: Vec::new(),
        externals: Vec::new(),
        referenced: Vec::new(),
    };
    let platform = resolver.run(env);
    if resolver.errors.is_empty() {
        Ok(platform)
    } else {
        resolver
            .errors
            .sort_by_key(|d| d.labels.first().map(|l| l.span.start));
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
    /// Externals referenced by the service being resolved (indices into
    /// `externals`), taken once its env and configuration are read.
    pub(in crate::model) referenced: Vec<usize>,
}

fn text<T: AsRef<str>>(s: &Spanned<T>) -> String {
    s.value.as_ref().to_string()
}

fn labels<K: AsRef<str>>(map: Option<&Spanned<Map<K, String>>>) -> BTreeMap<String, String> {
    map.map(|m| {
        m.value
            .iter()
            .map(|(k, v)| (text(k), v.value.clone()))
            .collect()
    })
    .unwrap_or_default()
}

impl Resolver<'_> {
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
            .map(text)
            .unwrap_or_else(|| spec.platform.value.0.clone());
        self.renames = self.namespace_renames(&base_shared);
        let shared_namespace = self.renamed(&base_shared);

        let mut tiers = self.tiers(&shared_namespace);
        let tier_index: HashMap<String, TierId> = tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), TierId(i)))
            .collect();
        let (mut services, specs) = self.services(&tiers);
        for (i, service) in services.iter().enumerate() {
            tiers[service.tier.0].services.push(ServiceId(i));
        }
        let tier_wait_spans = self.tier_waits(&mut tiers, &tier_index);
        let service_index: HashMap<String, ServiceId> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), ServiceId(i)))
            .collect();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        self.externals = self.resolve_externals(&names);
        let endpoints: Vec<Vec<(String, String)>> = services
            .iter()
            .map(|s| {
                let own = s
                    .tuning
                    .as_ref()
                    .map_or(&[][..], |t| &t.supplied.exports[..]);
                with_overrides(exports(&s.name, &s.namespace, &s.ports), own)
            })
            .collect();
        for (i, service_spec) in specs.iter().enumerate() {
            let needs = self.needs(service_spec, &service_index, &tier_index);
            let (env_vars, mut references) =
                self.env(service_spec.env.as_ref(), "", &service_index, &endpoints);
            let (init, init_references) =
                self.init_steps(&services[i], service_spec, &service_index, &endpoints);
            references.extend(init_references);
            services[i].init = init;
            services[i].needs = needs;
            // A service may read its own endpoint (an advertised address, say)
            // without waiting for itself.
            services[i].needs.extend(
                references
                    .into_iter()
                    .filter(|r| r.target != DependencyTarget::Service(ServiceId(i))),
            );
            services[i].env = env_vars;
            let config_references =
                self.blueprint_config(&mut services[i], &service_index, &endpoints);
            services[i].needs.extend(
                config_references
                    .into_iter()
                    .filter(|r| r.target != DependencyTarget::Service(ServiceId(i))),
            );
            // Externals are running already: an edge, never a wait.
            let mut referenced = std::mem::take(&mut self.referenced);
            referenced.sort_unstable();
            services[i].externals = referenced
                .into_iter()
                .map(|external| ExternalCall {
                    external,
                    calls: CallPolicy::default(),
                })
                .collect();
            self.calls_without_waiting(&mut services[i], service_spec, &service_index);
        }
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
            .map(|(spec, service)| (spec, tiers[service.tier.0].mesh))
            .collect();
        self.errors
            .extend(slo::check_slo(spec, &objectives, &self.doc.file));
        let node_pools = self.node_pools();
        for (service, service_spec) in services.iter_mut().zip(&specs) {
            if let Some(pool) = &service_spec.pool {
                let names: Vec<&str> = node_pools.iter().map(|p| p.name.as_str()).collect();
                if !names.contains(&pool.value.0.as_str()) {
                    let help = suggestion(&pool.value.0, &names, "node pool");
                    self.error(
                        "unknown-pool",
                        format!("`{}` is not a node pool of this platform", pool.value.0),
                        pool.span,
                        "no such node pool",
                        help,
                    );
                }
                service.pool = Some(text(pool));
            }
        }
        let priorities = self.priorities(&services, &specs);
        let networking = self.networking(&mut services, &specs, &tiers);
        let (tenants, namespaces) = self.namespaces(&tiers, &services);
        let secrets = self.secrets(&services, &specs, &shared_namespace);
        let registries = self.registries(&secrets);
        let storage_classes = self.storage_classes();
        let (waves, critical_path) = self.waves(&mut services, &mut tiers, &tier_wait_spans);
        let argocd = self.argocd(env, &shared_namespace);
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
            externals: std::mem::take(&mut self.externals),
            network: networking.network,
            registries,
            waves,
            critical_path,
            file: self.doc.file.clone(),
        }
    }

    fn tiers(&mut self, shared_namespace: &str) -> Vec<Tier> {
        let mut tiers: Vec<Tier> = Vec::new();
        if self.spec.tiers.value.is_empty() {
            self.error(
                "empty-platform",
                "the platform has no tiers".into(),
                self.spec.tiers.span,
                "no tiers",
                "add at least one tier: `- name: apps` with `services:`".into(),
            );
        }
        for tier in &self.spec.tiers.value {
            let name = text(&tier.value.name);
            if let Some(first) = tiers.iter().find(|t| t.name == name) {
                let diagnostic = Diagnostic::error(
                    "duplicate-tier",
                    format!("the tier `{name}` is declared twice"),
                )
                .at(&self.doc.file, tier.value.name.span, "declared again here")
                .also(first.span, "first declared here")
                .help("give each tier its own name, or merge their services");
                self.errors.push(diagnostic);
                continue;
            }
            tiers.push(Tier {
                name,
                namespace: tier
                    .value
                    .namespace
                    .as_ref()
                    .map(|n| self.renamed(&n.value.0))
                    .unwrap_or_else(|| shared_namespace.to_string()),
                after: Vec::new(),
                services: Vec::new(),
                manifests: tier
                    .value
                    .manifests
                    .iter()
                    .flat_map(|m| &m.value)
                    .map(|m| FileRef {
                        path: m.value.clone(),
                        span: m.span,
                    })
                    .collect(),
                manifest_wave: None,
                mesh: tier.value.mesh.as_ref().is_none_or(|m| m.value),
                span: tier.value.name.span,
            });
        }
        tiers
    }

    /// Fills each tier's `after`; returns where each wait is written.
    fn tier_waits(
        &mut self,
        tiers: &mut [Tier],
        index: &HashMap<String, TierId>,
    ) -> HashMap<(TierId, TierId), Span> {
        let names: Vec<String> = tiers.iter().map(|t| t.name.clone()).collect();
        let mut spans = HashMap::new();
        for tier_spec in &self.spec.tiers.value {
            let Some(&own) = index.get(tier_spec.value.name.value.0.as_str()) else {
                continue;
            };
            if tiers[own.0].span != tier_spec.value.name.span {
                continue;
            }
            for after in tier_spec.value.after.iter().flat_map(|a| &a.value) {
                match index.get(after.value.0.as_str()) {
                    Some(&id) => {
                        tiers[own.0].after.push(id);
                        spans.entry((own, id)).or_insert(after.span);
                    }
                    None if self.left_out(&after.value.0, true, after.span) => {}
                    None => {
                        let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
                        let help = suggestion(&after.value.0, &candidates, "tier");
                        self.error(
                            "unknown-tier",
                            format!("`{}` is not a tier of this platform", after.value.0),
                            after.span,
                            "no such tier",
                            help,
                        );
                    }
                }
            }
        }
        spans
    }

    fn services(&mut self, tiers: &[Tier]) -> (Vec<Service>, Vec<ServiceSpec>) {
        let mut services: Vec<Service> = Vec::new();
        let mut specs = Vec::new();
        let mut declared: HashMap<String, usize> = HashMap::new();
        for tier_spec in &self.spec.tiers.value {
            let Some(tier_id) = tiers
                .iter()
                .position(|t| t.span == tier_spec.value.name.span)
            else {
                continue;
            };
            for (name, service) in tier_spec.value.services.iter().flat_map(|s| s.value.iter()) {
                if let Some(first) = declared.get(&name.value.0).map(|&i| &services[i]) {
                    let diagnostic = Diagnostic::error(
                        "duplicate-service",
                        format!("the service `{}` is declared twice", name.value.0),
                    )
                    .at(&self.doc.file, name.span, "declared again here")
                    .also(first.span, "first declared here")
                    .help("service names are unique across the whole platform; rename one");
                    self.errors.push(diagnostic);
                    continue;
                }
                let (mut spec, mut tuning) =
                    self.apply_blueprint(name, &service.value, &tiers[tier_id]);
                self.scheduler(name, tuning.as_ref(), &tiers[tier_id], &mut spec);
                if let Some(tuning) = &mut tuning
                    && let Some(operator) = tuning.mode.operator
                {
                    tuning.operator_namespace =
                        match operators::operator_tier(self.spec, operator) {
                            Some(tier) => tiers
                                .iter()
                                .find(|t| t.name == tier.value.0)
                                .map(|t| t.namespace.clone()),
                            None => operators::operator_namespace(self.spec, operator)
                                .map(str::to_string),
                        };
                }
                let mut built = self.service(name, &spec, TierId(tier_id), &tiers[tier_id]);
                built.tuning = tuning;
                declared.insert(name.value.0.clone(), services.len());
                services.push(built);
                specs.push(spec);
            }
        }
        (services, specs)
    }

    fn service(
        &mut self,
        name: &Spanned<spec::names::Name>,
        spec: &ServiceSpec,
        tier: TierId,
        tier_value: &Tier,
    ) -> Service {
        let defaults = self.spec.defaults.as_ref().map(|d| &d.value);
        if let Some(blueprint) = &spec.blueprint
            && self.catalog.get(&blueprint.value.0).is_none()
        {
            let names = self.catalog.names();
            let help = match crate::diag::closest(&blueprint.value.0, names.iter().copied()) {
                Some(close) => format!(
                    "did you mean `{close}`? docs/blueprints.md lists the catalog; or give the service an `image:`"
                ),
                None => format!(
                    "the catalog has: {}; or give the service an `image:`",
                    names.join(", ")
                ),
            };
            self.error(
                "unknown-blueprint",
                format!("`{}` is not a blueprint in the catalog", blueprint.value.0),
                blueprint.span,
                "unknown blueprint",
                help,
            );
        }
        if spec.image.is_none() && spec.blueprint.is_none() {
            self.error(
                "missing-image",
                format!(
                    "the service `{}` has neither `image` nor `blueprint`",
                    name.value.0
                ),
                name.span,
                "nothing to run",
                "add `image: REGISTRY/NAME:VERSION`".into(),
            );
        }
        let storage = spec
            .storage
            .as_ref()
            .map(|s| self.volume(s, defaults.and_then(|d| d.storage_class.as_ref())));
        let volumes = self.named_volumes(
            spec,
            storage.as_ref(),
            defaults.and_then(|d| d.storage_class.as_ref()),
        );
        let kind = spec.kind.as_ref().map(|k| k.value).unwrap_or(
            if storage.is_some() || !volumes.is_empty() {
                WorkloadKind::Stateful
            } else {
                WorkloadKind::Stateless
            },
        );
        match (&spec.schedule, kind) {
            (None, WorkloadKind::Cron) => self.error(
                "missing-schedule",
                format!("the cron service `{}` has no `schedule`", name.value.0),
                spec.kind.as_ref().map_or(name.span, |k| k.span),
                "cron without a schedule",
                "add `schedule: \"0 3 * * *\"` (minute hour day month weekday)".into(),
            ),
            (Some(schedule), WorkloadKind::Cron) if schedule.value.split_whitespace().count() != 5 && !schedule.value.starts_with('@') => self.error(
                "invalid-schedule",
                format!("`{}` is not a cron schedule", schedule.value),
                schedule.span,
                "not five fields",
                "write five fields: minute hour day-of-month month day-of-week, e.g. `0 3 * * *`".into(),
            ),
            (Some(schedule), other) if other != WorkloadKind::Cron => self.error(
                "unexpected-schedule",
                format!("`schedule` only applies to `kind: cron`, and `{}` is {}", name.value.0, other.as_str()),
                schedule.span,
                "not a cron service",
                "add `kind: cron`, or remove `schedule`".into(),
            ),
            _ => {}
        }
        let ports = self.ports(spec);
        let mut replicas = self.replicas(spec, kind);
        let resources = self.resources(spec);
        let runtime = self.runtime(&name.value.0, spec, kind, &ports, &mut replicas);
        let config = self.config(spec);
        let patches = self.patches(spec);
        let scratch = self.scratch(
            spec,
            storage.iter().chain(volumes.iter().map(|v| &v.volume)),
            config.as_ref(),
            &runtime,
        );
        let access = self.access(spec, runtime.service_account_token);
        Service {
            name: name.value.0.clone(),
            slo: spec.slo.as_ref().map(|s| Objectives::of(&s.value)),
            tier,
            namespace: tier_value.namespace.clone(),
            image: spec.image.as_ref().map(|i| i.value.clone()),
            blueprint: spec.blueprint.as_ref().map(text),
            tuning: None,
            kind,
            schedule: spec.schedule.as_ref().map(|s| s.value.clone()),
            command: spec
                .command
                .iter()
                .flat_map(|c| &c.value)
                .map(|c| c.value.clone())
                .collect(),
            args: spec
                .args
                .iter()
                .flat_map(|c| &c.value)
                .map(|c| c.value.clone())
                .collect(),
            ports,
            env: Vec::new(),
            env_config_map: spec
                .env_from
                .as_ref()
                .is_some_and(|e| e.value == crate::spec::service::EnvFrom::ConfigMap),
            wait_in_pod: spec.wait_for_needs.as_ref().is_some_and(|w| w.value),
            init: Vec::new(),
            replicas,
            resources,
            gpu: spec.gpu.as_ref().map_or(0, |g| g.value),
            storage,
            volumes,
            pool: None,
            priority: spec.priority.as_ref().map(text),
            scheduler: spec.scheduler.as_ref().map(|s| s.value),
            scratch,
            needs: Vec::new(),
            labels: self.own_labels(spec.labels.as_ref()),
            runtime,
            config,
            patches,
            egress: Vec::new(),
            externals: Vec::new(),
            access,
            spawns: None,
            serve: Serve::default(),
            tracing_sampling: None,
            wave: 0,
            span: name.span,
        }
    }

    /// The service's `access:` rules, each word checked: least privilege
    /// means named verbs and resources, never `*`.
    fn access(&mut self, spec: &ServiceSpec, token: bool) -> Vec<Access> {
        const VERBS: [&str; 8] = [
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
        ];
        let Some(list) = &spec.access else {
            return Vec::new();
        };
        if !token {
            self.error(
                "access-without-token",
                "`access` grants API rights to a pod that mounts no token".into(),
                list.span,
                "no token to use them",
                "add `serviceAccountToken: true`: the Role is bound to the service's ServiceAccount, whose token the pod needs".into(),
            );
        }
        let mut out = Vec::new();
        for rule in &list.value {
            let resources = rule.value.resources.value.clone();
            let verbs = rule.value.verbs.value.clone();
            let groups: Vec<Spanned<String>> = rule
                .value
                .api_groups
                .iter()
                .flat_map(|l| l.value.iter().cloned())
                .collect();
            for verb in verbs.iter().filter(|v| !VERBS.contains(&v.value.as_str())) {
                self.error(
                    "invalid-access",
                    format!("`{}` is not a verb a Role grants", verb.value),
                    verb.span,
                    "unknown verb",
                    format!(
                        "name each verb the service needs: {}",
                        VERBS.map(|v| format!("`{v}`")).join(", ")
                    ),
                );
            }
            let is_resource = |r: &str| {
                let mut parts = r.splitn(2, '/');
                let word = |w: &str| {
                    w.starts_with(|c: char| c.is_ascii_lowercase())
                        && w.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                        })
                };
                parts.next().is_some_and(word) && parts.next().is_none_or(word)
            };
            for resource in resources.iter().filter(|r| !is_resource(&r.value)) {
                self.error(
                    "invalid-access",
                    format!("`{}` is not a resource name", resource.value),
                    resource.span,
                    "not a resource",
                    "name each resource, plural and lowercase: `pods`, `pods/log`, `jobs`".into(),
                );
            }
            for group in groups.iter().filter(|g| g.value == "*") {
                self.error(
                    "invalid-access",
                    "`*` grants every API group".into(),
                    group.span,
                    "every group",
                    "name the groups of the resources: `batch`, `apps`; leave `apiGroups` out for the core group".into(),
                );
            }
            if resources.is_empty() || verbs.is_empty() {
                self.error(
                    "invalid-access",
                    "an access rule with no resources or no verbs grants nothing".into(),
                    rule.span,
                    "grants nothing",
                    "list at least one resource and one verb".into(),
                );
            }
            out.push(Access {
                api_groups: if groups.is_empty() {
                    vec![String::new()]
                } else {
                    groups.into_iter().map(|g| g.value).collect()
                },
                resources: resources.into_iter().map(|r| r.value).collect(),
                verbs: verbs.into_iter().map(|v| v.value).collect(),
            });
        }
        out
    }

    fn volume(
        &mut self,
        storage: &Spanned<StorageSpec>,
        default_class: Option<&Spanned<String>>,
    ) -> Volume {
        let env_class = self.environment.and_then(|e| e.storage_class.as_ref());
        let (size, class, mount_path, access) = match &storage.value {
            StorageSpec::Size(size) => (size.0, None, None, None),
            StorageSpec::Volume(v) => (
                v.size.value.0,
                v.class.as_ref(),
                v.mount_path.as_ref(),
                v.access.as_ref(),
            ),
        };
        let class = env_class.or(class).or(default_class);
        if let Some(access) = access
            && access.value.is_shared()
            && class.is_none()
        {
            // The default class of most clusters is block storage, which
            // cannot be mounted on several nodes: the claim would stay Pending.
            self.error(
                "missing-storage-class",
                format!("a {} volume needs a StorageClass", access.value.as_str()),
                access.span,
                "no class",
                "name a class whose provisioner shares volumes across nodes (NFS, EFS, CephFS…): `class: NAME`".into(),
            );
        }
        if size == Quantity::default() {
            self.error(
                "invalid-quantity",
                "a volume of size zero".into(),
                storage.span,
                "zero",
                "give the volume a size such as `10Gi`".into(),
            );
        }
        if let Some(path) = mount_path
            && !path.value.starts_with('/')
        {
            self.error(
                "invalid-path",
                format!("`{}` is not an absolute path", path.value),
                path.span,
                "relative path",
                format!("mount paths start with `/`: `/{}`", path.value),
            );
        }
        Volume {
            size,
            class: class.map(|c| c.value.clone()),
            access: access.map_or_else(Default::default, |a| a.value),
            mount_path: mount_path
                .map_or_else(|| DEFAULT_MOUNT_PATH.to_string(), |p| p.value.clone()),
        }
    }

    /// The service's `volumes`: names unique and not Strata's own, mount
    /// paths apart from `storage`'s and each other's.
    fn named_volumes(
        &mut self,
        spec: &ServiceSpec,
        storage: Option<&Volume>,
        default_class: Option<&Spanned<String>>,
    ) -> Vec<NamedVolume> {
        const RESERVED: [&str; 3] = ["data", "tmp", "config"];
        let mut out: Vec<NamedVolume> = Vec::new();
        for entry in spec.volumes.iter().flat_map(|v| &v.value) {
            let named = &entry.value;
            let name = &named.name.value.0;
            if RESERVED.contains(&name.as_str()) || out.iter().any(|v| &v.name == name) {
                self.error(
                    "duplicate-volume",
                    format!("the service already has a volume called `{name}`"),
                    named.name.span,
                    "name taken",
                    "give the volume another name (`data`, `tmp` and `config` are Strata's own)"
                        .into(),
                );
                continue;
            }
            let storage_spec = Spanned {
                value: StorageSpec::Volume(VolumeSpec {
                    size: named.size.clone(),
                    class: named.class.clone(),
                    mount_path: Some(named.mount_path.clone()),
                    access: named.access.clone(),
                }),
                span: entry.span,
            };
            let volume = self.volume(&storage_spec, default_class);
            let path = volume.mount_path.trim_end_matches('/');
            let clash = storage
                .into_iter()
                .chain(out.iter().map(|v| &v.volume))
                .any(|v| v.mount_path.trim_end_matches('/') == path);
            if clash {
                self.error(
                    "duplicate-mount",
                    format!("`{path}` is already mounted: it is another volume's `mountPath`"),
                    named.mount_path.span,
                    "mounted twice",
                    "choose another directory".into(),
                );
                continue;
            }
            out.push(NamedVolume {
                name: name.clone(),
                volume,
            });
        }
        out
    }

    /// The service's extra writable directories: absolute, and not a path
    /// something else is already mounted at.
    fn scratch<'v>(
        &mut self,
        spec: &ServiceSpec,
        volumes: impl Iterator<Item = &'v Volume>,
        config: Option<&Config>,
        runtime: &Runtime,
    ) -> Vec<String> {
        let mut taken: Vec<(&str, &str)> = Vec::new();
        if runtime.security.read_only_root && runtime.security.profile != Profile::Privileged {
            taken.push(("/tmp", "`/tmp`, which is always writable"));
        }
        for volume in volumes {
            taken.push((&volume.mount_path, "a volume's `mountPath`"));
        }
        if let Some(config) = config {
            taken.push((&config.mount_path, "the configuration's `mountPath`"));
        }
        let mut out: Vec<String> = Vec::new();
        for path in spec.scratch.iter().flat_map(|s| &s.value) {
            let text = path.value.trim_end_matches('/');
            if !path.value.starts_with('/') || text.is_empty() {
                self.error(
                    "invalid-path",
                    format!("`{}` is not an absolute directory", path.value),
                    path.span,
                    "not absolute",
                    "scratch directories are absolute paths such as `/home/app/.cache`".into(),
                );
                continue;
            }
            let clash = taken
                .iter()
                .find(|(p, _)| *p == text)
                .map(|(_, what)| (*what).to_string())
                .or_else(|| {
                    out.iter()
                        .any(|p| p == text)
                        .then(|| "another scratch directory".to_string())
                });
            if let Some(what) = clash {
                self.error(
                    "duplicate-mount",
                    format!("`{text}` is already mounted: it is {what}"),
                    path.span,
                    "mounted twice",
                    "remove this entry, or choose another directory".into(),
                );
                continue;
            }
            out.push(text.to_string());
        }
        out
    }

    fn ports(&mut self, spec: &ServiceSpec) -> Vec<Port> {
        let mut ports: Vec<(Port, Span)> = Vec::new();
        for (name, port) in spec.ports.iter().flat_map(|p| p.value.iter()) {
            let (service_number, number, protocol) = match &port.value {
                PortSpec::Number(n) => (n.0, n.0, None),
                PortSpec::Detail(d) => (
                    d.port.value.0,
                    d.target_port.as_ref().map_or(d.port.value.0, |t| t.value.0),
                    d.protocol.as_ref().map(|p| p.value),
                ),
            };
            let clash = ports
                .iter()
                .find(|(p, _)| p.number == number || p.service_port() == service_number);
            if let Some((first, first_span)) = clash {
                let number = if first.number == number {
                    number
                } else {
                    service_number
                };
                let diagnostic = Diagnostic::error(
                    "duplicate-port",
                    format!(
                        "port {number} is used twice, by `{}` and `{}`",
                        first.name, name.value.0
                    ),
                )
                .at(&self.doc.file, port.span, "used again here")
                .also(*first_span, "first used here")
                .help("each port of a service needs its own number");
                self.errors.push(diagnostic);
                continue;
            }
            ports.push((
                Port {
                    name: name.value.0.clone(),
                    number,
                    protocol: protocol.unwrap_or_else(|| Protocol::guess(&name.value.0)),
                    service_number: (service_number != number).then_some(service_number),
                },
                port.span,
            ));
        }
        ports.into_iter().map(|(p, _)| p).collect()
    }

    fn replicas(&mut self, spec: &ServiceSpec, kind: WorkloadKind) -> u32 {
        if !matches!(kind, WorkloadKind::Stateless | WorkloadKind::Stateful) {
            if let Some(replicas) = &spec.replicas
                && replicas.value != 1
            {
                self.error(
                    "unexpected-replicas",
                    format!("`replicas` does not apply to a {} service", kind.as_str()),
                    replicas.span,
                    "not replicated",
                    "daemons run one pod per node; jobs and crons one pod per run: remove `replicas`".into(),
                );
            }
            return 1;
        }
        let env = self.environment;
        let base = spec
            .replicas
            .as_ref()
            .or(self
                .spec
                .defaults
                .as_ref()
                .and_then(|d| d.value.replicas.as_ref()))
            .map_or(1, |r| r.value);
        let forced = env
            .and_then(|e| e.replicas.as_ref())
            .map_or(base, |r| r.value);
        forced.max(
            env.and_then(|e| e.min_replicas.as_ref())
                .map_or(0, |r| r.value),
        )
    }

    fn resources(&mut self, spec: &ServiceSpec) -> Resources {
        let list = |r: Option<&Spanned<crate::spec::service::ResourcesSpec>>,
                    limits: bool|
         -> Option<ResourceList> {
            let r = r?;
            let l = if limits {
                r.value.limits.as_ref()
            } else {
                r.value.requests.as_ref()
            };
            l.map(|l| l.value.clone())
        };
        let own = spec.resources.as_ref();
        let defaults = self
            .spec
            .defaults
            .as_ref()
            .and_then(|d| d.value.resources.as_ref());
        let pick_cpu = |limits: bool| {
            list(own, limits)
                .and_then(|l| l.cpu)
                .or_else(|| list(defaults, limits).and_then(|l| l.cpu))
        };
        let pick_memory = |limits: bool| {
            list(own, limits)
                .and_then(|l| l.memory)
                .or_else(|| list(defaults, limits).and_then(|l| l.memory))
        };
        let (req_cpu, lim_cpu) = (pick_cpu(false), pick_cpu(true));
        let (req_mem, lim_mem) = (pick_memory(false), pick_memory(true));
        for (request, limit, what, measure) in [
            (
                req_cpu.as_ref().map(|c| (c.value.0, c.span)),
                lim_cpu.as_ref().map(|c| (c.value.0, c.span)),
                "CPU",
                Measure::Cpu,
            ),
            (
                req_mem.as_ref().map(|c| (c.value.0, c.span)),
                lim_mem.as_ref().map(|c| (c.value.0, c.span)),
                "memory",
                Measure::Bytes,
            ),
        ] {
            if let (Some((request, _)), Some((limit, span))) = (request, limit)
                && limit < request
            {
                // A limit carrying the `blueprint:` span is the recipe's
                // default, which the user may not know they can override.
                let from_blueprint = spec
                    .blueprint
                    .as_ref()
                    .filter(|b| b.span == span)
                    .map(|b| b.value.0.clone());
                let key = if what == "CPU" { "cpu" } else { "memory" };
                let (message, help) = match from_blueprint {
                    Some(blueprint) => (
                        format!(
                            "the {what} limit {} (the `{blueprint}` blueprint's default) is below the request {}",
                            limit.display(measure),
                            request.display(measure)
                        ),
                        format!(
                            "set `resources.limits.{key}` to at least {} to override the blueprint's limit, or lower the request",
                            request.display(measure)
                        ),
                    ),
                    None => (
                        format!(
                            "the {what} limit {} is below the request {}",
                            limit.display(measure),
                            request.display(measure)
                        ),
                        "raise the limit to at least the request, or lower the request".into(),
                    ),
                };
                self.error(
                    "limit-below-request",
                    message,
                    span,
                    "below the request",
                    help,
                );
            }
        }
        let request = |req: Option<Quantity>, lim: Option<Quantity>, fallback: Quantity| {
            req.or(lim).unwrap_or(fallback)
        };
        let requests = Amounts {
            cpu: request(
                req_cpu.as_ref().map(|c| c.value.0),
                lim_cpu.as_ref().map(|c| c.value.0),
                DEFAULT_CPU_REQUEST,
            ),
            memory: request(
                req_mem.as_ref().map(|c| c.value.0),
                lim_mem.as_ref().map(|c| c.value.0),
                DEFAULT_MEMORY_REQUEST,
            ),
        };
        let limits = Amounts {
            cpu: lim_cpu.map_or(requests.cpu.times(2), |c| c.value.0),
            memory: lim_mem.map_or(requests.memory.times(2), |c| c.value.0),
        };
        let scale = self.scale();
        Resources {
            requests: Amounts {
                cpu: requests.cpu.scaled(scale),
                memory: requests.memory.scaled(scale),
            },
            limits: Amounts {
                cpu: limits.cpu.scaled(scale),
                memory: limits.memory.scaled(scale),
            },
        }
    }

    fn scale(&mut self) -> f64 {
        match self.environment.and_then(|e| e.scale.as_ref()) {
            None => 1.0,
            Some(scale) if scale.value > 0.0 && scale.value <= 100.0 => scale.value,
            Some(scale) => {
                let diagnostic = Diagnostic::error("invalid-scale", format!("scale {} is out of range", scale.value))
                    .at(&self.doc.file, scale.span, "out of range")
                    .help("a scale multiplies every request and limit: use a number above 0 and at most 100, e.g. `0.25`");
                if !self.errors.contains(&diagnostic) {
                    self.errors.push(diagnostic);
                }
                1.0
            }
        }
    }

    /// Marks the dependencies on each callee whose `calls:` entry says
    /// `wait: false`: still calls (policies, call settings), no longer part
    /// of the start-up order.
    fn calls_without_waiting(
        &mut self,
        service: &mut Service,
        spec: &ServiceSpec,
        services: &HashMap<String, ServiceId>,
    ) {
        for (callee, calls) in spec.calls.iter().flat_map(|c| c.value.iter()) {
            let Some(wait) = &calls.value.wait else {
                continue;
            };
            if self.externals.iter().any(|e| e.name == callee.value.0) {
                self.error(
                    "wait-on-external",
                    format!(
                        "`{}` is an external, which is never waited for",
                        callee.value.0
                    ),
                    wait.span,
                    "running already",
                    "remove `wait`: an external is not part of the start-up order".into(),
                );
                continue;
            }
            // An unknown callee is reported with the other `calls:` keys.
            let Some(&id) = services.get(&callee.value.0) else {
                continue;
            };
            let mut named = false;
            for need in &mut service.needs {
                if need.target == DependencyTarget::Service(id) {
                    need.wait = wait.value;
                    named = true;
                }
            }
            if !named && !wait.value {
                self.error(
                    "wait-without-dependency",
                    format!(
                        "`{}` neither names nor references `{}`",
                        service.name, callee.value.0
                    ),
                    wait.span,
                    "nothing to stop waiting for",
                    format!(
                        "`wait: false` applies to a service named in `needs:` or referenced as `${{{}.…}}`; a tier in `needs:` is waited for as a whole",
                        callee.value.0
                    ),
                );
            }
        }
    }

    fn needs(
        &mut self,
        spec: &ServiceSpec,
        services: &HashMap<String, ServiceId>,
        tiers: &HashMap<String, TierId>,
    ) -> Vec<Dependency> {
        let mut needs = Vec::new();
        for need in spec.needs.iter().flat_map(|n| &n.value) {
            let target = match &need.value {
                NeedSpec::Service(name) => match services.get(&name.0) {
                    Some(&id) => Some(DependencyTarget::Service(id)),
                    None if self.reference_external(&name.0).is_some() => None,
                    None if self.left_out(&name.0, false, need.span) => None,
                    None => {
                        let mut names: Vec<&str> = services.keys().map(String::as_str).collect();
                        names.sort_unstable();
                        let help = suggestion(&name.0, &names, "service");
                        let help = if tiers.contains_key(name.0.as_str()) {
                            format!(
                                "`{0}` is a tier: write `tier/{0}` to wait for all of it",
                                name.0
                            )
                        } else {
                            help
                        };
                        self.error(
                            "unknown-dependency",
                            format!("`{}` is not a service of this platform", name.0),
                            need.span,
                            "no such service",
                            help,
                        );
                        None
                    }
                },
                NeedSpec::Tier(name) => match tiers.get(name.0.as_str()) {
                    Some(&id) => Some(DependencyTarget::Tier(id)),
                    None if self.left_out(&name.0, true, need.span) => None,
                    None => {
                        let mut names: Vec<&str> = tiers.keys().map(String::as_str).collect();
                        names.sort_unstable();
                        let help = suggestion(&name.0, &names, "tier");
                        self.error(
                            "unknown-tier",
                            format!("`{}` is not a tier of this platform", name.0),
                            need.span,
                            "no such tier",
                            help,
                        );
                        None
                    }
                },
            };
            if let Some(target) = target {
                needs.push(Dependency {
                    target,
                    origin: DependencyOrigin::Needs,
                    span: need.span,
                    wait: true,
                });
            }
        }
        needs
    }

    /// The variables of an `env:` map, references resolved, and the
    /// dependencies those references make; `origin` prefixes the variable
    /// named as a dependency's origin (an init step's `fetch/`).
    fn env(
        &mut self,
        env: Option<&Spanned<Map<EnvName, EnvValueSpec>>>,
        origin: &str,
        services: &HashMap<String, ServiceId>,
        endpoints: &[Vec<(String, String)>],
    ) -> (Vec<EnvVar>, Vec<Dependency>) {
        let mut vars = Vec::new();
        let mut references = Vec::new();
        for (name, value) in env.iter().flat_map(|e| e.value.iter()) {
            let resolved = match &value.value {
                EnvValueSpec::Secret(s) => EnvValue::Secret {
                    name: s.secret.value.0.clone(),
                    key: s.key.value.clone(),
                },
                EnvValueSpec::Config(c) => EnvValue::Config {
                    name: c.config.value.0.clone(),
                    key: c.key.value.clone(),
                },
                EnvValueSpec::Literal(literal) => {
                    match self.literal(
                        literal,
                        value.span,
                        &format!("{origin}{}", name.value.0),
                        services,
                        endpoints,
                        &mut references,
                    ) {
                        Some(text) => EnvValue::Literal(text),
                        None => continue,
                    }
                }
            };
            vars.push(EnvVar {
                name: name.value.0.clone(),
                value: resolved,
            });
        }
        (vars, references)
    }

    /// A service's `init:` steps, in the order written, each with its
    /// variables resolved like the service's own; their references are
    /// dependencies of the service (its pods cannot start without them).
    fn init_steps(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        services: &HashMap<String, ServiceId>,
        endpoints: &[Vec<(String, String)>],
    ) -> (Vec<InitStep>, Vec<Dependency>) {
        let (mut steps, mut references) = (Vec::new(), Vec::new());
        let Some(init) = &spec.init else {
            return (steps, references);
        };
        if let Some(tuning) = service.tuning.as_ref().filter(|t| t.mode.operated) {
            self.error(
                "unsupported-for-mode",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator: Strata writes no pod template to add init steps to",
                    tuning.mode.name, tuning.blueprint.name()
                ),
                init.span,
                "no pod template of Strata's to add steps to",
                "remove `init`, or use a mode whose pods Strata runs".into(),
            );
            return (steps, references);
        }
        for (name, step) in init.value.iter() {
            let step_name = &name.value.0;
            // Kubernetes refuses two containers of one name; `wait-*` are
            // `waitForNeeds`' and `istio-*` the mesh injector's.
            if step_name == &service.name
                || step_name.starts_with("wait-")
                || step_name.starts_with("istio-")
            {
                self.error(
                    "reserved-name",
                    format!(
                        "the init step `{step_name}` would share its container's name with another"
                    ),
                    name.span,
                    "a name Strata or Istio gives a container",
                    format!(
                        "rename it: not `{}`, nor one beginning with `wait-` or `istio-`",
                        service.name
                    ),
                );
                continue;
            }
            let step = &step.value;
            let (env, found) = self.env(
                step.env.as_ref(),
                &format!("{step_name}/"),
                services,
                endpoints,
            );
            references.extend(found);
            let texts = |list: &Option<Spanned<Vec<Spanned<String>>>>| -> Vec<String> {
                list.iter()
                    .flat_map(|l| &l.value)
                    .map(|a| a.value.clone())
                    .collect()
            };
            steps.push(InitStep {
                name: step_name.clone(),
                image: step.image.value.clone(),
                command: texts(&step.command),
                args: texts(&step.args),
                env,
                resources: self.init_resources(step.resources.as_ref()),
            });
        }
        (steps, references)
    }

    /// An init step's requests and limits: its own, or a small default (a
    /// copy or a migration, not the service's work); never scaled by the
    /// environment.
    fn init_resources(&mut self, own: Option<&Spanned<ResourcesSpec>>) -> Resources {
        const CPU: (Quantity, Quantity) = (Quantity::from_milli(100), Quantity::units(1));
        const MEMORY: (Quantity, Quantity) = (
            Quantity::from_milli(128 * 1024 * 1024 * 1000),
            Quantity::from_milli(512 * 1024 * 1024 * 1000),
        );
        let requests = own.and_then(|r| r.value.requests.as_ref());
        let limits = own.and_then(|r| r.value.limits.as_ref());
        let mut pick = |request: Option<(Quantity, Span)>,
                        limit: Option<(Quantity, Span)>,
                        (default_request, default_limit): (Quantity, Quantity),
                        what: &str,
                        measure: Measure| {
            if let (Some((r, _)), Some((l, span))) = (request, limit)
                && l < r
            {
                self.error(
                    "limit-below-request",
                    format!(
                        "the {what} limit {} is below the request {}",
                        l.display(measure),
                        r.display(measure)
                    ),
                    span,
                    "below the request",
                    "raise the limit to at least the request, or lower the request".into(),
                );
            }
            let request = request.or(limit).map_or(default_request, |(q, _)| q);
            let limit = limit.map_or(default_limit.max(request), |(q, _)| q);
            (request, limit)
        };
        let spanned =
            |q: Option<&Spanned<crate::spec::amount::Cpu>>| q.map(|c| (c.value.0, c.span));
        let (cpu_request, cpu_limit) = pick(
            spanned(requests.and_then(|r| r.value.cpu.as_ref())),
            spanned(limits.and_then(|l| l.value.cpu.as_ref())),
            CPU,
            "CPU",
            Measure::Cpu,
        );
        let bytes =
            |q: Option<&Spanned<crate::spec::amount::Bytes>>| q.map(|b| (b.value.0, b.span));
        let (memory_request, memory_limit) = pick(
            bytes(requests.and_then(|r| r.value.memory.as_ref())),
            bytes(limits.and_then(|l| l.value.memory.as_ref())),
            MEMORY,
            "memory",
            Measure::Bytes,
        );
        Resources {
            requests: Amounts {
                cpu: cpu_request,
                memory: memory_request,
            },
            limits: Amounts {
                cpu: cpu_limit,
                memory: memory_limit,
            },
        }
    }

    /// The source span of `range` inside a scalar written at `span`.
    fn inner_span(&self, span: Span, literal: &str, range: std::ops::Range<usize>) -> Span {
        let written = self.doc.file.slice(span);
        let offset = if written == literal {
            Some(0)
        } else if written.len() == literal.len() + 2
            && written.get(1..written.len() - 1) == Some(literal)
        {
            Some(1)
        } else {
            // The fragment may also occur earlier in the written text (an
            // escape, a folded line): then the whole scalar is the place.
            literal
                .get(range.clone())
                .and_then(|fragment| written.find(fragment))
                .and_then(|at| at.checked_sub(range.start))
        };
        match offset {
            Some(o) => Span::new(span.start + o + range.start, span.start + o + range.end),
            None => span,
        }
    }

    fn literal(
        &mut self,
        literal: &str,
        span: Span,
        var: &str,
        services: &HashMap<String, ServiceId>,
        endpoints: &[Vec<(String, String)>],
        references: &mut Vec<Dependency>,
    ) -> Option<String> {
        let pieces = match split(literal) {
            Ok(p) => p,
            Err(e) => {
                let at = self.inner_span(span, literal, e.range);
                self.error(
                    "invalid-reference",
                    e.message,
                    at,
                    "malformed reference",
                    "write `${service.field}`, or `$${` for a literal `${`".into(),
                );
                return None;
            }
        };
        let mut out = String::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(&t),
                Piece::Reference(r) => {
                    let at = self.inner_span(span, literal, r.range.clone());
                    if !services.contains_key(&r.target)
                        && let Some(index) = self.reference_external(&r.target)
                    {
                        let fields = super::external::exports(&self.externals[index]);
                        match fields.iter().find(|(k, _)| *k == r.field) {
                            Some((_, value)) => out.push_str(value),
                            None => {
                                let names: Vec<&str> =
                                    fields.iter().map(|(k, _)| k.as_str()).collect();
                                self.error(
                                    "unknown-field",
                                    format!(
                                        "the external `{}` does not export `{}`",
                                        r.target, r.field
                                    ),
                                    at,
                                    "not exported",
                                    format!("`{}` exports: {}", r.target, names.join(", ")),
                                );
                                ok = false;
                            }
                        }
                        continue;
                    }
                    let Some(&id) = services.get(&r.target) else {
                        if self.left_out(&r.target, false, at) {
                            ok = false;
                            continue;
                        }
                        let mut names: Vec<&str> = services.keys().map(String::as_str).collect();
                        names.sort_unstable();
                        let help = suggestion(&r.target, &names, "service");
                        self.error(
                            "unknown-reference",
                            format!(
                                "`{}` in `${{{}.{}}}` is not a service of this platform",
                                r.target, r.target, r.field
                            ),
                            at,
                            "no such service",
                            help,
                        );
                        ok = false;
                        continue;
                    };
                    let fields = &endpoints[id.0];
                    match fields.iter().find(|(k, _)| *k == r.field) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                            let help = match crate::diag::closest(&r.field, names.iter().copied()) {
                                Some(c) => format!(
                                    "did you mean `${{{}.{c}}}`? `{}` exports: {}",
                                    r.target,
                                    r.target,
                                    names.join(", ")
                                ),
                                None => format!("`{}` exports: {}", r.target, names.join(", ")),
                            };
                            self.error(
                                "unknown-field",
                                format!("the service `{}` does not export `{}`", r.target, r.field),
                                at,
                                "not exported",
                                help,
                            );
                            ok = false;
                            continue;
                        }
                    }
                    references.push(Dependency {
                        target: DependencyTarget::Service(id),
                        origin: DependencyOrigin::Reference(var.to_string()),
                        span: at,
                        wait: true,
                    });
                }
            }
        }
        ok.then_some(out)
    }

    fn node_pools(&mut self) -> Vec<NodePool> {
        use crate::spec::platform::NodeCount;
        let mut ranges = Vec::new();
        for (_, pool) in self.spec.node_pools.iter().flat_map(|p| p.value.iter()) {
            ranges.push(pool.value.nodes.as_ref().and_then(|n| match &n.value {
                NodeCount::Fixed(count) => Some(NodeRange {
                    min: *count,
                    max: *count,
                }),
                NodeCount::Range(range) => {
                    let (min, max) = (range.min.value, range.max.value);
                    if min > max || max == 0 {
                        self.error(
                            "invalid-node-range",
                            format!("the node range {min} to {max} is empty"),
                            n.span,
                            "invalid range",
                            "write `{ min, max }` with `min <= max` and `max` at least 1".into(),
                        );
                        return None;
                    }
                    Some(NodeRange { min, max })
                }
            }));
        }
        self.spec
            .node_pools
            .iter()
            .flat_map(|p| p.value.iter())
            .zip(ranges)
            .map(|((name, pool), nodes)| {
                let pool = &pool.value;
                let capacity = pool.capacity.as_ref().map(|c| &c.value);
                NodePool {
                    name: text(name),
                    selector: pool
                        .selector
                        .value
                        .iter()
                        .map(|(k, v)| (text(k), v.value.clone()))
                        .collect(),
                    taints: pool
                        .taints
                        .iter()
                        .flat_map(|t| &t.value)
                        .map(|t| Taint {
                            key: t.value.key.clone(),
                            value: t.value.value.clone(),
                            effect: t.value.effect.clone(),
                        })
                        .collect(),
                    nodes,
                    instance_type: pool.instance_type.as_ref().map(|t| t.value.clone()),
                    cpu: capacity.and_then(|c| c.cpu.as_ref()).map(|c| c.value.0),
                    memory: capacity.and_then(|c| c.memory.as_ref()).map(|m| m.value.0),
                    gpu: capacity.and_then(|c| c.gpu.as_ref()).map(|g| g.value),
                }
            })
            .collect()
    }

    fn namespaces(
        &mut self,
        tiers: &[Tier],
        services: &[Service],
    ) -> (Vec<Tenant>, Vec<Namespace>) {
        let mut namespaces: Vec<Namespace> = Vec::new();
        for tier in tiers {
            if !namespaces.iter().any(|n| n.name == tier.namespace) {
                namespaces.push(Namespace {
                    name: tier.namespace.clone(),
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    budget: None,
                    limits: None,
                    tenant: None,
                    pod_security: PodSecurity::default(),
                });
            }
        }
        let mut tenants = Vec::new();
        for (name, tenant) in self.spec.tenants.iter().flat_map(|t| t.value.iter()) {
            let namespace = self.renamed(
                &tenant
                    .value
                    .namespace
                    .as_ref()
                    .map(text)
                    .unwrap_or_else(|| format!("tenant-{}", name.value.0)),
            );
            if namespaces.iter().any(|n| n.name == namespace) {
                let span = tenant
                    .value
                    .namespace
                    .as_ref()
                    .map_or(name.span, |n| n.span);
                self.error(
                    "namespace-conflict",
                    format!("the tenant `{}` would share the namespace `{namespace}` with another tier or tenant", name.value.0),
                    span,
                    "namespace already used",
                    "give the tenant a namespace of its own with `namespace:`".into(),
                );
                continue;
            }
            namespaces.push(Namespace {
                name: namespace.clone(),
                labels: self.own_labels(tenant.value.labels.as_ref()),
                annotations: labels(tenant.value.annotations.as_ref()),
                budget: tenant.value.budget.as_ref().map(|b| budget(&b.value)),
                limits: None,
                tenant: Some(text(name)),
                pod_security: PodSecurity::default(),
            });
            // The tenant's other namespaces: its labels, no share of its
            // budget (a quota is per namespace; `namespaces:` sets theirs).
            for suffix in tenant.value.namespaces.iter().flat_map(|n| &n.value) {
                let child = self.renamed(&format!("{namespace}-{}", suffix.value.0));
                if namespaces.iter().any(|n| n.name == child) {
                    self.error(
                        "namespace-conflict",
                        format!("the tenant `{}` would share the namespace `{child}` with another tier or tenant", name.value.0),
                        suffix.span,
                        "namespace already used",
                        "give the tenant's namespace another suffix".into(),
                    );
                    continue;
                }
                namespaces.push(Namespace {
                    name: child,
                    labels: self.own_labels(tenant.value.labels.as_ref()),
                    annotations: labels(tenant.value.annotations.as_ref()),
                    budget: None,
                    limits: None,
                    tenant: Some(text(name)),
                    pod_security: PodSecurity::default(),
                });
            }
            tenants.push(Tenant {
                name: text(name),
                namespace,
            });
        }
        let elsewhere = environment::renamed_namespaces(&self.doc.spec);
        for (name, settings) in self.spec.namespaces.iter().flat_map(|n| n.value.iter()) {
            // An entry names a namespace by its base name (followed through
            // renames) or by its name in this environment.
            let here = self.renamed(&name.value.0);
            let found = namespaces
                .iter()
                .position(|n| n.name == here)
                .or_else(|| namespaces.iter().position(|n| n.name == name.value.0));
            let found = match found {
                None if elsewhere.contains(&name.value.0)
                    || self.renames.contains_key(&name.value.0)
                    || self.base_namespace_left_out(&name.value.0) =>
                {
                    // Another environment's name, or a namespace this
                    // environment leaves out with its tier.
                    continue;
                }
                found => found.map(|i| &mut namespaces[i]),
            };
            match found {
                Some(namespace) => {
                    let own = self.own_labels(settings.value.labels.as_ref());
                    namespace.labels.extend(own);
                    namespace
                        .annotations
                        .extend(labels(settings.value.annotations.as_ref()));
                    if let Some(b) = &settings.value.budget {
                        namespace.budget = Some(budget(&b.value));
                    }
                    if let Some(limits) = &settings.value.limits {
                        namespace.limits = self.container_limits(&limits.value);
                    }
                    if let Some(levels) = &settings.value.pod_security {
                        let level = |l: &Option<Spanned<Profile>>| l.as_ref().map(|p| p.value);
                        namespace.pod_security = PodSecurity {
                            enforce: level(&levels.value.enforce),
                            audit: level(&levels.value.audit),
                            warn: level(&levels.value.warn),
                        };
                        if let Some(enforce) = &levels.value.enforce {
                            self.pod_security_violations(&namespace.name, enforce, services);
                        }
                    }
                }
                None => {
                    let names: Vec<String> = namespaces.iter().map(|n| n.name.clone()).collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let help = suggestion(&name.value.0, &names, "namespace");
                    self.error(
                        "unknown-namespace",
                        format!("no tier or tenant uses the namespace `{}`", name.value.0),
                        name.span,
                        "unused namespace",
                        help,
                    );
                }
            }
        }
        if let Some(environment) = self.environment {
            let own = self.own_labels(environment.namespace_labels.as_ref());
            for namespace in &mut namespaces {
                namespace.labels.extend(own.clone());
            }
        }
        (tenants, namespaces)
    }

    /// The Argo CD Application of environment `env`: it syncs the
    /// environment's overlay of the Kustomize export (the base without one).
    fn argocd(&mut self, env: Option<&str>, shared_namespace: &str) -> Option<ArgoCd> {
        let spec = &self.spec.delivery.as_ref()?.value.argocd.as_ref()?.value;
        let root = spec.path.value.trim_end_matches('/');
        if spec.path.value.starts_with('/') || root.split('/').any(|part| part == "..") {
            self.error(
                "invalid-path",
                format!("`{}` is not a directory of the repository", spec.path.value),
                spec.path.span,
                "not inside the repository",
                "write the directory relative to the repository's root, such as `deploy/knowton`"
                    .into(),
            );
        }
        if spec.repo.value.trim().is_empty() {
            self.error(
                "invalid-option",
                "the Argo CD repository is empty".into(),
                spec.repo.span,
                "no repository",
                "write the repository's URL, such as `https://github.com/example/platform`".into(),
            );
        }
        let path = match env {
            Some(env) if root.is_empty() || root == "." => format!("overlays/{env}"),
            Some(env) => format!("{root}/overlays/{env}"),
            None if root.is_empty() || root == "." => "base".to_string(),
            None => format!("{root}/base"),
        };
        let retry = spec.retry.as_ref().map(|r| SyncRetry {
            limit: r.value.limit.value,
            backoff_seconds: r.value.backoff.as_ref().map_or(5, |b| b.value.0),
            factor: r.value.factor.as_ref().map_or(2, |f| f.value),
            max_backoff_seconds: r.value.max_backoff.as_ref().map_or(180, |m| m.value.0),
        });
        Some(ArgoCd {
            repo: spec.repo.value.clone(),
            path,
            revision: spec
                .revision
                .as_ref()
                .map_or_else(|| "HEAD".to_string(), |r| r.value.clone()),
            namespace: spec
                .namespace
                .as_ref()
                .map_or_else(|| "argocd".to_string(), text),
            project: spec
                .project
                .as_ref()
                .map_or_else(|| "default".to_string(), text),
            destination: shared_namespace.to_string(),
            prune: spec.prune.as_ref().is_some_and(|p| p.value),
            self_heal: spec.self_heal.as_ref().is_some_and(|s| s.value),
            retry,
        })
    }

    /// A namespace's name in this environment.
    pub(in crate::model) fn renamed(&self, base: &str) -> String {
        self.renames
            .get(base)
            .cloned()
            .unwrap_or_else(|| base.to_string())
    }

    /// Whether `name` is the namespace of a tier of the base spec that this
    /// environment leaves out.
    fn base_namespace_left_out(&self, name: &str) -> bool {
        let tiers_here: Vec<&str> = self
            .spec
            .tiers
            .value
            .iter()
            .map(|t| t.value.name.value.0.as_str())
            .collect();
        self.doc.spec.tiers.value.iter().any(|t| {
            !tiers_here.contains(&t.value.name.value.0.as_str())
                && t.value
                    .namespace
                    .as_ref()
                    .is_some_and(|n| n.value.0 == name)
        })
    }

    /// The declared PriorityClasses, and the services' `priority:` checked
    /// against them.
    fn priorities(&mut self, services: &[Service], specs: &[ServiceSpec]) -> Vec<Priority> {
        use crate::spec::platform::PrioritySpec;
        // The API server reserves values above one billion for system classes.
        const MAX_PRIORITY: u32 = 1_000_000_000;
        let mut out: Vec<Priority> = Vec::new();
        let mut default_span: Option<Span> = None;
        for (name, priority) in self.spec.priorities.iter().flat_map(|p| p.value.iter()) {
            let (value, value_span, default, description) = match &priority.value {
                PrioritySpec::Value(v) => (*v, priority.span, None, None),
                PrioritySpec::Detail(d) => (
                    d.value.value,
                    d.value.span,
                    d.default.as_ref(),
                    d.description.as_ref().map(|t| t.value.clone()),
                ),
            };
            if value > MAX_PRIORITY {
                self.error(
                    "out-of-range",
                    format!("the priority {value} is above {MAX_PRIORITY}"),
                    value_span,
                    "out of range",
                    format!("use a value from 0 to {MAX_PRIORITY}; higher ones are the system's"),
                );
            }
            let is_default = default.is_some_and(|d| d.value);
            if let (true, Some(first), Some(span)) =
                (is_default, default_span, default.map(|d| d.span))
            {
                let diagnostic = Diagnostic::error(
                    "duplicate-default",
                    "two priorities are the default".to_string(),
                )
                .at(&self.doc.file, span, "default again here")
                .also(first, "first default here")
                .help("keep `default: true` on one priority");
                self.errors.push(diagnostic);
            } else if is_default {
                default_span = default.map(|d| d.span);
            }
            out.push(Priority {
                name: text(name),
                value,
                default: is_default,
                description,
            });
        }
        let names: Vec<String> = out.iter().map(|p| p.name.clone()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for (service, spec) in services.iter().zip(specs) {
            if let (Some(wanted), Some(written)) = (&service.priority, &spec.priority)
                && !names.contains(&wanted.as_str())
            {
                let help = if names.is_empty() {
                    format!("declare it under `priorities:`: `{wanted}: 1000`")
                } else {
                    suggestion(wanted, &names, "priority")
                };
                self.error(
                    "unknown-priority",
                    format!("`{wanted}` is not a priority of this platform"),
                    written.span,
                    "no such priority",
                    help,
                );
            }
        }
        out
    }

    /// Reports services of `namespace` whose profile its `enforce` level rejects.
    fn pod_security_violations(
        &mut self,
        namespace: &str,
        enforce: &Spanned<Profile>,
        services: &[Service],
    ) {
        for service in services.iter().filter(|s| s.namespace == namespace) {
            let profile = service.pod_security();
            if profile > enforce.value {
                let diagnostic = Diagnostic::error(
                    "pod-security-violation",
                    format!(
                        "`{}` runs with the {} profile, which the namespace `{namespace}` rejects (enforce: {})",
                        service.name,
                        profile.as_str(),
                        enforce.value.as_str()
                    ),
                )
                .at(&self.doc.file, enforce.span, "enforced here")
                .also(service.span, "this service needs more")
                .help(format!(
                    "set `podSecurity.enforce: {}`, or run `{}` with `security: {}`",
                    profile.as_str(),
                    service.name,
                    enforce.value.as_str()
                ));
                self.errors.push(diagnostic);
            }
        }
    }

    /// Labels the spec adds to objects, with the keys Strata sets itself
    /// reported rather than silently overwritten.
    pub(in crate::model) fn own_labels<K: AsRef<str>>(
        &mut self,
        map: Option<&Spanned<Map<K, String>>>,
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

    fn waves(
        &mut self,
        services: &mut [Service],
        tiers: &mut [Tier],
        tier_wait_spans: &HashMap<(TierId, TierId), Span>,
    ) -> (Vec<Vec<ServiceId>>, Vec<PathStep>) {
        let n = services.len();
        let barrier = |t: TierId| n + t.0;
        let mut weights = vec![1u32; n];
        weights.extend(std::iter::repeat_n(0, tiers.len()));
        let mut edges = Vec::new();
        // A tier's raw manifests take a wave of their own, like a service of
        // the tier: they wait for the tier's `after:` and the tier waits for them.
        let manifest_vertices: Vec<(TierId, usize)> = tiers
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.manifests.is_empty())
            .enumerate()
            .map(|(k, (t, _))| (TierId(t), n + tiers.len() + k))
            .collect();
        for &(tier, vertex) in &manifest_vertices {
            weights.push(1);
            edges.push((vertex, barrier(tier)));
            for &after in &tiers[tier.0].after {
                edges.push((barrier(after), vertex));
            }
        }
        // Why each edge exists, for cycle reports: (span, label).
        let mut reasons: HashMap<(usize, usize), Span> = HashMap::new();
        for (i, service) in services.iter().enumerate() {
            edges.push((i, barrier(service.tier)));
            for need in service.needs.iter().filter(|n| n.wait) {
                let from = match need.target {
                    DependencyTarget::Service(s) => s.0,
                    DependencyTarget::Tier(t) => barrier(t),
                };
                edges.push((from, i));
                reasons.entry((from, i)).or_insert(need.span);
            }
            for &after in &tiers[service.tier.0].after {
                edges.push((barrier(after), i));
                let span = tier_wait_spans
                    .get(&(service.tier, after))
                    .copied()
                    .unwrap_or(tiers[service.tier.0].span);
                reasons.entry((barrier(after), i)).or_insert(span);
            }
        }

        match layer(&weights, &edges) {
            Ok(layering) => {
                let mut waves: Vec<Vec<ServiceId>> = Vec::new();
                for (i, service) in services.iter_mut().enumerate() {
                    let wave = layering.levels[i] as usize;
                    service.wave = wave;
                    if waves.len() < wave {
                        waves.resize(wave, Vec::new());
                    }
                    waves[wave - 1].push(ServiceId(i));
                }
                for &(tier, vertex) in &manifest_vertices {
                    let wave = layering.levels[vertex] as usize;
                    tiers[tier.0].manifest_wave = Some(wave);
                    if waves.len() < wave {
                        waves.resize(wave, Vec::new());
                    }
                }
                let last = (0..n)
                    .chain(manifest_vertices.iter().map(|(_, v)| *v))
                    .max_by_key(|&i| (layering.levels[i], std::cmp::Reverse(i)));
                let path = last
                    .map(|end| {
                        layering
                            .chain_to(end)
                            .into_iter()
                            .map(|v| {
                                if v < n {
                                    PathStep::Service(ServiceId(v))
                                } else if let Some(t) =
                                    manifest_vertices.iter().find(|(_, m)| *m == v)
                                {
                                    PathStep::Manifests(t.0)
                                } else {
                                    PathStep::Tier(TierId(v - n))
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (waves, path)
            }
            Err(cycles) => {
                let vertex_name = |v: usize| {
                    if v < n {
                        services[v].name.clone()
                    } else if let Some((t, _)) = manifest_vertices.iter().find(|(_, m)| *m == v) {
                        format!("manifests of tier/{}", tiers[t.0].name)
                    } else {
                        format!("tier/{}", tiers[v - n].name)
                    }
                };
                for cycle in cycles {
                    let mut names: Vec<String> = cycle.iter().map(|&v| vertex_name(v)).collect();
                    names.push(names[0].clone());
                    let mut diagnostic = Diagnostic::error(
                        "dependency-cycle",
                        format!("dependency cycle: {}", names.join(" → ")),
                    );
                    for (i, &v) in cycle.iter().enumerate() {
                        let next = cycle[(i + 1) % cycle.len()];
                        if let Some(&span) = reasons.get(&(v, next)) {
                            let label =
                                format!("{} waits for {}", vertex_name(next), vertex_name(v));
                            diagnostic = if diagnostic.labels.is_empty() {
                                diagnostic.at(&self.doc.file, span, label)
                            } else {
                                diagnostic.also(span, label)
                            };
                        }
                    }
                    self.errors.push(diagnostic.help(
                        "remove one of these dependencies; services of a cycle can never all start",
                    ));
                }
                (Vec::new(), Vec::new())
            }
        }
    }
}

impl Resolver<'_> {
    /// Private registries. A pull secret holds credentials made outside
    /// Strata, so it cannot be a secret Strata renders or generates.
    fn registries(&mut self, secrets: &[Secret]) -> Vec<Registry> {
        let mut registries = Vec::new();
        for (host, spec) in self.spec.registries.iter().flat_map(|r| r.value.iter()) {
            let secret = &spec.value.pull_secret;
            if secrets.iter().any(|s| s.name == secret.value.0) {
                self.error(
                    "pull-secret-conflict",
                    format!(
                        "the pull secret `{}` of `{}` is also a secret of this platform",
                        secret.value.0, host.value.0
                    ),
                    secret.span,
                    "rendered or generated by Strata",
                    "a pull secret holds registry credentials (`kubernetes.io/dockerconfigjson`) made outside Strata: give it a name of its own".into(),
                );
            }
            registries.push(Registry {
                host: host.value.0.clone(),
                pull_secret: secret.value.0.clone(),
            });
        }
        registries
    }

    /// Declared secrets, with the namespaces of the services that read them;
    /// a reference to a declared secret must name one of its keys.
    fn secrets(
        &mut self,
        services: &[Service],
        specs: &[ServiceSpec],
        shared_namespace: &str,
    ) -> Vec<Secret> {
        let mut secrets: Vec<Secret> = Vec::new();
        for (name, spec) in self.spec.secrets.iter().flat_map(|s| s.value.iter()) {
            let generate: Vec<String> = spec
                .value
                .generate
                .iter()
                .flat_map(|g| &g.value)
                .map(|k| k.value.clone())
                .collect();
            let data: BTreeMap<String, String> = spec
                .value
                .data
                .iter()
                .flat_map(|d| d.value.iter())
                .map(|(k, v)| (text(k), v.value.clone()))
                .collect();
            if generate.is_empty() && data.is_empty() {
                self.error(
                    "empty-secret",
                    format!("the secret `{}` has no keys", name.value.0),
                    name.span,
                    "no keys",
                    "list keys to generate under `generate:`, or give values under `data:`".into(),
                );
            }
            secrets.push(Secret {
                name: text(name),
                generate,
                data,
                namespaces: spec
                    .value
                    .namespace
                    .iter()
                    .map(|n| self.renamed(&n.value.0))
                    .collect(),
                secret_type: None,
            });
        }
        for service in services {
            let Some(supplied) = service.tuning.as_ref().map(|t| &t.supplied) else {
                continue;
            };
            let credentials = supplied.credentials.iter().map(|(name, keys)| Secret {
                name: name.clone(),
                generate: keys.clone(),
                data: BTreeMap::new(),
                namespaces: Vec::new(),
                secret_type: None,
            });
            // A Secret two blueprints supply (a MinIO user's login, which
            // the Milvus Operator reads beside Milvus) is one Secret, copied
            // into each one's namespace.
            for mut secret in credentials.chain(supplied.secrets.iter().cloned()) {
                match secrets.iter_mut().find(|s| s.name == secret.name) {
                    Some(known) => {
                        if known.generate == secret.generate
                            && known.data == secret.data
                            && !known.namespaces.contains(&service.namespace)
                        {
                            known.namespaces.push(service.namespace.clone());
                        }
                    }
                    None => {
                        secret.namespaces = vec![service.namespace.clone()];
                        secrets.push(secret);
                    }
                }
            }
        }
        for (service, spec) in services.iter().zip(specs) {
            for value in spec.env_values() {
                let EnvValueSpec::Secret(reference) = &value.value else {
                    continue;
                };
                let Some(secret) = secrets
                    .iter_mut()
                    .find(|s| s.name == reference.secret.value.0)
                else {
                    continue;
                };
                let known = secret
                    .generate
                    .iter()
                    .chain(secret.data.keys())
                    .any(|k| *k == reference.key.value);
                if !known {
                    let keys: Vec<&str> = secret
                        .generate
                        .iter()
                        .chain(secret.data.keys())
                        .map(String::as_str)
                        .collect();
                    let help = suggestion(&reference.key.value, &keys, "key");
                    let message = format!(
                        "the secret `{}` has no key `{}`",
                        secret.name, reference.key.value
                    );
                    self.error(
                        "unknown-secret-key",
                        message,
                        reference.key.span,
                        "no such key",
                        help,
                    );
                    continue;
                }
                if !secret.namespaces.contains(&service.namespace) {
                    secret.namespaces.push(service.namespace.clone());
                }
            }
        }
        for secret in &mut secrets {
            if secret.namespaces.is_empty() {
                secret.namespaces.push(shared_namespace.to_string());
            }
        }
        secrets
    }

    fn storage_classes(&mut self) -> Vec<StorageClass> {
        let mut classes = Vec::new();
        for (name, spec) in self
            .spec
            .storage_classes
            .iter()
            .flat_map(|s| s.value.iter())
        {
            let spec = &spec.value;
            let mut keyword =
                |value: Option<&Spanned<String>>, choices: &[&str], default: &str, what: &str| {
                    let Some(value) = value else {
                        return default.to_string();
                    };
                    if !choices.contains(&value.value.as_str()) {
                        let help = suggestion(&value.value, choices, what);
                        self.error(
                            "unknown-value",
                            format!("`{}` is not a {what}", value.value),
                            value.span,
                            "unknown value",
                            help,
                        );
                    }
                    value.value.clone()
                };
            let reclaim_policy = keyword(
                spec.reclaim_policy.as_ref(),
                &["Retain", "Delete"],
                "Retain",
                "reclaim policy",
            );
            let volume_binding_mode = keyword(
                spec.volume_binding_mode.as_ref(),
                &["WaitForFirstConsumer", "Immediate"],
                "WaitForFirstConsumer",
                "volume binding mode",
            );
            classes.push(StorageClass {
                name: text(name),
                provisioner: spec.provisioner.value.clone(),
                parameters: spec
                    .parameters
                    .iter()
                    .flat_map(|p| p.value.iter())
                    .map(|(k, v)| (text(k), v.value.clone()))
                    .collect(),
                reclaim_policy,
                volume_binding_mode,
                allow_volume_expansion: spec
                    .allow_volume_expansion
                    .as_ref()
                    .is_none_or(|a| a.value),
                default: spec.default.as_ref().is_some_and(|d| d.value),
            });
        }
        classes
    }
}

impl Resolver<'_> {
    /// A namespace's LimitRange values, checked in Kubernetes' order for each
    /// resource: `min` ≤ `defaultRequest` ≤ `default` ≤ `max`, where an
    /// absent default is the built-in one (the API server refuses the
    /// LimitRange otherwise).
    fn container_limits(&mut self, spec: &ContainerLimitsSpec) -> Option<ContainerLimits> {
        let amounts = |list: &Option<Spanned<ResourceList>>| Bounds {
            cpu: list
                .as_ref()
                .and_then(|l| l.value.cpu.as_ref())
                .map(|c| c.value.0),
            memory: list
                .as_ref()
                .and_then(|l| l.value.memory.as_ref())
                .map(|m| m.value.0),
        };
        let limits = ContainerLimits {
            default_limit: amounts(&spec.default_limit),
            default_request: amounts(&spec.default_request),
            max: amounts(&spec.max),
            min: amounts(&spec.min),
        };
        let mut valid = true;
        for measure in [Measure::Cpu, Measure::Bytes] {
            let (resource, builtin) = match measure {
                Measure::Bytes => ("memory", DEFAULT_MEMORY_REQUEST),
                _ => ("cpu", DEFAULT_CPU_REQUEST),
            };
            let given = |list: &Option<Spanned<ResourceList>>| {
                let list = &list.as_ref()?.value;
                match measure {
                    Measure::Bytes => list.memory.as_ref().map(|m| (m.value.0, m.span)),
                    _ => list.cpu.as_ref().map(|c| (c.value.0, c.span)),
                }
            };
            // (key, value, where the spec sets it)
            let chain = [
                ("min", given(&spec.min).map(|(q, s)| (q, Some(s)))),
                (
                    "defaultRequest",
                    Some(
                        given(&spec.default_request).map_or((builtin, None), |(q, s)| (q, Some(s))),
                    ),
                ),
                (
                    "default",
                    Some(
                        given(&spec.default_limit)
                            .map_or((builtin.times(2), None), |(q, s)| (q, Some(s))),
                    ),
                ),
                ("max", given(&spec.max).map(|(q, s)| (q, Some(s)))),
            ];
            let present: Vec<(&str, Quantity, Option<Span>)> = chain
                .iter()
                .filter_map(|(key, v)| v.map(|(q, s)| (*key, q, s)))
                .collect();
            let broken = present.iter().enumerate().find_map(|(i, low)| {
                present[i + 1..]
                    .iter()
                    .find(|high| high.1 < low.1)
                    .map(|high| (*low, *high))
            });
            let Some((low, high)) = broken else {
                continue;
            };
            let describe = |(key, q, span): (&str, Quantity, Option<Span>)| {
                let shown = q.to_kubernetes(measure);
                if span.is_some() {
                    format!("`{key}` {shown}")
                } else {
                    format!("the built-in `{key}` {shown}")
                }
            };
            let Some(span) = high.2.or(low.2) else {
                continue;
            };
            let help = if low.2.is_none() || high.2.is_none() {
                format!(
                    "set `{}` too, or keep each {resource} value in the order min ≤ defaultRequest ≤ default ≤ max",
                    if low.2.is_none() { low.0 } else { high.0 }
                )
            } else {
                format!(
                    "keep each {resource} value in the order min ≤ defaultRequest ≤ default ≤ max"
                )
            };
            self.error(
                "invalid-limits",
                format!(
                    "the {resource} limits are out of order: {} is below {}",
                    describe(high),
                    describe(low)
                ),
                span,
                "out of order",
                help,
            );
            valid = false;
        }
        valid.then_some(limits)
    }
}

fn budget(spec: &BudgetSpec) -> Budget {
    Budget {
        cpu: spec.cpu.as_ref().map(|c| c.value.0),
        memory: spec.memory.as_ref().map(|m| m.value.0),
        limits_cpu: spec
            .limits
            .as_ref()
            .and_then(|l| l.value.cpu.as_ref())
            .map(|c| c.value.0),
        limits_memory: spec
            .limits
            .as_ref()
            .and_then(|l| l.value.memory.as_ref())
            .map(|m| m.value.0),
        gpu: spec.gpu.as_ref().map(|g| g.value),
        storage: spec.storage.as_ref().map(|s| s.value.0),
        pvcs: spec.pvcs.as_ref().map(|p| p.value),
        pods: spec.pods.as_ref().map(|p| p.value),
    }
}

/// Keys only a blueprint service may write.
fn blueprint_keys(spec: &ServiceSpec) -> Vec<(&'static str, Span)> {
    [
        ("mode", spec.mode.as_ref().map(|v| v.span)),
        ("version", spec.version.as_ref().map(|v| v.span)),
        ("databases", spec.databases.as_ref().map(|v| v.span)),
        ("topics", spec.topics.as_ref().map(|v| v.span)),
        ("users", spec.users.as_ref().map(|v| v.span)),
        ("shards", spec.shards.as_ref().map(|v| v.span)),
        ("options", spec.options.as_ref().map(|v| v.span)),
        ("settings", spec.settings.as_ref().map(|v| v.span)),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect()
}

impl Resolver<'_> {
    /// The service as its blueprint fills it in, and how it uses the
    /// blueprint; the service unchanged when it has none.
    fn apply_blueprint(
        &mut self,
        name: &Spanned<spec::names::Name>,
        spec: &ServiceSpec,
        tier: &Tier,
    ) -> (ServiceSpec, Option<Tuning>) {
        let Some(blueprint_name) = &spec.blueprint else {
            for (key, span) in blueprint_keys(spec) {
                self.error(
                    "option-without-blueprint",
                    format!("`{key}` tunes a blueprint, and `{}` has none", name.value.0),
                    span,
                    "no blueprint to tune",
                    "add `blueprint: NAME` (docs/blueprints.md lists them), or remove this key"
                        .into(),
                );
            }
            return (spec.clone(), None);
        };
        let Some(blueprint) = self.catalog.get(&blueprint_name.value.0) else {
            return (spec.clone(), None);
        };
        let environment = self.environment;
        let own = spec.replicas.as_ref().map(|r| r.value);
        let replicas = move |default: u32| {
            let base = own.unwrap_or(default);
            let forced = environment
                .and_then(|e| e.replicas.as_ref())
                .map_or(base, |r| r.value);
            forced.max(
                environment
                    .and_then(|e| e.min_replicas.as_ref())
                    .map_or(0, |r| r.value),
            )
        };
        let siblings = self
            .spec
            .tiers
            .value
            .iter()
            .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
            .filter(|(n, _)| n.value != name.value)
            .map(|(n, s)| Sibling {
                name: n.value.0.clone(),
                blueprint: s.value.blueprint.as_ref().map(text),
                mode: s.value.mode.as_ref().map(text),
                databases: crate::model::tuning::listed_databases(&s.value),
                users: crate::model::tuning::listed_users(&s.value),
            })
            .collect();
        let place = tune::Placement {
            catalog: self.catalog,
            platform: &self.spec.platform.value.0,
            service: &name.value.0,
            namespace: &tier.namespace,
            replicas: &replicas,
            siblings,
        };
        let tuning = match tune::tune(blueprint, spec, self.spec, &place, &self.doc.file) {
            Ok(tuning) => tuning,
            Err(errors) => {
                self.errors.extend(errors);
                return (spec.clone(), None);
            }
        };
        let mut filled = match fill::fill(spec, &tuning, blueprint_name.span) {
            Ok(filled) => filled,
            Err(diagnostic) => {
                self.errors.push(diagnostic.at(
                    &self.doc.file,
                    blueprint_name.span,
                    "this blueprint",
                ));
                return (spec.clone(), None);
            }
        };
        // Services the blueprint calls because of its options (a backup
        // endpoint) are needs like the user's, reported where they are named.
        for callee in &tuning.supplied.needs {
            let span = spec
                .options
                .as_ref()
                .and_then(|o| o.value.iter().find(|(_, v)| v.value == *callee))
                .map_or(blueprint_name.span, |(_, v)| v.span);
            let need = Spanned {
                value: NeedSpec::Service(spec::names::Name(callee.clone())),
                span,
            };
            match &mut filled.needs {
                Some(needs) => needs.value.push(need),
                None => {
                    filled.needs = Some(Spanned {
                        value: vec![need],
                        span,
                    })
                }
            }
        }
        if let Some(operator) = tuning.mode.operator {
            self.wait_for_operator(operator, name, tier, &mut filled);
        }
        (filled, Some(tuning))
    }

    /// Makes a service that relies on `operator` wait for the tier that
    /// installs it, when a tier of the platform does.
    fn wait_for_operator(
        &mut self,
        operator: &str,
        name: &Spanned<spec::names::Name>,
        tier: &Tier,
        filled: &mut ServiceSpec,
    ) {
        let Some(operator_tier) = operators::operator_tier(self.spec, operator) else {
            return;
        };
        if operator_tier.value.0 == tier.name {
            self.error(
                "operator-in-own-tier",
                format!("the `{operator}` operator is installed by the tier `{}`, which also holds `{}`", tier.name, name.value.0),
                operator_tier.span,
                "the same tier",
                "install operators in a tier of their own that the service's tier comes after".into(),
            );
            return;
        }
        let need = Spanned {
            value: NeedSpec::Tier(operator_tier.value.clone()),
            span: operator_tier.span,
        };
        match &mut filled.needs {
            Some(needs) => needs.value.push(need),
            None => {
                filled.needs = Some(Spanned {
                    value: vec![need],
                    span: operator_tier.span,
                })
            }
        }
    }

    /// A service's `scheduler:`, checked: the platform declares the
    /// scheduler's operator, and an operator that makes the pods itself
    /// must be one that hands them to that scheduler (KubeRay).
    fn scheduler(
        &mut self,
        name: &Spanned<spec::names::Name>,
        tuning: Option<&Tuning>,
        tier: &Tier,
        filled: &mut ServiceSpec,
    ) {
        let Some(scheduler) = filled.scheduler.clone() else {
            return;
        };
        let operator = scheduler.value.as_str();
        let declared = self
            .spec
            .operators
            .as_ref()
            .is_some_and(|o| o.value.get(operator).is_some());
        if !declared {
            self.error(
                "missing-operator",
                format!("`{}` is scheduled by {operator}, which the platform does not declare", name.value.0),
                scheduler.span,
                "needs its scheduler",
                format!("declare it under `operators:`, either installed already: `{operator}: {{ installed: true }}`, or by a tier of raw manifests: `{operator}: {{ tier: operators }}`"),
            );
        }
        if let Some(tuning) = tuning.filter(|t| t.mode.operated)
            && !tuning.mode.operated_scheduling
        {
            self.error(
                "unsupported-for-mode",
                format!("the `{}` mode of `{}` runs its pods through an operator, which does not hand them to {operator}", tuning.mode.name, tuning.blueprint.name()),
                scheduler.span,
                "the operator schedules its own pods",
                "remove `scheduler`, or use a mode whose pods Strata runs".into(),
            );
        }
        self.wait_for_operator(operator, name, tier, filled);
    }

    /// Resolves `${service.field}` references in the configuration files a
    /// blueprint wrote (Grafana's datasources, an edge proxy's upstream).
    fn blueprint_config(
        &mut self,
        service: &mut Service,
        services: &HashMap<String, ServiceId>,
        endpoints: &[Vec<(String, String)>],
    ) -> Vec<Dependency> {
        let mut references = Vec::new();
        let Some(tuning) = &service.tuning else {
            return references;
        };
        let blueprint_files = tuning.blueprint.recipe(tuning).spec["config"]["files"].clone();
        let span = service.span;
        let Some(config) = service.config.as_mut() else {
            return references;
        };
        for file in &mut config.files {
            let FileContent::Inline(text) = &file.content else {
                continue;
            };
            if blueprint_files[&file.name].as_str() != Some(text.as_str()) || !text.contains("${") {
                continue;
            }
            let name = file.name.clone();
            let text = text.clone();
            if let Some(resolved) =
                self.literal(&text, span, &name, services, endpoints, &mut references)
            {
                file.content = FileContent::Inline(resolved);
            }
        }
        references
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Platform;
    use crate::source::SourceFile;
    use crate::spec;

    fn resolve(services: &str) -> Result<Platform, Vec<String>> {
        let text = format!("platform: p\ntiers:\n  - name: apps\n    services:\n{services}");
        let file = SourceFile::new("p.yaml", text);
        let doc = spec::parse(&file)
            .map_err(|e| e.iter().map(|d| d.code.to_string()).collect::<Vec<_>>())?;
        crate::resolve(&doc, None).map_err(|e| e.iter().map(|d| d.code.to_string()).collect())
    }

    #[test]
    fn a_call_without_waiting_keeps_the_edge_but_not_the_order() {
        let waiting = resolve(
            "      api: { image: a:1, ports: { http: 80 }, env: { S: '${search.host}' } }\n      search: { image: s:1, ports: { http: 80 } }\n",
        )
        .unwrap();
        assert!(waiting.service("api").unwrap().wave > waiting.service("search").unwrap().wave);
        let free = resolve(
            "      api: { image: a:1, ports: { http: 80 }, env: { S: '${search.host}' }, calls: { search: { wait: false } } }\n      search: { image: s:1, ports: { http: 80 } }\n",
        )
        .unwrap();
        assert_eq!(
            free.service("api").unwrap().wave,
            free.service("search").unwrap().wave
        );
        assert_eq!(free.edges.len(), 1, "the call is still an edge");
    }

    #[test]
    fn calls_without_waiting_may_go_both_ways() {
        let mutual = "      a: { image: a:1, ports: { http: 80 }, env: { B: '${b.host}' }, calls: { b: { wait: false } } }\n      b: { image: b:1, ports: { http: 80 }, env: { A: '${a.host}' } }\n";
        assert!(resolve(mutual).is_ok());
        let cycle = mutual.replace(", calls: { b: { wait: false } }", "");
        assert_eq!(resolve(&cycle).unwrap_err(), ["dependency-cycle"]);
    }

    #[test]
    fn wait_is_per_callee_and_needs_a_named_callee() {
        let text = "platform: p\ntiers:\n  - name: data\n    services:\n      b: { image: b:1, ports: { http: 80 } }\n  - name: apps\n    services:\n      a: { image: a:1, ports: { http: 80 }, needs: [tier/data], calls: { b: { wait: false } } }\n";
        let file = SourceFile::new("p.yaml", text);
        let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["wait-without-dependency"]);
        let file = SourceFile::new(
            "p.yaml",
            "platform: p\ndefaults: { calls: { wait: false } }\ntiers:\n  - name: apps\n    services:\n      a: { image: a:1 }\n",
        );
        let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
        assert_eq!(errors[0].code, "wait-in-defaults");
    }
}
