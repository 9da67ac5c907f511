//! The wire form of a service: what a user writes under `tiers[].services`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::amount::{Bytes, Cpu};
use super::decode::{Decode, Decoder, Map, Spanned};
use super::names::{EnvName, LabelKey, Name, PortName};
use super::network::{
    CallsSpec, EgressSpec, ExposeSpec, ServeSpec, ServiceObjectSpec, TracingSpec,
};
use super::null::OrNone;
use super::record::{keyword_enum, record};
use super::runtime::{
    AutoscaleSpec, ConfigSpec, Duration, MetricsSpec, PatchSpec, ProbesSpec, SecuritySpec,
};
use super::storage::{NamedVolumeSpec, ScratchSpec, StorageSpec};
use super::yaml::{Node, NodeKind};

record! {
    /// One service of a tier: a workload, its ports, its needs.
    pub struct ServiceSpec ("a service") {
        /// Container image, pinned to a version (`ghcr.io/isa/gateway:1.0.0`).
        optional image: String = "image",
        /// A catalog blueprint that supplies image, ports, storage and endpoints.
        rare optional blueprint: Name = "blueprint",
        /// The blueprint's mode (`sentinel`, `ha`, `strimzi`…); its first mode when absent.
        rare optional mode: Name = "mode",
        /// The blueprint's version: the image tag it runs (`7.4.1`); a tested one when absent.
        rare optional version: String = "version",
        /// Databases a database blueprint creates at first start: names or `{ name, owner, schemas }`.
        rare optional databases: Vec<Spanned<DatabaseSpec>> = "databases",
        /// Topics a Kafka blueprint creates: names or `{ name, partitions, replicas, retention, config }`.
        rare optional topics: Vec<Spanned<TopicSpec>> = "topics",
        /// Object-store users a `minio` blueprint creates, each with the
        /// buckets it may read and write: `{ data: [models, datasets] }`.
        rare optional users: UsersSpec = "users",
        /// Shards of a sharded blueprint (ClickHouse with the Altinity operator).
        rare optional shards: u32 = "shards",
        /// The blueprint's other settings, by name (`docs/blueprints.md` lists them).
        rare optional options: Map<String, String> = "options",
        /// Settings of the engine itself, passed as written (PostgreSQL
        /// parameters, Kafka broker properties, ClickHouse `PROFILE/SETTING`,
        /// Redis directives).
        rare optional settings: Map<String, String> = "settings",
        /// The workload kind; `stateful` when storage is set, else `stateless`.
        rare optional kind: WorkloadKind = "kind",
        /// Cron schedule, for `kind: cron`.
        rare optional schedule: String = "schedule",
        /// Replaces the image's entrypoint; `~` clears a blueprint's.
        rare clearable command: Vec<Spanned<String>> = "command",
        /// Arguments to the entrypoint; `~` clears a blueprint's.
        rare clearable args: Vec<Spanned<String>> = "args",
        /// Named ports: `{ http: 8080 }` or `{ admin: { port: 8001, protocol: http } }`.
        optional ports: Map<PortName, PortSpec> = "ports",
        /// Environment variables: literals, `${service.field}` references, or
        /// `{ secret: NAME, key: KEY }` / `{ config: NAME, key: KEY }`; `~`
        /// clears a blueprint's.
        clearable env: Map<EnvName, EnvValueSpec> = "env",
        /// Where the literal variables live: `inline` in the pod spec (the
        /// default) or `configMap`, a ConfigMap `NAME-env` read with `envFrom`.
        rare optional env_from: EnvFrom = "envFrom",
        /// Number of pods.
        optional replicas: super::runtime::Replicas = "replicas",
        /// CPU and memory requests and limits.
        optional resources: ResourcesSpec = "resources",
        /// GPUs per pod (`nvidia.com/gpu`).
        rare optional gpu: u32 = "gpu",
        /// A persistent volume: `10Gi` or `{ size, class, mountPath }`;
        /// `none` (or `~`) for none, a blueprint's included.
        clearable storage: StorageSpec = "storage",
        /// More persistent volumes, each with its own name and mount path.
        rare clearable volumes: Vec<Spanned<NamedVolumeSpec>> = "volumes",
        /// The node pool to schedule on; `defaults.pool` by default, `none`
        /// (or `~`) for none.
        clearable pool: OrNone<Name> = "pool",
        /// Its PriorityClass, one of the platform's `priorities`.
        rare optional priority: Name = "priority",
        /// The scheduler that places its pods instead of Kubernetes' own:
        /// `volcano` (gang scheduling, in a queue per namespace).
        rare optional scheduler: PodScheduler = "scheduler",
        /// Writable empty directories besides `/tmp` (`[/home/app/.cache]`),
        /// so the root filesystem can stay read-only; `{ path, memory, size }`
        /// for one in memory or of a bounded size.
        rare clearable scratch: Vec<Spanned<ScratchSpec>> = "scratch",
        /// What must be ready first: service names, or `tier/NAME` for a whole tier.
        optional needs: Vec<Spanned<NeedSpec>> = "needs",
        /// Whether the pods themselves wait, in init containers, until each
        /// service they wait for answers on its first TCP port: a pod
        /// restarted alone, or applied by another tool, still starts in order.
        rare optional wait_for_needs: bool = "waitForNeeds",
        /// Steps its pods run, in order, before its container starts (init
        /// containers): `{ fetch-weights: { image, command, args, env } }`.
        rare optional init: Map<Name, InitStepSpec> = "init",
        /// Containers beside the main one, for the pods' whole life (a proxy,
        /// a log shipper): `{ envoy: { image, command, args, env, ports,
        /// resources, mounts } }`.
        rare optional sidecars: Map<Name, SidecarSpec> = "sidecars",
        /// Extra labels for this service's objects.
        optional labels: Map<LabelKey, super::names::LabelValue> = "labels",
        /// Labels of its pods only, beside Strata's.
        rare optional pod_labels: Map<LabelKey, super::names::LabelValue> = "podLabels",
        /// Annotations of its pods, over Strata's own of the same key.
        rare optional pod_annotations: Map<LabelKey, String> = "podAnnotations",
        /// The labels its workload selects its pods by, instead of Strata's:
        /// an existing workload's, whose selector cannot change, to take it
        /// over in place.
        rare optional selector: Map<LabelKey, super::names::LabelValue> = "selector",
        /// The main container's name; the service's by default.
        rare optional container: Name = "container",
        /// Startup, readiness and liveness probes; `false` (or `~`) switches them off.
        rare clearable probes: ProbesSpec = "probes",
        /// Security context: `restricted` (default), `baseline`, `privileged`, or settings.
        rare optional security: SecuritySpec = "security",
        /// Spread replicas across nodes; `true` by default.
        rare optional spread: bool = "spread",
        /// A PodDisruptionBudget when replicated; `true` by default.
        rare optional disruption_budget: bool = "disruptionBudget",
        /// Time given to stop gracefully; `30s` by default.
        rare optional termination_grace_period: Duration = "terminationGracePeriod",
        /// Mount the service account token; `false` by default.
        rare optional service_account_token: bool = "serviceAccountToken",
        /// Kubernetes API access of its ServiceAccount in its namespace (a Role
        /// and RoleBinding): `[{ resources: [pods], verbs: [get, list, create, delete] }]`.
        rare optional access: Vec<Spanned<AccessSpec>> = "access",
        /// Pods it creates at run time through the Kubernetes API (notebook
        /// servers, build pods), which Strata does not run: their labels,
        /// the ports it reaches them on, the services they call.
        rare optional spawns: Box<SpawnsSpec> = "spawns",
        /// A HorizontalPodAutoscaler.
        rare optional autoscale: Box<AutoscaleSpec> = "autoscale",
        /// Where Prometheus scrapes; a port named `metrics` is found without
        /// it; `none` (or `~`) for no scraping.
        rare clearable metrics: OrNone<Box<MetricsSpec>> = "metrics",
        /// Configuration files mounted from a ConfigMap.
        rare optional config: Box<ConfigSpec> = "config",
        /// Patches to generated objects, for what the spec cannot say.
        rare optional patches: Vec<Spanned<PatchSpec>> = "patches",
        /// The Kubernetes Service in front of its pods: its `type`, `name`,
        /// `externalTrafficPolicy`, `from` blocks and `annotations`.
        rare optional service: Box<ServiceObjectSpec> = "service",
        /// Routes from a gateway to this service.
        rare optional expose: ExposeList = "expose",
        /// Call policy towards the services it needs, by name (overrides `defaults.calls`).
        rare optional calls: Map<Name, CallsSpec> = "calls",
        /// How callers reach it: load balancing, session affinity, and the
        /// call policy of every caller (under each caller's own `calls:`).
        rare optional serve: Box<ServeSpec> = "serve",
        /// Its own trace sampling in the mesh, over `network.telemetry`.
        rare optional tracing: TracingSpec = "tracing",
        /// Traffic it may send outside the cluster.
        rare optional egress: Vec<Spanned<EgressSpec>> = "egress",
        /// Its own service-level objectives, each over `monitoring.slo`'s.
        rare optional slo: Box<super::platform::SloSpec> = "slo",
        /// Scheduled backups of its data to an object store, each field over
        /// `defaults.backup`'s: `{ schedule, keep, to }`; `none` (or `~`)
        /// for none.
        rare clearable backup: OrNone<Box<BackupSpec>> = "backup",
        /// A sentence for people reading the spec.
        rare optional description: String = "description",
    }
    /// The keys of a service that most services leave out: one allocation
    /// for a service that writes any of them, none for one that writes none
    /// (`ServiceSpec` is held for every service of a spec, through the
    /// whole check).
    pub struct RareServiceKeys;
}

