//! The validated platform: what a spec means in one environment.
//!
//! [`resolve`] turns a [`Document`](crate::spec::Document) into a
//! [`Platform`]: the environment's overrides applied, defaults filled in,
//! names and references checked, and services layered into waves. Every
//! later stage (plan, render, audit, apply) reads only this.

mod backup;
mod blueprint;
pub mod calls;
mod cluster;
mod endpoint;
mod external;
pub mod graph;
pub mod hosts;
mod lookup;
mod network;
pub mod reference;
mod resolve;
mod runtime;
mod service;
mod tuning;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
pub use crate::spec::network::{GatewayKind, MeshKind, ServiceType, TrafficPolicy};
pub use crate::spec::runtime::Profile;
pub use crate::spec::service::{PodScheduler, Protocol, WorkloadKind};
pub use crate::spec::storage::AccessMode;
pub use backup::*;
pub use blueprint::{
    Auth, Blueprint, BlueprintInfo, Catalog, Key, Mode, OperatorRelease, OptionCheck, OptionDoc,
    OptionValue, Release, Releases,
};
pub use cluster::*;
pub use endpoint::CLUSTER_DOMAIN;
pub use lookup::Lookup;
pub use network::*;
pub use resolve::environment_names;
pub use resolve::{DEFAULT_CPU_REQUEST, DEFAULT_MEMORY_REQUEST, DEFAULT_MOUNT_PATH, resolve};
pub use resolve::{
    DEFAULT_CPU_TARGET, DEFAULT_STARTUP_SECONDS, DEFAULT_TERMINATION_SECONDS, DEFAULT_USER,
};
pub use resolve::{KONG_TLS_PORT, KONG_TLS_PORT_NUMBER};
pub use runtime::*;
pub use service::*;
pub use tuning::{
    Database, HostAccess, Members, PodGroup, Recipe, Sibling, Siblings, Supplied, Topic, Tuning,
    User, is_sql_identifier, label_map, owner_secret_of,
};

/// Index of a tier in [`Platform::tiers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TierId(pub usize);

/// Index of a service in [`Platform::services`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ServiceId(pub usize);

/// A platform in one environment, valid by construction.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The platform's name.
    pub name: String,
    /// The environment applied, if any.
    pub environment: Option<String>,
    /// Whether people depend on it (`environments.NAME.production`): audit
    /// allows single replicas where it is `false`.
    pub production: bool,
    /// Labels for every object.
    pub labels: BTreeMap<String, String>,
    /// The shared namespace in this environment: tiers that set none use it,
    /// and `strata apply` keeps the platform's revisions there.
    pub shared_namespace: String,
    /// Tiers, bottom first, as written.
    pub tiers: Vec<Tier>,
    /// Every service of every tier, tier by tier in spec order.
    pub services: Vec<Service>,
    /// Namespaces the platform owns, with their budgets.
    pub namespaces: Vec<Namespace>,
    /// Node pools.
    pub node_pools: Vec<NodePool>,
    /// PriorityClasses, in spec order.
    pub priorities: Vec<Priority>,
    /// The Argo CD Application of this environment, if the spec delivers
    /// with Argo CD.
    pub argocd: Option<ArgoCd>,
    /// Tenants.
    pub tenants: Vec<Tenant>,
    /// StorageClasses the platform declares.
    pub storage_classes: Vec<StorageClass>,
    /// Secrets the platform declares.
    pub secrets: Vec<Secret>,
    /// Render ServiceMonitors rather than scrape annotations.
    pub service_monitors: bool,
    /// The service-level objectives of every service (`monitoring.slo`).
    pub slo: Option<Objectives>,
    /// Gateways, in spec order.
    pub gateways: Vec<Gateway>,
    /// Routes from gateways to services.
    pub routes: Vec<Route>,
    /// Who calls whom: every declared or implied edge, once.
    pub edges: Vec<Edge>,
    /// The distinct call policies of the edges, which each edge points
    /// into ([`Edge::calls`]).
    pub call_policies: Vec<CallPolicy>,
    /// Dependencies outside the spec that services call by name.
    pub externals: Vec<External>,
    /// Hosts of other services and externals that services' env values and
    /// arguments write out rather than reference, declared or not.
    pub mentions: Vec<calls::Mention>,
    /// Services the spec says nothing is meant to call or route to
    /// (`expose: []`): a worker whose port serves only its probes, a console
    /// people open with `kubectl port-forward`.
    pub uncalled: Vec<ServiceId>,
    /// Isolation, mesh and metrics scraping.
    pub network: Network,
    /// Private container registries, in spec order.
    pub registries: Vec<Registry>,
    /// Services grouped by the wave they start in; `waves[0]` is wave 1.
    pub waves: Vec<Vec<ServiceId>>,
    /// The longest chain of waits, first to last.
    pub critical_path: Vec<PathStep>,
    /// The spec file, for locations of findings.
    pub file: SourceFile,
    /// Services by name and edges by service, built from `services` and
    /// `edges` when the platform is resolved.
    pub lookup: Lookup,
}

