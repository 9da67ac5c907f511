//! A service as the model holds it: its container, ports, environment,
//! volumes, dependencies and how it runs (probes, security, scaling,
//! metrics, configuration files, patches).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::{
    AccessMode, Egress, ExternalCall, FileRef, HostAccess, Objectives, PodScheduler, Profile,
    Protocol, Serve, ServiceId, TierId, Tuning, WorkloadKind, endpoint,
};
use crate::quantity::Quantity;
use crate::rare::{Rare, RareFields};
use crate::source::Span;
use crate::spec::network::{ServiceType, TrafficPolicy};

/// One workload and everything Strata knows about it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service's name (its Kubernetes Service's too, unless `front`
    /// names another).
    pub name: String,
    /// The Kubernetes Service in front of its pods.
    pub front: Front,
    /// Its own service-level objectives (`slo`), over the platform's;
    /// boxed, as most services set none.
    pub slo: Option<Box<Objectives>>,
    /// The tier it belongs to.
    pub tier: TierId,
    /// Its namespace.
    pub namespace: String,
    /// Its container image, when the spec or a blueprint gives one.
    pub image: Option<String>,
    /// How it uses its blueprint: mode and options resolved.
    pub tuning: Option<Box<Tuning>>,
    /// How it runs.
    pub kind: WorkloadKind,
    /// Its scheduled backups (`backup:`, over `defaults.backup`).
    pub backup: Option<Box<super::Backup>>,
    /// Named ports, in spec order.
    pub ports: Vec<Port>,
    /// Environment variables, references resolved.
    pub env: Vec<EnvVar>,
    /// Whether its literal variables are rendered into a ConfigMap `NAME-env`
    /// read with `envFrom`, rather than into the pod spec.
    pub env_config_map: bool,
    /// Whether its pods wait, in init containers, for what it waits for.
    pub wait_in_pod: bool,
    /// Pods (1 for daemons, jobs and crons, which are not replicated).
    pub replicas: u32,
    /// Per-pod requests and limits, after environment scaling.
    pub resources: Resources,
    /// Its persistent volume; boxed, as most services have none.
    pub storage: Option<Box<Volume>>,
    /// The node pool it is scheduled on.
    pub pool: Option<String>,
    /// What it waits for.
    pub needs: Vec<Dependency>,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// Its main container's name.
    pub container: String,
    /// How it runs: probes, security, spread, termination, autoscaling, metrics.
    pub runtime: Runtime,
    /// Configuration files mounted from a ConfigMap; boxed, as most
    /// services have none.
    pub config: Option<Box<Config>>,
    /// Pods it creates at run time (`spawns:`); boxed, as few services
    /// spawn any.
    pub spawns: Option<Box<Spawned>>,
    /// The wave it starts in (1-based).
    pub wave: usize,
    /// Where its name is written.
    pub span: Span,
    /// What most services leave unset (a blueprint, a command, sidecars,
    /// extra volumes, `serve:`…), out of line and allocated only when some
    /// of it is set; read as the fields themselves (`service.rare.command`).
    pub rare: Rare<Extras>,
}

