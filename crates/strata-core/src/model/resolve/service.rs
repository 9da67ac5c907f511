//! One service: its kind, schedule, ports, replicas and API access, built
//! from its spec (its blueprint's recipe already filled in).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::{Resolver, ServiceNames, text};
use crate::diag::Diagnostic;
use crate::model::{
    Access, Extras, Front, Objectives, Port, Protocol, Serve, Service, ServiceId, ServiceType,
    Tier, TierId, WorkloadKind,
};
use crate::rare::Rare;
use crate::source::Span;
use crate::spec::service::{PortSpec, ServiceSpec};
use crate::spec::{self, Spanned};

/// A service as declared in its tier, before it is built.
pub(super) struct Declaration<'a> {
    name: &'a Spanned<spec::names::Name>,
    spec: &'a ServiceSpec,
    tier: TierId,
    /// Where the name was first declared, when this declaration repeats it.
    again: Option<Span>,
}

/// A service's spec as resolve reads it: as written, or filled in by its
/// blueprint. Most services have no blueprint and are read where they were
/// decoded, not copied.
#[derive(Debug)]
pub(super) enum Filled<'s> {
    /// As decoded.
    Written(&'s ServiceSpec),
    /// A copy, changed: filled in by its blueprint, or waiting for an
    /// operator's tier.
    Filled(Box<ServiceSpec>),
}

impl Filled<'_> {
    /// The spec to change: copied first if it is the decoded one.
    pub(super) fn to_mut(&mut self) -> &mut ServiceSpec {
        if let Filled::Written(spec) = self {
            *self = Filled::Filled(Box::new((*spec).clone()));
        }
        match self {
            Filled::Filled(spec) => spec,
            Filled::Written(_) => unreachable!("copied above"),
        }
    }
}

impl std::ops::Deref for Filled<'_> {
    type Target = ServiceSpec;

    fn deref(&self) -> &ServiceSpec {
        match self {
            Filled::Written(spec) => spec,
            Filled::Filled(spec) => spec,
        }
    }
}

impl<'a> Resolver<'a> {
    /// Every service of the spec built, in order, with its spec as
    /// resolve reads it, and the services by name.
    pub(super) fn services(
        &mut self,
        tiers: &[Tier],
    ) -> (Vec<Service>, Vec<Filled<'a>>, ServiceNames<'a>) {
        let spec: &'a spec::PlatformSpec = self.spec;
        // Every declaration in order, each with its tier, and the first
        // declaration of its name when it repeats one.
        let count = spec
            .tiers
            .value
            .iter()
            .flat_map(|t| t.value.services.iter())
            .map(|s| s.value.0.len())
            .sum();
        let mut declarations: Vec<Declaration<'a>> = Vec::with_capacity(count);
        let mut first: HashMap<&'a str, Span> = HashMap::with_capacity(count);
        for tier_spec in &spec.tiers.value {
            let Some(tier) = tiers
                .iter()
                .position(|t| t.span == tier_spec.value.name.span)
            else {
                continue;
            };
            for (name, service) in tier_spec.value.services.iter().flat_map(|s| s.value.iter()) {
                let again = match first.entry(name.value.0.as_str()) {
                    Entry::Occupied(first) => Some(*first.get()),
                    Entry::Vacant(entry) => {
                        entry.insert(name.span);
                        None
                    }
                };
                declarations.push(Declaration {
                    name,
                    spec: &service.value,
                    tier: TierId(tier),
                    again,
                });
            }
        }
        let threads = self.threads_for(declarations.len());
        if threads > 1
            && declarations.iter().any(|d| {
                d.spec
                    .rare
                    .blueprint
                    .as_ref()
                    .is_some_and(|b| self.catalog.get(&b.value.0).is_some())
            })
        {
            // Made once here rather than once per thread.
            self.siblings();
        }
        let built = self.on_threads(threads, declarations.len(), |resolver, i| {
            resolver.declared(&declarations[i], tiers)
        });
        let mut index = ServiceNames::with_capacity(declarations.len());
        let mut specs = Vec::with_capacity(declarations.len());
        // Collected in place: the services take the memory they were built
        // in rather than a second vector as large.
        let services: Vec<Service> = built
            .into_iter()
            .enumerate()
            .filter_map(|(i, built)| {
                let (service, spec) = built?;
                index.insert(
                    declarations[i].name.value.0.as_str(),
                    ServiceId(specs.len()),
                );
                specs.push(spec);
                Some(service)
            })
            .collect();
        self.check_service_names(&services, &specs);
        (services, specs, index)
    }