/// One step of the critical path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PathStep {
    /// A service that must be ready before the next step.
    Service(ServiceId),
    /// A whole tier that must be ready before the next step.
    Tier(TierId),
    /// A tier's raw manifests.
    Manifests(TierId),
}

/// A layer of the platform.
#[derive(Debug, Clone)]
pub struct Tier {
    /// The tier's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Tiers it waits for as a whole.
    pub after: Vec<TierId>,
    /// Its services in spec order.
    pub services: Vec<ServiceId>,
    /// Raw manifest files applied as they are.
    pub manifests: Vec<FileRef>,
    /// The wave its manifests are applied in, when it has any.
    pub manifest_wave: Option<usize>,
    /// Whether its pods join the platform's mesh (when it has one).
    pub mesh: bool,
    /// Where its name is written.
    pub span: Span,
}

/// A file next to the spec, and where the spec names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The path, relative to the spec file.
    pub path: String,
    /// Where it is named.
    pub span: Span,
}

/// Service-level objectives, as rules check them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Objectives {
    /// The least share of time the pods are up, as a ratio (`0.999`).
    pub availability: Option<f64>,
    /// The largest share of requests answered 5xx, as a ratio.
    pub errors: Option<f64>,
    /// The bound of the 95th percentile latency, in milliseconds.
    pub latency_p95_ms: Option<u64>,
}

impl Objectives {
    /// The objectives an `slo:` mapping sets.
    pub fn of(spec: &crate::spec::platform::SloSpec) -> Objectives {
        Objectives {
            availability: spec.availability.as_ref().map(|a| a.value.ratio()),
            errors: spec.errors.as_ref().map(|e| e.value.ratio()),
            latency_p95_ms: spec.latency.as_ref().map(|l| l.value.p95.value.0),
        }
    }
}

impl Platform {
    /// Whether the pods of `namespace` run in the platform's Istio mesh:
    /// there is one, and no tier of the namespace stays out of it.
    pub fn in_mesh(&self, namespace: &str) -> bool {
        self.network.mesh == Some(MeshKind::Istio)
            && !self
                .tiers
                .iter()
                .any(|t| t.namespace == namespace && !t.mesh)
    }

    /// Whether the scraper reads a service's metrics from its sidecar's
    /// merged endpoint: in the mesh, with scrape annotations (which the
    /// sidecar injector points at its own merging port) on pods Strata runs.
    /// Its metrics port then stays STRICT mTLS like any other.
    pub fn merges_metrics(&self, service: &Service) -> bool {
        service.runtime.metrics.is_some()
            && !self.service_monitors
            && self.in_mesh(&service.namespace)
            && !service.tuning.as_ref().is_some_and(|t| t.mode.operated)
    }

