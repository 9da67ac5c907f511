//! A service as the model holds it: its container, ports, environment,
//! volumes, dependencies, configuration files and patches; how its pods
//! run is in `runtime.rs`.

use serde::Serialize;
use std::collections::BTreeMap;

use super::{
    AccessMode, Egress, ExternalCall, FileRef, HostAccess, Objectives, PodScheduler, Profile,
    Protocol, Runtime, Serve, ServiceId, TierId, Tuning, WorkloadKind, endpoint,
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
    use std::sync::Arc;

    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn a_service_keeps_inline_only_what_most_services_set() {
        // A platform holds every service, and `check` two platforms at once:
        // each byte here is 20,000 bytes at 10,000 services. 1,568 bytes
        // before extras, storage and shared probe checks (`Probe`'s bound is in
        // runtime.rs).
        assert!(size_of::<Service>() <= 800, "{}", size_of::<Service>());
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
}