    /// One declared service built from its spec, its blueprint's recipe
    /// filled in; `None`, with an error, when its name is taken.
    fn declared(
        &mut self,
        declaration: &Declaration<'a>,
        tiers: &[Tier],
    ) -> Option<(Service, Filled<'a>)> {
        let Declaration {
            name,
            tier: tier_id,
            ..
        } = *declaration;
        if let Some(first) = declaration.again {
            let diagnostic = Diagnostic::error(
                "duplicate-service",
                format!("the service `{}` is declared twice", name.value.0),
            )
            .at(&self.doc.file, name.span, "declared again here")
            .also(first, "first declared here")
            .help("service names are unique across the whole platform; rename one");
            self.errors.push(diagnostic);
            return None;
        }
        let tier = &tiers[tier_id.0];
        let (mut spec, mut tuning) = self.apply_blueprint(name, declaration.spec, tier);
        self.scheduler(name, tuning.as_ref(), tier, &mut spec);
        if let Some(tuning) = &mut tuning
            && let Some(operator) = tuning.mode.operator
        {
            tuning.operator_namespace = match super::operators::operator_tier(self.spec, operator) {
                Some(tier) => tiers
                    .iter()
                    .find(|t| t.name == tier.value.0)
                    .map(|t| t.namespace.clone()),
                None => {
                    super::operators::operator_namespace(self.spec, operator).map(str::to_string)
                }
            };
        }
        let mut built = self.service(name, &spec, tier_id, tier);
        built.tuning = tuning.map(Box::new);
        Some((built, spec))
    }