    /// The pull secrets of the registries `images` come from, sorted, each
    /// once.
    pub fn pull_secrets<'i>(&self, images: impl IntoIterator<Item = &'i str>) -> Vec<String> {
        let mut names: Vec<String> = images
            .into_iter()
            .flat_map(|image| self.registries.iter().filter(move |r| r.serves(image)))
            .map(|r| r.pull_secret.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// What `check` warns about: what works, but probably not as meant
    /// (calls the spec does not declare, services nothing reaches), in file
    /// order.
    ///
    /// Warnings are worked out from the platform when asked, not kept in it:
    /// resolve records the facts they need ([`Platform::mentions`],
    /// [`Platform::uncalled`]), and `check` and `audit` read the same
    /// analysis ([`calls`]).
    pub fn warnings(&self) -> Vec<Diagnostic> {
        let mut found = calls::warnings(self);
        found.extend(self.services.iter().filter_map(|service| {
            let security = &service.runtime.security;
            let span = security.image_user.filter(|_| security.non_root())?;
            // The kubelet compares the image's USER with `runAsNonRoot`;
            // Strata cannot read the image.
            Some(
                Diagnostic::warning(
                    "image-user",
                    format!(
                        "`{}` runs as its image's user, and its pods start only if that user is not root",
                        service.name
                    ),
                )
                .at(&self.file, span, "the image's user")
                .help("make sure the image sets a numeric non-root `USER`; an image that must start as root needs `profile: baseline`"),
            )
        }));
        found.extend(self.services.iter().filter_map(|service| {
            let tuning = service.tuning.as_ref()?;
            let containers = tuning.mode.unset_security?;
            if self.enforced_level(&service.namespace) != Profile::Restricted {
                return None;
            }
            let operator = tuning.mode.operator.unwrap_or("its operator");
            Some(
                Diagnostic::warning(
                    "operator-pod-security",
                    format!(
                        "`{}` runs through `{operator}`, whose custom resource cannot give {containers} a security context: the namespace `{}` enforces restricted, which refuses them unless {operator} sets one that meets it",
                        service.name, service.namespace
                    ),
                )
                .at(&self.file, service.span, "pods made by the operator")
                .help(format!(
                    "make sure your release of {operator} runs them restricted, or set `namespaces: {{ {}: {{ podSecurity: {{ enforce: baseline }} }} }}`",
                    service.namespace
                )),
            )
        }));
        found.extend(self.services.iter().flat_map(|service| {
            let tuning = service.tuning.iter();
            tuning
                .flat_map(|t| t.deprecated.iter())
                .map(|(name, span, instead)| {
                    Diagnostic::warning(
                        "deprecated-option",
                        format!(
                            "the option `{name}` of `{}` is deprecated; it still takes effect",
                            service.name
                        ),
                    )
                    .at(&self.file, *span, "deprecated")
                    .help(*instead)
                })
        }));
        found.sort_by_key(|d| d.labels.first().map(|l| l.span.start()));
        found
    }

    /// The Pod Security level a namespace enforces: the one the spec
    /// writes, else the least restrictive one its services need.
    pub fn enforced_level(&self, namespace: &str) -> Profile {
        self.namespaces
            .iter()
            .find(|n| n.name == namespace)
            .and_then(|n| n.pod_security.enforce)
            .unwrap_or_else(|| {
                self.services
                    .iter()
                    .filter(|s| s.namespace == namespace)
                    .map(Service::pod_security)
                    .max()
                    .unwrap_or(Profile::Restricted)
            })
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.service_id(name).map(|id| &self.services[id.0])
    }

    /// The id of the service called `name`.
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        match self.lookup.position(name) {
            Some(i) if self.services.get(i).is_some_and(|s| s.name == name) => Some(ServiceId(i)),
            // A platform changed after it was resolved: look the slow way.
            _ => self
                .services
                .iter()
                .position(|s| s.name == name)
                .map(ServiceId),
        }
    }

    /// The edges `id` calls through, in edge order.
    pub fn edges_from(&self, id: ServiceId) -> impl Iterator<Item = &Edge> {
        self.lookup
            .outgoing(id)
            .filter_map(|i| self.edges.get(i))
            .filter(move |e| e.from() == id)
    }

    /// The edges `id` is called through, in edge order.
    pub fn edges_to(&self, id: ServiceId) -> impl Iterator<Item = &Edge> {
        self.lookup
            .incoming(id)
            .iter()
            .filter_map(|&i| self.edges.get(i as usize))
            .filter(move |e| e.to() == id)
    }

    /// The tier of a service.
    pub fn tier_of(&self, service: &Service) -> &Tier {
        &self.tiers[service.tier.0]
    }

    /// The name of a critical-path step (`tier/NAME` for a tier).
    pub fn step_name(&self, step: PathStep) -> String {
        match step {
            PathStep::Service(id) => self.services[id.0].name.clone(),
            PathStep::Tier(id) => format!("tier/{}", self.tiers[id.0].name),
            PathStep::Manifests(id) => format!("manifests of tier/{}", self.tiers[id.0].name),
        }
    }
}