record! {
    /// Scheduled backups of a data service, written to an object store by a
    /// CronJob (or its operator) that also deletes the expired ones.
    pub struct BackupSpec ("a backup (`schedule`, `keep`, `to`, `secret`, `endpoint`)") {
        /// When it runs, in the cluster's time zone: five cron fields or a
        /// macro; `"0 3 * * *"` (03:00 every day) by default.
        optional schedule: super::schedule::CronSchedule = "schedule",
        /// How long each backup is kept: days or weeks (`30d`, `4w`);
        /// `30d` by default.
        optional keep: super::schedule::Retention = "keep",
        /// Where backups go: a `minio` service of the platform (`objects`,
        /// into its bucket `backups`; `objects/BUCKET/PREFIX` for another),
        /// or an S3 URL `s3://BUCKET/PREFIX`.
        optional to: String = "to",
        /// For an `s3://` target: the Secret holding `AWS_ACCESS_KEY_ID` and
        /// `AWS_SECRET_ACCESS_KEY`; `backup-credentials` by default.
        optional secret: Name = "secret",
        /// For an `s3://` target: the S3 endpoint's URL, for a store other
        /// than AWS (`https://storage.googleapis.com`); AWS's by default.
        optional endpoint: String = "endpoint",
    }
}

/// `users:` of an object store: each user's name, and the buckets it may use.
pub type UsersSpec = Map<Name, Vec<Spanned<String>>>;