/// The parts of a service most services leave unset, held apart so that a
/// typical service does not carry them: a platform holds every service,
/// and `check` holds two platforms at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Extras {
    /// The blueprint it was made from.
    pub blueprint: Option<String>,
    /// Cron schedule of a `cron` service.
    pub schedule: Option<String>,
    /// Entrypoint override.
    pub command: Vec<String>,
    /// Entrypoint arguments.
    pub args: Vec<String>,
    /// Steps its pods run, in order, before its container starts.
    pub init: Vec<Container>,
    /// Containers beside the main one (`sidecars:`), in spec order; their
    /// ports are in `ports`, marked as theirs.
    pub sidecars: Vec<Sidecar>,
    /// GPUs per pod.
    pub gpu: u32,
    /// Its other persistent volumes, by name.
    pub volumes: Vec<NamedVolume>,
    /// Its PriorityClass.
    pub priority: Option<String>,
    /// The scheduler placing its pods, when not Kubernetes' own.
    pub scheduler: Option<PodScheduler>,
    /// Writable empty directories besides `/tmp`.
    pub scratch: Vec<Scratch>,
    /// Labels of its pods only.
    pub pod_labels: BTreeMap<String, String>,
    /// Annotations of its pods, over Strata's.
    pub pod_annotations: BTreeMap<String, String>,
    /// The labels its workload selects its pods by, when not Strata's own.
    pub selector: Option<BTreeMap<String, String>>,
    /// Patches to its generated objects.
    pub patches: Vec<Patch>,
    /// Traffic it may send outside the cluster.
    pub egress: Vec<Egress>,
    /// The externals it calls (references or `needs:`), never waited for.
    pub externals: Vec<ExternalCall>,
    /// Kubernetes API access of its ServiceAccount, in its namespace.
    pub access: Vec<Access>,
    /// How callers reach it (`serve:`).
    pub serve: Serve,
    /// Its own share of requests traced by the mesh, percent.
    pub tracing_sampling: Option<u32>,
}

impl Extras {
    /// Nothing set: what a service without any of these reads.
    pub const NONE: Extras = Extras {
        blueprint: None,
        schedule: None,
        command: Vec::new(),
        args: Vec::new(),
        init: Vec::new(),
        sidecars: Vec::new(),
        gpu: 0,
        volumes: Vec::new(),
        priority: None,
        scheduler: None,
        scratch: Vec::new(),
        pod_labels: BTreeMap::new(),
        pod_annotations: BTreeMap::new(),
        selector: None,
        patches: Vec::new(),
        egress: Vec::new(),
        externals: Vec::new(),
        access: Vec::new(),
        serve: Serve::NONE,
        tracing_sampling: None,
    };
}

impl RareFields for Extras {
    const NONE: &'static Extras = &Extras::NONE;
    fn is_empty(&self) -> bool {
        *self == Extras::NONE
    }
}

impl Default for Extras {
    fn default() -> Extras {
        Extras::NONE
    }
}

impl Service {
    /// The containers of its pods besides the main one: its init steps,
    /// then its sidecars'.
    pub fn added_containers(&self) -> impl Iterator<Item = &Container> {
        self.rare
            .init
            .iter()
            .chain(self.rare.sidecars.iter().map(|s| &s.container))
    }

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
            self.front.name,
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
            .as_deref()
            .into_iter()
            .chain(self.rare.volumes.iter().map(|v| &v.volume))
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

/// A writable empty directory of a service's pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scratch {
    /// Where it is mounted.
    pub path: String,
    /// Whether it lives in memory (tmpfs).
    pub memory: bool,
    /// The most it may hold.
    pub size: Option<Quantity>,
}

/// The Kubernetes Service in front of a service's pods (`service:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Front {
    /// The Service's name: the service's own unless the spec names another.
    pub name: String,
    /// `ClusterIP`, `NodePort` or `LoadBalancer`.
    pub service_type: ServiceType,
    /// Where outside traffic goes, for `NodePort` and `LoadBalancer`.
    pub external_traffic_policy: Option<TrafficPolicy>,
    /// Address blocks allowed in from outside the cluster (every address
    /// when empty), for `NodePort` and `LoadBalancer`.
    pub from: Vec<String>,
    /// The Service's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Front {
    /// A `ClusterIP` Service called `name`: what every service gets unless
    /// its spec says otherwise.
    pub fn cluster_ip(name: &str) -> Front {
        Front {
            name: name.to_string(),
            service_type: ServiceType::ClusterIp,
            external_traffic_policy: None,
            from: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Whether clients outside the cluster reach it directly.
    pub fn is_public(&self) -> bool {
        self.service_type != ServiceType::ClusterIp
    }
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
    /// The port on every node, when its Service is a `NodePort` or
    /// `LoadBalancer` one and the spec names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
    /// The sidecar listening on it; the main container when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<String>,
}

impl Port {
    /// The number clients dial: the Service's port.
    pub fn service_port(&self) -> u16 {
        self.service_number.unwrap_or(self.number)
    }
}

/// A container of a service's pods besides its main one: an `init:` step,
/// or a sidecar's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Its name.
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

/// A container beside a service's main one for its pods' whole life
/// (`sidecars:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// What it runs.
    pub container: Container,
    /// The pod volumes it mounts where the main container does, by name.
    pub mounts: Vec<String>,
    /// Whether it runs as a native sidecar (a restartable init container).
    pub native: bool,
}

