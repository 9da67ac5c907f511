//! The validated platform: what a spec means in one environment.
//!
//! [`resolve`] turns a [`Document`](crate::spec::Document) into a
//! [`Platform`]: the environment's overrides applied, defaults filled in,
//! names and references checked, and services layered into waves. Every
//! later stage (plan, render, audit, apply) reads only this.

mod blueprint;
pub mod endpoint;
pub mod external;
pub mod graph;
pub mod reference;
mod resolve;
mod tuning;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::quantity::Quantity;
use crate::source::{SourceFile, Span};
pub use crate::spec::network::{GatewayKind, MeshKind};
pub use crate::spec::runtime::Profile;
pub use crate::spec::service::{AccessMode, PodScheduler, Protocol, WorkloadKind};
pub use blueprint::{
    Blueprint, BlueprintInfo, Catalog, Key, Mode, OptionCheck, OptionDoc, OptionValue,
};
pub use resolve::environment_names;
pub use resolve::{DEFAULT_CPU_REQUEST, DEFAULT_MEMORY_REQUEST, DEFAULT_MOUNT_PATH, resolve};
pub use resolve::{
    DEFAULT_CPU_TARGET, DEFAULT_PROBE_PATH, DEFAULT_STARTUP_SECONDS, DEFAULT_TERMINATION_SECONDS,
    DEFAULT_USER,
};
pub use resolve::{KONG_TLS_PORT, KONG_TLS_PORT_NUMBER};
pub use tuning::{
    Database, HostAccess, Members, PodGroup, Recipe, Sibling, Supplied, Topic, Tuning, User,
    is_sql_identifier, label_map, owner_secret_of,
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
    /// Dependencies outside the spec that services call by name.
    pub externals: Vec<External>,
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

/// One workload and everything Strata knows about it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service's name (also its Kubernetes Service's name).
    pub name: String,
    /// Its own service-level objectives (`slo`), over the platform's.
    pub slo: Option<Objectives>,
    /// The tier it belongs to.
    pub tier: TierId,
    /// Its namespace.
    pub namespace: String,
    /// Its container image, when the spec or a blueprint gives one.
    pub image: Option<String>,
    /// The blueprint it was made from.
    pub blueprint: Option<String>,
    /// How it uses its blueprint: mode and options resolved.
    pub tuning: Option<Tuning>,
    /// How it runs.
    pub kind: WorkloadKind,
    /// Cron schedule of a `cron` service.
    pub schedule: Option<String>,
    /// Entrypoint override.
    pub command: Vec<String>,
    /// Entrypoint arguments.
    pub args: Vec<String>,
    /// Named ports, in spec order.
    pub ports: Vec<Port>,
    /// Environment variables, references resolved.
    pub env: Vec<EnvVar>,
    /// Whether its literal variables are rendered into a ConfigMap `NAME-env`
    /// read with `envFrom`, rather than into the pod spec.
    pub env_config_map: bool,
    /// Whether its pods wait, in init containers, for what it waits for.
    pub wait_in_pod: bool,
    /// Steps its pods run, in order, before its container starts.
    pub init: Vec<InitStep>,
    /// Pods (1 for daemons, jobs and crons, which are not replicated).
    pub replicas: u32,
    /// Per-pod requests and limits, after environment scaling.
    pub resources: Resources,
    /// GPUs per pod.
    pub gpu: u32,
    /// Its persistent volume.
    pub storage: Option<Volume>,
    /// Its other persistent volumes, by name.
    pub volumes: Vec<NamedVolume>,
    /// The node pool it is scheduled on.
    pub pool: Option<String>,
    /// Its PriorityClass.
    pub priority: Option<String>,
    /// The scheduler placing its pods, when not Kubernetes' own.
    pub scheduler: Option<PodScheduler>,
    /// Writable empty directories besides `/tmp`.
    pub scratch: Vec<String>,
    /// What it waits for.
    pub needs: Vec<Dependency>,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// How it runs: probes, security, spread, termination, autoscaling, metrics.
    pub runtime: Runtime,
    /// Configuration files mounted from a ConfigMap.
    pub config: Option<Config>,
    /// Patches to its generated objects.
    pub patches: Vec<Patch>,
    /// Traffic it may send outside the cluster.
    pub egress: Vec<Egress>,
    /// The externals it calls (references or `needs:`), never waited for.
    pub externals: Vec<ExternalCall>,
    /// Kubernetes API access of its ServiceAccount, in its namespace.
    pub access: Vec<Access>,
    /// Pods it creates at run time (`spawns:`).
    pub spawns: Option<Spawned>,
    /// How callers reach it (`serve:`).
    pub serve: Serve,
    /// Its own share of requests traced by the mesh, percent.
    pub tracing_sampling: Option<u32>,
    /// The wave it starts in (1-based).
    pub wave: usize,
    /// Where its name is written.
    pub span: Span,
}