record! {
    /// One rule of Kubernetes API access.
    pub struct AccessSpec ("an access rule (`resources`, `verbs`, `apiGroups`)") {
        /// Resources, plural and lowercase (`pods`, `pods/log`, `jobs`).
        required resources: Vec<Spanned<String>> = "resources",
        /// Verbs: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
        required verbs: Vec<Spanned<String>> = "verbs",
        /// API groups of the resources (`batch`); the core group when absent.
        optional api_groups: Vec<Spanned<String>> = "apiGroups",
    }
}

record! {
    /// Pods a service creates at run time.
    pub struct SpawnsSpec ("spawned pods (`labels`, `ports`, `calls`)") {
        /// Labels the service gives them, which find them in policies
        /// (`{ component: singleuser-server }`).
        required labels: Map<LabelKey, super::names::LabelValue> = "labels",
        /// Ports they listen on, which the service reaches: `{ http: 8888 }`.
        optional ports: Map<PortName, u16> = "ports",
        /// Services they call, on those services' ports (the spawner itself,
        /// when they call it back).
        optional calls: Vec<Spanned<Name>> = "calls",
    }
}

record! {
    /// A database written in full.
    pub struct DatabaseDetail ("a database (`name`, `owner`, `schemas`)") {
        /// The database's name.
        required name: String = "name",
        /// The role owning it; the database's name when absent.
        optional owner: String = "owner",
        /// Schemas created in it, owned by the owner.
        optional schemas: Vec<Spanned<String>> = "schemas",
    }
}