/// An environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: EnvValue,
    /// Where the spec (or the blueprint filling it) gives the value.
    pub span: Span,
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A literal, references already resolved.
    Literal(String),
    /// A key of a Secret; boxed, as most values are literals.
    Secret(Box<KeyRef>),
    /// A key of a ConfigMap; boxed, as most values are literals.
    Config(Box<KeyRef>),
}

/// A key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    /// The object's name.
    pub name: String,
    /// The key.
    pub key: String,
}

/// Requests and limits of one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: Amounts,
    /// The most a pod may use; `None` when unbounded (`limits: none`).
    pub limits: Option<Amounts>,
}

impl Resources {
    /// Both together (a container and its sidecar), saturating; unbounded
    /// when either is.
    #[must_use]
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            requests: self.requests.plus(other.requests),
            limits: self.limits.zip(other.limits).map(|(a, b)| a.plus(b)),
        }
    }

    /// The larger of the two, resource by resource: what the scheduler
    /// reserves for a pod whose init containers run before its containers.
    #[must_use]
    pub fn at_least(self, other: Resources) -> Resources {
        let max = |a: Amounts, b: Amounts| Amounts {
            cpu: a.cpu.max(b.cpu),
            memory: a.memory.max(b.memory),
        };
        Resources {
            requests: max(self.requests, other.requests),
            limits: self.limits.zip(other.limits).map(|(a, b)| max(a, b)),
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
    #[must_use]
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
    /// The service's backups go to this object store of the platform
    /// (`backup: { to: SERVICE }`), sent by whom [`BackupCaller`] says.
    Backup(BackupCaller),
}

/// Who sends a service's backups to its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupCaller {
    /// The service's own pods (CloudNativePG's instances archive WAL and
    /// base backups themselves).
    Pods,
    /// The backup CronJob's pods; the service's pods never call the store.
    Job,
}

impl Dependency {
    /// Whether the service's own pods make this call, so the call graph
    /// has an edge from them (and their policies admit it) and they wait
    /// for it; a backup job's call is its own.
    pub fn from_pods(&self) -> bool {
        self.origin != DependencyOrigin::Backup(BackupCaller::Job)
    }
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
    /// Its HorizontalPodAutoscaler; boxed, as most services have none
    /// (every service's runtime is held as long as the platform).
    pub autoscale: Option<Box<Autoscale>>,
    /// Where Prometheus scrapes it.
    pub metrics: Option<Metrics>,
}

/// A service's startup, readiness and liveness probes; `None` where left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    /// Holds the other two back until the service has started.
    pub startup: Option<Probe>,
    /// Takes the pod out of its Services while failing.
    pub readiness: Option<Probe>,
    /// Restarts the container while failing.
    pub liveness: Option<Probe>,
}