    /// A Service renamed with `service.name` must not take the name of
    /// another Service in its namespace: another service's, or a
    /// StatefulSet's headless one.
    fn check_service_names(&mut self, services: &[Service], specs: &[Filled<'_>]) {
        for (i, (service, spec)) in services.iter().zip(specs).enumerate() {
            let Some(renamed) = spec
                .rare
                .service
                .as_ref()
                .and_then(|s| s.value.name.as_ref())
            else {
                continue;
            };
            let taken = services.iter().enumerate().find(|(j, other)| {
                *j != i
                    && other.namespace == service.namespace
                    && (other.front.name == service.front.name
                        || format!("{}-headless", other.name) == service.front.name)
            });
            if let Some((_, other)) = taken {
                let diagnostic = Diagnostic::error(
                    "duplicate-object",
                    format!(
                        "the Service `{}` of `{}` would replace one of `{}` in `{}`",
                        service.front.name, service.name, other.name, service.namespace
                    ),
                )
                .at(&self.doc.file, renamed.span, "taken")
                .also(other.span, "whose Service has that name")
                .help("give the Service another name");
                self.errors.push(diagnostic);
            }
        }
    }

    pub(super) fn service(
        &mut self,
        name: &Spanned<spec::names::Name>,
        spec: &ServiceSpec,
        tier: TierId,
        tier_value: &Tier,
    ) -> Service {
        let defaults = self.spec.defaults.as_ref().map(|d| &d.value);
        if let Some(blueprint) = &spec.rare.blueprint
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
        if spec.image.is_none() && spec.rare.blueprint.is_none() {
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
            .and_then(|s| self.volume(s, defaults.and_then(|d| d.storage_class.as_ref())));
        let volumes = self.named_volumes(
            spec,
            storage.as_ref(),
            defaults.and_then(|d| d.storage_class.as_ref()),
        );
        let kind = spec.rare.kind.as_ref().map_or(
            if storage.is_some() || !volumes.is_empty() {
                WorkloadKind::Stateful
            } else {
                WorkloadKind::Stateless
            },
            |k| k.value,
        );
        match (&spec.rare.schedule, kind) {
            (None, WorkloadKind::Cron) => self.error(
                "missing-schedule",
                format!("the cron service `{}` has no `schedule`", name.value.0),
                spec.rare.kind.as_ref().map_or(name.span, |k| k.span),
                "cron without a schedule",
                "add `schedule: \"0 3 * * *\"` (minute hour day month weekday)".into(),
            ),
            (Some(schedule), WorkloadKind::Cron) => {
                if let Some(why) = crate::spec::schedule::cron_problem(&schedule.value) {
                    self.error(
                        "invalid-schedule",
                        format!("`{}` is not a cron schedule: {why}", schedule.value),
                        schedule.span,
                        "not a cron schedule",
                        "write five fields: minute hour day-of-month month day-of-week, e.g. `0 3 * * *`".into(),
                    );
                }
            }
            (Some(schedule), other) if other != WorkloadKind::Cron => self.error(
                "unexpected-schedule",
                format!(
                    "`schedule` only applies to `kind: cron`, and `{}` is {}",
                    name.value.0,
                    other.as_str()
                ),
                schedule.span,
                "not a cron service",
                "add `kind: cron`, or remove `schedule`".into(),
            ),
            _ => {}
        }
        let ports = self.ports(spec);
        let front = self.front(&name.value.0, spec, &ports, kind);
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
            front,
            slo: spec
                .rare
                .slo
                .as_ref()
                .map(|s| Box::new(Objectives::of(&s.value))),
            tier,
            namespace: tier_value.namespace.clone(),
            image: spec.image.as_ref().map(|i| i.value.clone()),
            tuning: None,
            kind,
            // Resolved once every service is known (`backup.rs`).
            backup: None,
            ports,
            env: Vec::new(),
            env_config_map: spec
                .rare
                .env_from
                .as_ref()
                .is_some_and(|e| e.value == crate::spec::service::EnvFrom::ConfigMap),
            wait_in_pod: spec.rare.wait_for_needs.as_ref().is_some_and(|w| w.value),
            replicas,
            resources,
            storage: storage.map(Box::new),
            pool: None,
            needs: Vec::new(),
            labels: self.own_labels(spec.labels.as_ref()),
            container: spec
                .rare
                .container
                .as_ref()
                .map_or_else(|| name.value.0.clone(), |c| c.value.0.clone()),
            runtime,
            config: config.map(Box::new),
            spawns: None,
            wave: 0,
            span: name.span,
            rare: Rare::new(Extras {
                blueprint: spec.rare.blueprint.as_ref().map(text),
                schedule: spec.rare.schedule.as_ref().map(|s| s.value.clone()),
                command: spec
                    .rare
                    .command
                    .iter()
                    .flat_map(|c| &c.value)
                    .map(|c| c.value.clone())
                    .collect(),
                args: spec
                    .rare
                    .args
                    .iter()
                    .flat_map(|c| &c.value)
                    .map(|c| c.value.clone())
                    .collect(),
                init: Vec::new(),
                sidecars: Vec::new(),
                gpu: spec.rare.gpu.as_ref().map_or(0, |g| g.value),
                volumes,
                priority: spec.rare.priority.as_ref().map(text),
                scheduler: spec.rare.scheduler.as_ref().map(|s| s.value),
                scratch,
                pod_labels: self.own_labels(spec.rare.pod_labels.as_ref()),
                pod_annotations: spec
                    .rare
                    .pod_annotations
                    .iter()
                    .flat_map(|a| a.value.iter())
                    .map(|(k, v)| (k.value.0.clone(), v.value.clone()))
                    .collect(),
                selector: self.selector(name, spec),
                patches,
                egress: Vec::new(),
                externals: Vec::new(),
                access,
                serve: Serve::default(),
                tracing_sampling: None,
            }),
        }
    }

    /// The ports of its main container, then its sidecars' (tagged with
    /// theirs): one Service and one set of NetworkPolicies count them all,
    /// so numbers and names are unique across the pod.
    fn ports(&mut self, spec: &ServiceSpec) -> Vec<Port> {
        let sidecars = spec.rare.sidecars.iter().flat_map(|s| s.value.iter());
        let sources = std::iter::once((None, spec.ports.as_ref())).chain(
            sidecars.map(|(name, sidecar)| (Some(&name.value.0), sidecar.value.ports.as_ref())),
        );
        let mut ports: Vec<(Port, Span)> = Vec::new();
        for (sidecar, list) in sources {
            for (name, port) in list.iter().flat_map(|p| p.value.iter()) {
                if let Some(port) = self.port(spec, sidecar, name, port, &ports) {
                    ports.push(port);
                }
            }
        }
        // A vector of its own, exactly as long: collected in place, the
        // ports would keep the room of the larger pairs.
        let mut own = Vec::with_capacity(ports.len());
        own.extend(ports.into_iter().map(|(p, _)| p));
        own
    }

    /// One port, unless it repeats a number or name of `taken`.
    fn port(
        &mut self,
        spec: &ServiceSpec,
        sidecar: Option<&String>,
        name: &Spanned<spec::names::PortName>,
        port: &Spanned<PortSpec>,
        taken: &[(Port, Span)],
    ) -> Option<(Port, Span)> {
        let (service_number, number, protocol, node_port) = match &port.value {
            PortSpec::Number(n) => (n.0, n.0, None, None),
            PortSpec::Detail(d) => (
                d.port.value.0,
                d.target_port.as_ref().map_or(d.port.value.0, |t| t.value.0),
                d.protocol.as_ref().map(|p| p.value),
                d.node_port.as_ref(),
            ),
        };
        if let Some(node_port) = node_port {
            let public = spec
                .rare
                .service
                .as_ref()
                .and_then(|s| s.value.service_type.as_ref());
            if public.is_none_or(|t| t.value == ServiceType::ClusterIp) {
                self.error(
                    "missing-option",
                    format!(
                        "the port `{}` has a `nodePort`, and its Service is not a NodePort one",
                        name.value.0
                    ),
                    node_port.span,
                    "no port on the nodes",
                    "add `service: { type: NodePort }` (or `LoadBalancer`), or remove `nodePort`"
                        .into(),
                );
            }
        }
        let clash = taken.iter().find(|(p, _)| {
            p.number == number || p.service_port() == service_number || p.name == name.value.0
        });
        if let Some((first, first_span)) = clash {
            let what = if first.name == name.value.0 {
                format!("the port name `{}` is used twice", first.name)
            } else {
                let number = if first.number == number {
                    number
                } else {
                    service_number
                };
                format!(
                    "port {number} is used twice, by `{}` and `{}`",
                    first.name, name.value.0
                )
            };
            let diagnostic = Diagnostic::error("duplicate-port", what)
                .at(&self.doc.file, port.span, "used again here")
                .also(*first_span, "first used here")
                .help("each port of a pod, its sidecars' included, needs its own name and number");
            self.errors.push(diagnostic);
            return None;
        }
        Some((
            Port {
                name: name.value.0.clone(),
                number,
                protocol: protocol.unwrap_or_else(|| Protocol::guess(&name.value.0)),
                service_number: (service_number != number).then_some(service_number),
                node_port: node_port.map(|n| n.value.0),
                sidecar: sidecar.cloned(),
            },
            port.span,
        ))
    }

    fn replicas(&mut self, spec: &ServiceSpec, kind: WorkloadKind) -> u32 {
        if !matches!(kind, WorkloadKind::Stateless | WorkloadKind::Stateful) {
            if let Some(replicas) = &spec.replicas
                && replicas.value.0 != 1
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
            .map_or(1, |r| r.value.0);
        let forced = env
            .and_then(|e| e.replicas.as_ref())
            .map_or(base, |r| r.value.0);
        forced.max(
            env.and_then(|e| e.min_replicas.as_ref())
                .map_or(0, |r| r.value.0),
        )
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
        let Some(list) = &spec.rare.access else {
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

    /// The Kubernetes Service in front of the service's pods, from
    /// `service:`; a ClusterIP one of its name by default.
    fn front(
        &mut self,
        name: &str,
        spec: &ServiceSpec,
        ports: &[Port],
        kind: WorkloadKind,
    ) -> Front {
        let mut front = Front::cluster_ip(name);
        let Some(own) = &spec.rare.service else {
            return front;
        };
        if ports.is_empty() || !kind.is_long_running() {
            self.error(
                "unsupported-for-kind",
                format!("`{name}` has no Service: it has no ports, or it runs to completion"),
                own.span,
                "no Service",
                "remove `service`, or give the service ports".into(),
            );
            return front;
        }
        let own = &own.value;
        if let Some(service_type) = &own.service_type {
            front.service_type = service_type.value;
        }
        if let Some(renamed) = &own.name {
            front.name.clone_from(&renamed.value.0);
        }
        let public_only = [
            (
                "externalTrafficPolicy",
                own.external_traffic_policy.as_ref().map(|p| p.span),
            ),
            ("from", own.from.as_ref().map(|f| f.span)),
        ];
        for (key, span) in public_only {
            if let Some(span) = span
                && !front.is_public()
            {
                self.error(
                    "missing-option",
                    format!("`{key}` applies to outside traffic, and the Service of `{name}` is a ClusterIP one"),
                    span,
                    "for NodePort and LoadBalancer",
                    "add `type: NodePort` or `type: LoadBalancer`, or remove it".into(),
                );
            }
        }
        front.external_traffic_policy = own.external_traffic_policy.as_ref().map(|p| p.value);
        front.from = own
            .from
            .iter()
            .flat_map(|f| &f.value)
            .map(|cidr| cidr.value.0.clone())
            .collect();
        front.annotations = own
            .annotations
            .iter()
            .flat_map(|a| a.value.iter())
            .map(|(k, v)| (k.value.0.clone(), v.value.clone()))
            .collect();
        front
    }

    /// The labels the service's workload selects its pods by, when the
    /// spec gives them (`selector:`): at least one, each a valid label.
    fn selector(
        &mut self,
        name: &Spanned<spec::names::Name>,
        spec: &ServiceSpec,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let selector = spec.rare.selector.as_ref()?;
        if selector.value.0.is_empty() {
            self.error(
                "invalid-selector",
                format!("`{}` selects its pods by no label", name.value.0),
                selector.span,
                "empty",
                "write the labels of the workload it takes over (`{ app: cart }`), or remove `selector`".into(),
            );
            return None;
        }
        Some(
            selector
                .value
                .iter()
                .map(|(k, v)| (k.value.0.clone(), v.value.0.clone()))
                .collect(),
        )
    }
}