record! {
    /// A topic written in full.
    pub struct TopicDetail ("a topic (`name`, `partitions`, `replicas`, `retention`, `config`)") {
        /// The topic's name.
        required name: String = "name",
        /// Partitions; 3 by default.
        optional partitions: u32 = "partitions",
        /// Copies of each partition; the cluster's replicas, at most 3, by default.
        optional replicas: super::runtime::Replicas = "replicas",
        /// How long records are kept (`7d`, `12h`); the broker's default when absent.
        optional retention: String = "retention",
        /// Other topic settings (`cleanup.policy: compact`).
        optional config: Map<String, String> = "config",
    }
}

/// A database: a bare name or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseSpec {
    /// `nova_core`.
    Name(String),
    /// `{ name: nova_core, owner: nova, schemas: [core, audit] }`.
    Detail(DatabaseDetail),
}

impl Decode for DatabaseSpec {
    const EXPECTED: &'static str = "a database name or `{ name, owner, schemas }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => DatabaseDetail::decode(node, d).map(DatabaseSpec::Detail),
            _ => String::decode(node, d).map(DatabaseSpec::Name),
        }
    }
}

/// A topic: a bare name or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicSpec {
    /// `orders`.
    Name(String),
    /// `{ name: orders, partitions: 12, retention: 7d }`.
    Detail(TopicDetail),
}

impl Decode for TopicSpec {
    const EXPECTED: &'static str =
        "a topic name or `{ name, partitions, replicas, retention, config }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => TopicDetail::decode(node, d).map(TopicSpec::Detail),
            _ => String::decode(node, d).map(TopicSpec::Name),
        }
    }
}

impl JsonSchema for DatabaseSpec {
    fn schema_name() -> Cow<'static, str> {
        "Database".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detail = generator.subschema_for::<DatabaseDetail>();
        one_of(
            json_schema!({ "type": "string" }),
            detail,
            "A database name, or a database with its owner and schemas.",
        )
    }
}

impl JsonSchema for TopicSpec {
    fn schema_name() -> Cow<'static, str> {
        "Topic".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detail = generator.subschema_for::<TopicDetail>();
        one_of(
            json_schema!({ "type": "string" }),
            detail,
            "A topic name, or a topic with its settings.",
        )
    }
}

record! {
    /// CPU and memory for each pod.
    pub struct ResourcesSpec ("resources (`requests` and `limits`)") {
        /// What the scheduler reserves.
        optional requests: ResourceList = "requests",
        /// The most a pod may use; twice the requests by default, `none`
        /// (or `~`) for no limits.
        clearable limits: OrNone<ResourceList> = "limits",
    }
}

record! {
    /// An amount of CPU and memory.
    pub struct ResourceList ("a resource list (`cpu`, `memory`)") {
        /// CPU cores.
        optional cpu: Cpu = "cpu",
        /// Memory.
        optional memory: Bytes = "memory",
    }
}