impl Probes {
    /// All three probes of `check` with Strata's default timings, the
    /// service given `startup_seconds` to start.
    pub fn defaulted(check: ProbeCheck, startup_seconds: u32) -> Probes {
        let check = Arc::new(check);
        let probe = |period: u64, failure_threshold: u32| Probe {
            check: Arc::clone(&check),
            initial_delay_seconds: None,
            period_seconds: period,
            timeout_seconds: PROBE_TIMEOUT_SECONDS,
            failure_threshold,
            success_threshold: None,
        };
        Probes {
            startup: Some(probe(
                STARTUP_PERIOD_SECONDS,
                u32::try_from(u64::from(startup_seconds).div_ceil(STARTUP_PERIOD_SECONDS))
                    .unwrap_or(u32::MAX)
                    .max(1),
            )),
            readiness: Some(probe(READINESS_PERIOD_SECONDS, PROBE_FAILURES)),
            liveness: Some(probe(LIVENESS_PERIOD_SECONDS, PROBE_FAILURES)),
        }
    }

    /// Makes probes that check the same thing share one check, as
    /// [`Probes::defaulted`] makes them: most services' three probes check
    /// the same port.
    #[must_use]
    pub fn sharing_checks(self) -> Probes {
        let mut probes = [self.startup, self.readiness, self.liveness];
        for later in 1..probes.len() {
            let (earlier, rest) = probes.split_at_mut(later);
            if let Some(probe) = &mut rest[0]
                && let Some(same) = earlier.iter().flatten().find(|p| p.check == probe.check)
            {
                probe.check = Arc::clone(&same.check);
            }
        }
        let [startup, readiness, liveness] = probes;
        Probes {
            startup,
            readiness,
            liveness,
        }
    }
}

/// Seconds between startup checks unless the spec says otherwise.
pub const STARTUP_PERIOD_SECONDS: u64 = 5;
/// Seconds between readiness checks unless the spec says otherwise.
pub const READINESS_PERIOD_SECONDS: u64 = 10;
/// Seconds between liveness checks unless the spec says otherwise: less
/// often than readiness, so a slow moment fails readiness first.
pub const LIVENESS_PERIOD_SECONDS: u64 = 20;
/// Seconds a check may take unless the spec says otherwise.
pub const PROBE_TIMEOUT_SECONDS: u64 = 3;
/// Failed checks in a row that fail a readiness or liveness probe unless
/// the spec says otherwise.
pub const PROBE_FAILURES: u32 = 3;

/// One probe: what it checks and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// What it checks; shared with the service's other probes that check
    /// the same.
    pub check: Arc<ProbeCheck>,
    /// Seconds before the first check, when not at once.
    pub initial_delay_seconds: Option<u64>,
    /// Seconds between checks.
    pub period_seconds: u64,
    /// Seconds a check may take.
    pub timeout_seconds: u64,
    /// Failed checks in a row that fail it.
    pub failure_threshold: u32,
    /// Passed checks in a row that pass it again, when not 1.
    pub success_threshold: Option<u32>,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCheck {
    /// An HTTP GET of `path` on the named port.
    Http {
        /// The port's name.
        port: String,
        /// The path.
        path: String,
        /// Headers sent with each request.
        headers: Vec<(String, String)>,
    },
    /// The gRPC health protocol on a port, by number (Kubernetes takes no
    /// name there).
    Grpc {
        /// The port's number.
        port: u16,
    },
    /// A TCP connection to the named port.
    Tcp {
        /// The port's name.
        port: String,
    },
    /// A command run in the container.
    Exec {
        /// The command and its arguments.
        command: Vec<String>,
    },
}

/// A security context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// The Pod Security Standards profile: the one written, else the least
    /// restrictive level its settings need.
    pub profile: Profile,
    /// User id; `None` for the image's own `USER`.
    pub run_as_user: Option<u32>,
    /// Group id; `None` for the image's.
    pub run_as_group: Option<u32>,
    /// Volume group; `None` to leave volumes' ownership alone.
    pub fs_group: Option<u32>,
    /// Read-only root filesystem.
    pub read_only_root: bool,
    /// Capabilities added after dropping all.
    pub capabilities: Vec<String>,
    /// Whether the process may gain privileges.
    pub privilege_escalation: bool,
    /// Where `runAsUser: image` is written, when it is.
    pub image_user: Option<Span>,
    /// The settings that need a level below restricted, each with where it
    /// is written: what a namespace's enforced level is checked against.
    pub relaxations: Vec<Relaxation>,
}