/// Pods a service creates at run time through the Kubernetes API, which
/// Strata does not run: its policies admit them, plan counts nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    /// Labels the service gives them, selecting them in policies.
    pub labels: BTreeMap<String, String>,
    /// Ports they listen on, by name, which the service reaches.
    pub ports: Vec<(String, u16)>,
    /// Services they call.
    pub calls: Vec<ServiceId>,
}

impl Spawned {
    /// The ServiceAccount they run as (`NAME-spawned`): their identity in
    /// the mesh, with no API rights.
    pub fn account(spawner: &Service) -> String {
        format!("{}-spawned", spawner.name)
    }
}

/// A named port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// Its name.
    pub name: String,
    /// The number the container listens on, which pods (and so
    /// NetworkPolicies, probes and scrapers) see.
    pub number: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The Service's number when it differs from the container's
    /// (`{ port: 80, targetPort: 8080 }`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_number: Option<u16>,
}

impl Port {
    /// The number clients dial: the Service's port.
    pub fn service_port(&self) -> u16 {
        self.service_number.unwrap_or(self.number)
    }
}

/// A step a service's pods run before its container starts (`init:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitStep {
    /// Its name: the init container's.
    pub name: String,
    /// Its image.
    pub image: String,
    /// Entrypoint override.
    pub command: Vec<String>,
    /// Entrypoint arguments.
    pub args: Vec<String>,
    /// Environment variables, references resolved.
    pub env: Vec<EnvVar>,
    /// Its requests and limits.
    pub resources: Resources,
}

/// An environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: EnvValue,
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A literal, references already resolved.
    Literal(String),
    /// A key of a Secret.
    Secret {
        /// The Secret's name.
        name: String,
        /// The key.
        key: String,
    },
    /// A key of a ConfigMap.
    Config {
        /// The ConfigMap's name.
        name: String,
        /// The key.
        key: String,
    },
}

/// Requests and limits of one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: Amounts,
    /// The most a pod may use.
    pub limits: Amounts,
}

impl Resources {
    /// Both together (a container and its sidecar), saturating.
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            requests: self.requests.plus(other.requests),
            limits: self.limits.plus(other.limits),
        }
    }

    /// The larger of the two, resource by resource: what the scheduler
    /// reserves for a pod whose init containers run before its containers.
    pub fn at_least(self, other: Resources) -> Resources {
        let max = |a: Amounts, b: Amounts| Amounts {
            cpu: a.cpu.max(b.cpu),
            memory: a.memory.max(b.memory),
        };
        Resources {
            requests: max(self.requests, other.requests),
            limits: max(self.limits, other.limits),
        }
    }
}

/// CPU (in cores) and memory (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    /// CPU cores.
    pub cpu: Quantity,
    /// Memory bytes.
    pub memory: Quantity,
}

impl Amounts {
    /// Both together, saturating.
    pub fn plus(self, other: Amounts) -> Amounts {
        Amounts {
            cpu: self.cpu.saturating_add(other.cpu),
            memory: self.memory.saturating_add(other.memory),
        }
    }
}

/// A persistent volume of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Requested size.
    pub size: Quantity,
    /// StorageClass, or the cluster default when `None`.
    pub class: Option<String>,
    /// Where it is mounted.
    pub mount_path: String,
    /// How pods may mount it.
    pub access: AccessMode,
}

/// A persistent volume besides a service's `storage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedVolume {
    /// Its name: the claim template's, or the claim's suffix.
    pub name: String,
    /// The volume.
    pub volume: Volume,
}