record! {
    /// A port written in full.
    pub struct PortDetail ("a port (`port`, `targetPort`, `protocol`)") {
        /// The port number, 1 to 65535: the Service's, and the container's
        /// unless `targetPort` is set.
        required port: PortNumber = "port",
        /// The container's port when it differs from the Service's.
        optional target_port: PortNumber = "targetPort",
        /// `http`, `grpc`, `tcp` or `udp`; guessed from the port's name when absent.
        optional protocol: Protocol = "protocol",
        /// The port on every node, for a `service: { type: NodePort }` (or
        /// `LoadBalancer`); the cluster picks one when absent.
        optional node_port: PortNumber = "nodePort",
    }
}

record! {
    /// One step a service's pods run before its container starts: an init
    /// container with the service's user, volumes and security context.
    pub struct InitStepSpec ("an init step (`image`, `command`, `args`, `env`, `resources`)") {
        /// Its image, pinned to a version.
        required image: String = "image",
        /// Replaces the image's entrypoint.
        optional command: Vec<Spanned<String>> = "command",
        /// Arguments to the entrypoint.
        optional args: Vec<Spanned<String>> = "args",
        /// Environment variables, in the forms of the service's `env`.
        optional env: Map<EnvName, EnvValueSpec> = "env",
        /// CPU and memory; 100m and 128Mi requested, 1 CPU and 512Mi at
        /// most, by default.
        optional resources: ResourcesSpec = "resources",
    }
}

record! {
    /// A container beside a service's main one, for its pods' whole life:
    /// the service's user, security context and volumes.
    pub struct SidecarSpec ("a sidecar (`image`, `command`, `args`, `env`, `ports`, `resources`, `mounts`, `native`)") {
        /// Its image, pinned to a version.
        required image: String = "image",
        /// Replaces the image's entrypoint.
        optional command: Vec<Spanned<String>> = "command",
        /// Arguments to the entrypoint.
        optional args: Vec<Spanned<String>> = "args",
        /// Environment variables, in the forms of the service's `env`.
        optional env: Map<EnvName, EnvValueSpec> = "env",
        /// Ports it listens on, in the forms of the service's `ports`: the
        /// service's Service and NetworkPolicies count them like its own.
        optional ports: Map<PortName, PortSpec> = "ports",
        /// CPU and memory; 50m and 64Mi requested, 200m and 256Mi at most,
        /// by default.
        optional resources: ResourcesSpec = "resources",
        /// The pod's volumes it mounts where the main container does, by
        /// name: `data` (the `storage`), a `volumes` entry's name, `config`,
        /// `tmp`.
        optional mounts: Vec<Spanned<Name>> = "mounts",
        /// Runs as a native sidecar: an init container that keeps running,
        /// started before the init steps and the main container and stopped
        /// after them. Always so for jobs and crons, whose pods must end.
        optional native: bool = "native",
    }
}

impl ServiceSpec {
    /// Every environment value it sets: its own `env`, then its init
    /// steps' and its sidecars'.
    pub fn env_values(&self) -> impl Iterator<Item = &Spanned<EnvValueSpec>> {
        let steps = self
            .rare
            .init
            .iter()
            .flat_map(|i| i.value.iter())
            .flat_map(|(_, step)| step.value.env.iter().flat_map(|e| e.value.iter()));
        let sidecars = self
            .rare
            .sidecars
            .iter()
            .flat_map(|s| s.value.iter())
            .flat_map(|(_, sidecar)| sidecar.value.env.iter().flat_map(|e| e.value.iter()));
        self.env
            .iter()
            .flat_map(|e| e.value.iter())
            .chain(steps)
            .chain(sidecars)
            .map(|(_, value)| value)
    }
}

record! {
    /// A reference to one key of a Secret.
    pub struct SecretRef ("a secret reference (`secret`, `key`)") {
        /// The Secret's name.
        required secret: Name = "secret",
        /// The key within it.
        required key: String = "key",
    }
}

record! {
    /// A reference to one key of a ConfigMap.
    pub struct ConfigRef ("a config reference (`config`, `key`)") {
        /// The ConfigMap's name.
        required config: Name = "config",
        /// The key within it.
        required key: String = "key",
    }
}

/// A port number, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortNumber(pub u16);