impl Security {
    /// Whether the pods must run as a non-root user: under restricted, or
    /// with a user id that is not root. An image's own user under a
    /// lower level may be root.
    pub fn non_root(&self) -> bool {
        match self.run_as_user {
            Some(id) => id != 0,
            None => self.profile == Profile::Restricted,
        }
    }
}

/// A security setting that needs a Pod Security level below restricted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relaxation {
    /// The least restrictive level it needs.
    pub needs: Profile,
    /// The setting, as the spec writes it (`runAsUser: 0`).
    pub setting: String,
    /// Where it is written.
    pub span: Span,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn a_service_keeps_inline_only_what_most_services_set() {
        // A platform holds every service, and `check` two platforms at once:
        // each byte here is 20,000 bytes at 10,000 services. 1,568 bytes
        // before extras, storage and shared probe checks.
        assert!(size_of::<Service>() <= 800, "{}", size_of::<Service>());
        assert!(size_of::<Probe>() <= 56, "{}", size_of::<Probe>());
        assert!(size_of::<EnvVar>() <= 64, "{}", size_of::<EnvVar>());
    }

    #[test]
    fn generated_services_hold_no_extras_and_share_their_probes_check() {
        let text = crate::synthetic::platform_yaml(200, 4, 7);
        let doc = crate::spec::parse(&SourceFile::new("synthetic.yaml", text)).unwrap();
        let platform = crate::resolve(&doc, Some("prod")).unwrap();
        for service in &platform.services {
            assert!(!service.rare.is_allocated(), "{}", service.name);
            let probes = service.runtime.probes.as_ref().unwrap();
            let [Some(startup), Some(readiness), Some(liveness)] =
                [&probes.startup, &probes.readiness, &probes.liveness]
            else {
                panic!("{} has not all three probes", service.name);
            };
            assert!(Arc::ptr_eq(&startup.check, &readiness.check));
            assert!(Arc::ptr_eq(&startup.check, &liveness.check));
        }
    }

    #[test]
    fn a_service_setting_an_extra_keeps_its_extras() {
        let spec = "platform: p
tiers:
  - name: apps
    services:
      api: { image: api:1, ports: { http: 8080 } }
      worker: { image: worker:1, command: [run], ports: { http: 8080 } }
";
        let doc = crate::spec::parse(&SourceFile::new("p.yaml", spec)).unwrap();
        let platform = crate::resolve(&doc, None).unwrap();
        let api = platform.service("api").unwrap();
        assert!(!api.rare.is_allocated());
        assert!(api.rare.command.is_empty());
        let worker = platform.service("worker").unwrap();
        assert_eq!(worker.rare.command, ["run"]);
    }

    #[test]
    fn probes_share_only_equal_checks() {
        let tcp = |port: &str| ProbeCheck::Tcp { port: port.into() };
        let probe = |check| Probe {
            check: Arc::new(check),
            initial_delay_seconds: None,
            period_seconds: 10,
            timeout_seconds: 1,
            failure_threshold: 3,
            success_threshold: None,
        };
        let probes = Probes {
            startup: Some(probe(tcp("http"))),
            readiness: Some(probe(tcp("admin"))),
            liveness: Some(probe(tcp("http"))),
        }
        .sharing_checks();
        let [Some(startup), Some(readiness), Some(liveness)] =
            [&probes.startup, &probes.readiness, &probes.liveness]
        else {
            unreachable!()
        };
        assert!(Arc::ptr_eq(&startup.check, &liveness.check));
        assert!(!Arc::ptr_eq(&startup.check, &readiness.check));
        assert_eq!(*readiness.check, tcp("admin"));
    }
}