/// Something a service waits for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// What it waits for.
    pub target: DependencyTarget,
    /// Why.
    pub origin: DependencyOrigin,
    /// Where that was written.
    pub span: Span,
    /// Whether the dependent waits for it before starting; `false` when the
    /// caller's `calls:` says `wait: false` (a call made at run time only).
    pub wait: bool,
}

/// The object of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DependencyTarget {
    /// Another service.
    Service(ServiceId),
    /// Every service of a tier.
    Tier(TierId),
}

/// Why a dependency exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyOrigin {
    /// Listed under `needs:`.
    Needs,
    /// Implied by a `${…}` reference in the named variable.
    Reference(String),
    /// Implied by the tier's `after:`.
    TierAfter,
}

/// A namespace the platform owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// Its name.
    pub name: String,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its ResourceQuota.
    pub budget: Option<Budget>,
    /// The values of its LimitRange the spec sets.
    pub limits: Option<ContainerLimits>,
    /// The tenant it belongs to, if it is a tenant's.
    pub tenant: Option<String>,
    /// Pod Security levels the spec sets; derived ones where `None`.
    pub pod_security: PodSecurity,
}

/// Pod Security Standards levels a namespace sets explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PodSecurity {
    /// Rejects violating pods.
    pub enforce: Option<Profile>,
    /// Records violations in the audit log.
    pub audit: Option<Profile>,
    /// Warns the client about violations.
    pub warn: Option<Profile>,
}

/// CPU and memory, each optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    /// CPU cores.
    pub cpu: Option<Quantity>,
    /// Memory.
    pub memory: Option<Quantity>,
}

/// A namespace's LimitRange for containers: what one gets when it sets
/// nothing, and the bounds of what it may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContainerLimits {
    /// Limits of a container that sets none.
    pub default_limit: Bounds,
    /// Requests of a container that sets none.
    pub default_request: Bounds,
    /// The most one container may set as its limits.
    pub max: Bounds,
    /// The least one container may request.
    pub min: Bounds,
}

/// A ResourceQuota's hard limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// Total CPU requests.
    pub cpu: Option<Quantity>,
    /// Total memory requests.
    pub memory: Option<Quantity>,
    /// Total CPU limits.
    pub limits_cpu: Option<Quantity>,
    /// Total memory limits.
    pub limits_memory: Option<Quantity>,
    /// Total GPUs.
    pub gpu: Option<u32>,
    /// Total storage requests.
    pub storage: Option<Quantity>,
    /// Volume claims.
    pub pvcs: Option<u32>,
    /// Pods.
    pub pods: Option<u32>,
}

/// One rule of a service's Kubernetes API access (a Role rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// API groups; `""` is the core group.
    pub api_groups: Vec<String>,
    /// Resources.
    pub resources: Vec<String>,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// An Argo CD Application syncing this environment's Kustomize overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgoCd {
    /// The Git repository.
    pub repo: String,
    /// The directory, in the repository, of the overlay (or base) to sync.
    pub path: String,
    /// The branch, tag or commit.
    pub revision: String,
    /// Argo CD's namespace.
    pub namespace: String,
    /// The Argo CD project.
    pub project: String,
    /// The namespace the Application deploys to by default.
    pub destination: String,
    /// Delete objects no longer rendered.
    pub prune: bool,
    /// Undo changes made by hand.
    pub self_heal: bool,
    /// Retries of a failed sync.
    pub retry: Option<SyncRetry>,
}

/// How Argo CD retries a failed sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRetry {
    /// Attempts.
    pub limit: u32,
    /// The first wait, in seconds.
    pub backoff_seconds: u64,
    /// Each wait is the previous one times this.
    pub factor: u32,
    /// The longest wait, in seconds.
    pub max_backoff_seconds: u64,
}

/// A node pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePool {
    /// Its name.
    pub name: String,
    /// Node labels selecting it.
    pub selector: BTreeMap<String, String>,
    /// Taints its nodes carry.
    pub taints: Vec<Taint>,
    /// Its node count, when given: a range when it autoscales.
    pub nodes: Option<NodeRange>,
    /// The machine type of its nodes (informational).
    pub instance_type: Option<String>,
    /// Allocatable CPU of one node.
    pub cpu: Option<Quantity>,
    /// Allocatable memory of one node.
    pub memory: Option<Quantity>,
    /// GPUs of one node.
    pub gpu: Option<u32>,
}