impl Decode for PortNumber {
    const EXPECTED: &'static str = "a port number from 1 to 65535";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let span = node.span;
        let n = u64::decode(node, d)?;
        match u16::try_from(n) {
            Ok(port) if port > 0 => Some(PortNumber(port)),
            _ => {
                d.report(
                    d.error(
                        "port-out-of-range",
                        format!("port {n} is out of range"),
                        span,
                        "not a port",
                    )
                    .help("ports are numbered from 1 to 65535"),
                );
                None
            }
        }
    }
}

keyword_enum! {
    /// The application protocol a port speaks; it picks probes and routes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Protocol (a "protocol") {
        /// HTTP/1.1 or HTTP/2.
        Http = "http",
        /// gRPC (HTTP/2), health-checked with the gRPC health protocol.
        Grpc = "grpc",
        /// Any other TCP protocol.
        Tcp = "tcp",
        /// UDP.
        Udp = "udp",
    }
}

impl Protocol {
    /// The protocol a port's name suggests. A name that is, starts with
    /// `WORD-` or ends with `-WORD` for WORD `http`, `https`, `metrics`,
    /// `web`, `ui` or `console` is HTTP; for `grpc`, gRPC; for `dns` or
    /// `udp`, UDP; anything else is TCP.
    pub fn guess(port_name: &str) -> Protocol {
        let has = |word: &str| {
            port_name == word
                || port_name.starts_with(&format!("{word}-"))
                || port_name.ends_with(&format!("-{word}"))
        };
        if has("grpc") {
            Protocol::Grpc
        } else if has("http")
            || has("https")
            || has("metrics")
            || has("web")
            || has("ui")
            || has("console")
        {
            Protocol::Http
        } else if has("dns") || has("udp") {
            Protocol::Udp
        } else {
            Protocol::Tcp
        }
    }
}

keyword_enum! {
    /// How a service runs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum WorkloadKind (a "workload kind") {
        /// Interchangeable pods (a Deployment).
        Stateless = "stateless",
        /// Pods with identity and their own volumes (a StatefulSet).
        Stateful = "stateful",
        /// One pod per node (a DaemonSet).
        Daemon = "daemon",
        /// Runs to completion once per apply (a Job).
        Job = "job",
        /// Runs on a schedule (a CronJob).
        Cron = "cron",
    }
}

impl WorkloadKind {
    /// Whether pods of this kind are expected to keep running.
    pub fn is_long_running(self) -> bool {
        matches!(
            self,
            WorkloadKind::Stateless | WorkloadKind::Stateful | WorkloadKind::Daemon
        )
    }
}

keyword_enum! {
    /// A scheduler other than Kubernetes' default: the pods' `schedulerName`,
    /// and the operator that runs it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PodScheduler (a "scheduler") {
        /// Volcano, the batch scheduler: its `schedulerName` and queues.
        Volcano = "volcano",
    }
}

/// A port: a bare number or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum PortSpec {
    /// `http: 8080`.
    Number(PortNumber),
    /// `admin: { port: 8001, protocol: http }`; boxed, as most ports are
    /// bare numbers.
    Detail(Box<PortDetail>),
}

impl Decode for PortSpec {
    const EXPECTED: &'static str = "a port number or `{ port, protocol }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => PortDetail::decode(node, d).map(|p| PortSpec::Detail(Box::new(p))),
            _ => PortNumber::decode(node, d).map(PortSpec::Number),
        }
    }
}

/// An environment variable's value.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValueSpec {
    /// Text, possibly with `${service.field}` references.
    Literal(String),
    /// A key of a Secret (boxed, like `Config`: most values are literals).
    Secret(Box<SecretRef>),
    /// A key of a ConfigMap.
    Config(Box<ConfigRef>),
}

impl Decode for EnvValueSpec {
    const EXPECTED: &'static str = "a string, `{ secret, key }` or `{ config, key }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        if node.is_null() {
            return Some(EnvValueSpec::Literal(String::new()));
        }
        match node.kind {
            NodeKind::Scalar { text, .. } => Some(EnvValueSpec::Literal(text)),
            NodeKind::Map(_) if node.get("secret").is_some() => {
                SecretRef::decode(node, d).map(|r| EnvValueSpec::Secret(Box::new(r)))
            }
            NodeKind::Map(_) if node.get("config").is_some() => {
                ConfigRef::decode(node, d).map(|r| EnvValueSpec::Config(Box::new(r)))
            }
            _ => {
                d.wrong_type(&node, Self::EXPECTED);
                None
            }
        }
    }
}

keyword_enum! {
    /// Where a service's literal environment variables are written.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum EnvFrom (an "`envFrom` value") {
        /// In the container's `env`.
        #[default]
        Inline = "inline",
        /// In a ConfigMap `NAME-env` the container reads with `envFrom`.
        ConfigMap = "configMap",
    }
    schema: "Where literal environment variables are written: the pod spec, or a ConfigMap NAME-env read with envFrom."
}

/// One entry of `needs:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedSpec {
    /// Another service, by name.
    Service(Name),
    /// Every service of a tier: `tier/NAME`.
    Tier(Name),
}

impl Decode for NeedSpec {
    const EXPECTED: &'static str = "a service name or `tier/NAME`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        let (tier, name) = match text.split_once('/') {
            Some(("tier", name)) => (true, name),
            Some(_) => {
                d.report(
                    d.error(
                        "invalid-need",
                        format!("`{text}` is neither a service name nor `tier/NAME`"),
                        node.span,
                        "not a dependency",
                    )
                    .help("write a service's name, or `tier/` and a tier's name"),
                );
                return None;
            }
            None => (false, text),
        };
        let inner = Node {
            span: node.span,
            kind: NodeKind::Scalar {
                text: name.to_string(),
                quoted: true,
            },
        };
        let name = Name::decode(inner, d)?;
        Some(if tier {
            NeedSpec::Tier(name)
        } else {
            NeedSpec::Service(name)
        })
    }
}

/// A schema of either `a` or `b`, described.
pub(super) fn one_of(a: Schema, b: Schema, description: &str) -> Schema {
    json_schema!({ "description": description, "anyOf": [a, b] })
}

impl JsonSchema for PortNumber {
    fn schema_name() -> Cow<'static, str> {
        "PortNumber".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535 })
    }
}

impl JsonSchema for PortSpec {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let number = generator.subschema_for::<PortNumber>();
        let detail = generator.subschema_for::<PortDetail>();
        one_of(
            number,
            detail,
            "A port number, or a port with its protocol.",
        )
    }
}

impl JsonSchema for EnvValueSpec {
    fn schema_name() -> Cow<'static, str> {
        "EnvValue".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let secret = generator.subschema_for::<SecretRef>();
        let config = generator.subschema_for::<ConfigRef>();
        json_schema!({
            "description": "A literal (with `${service.field}` references), a Secret key or a ConfigMap key.",
            "anyOf": [{ "type": ["string", "number", "boolean"] }, secret, config]
        })
    }
}

impl JsonSchema for NeedSpec {
    fn schema_name() -> Cow<'static, str> {
        "Need".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A service name, or `tier/NAME` for every service of a tier.",
            "pattern": "^(tier/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
        })
    }
}

/// One route or several: `expose: { path: /api }` or a list of them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposeList(pub Vec<Spanned<ExposeSpec>>);

impl Decode for ExposeList {
    const EXPECTED: &'static str = "a route or a list of routes";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Seq(_) => Vec::<Spanned<ExposeSpec>>::decode(node, d).map(ExposeList),
            _ => d
                .spanned::<ExposeSpec>(node)
                .map(|route| ExposeList(vec![route])),
        }
    }
}

impl JsonSchema for ExposeList {
    fn schema_name() -> Cow<'static, str> {
        "Expose".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let route = generator.subschema_for::<ExposeSpec>();
        json_schema!({ "anyOf": [route.clone(), { "type": "array", "items": route }] })
    }
}