/// How many nodes a pool has; `min == max` for a pool of fixed size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRange {
    /// Nodes it always has.
    pub min: u32,
    /// Nodes it may grow to.
    pub max: u32,
}

/// A PriorityClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// Its name.
    pub name: String,
    /// Its value: higher runs first and may preempt lower.
    pub value: u32,
    /// Whether pods without a class get it.
    pub default: bool,
    /// What it is for.
    pub description: Option<String>,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    pub value: Option<String>,
    /// Effect.
    pub effect: String,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
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

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
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

impl Service {
    /// The Pod Security level its pods need: its security profile's, or
    /// `privileged` when its blueprint uses the node's namespaces or files
    /// (which the `baseline` level forbids whatever the container's settings).
    pub fn pod_security(&self) -> Profile {
        if self.host_access().is_some() {
            Profile::Privileged
        } else {
            self.runtime.security.profile
        }
    }

    /// What of its node its pods use, when its blueprint says so.
    pub fn host_access(&self) -> Option<&HostAccess> {
        self.tuning.as_ref().and_then(|t| t.supplied.host.as_ref())
    }

    /// Its own Service's name in the cluster's DNS.
    pub fn fqdn(&self) -> String {
        format!(
            "{}.{}.svc.{}",
            self.name,
            self.namespace,
            endpoint::CLUSTER_DOMAIN
        )
    }

    /// A field its blueprint exports (`host`, `port`, `readHost`…), if any.
    pub fn exported(&self, field: &str) -> Option<&str> {
        self.tuning.as_ref().and_then(|t| {
            t.supplied
                .exports
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.as_str())
        })
    }

    /// The host its callers dial: its blueprint's exported `host` (an
    /// operator's Service such as CloudNativePG's `NAME-rw`), else its own.
    pub fn dialed_host(&self) -> String {
        self.exported("host")
            .map_or_else(|| self.fqdn(), str::to_string)
    }

    /// Whether its pods keep a volume each (a StatefulSet's claim template).
    pub fn has_volume_per_pod(&self) -> bool {
        self.kind == WorkloadKind::Stateful && self.all_volumes().next().is_some()
    }

    /// Its persistent volumes: `storage` first, then `volumes`.
    pub fn all_volumes(&self) -> impl Iterator<Item = &Volume> {
        self.storage
            .iter()
            .chain(self.volumes.iter().map(|v| &v.volume))
    }

    /// Claims made for each volume: one per pod for a StatefulSet, else one.
    fn claims_per_volume(&self) -> u32 {
        if self.kind == WorkloadKind::Stateful {
            self.replicas
        } else {
            1
        }
    }

    /// Persistent volume claims it creates.
    pub fn volume_claims(&self) -> u32 {
        let volumes = u32::try_from(self.all_volumes().count()).unwrap_or(u32::MAX);
        volumes.saturating_mul(self.claims_per_volume())
    }

    /// Storage it requests in total.
    pub fn storage_total(&self) -> Quantity {
        let claims = u64::from(self.claims_per_volume());
        self.all_volumes().fold(Quantity::default(), |total, v| {
            total.saturating_add(v.size.times(claims))
        })
    }
}

/// How a service runs: the production practices rendered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// Its probes; `None` when switched off or impossible (no port).
    pub probes: Option<Probes>,
    /// Its security context.
    pub security: Security,
    /// Spread replicas across nodes.
    pub spread: bool,
    /// A PodDisruptionBudget when replicated.
    pub disruption_budget: bool,
    /// Seconds given to stop gracefully.
    pub termination_grace_seconds: u64,
    /// Mount the service account token.
    pub service_account_token: bool,
    /// Its HorizontalPodAutoscaler.
    pub autoscale: Option<Autoscale>,
    /// Where Prometheus scrapes it.
    pub metrics: Option<Metrics>,
}

/// Startup, readiness and liveness probes on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    /// The port's name.
    pub port: String,
    /// How the port is checked.
    pub protocol: Protocol,
    /// HTTP path for liveness.
    pub path: String,
    /// HTTP path for readiness.
    pub readiness_path: String,
    /// Seconds the service may take to start.
    pub startup_seconds: u32,
}

/// A security context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// The Pod Security Standards profile.
    pub profile: Profile,
    /// User id.
    pub run_as_user: u32,
    /// Group id.
    pub run_as_group: u32,
    /// Volume group.
    pub fs_group: u32,
    /// Read-only root filesystem.
    pub read_only_root: bool,
    /// Capabilities added after dropping all.
    pub capabilities: Vec<String>,
}

/// A HorizontalPodAutoscaler's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Target CPU utilisation, percent.
    pub cpu: Option<u32>,
    /// Target memory utilisation, percent.
    pub memory: Option<u32>,
    /// How fast replicas are added, when the spec says.
    pub scale_up: Option<Scaling>,
    /// How fast replicas are removed, when the spec says.
    pub scale_down: Option<Scaling>,
}

/// An autoscaler's rules for one direction (an HPA's `behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    /// At most this many pods per period.
    pub pods: Option<u32>,
    /// At most this percentage of the current replicas per period.
    pub percent: Option<u32>,
    /// The period, seconds.
    pub every_seconds: u64,
    /// The stabilization window, seconds.
    pub wait_seconds: Option<u64>,
}

/// A metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// The port's name.
    pub port: String,
    /// The port's number.
    pub number: u16,
    /// The HTTP path.
    pub path: String,
}

/// Configuration files of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where they are mounted.
    pub mount_path: String,
    /// The files, in spec order.
    pub files: Vec<ConfigFile>,
}

/// One configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// Its name (the ConfigMap key).
    pub name: String,
    /// Its content.
    pub content: FileContent,
}

/// Where a file's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// Written in the spec.
    Inline(String),
    /// A file next to the spec, read when rendering.
    File(FileRef),
}

/// A patch to one generated object.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The object's kind.
    pub kind: String,
    /// The object's name, when the kind alone is ambiguous.
    pub name: Option<String>,
    /// The change.
    pub change: PatchChange,
    /// Where it is written.
    pub span: Span,
}

/// The two patch formats.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchChange {
    /// RFC 7386 JSON merge patch.
    Merge(serde_json::Value),
    /// RFC 6902 JSON patch.
    Json(json_patch::Patch),
}

/// A declared StorageClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass {
    /// Its name.
    pub name: String,
    /// Its provisioner.
    pub provisioner: String,
    /// Provisioner parameters.
    pub parameters: BTreeMap<String, String>,
    /// `Delete` or `Retain`.
    pub reclaim_policy: String,
    /// `Immediate` or `WaitForFirstConsumer`.
    pub volume_binding_mode: String,
    /// Whether claims may grow.
    pub allow_volume_expansion: bool,
    /// Whether it is the cluster default.
    pub default: bool,
}

/// A private container registry and the pull secret of its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Its host, with a port if image references carry one.
    pub host: String,
    /// The `kubernetes.io/dockerconfigjson` Secret pods pull its images with;
    /// created outside Strata, never rendered.
    pub pull_secret: String,
}

impl Registry {
    /// Whether `image` is pulled from this registry (`HOST/…`).
    pub fn serves(&self, image: &str) -> bool {
        image
            .strip_prefix(self.host.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// A declared Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Its name.
    pub name: String,
    /// Keys `apply` generates once.
    pub generate: Vec<String>,
    /// Keys whose values the spec gives.
    pub data: BTreeMap<String, String>,
    /// Namespaces it is needed in.
    pub namespaces: Vec<String>,
    /// Its Kubernetes type when not `Opaque` (`kubernetes.io/basic-auth` for
    /// an operator that reads a role's login from it).
    pub secret_type: Option<String>,
}

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
    pub service_type: crate::spec::network::ServiceType,
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
    /// Index into [`Platform::gateways`].
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The caller.
    pub from: ServiceId,
    /// The service called.
    pub to: ServiceId,
    /// How calls are made.
    pub calls: CallPolicy,
}

/// Timeouts, retries and circuit breaking of calls along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl CallPolicy {
    /// This policy with `own`'s settings, field by field, over it.
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
    /// Index into [`Platform::externals`].
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
