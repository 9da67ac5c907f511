//! The wire form of a whole platform: the top of a spec file.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::amount::{Bytes, Cpu};
use super::decode::{Decode, Decoder, Map, Spanned};
use super::names::{LabelKey, Name, RegistryHost};
use super::network::{CallsSpec, ControllerSpec, ExternalSpec, GatewaySpec, NetworkSpec};
use super::record::record;
use super::runtime::{Duration, ProbesSpec, Profile, SecuritySpec};
use super::service::{ResourceList, ResourcesSpec, ServiceSpec};
use super::yaml::Node;

record! {
    /// A platform: its environments, defaults, node pools, tiers and tenants.
    pub struct PlatformSpec ("a platform spec") {
        /// The platform's name; it is the default namespace and labels every object.
        required platform: Name = "platform",
        /// A sentence for people reading the spec.
        optional description: String = "description",
        /// Labels added to every object.
        optional labels: Map<LabelKey, super::names::LabelValue> = "labels",
        /// The namespace shared by tiers that name none; the platform's name when absent.
        optional namespace: Name = "namespace",
        /// Named environments (`local`, `staging`, `prod`…) and what each overrides.
        optional environments: Map<Name, EnvironmentSpec> = "environments",
        /// Values every service gets unless it says otherwise.
        optional defaults: DefaultsSpec = "defaults",
        /// Groups of nodes a service can be scheduled on.
        optional node_pools: Map<Name, NodePoolSpec> = "nodePools",
        /// Labels and budgets of namespaces.
        optional namespaces: Map<Name, NamespaceSpec> = "namespaces",
        /// The layers of the platform, bottom first.
        required tiers: Vec<Spanned<TierSpec>> = "tiers",
        /// Tenants, each with its own namespace and budget.
        optional tenants: Map<Name, TenantSpec> = "tenants",
        /// StorageClasses the platform declares.
        optional storage_classes: Map<Name, StorageClassSpec> = "storageClasses",
        /// Secrets: generated once by `apply`, or given in the spec.
        optional secrets: Map<Name, SecretSpec> = "secrets",
        /// How the platform is monitored.
        optional monitoring: MonitoringSpec = "monitoring",
        /// Entry points into the platform, by name.
        optional gateways: Map<Name, GatewaySpec> = "gateways",
        /// Network isolation and mesh.
        optional network: NetworkSpec = "network",
        /// Dependencies outside this spec that services call by name (`${kafka.address}`).
        optional externals: Map<Name, ExternalSpec> = "externals",
        /// Kubernetes operators the platform's blueprints rely on, by name (`cloudnative-pg`).
        optional operators: Map<Name, OperatorSpec> = "operators",
        /// PriorityClasses services can name with `priority:`.
        optional priorities: Map<Name, PrioritySpec> = "priorities",
        /// How the rendered platform reaches the cluster (GitOps).
        optional delivery: DeliverySpec = "delivery",
        /// Private container registries, by host: pods whose images come from
        /// one pull them with its secret.
        optional registries: Map<RegistryHost, RegistrySpec> = "registries",
    }
}

record! {
    /// A private container registry.
    pub struct RegistrySpec ("a registry (`pullSecret`)") {
        /// The `kubernetes.io/dockerconfigjson` Secret holding its credentials,
        /// created outside Strata in every namespace whose pods pull from it.
        required pull_secret: Name = "pullSecret",
    }
}

record! {
    /// How the rendered platform reaches the cluster.
    pub struct DeliverySpec ("delivery settings (`argocd`)") {
        /// An Argo CD Application per environment, syncing the environment's
        /// Kustomize overlay from Git.
        optional argocd: ArgoCdSpec = "argocd",
    }
}

record! {
    /// Argo CD syncing the output of `strata render --format kustomize`.
    pub struct ArgoCdSpec ("Argo CD settings (`repo`, `path`, `revision`, `namespace`, `project`, `prune`, `selfHeal`, `retry`)") {
        /// The Git repository's URL.
        required repo: String = "repo",
        /// The directory of the repository holding the Kustomize export
        /// (`base/`, `overlays/ENV/`).
        required path: String = "path",
        /// The branch, tag or commit to sync; `HEAD` by default.
        optional revision: String = "revision",
        /// Argo CD's namespace; `argocd` by default.
        optional namespace: Name = "namespace",
        /// The Argo CD project; `default` by default.
        optional project: Name = "project",
        /// Delete objects that are no longer rendered; `false` by default.
        optional prune: bool = "prune",
        /// Undo changes made in the cluster by hand; `false` by default.
        optional self_heal: bool = "selfHeal",
        /// How failed syncs are retried.
        optional retry: ArgoRetrySpec = "retry",
    }
}

record! {
    /// Retries of a failed sync.
    pub struct ArgoRetrySpec ("retry settings (`limit`, `backoff`, `factor`, `maxBackoff`)") {
        /// Attempts before giving up.
        required limit: u32 = "limit",
        /// The first wait; `5s` by default.
        optional backoff: Duration = "backoff",
        /// Each wait is the previous one times this; `2` by default.
        optional factor: u32 = "factor",
        /// The longest wait; `3m` by default.
        optional max_backoff: Duration = "maxBackoff",
    }
}

record! {
    /// A PriorityClass written in full.
    pub struct PriorityDetail ("a priority (`value`, `default`, `description`)") {
        /// Higher runs first and may preempt lower; at most 1000000000.
        required value: u32 = "value",
        /// Pods that name no priority class get this one (`globalDefault`).
        optional default: bool = "default",
        /// What it is for.
        optional description: String = "description",
    }
}

/// A priority: a bare value or written in full.
#[derive(Debug, Clone, PartialEq)]
pub enum PrioritySpec {
    /// `high: 1000`.
    Value(u32),
    /// `medium: { value: 500, default: true }`.
    Detail(PriorityDetail),
}

impl Decode for PrioritySpec {
    const EXPECTED: &'static str = "a priority value or `{ value, default, description }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            super::yaml::NodeKind::Map(_) => {
                PriorityDetail::decode(node, d).map(PrioritySpec::Detail)
            }
            _ => u32::decode(node, d).map(PrioritySpec::Value),
        }
    }
}

impl JsonSchema for PrioritySpec {
    fn schema_name() -> Cow<'static, str> {
        "Priority".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detail = generator.subschema_for::<PriorityDetail>();
        json_schema!({
            "description": "A PriorityClass value, or a priority with its settings.",
            "anyOf": [{ "type": "integer", "minimum": 0, "maximum": 1_000_000_000 }, detail]
        })
    }
}

record! {
    /// How an operator gets into the cluster: already installed, or by a tier's raw manifests.
    pub struct OperatorSpec ("an operator (`installed: true` with its `namespace`, or `tier: NAME`)") {
        /// The cluster already runs it (installed by another team, say).
        optional installed: bool = "installed",
        /// The tier whose `manifests:` install it; its custom resources wait for that tier.
        optional tier: Name = "tier",
        /// With `installed: true`, the namespace it runs in: only that
        /// namespace may reach the pods it runs on its ports.
        optional namespace: Name = "namespace",
        /// The operator's release (`1.2`, `0.51.0`), for operators whose
        /// resources follow it (`strimzi`: the API version and the Kafka
        /// releases); the newest Strata knows by default.
        optional version: String = "version",
    }
}

record! {
    /// A StorageClass.
    pub struct StorageClassSpec ("a storage class") {
        /// The provisioner (`ebs.csi.aws.com`, `rancher.io/local-path`…).
        required provisioner: String = "provisioner",
        /// Provisioner parameters.
        optional parameters: Map<LabelKey, String> = "parameters",
        /// `Delete` or `Retain`; `Retain` by default, so data outlives its claim.
        optional reclaim_policy: String = "reclaimPolicy",
        /// `Immediate` or `WaitForFirstConsumer` (the default).
        optional volume_binding_mode: String = "volumeBindingMode",
        /// Whether claims may grow; `true` by default.
        optional allow_volume_expansion: bool = "allowVolumeExpansion",
        /// Whether this is the cluster's default class.
        optional default: bool = "default",
    }
}

record! {
    /// A Secret the platform's services read.
    pub struct SecretSpec ("a secret (`generate` or `data`)") {
        /// Keys whose random values `strata apply` creates once and never overwrites.
        optional generate: Vec<Spanned<String>> = "generate",
        /// Keys with values given here (they appear in rendered output).
        optional data: Map<LabelKey, String> = "data",
        /// The namespace; those of the services that read it by default.
        optional namespace: Name = "namespace",
    }
}

record! {
    /// Monitoring settings.
    pub struct MonitoringSpec ("monitoring settings") {
        /// Render Prometheus Operator ServiceMonitors instead of scrape annotations.
        optional service_monitors: bool = "serviceMonitors",
        /// The platform service that scrapes metrics (a `prometheus`, say).
        optional scraper: Name = "scraper",
        /// Where the scraper runs when it is not a platform service; `monitoring`
        /// namespace, `app.kubernetes.io/name: prometheus` pods by default.
        optional controller: ControllerSpec = "controller",
        /// Service-level objectives of every service, as recording and
        /// alerting rules of the `prometheus` scraper.
        optional slo: SloSpec = "slo",
    }
}

record! {
    /// Service-level objectives, each checked per service over 5 minutes.
    pub struct SloSpec ("service-level objectives (`availability`, `errors`, `latency`)") {
        /// The share of time a service's scraped pods are up, such as `99.9%`.
        optional availability: Objective = "availability",
        /// The largest share of requests answered 5xx, such as `1%` (Istio's metrics).
        optional errors: Objective = "errors",
        /// Request latency bounds (Istio's metrics).
        optional latency: LatencySpec = "latency",
    }
}

record! {
    /// Latency objectives.
    pub struct LatencySpec ("latency objectives (`p95`)") {
        /// The 95th percentile bound, such as `500ms`.
        required p95: super::network::Millis = "p95",
    }
}

/// A percentage strictly between 0 and 100, decimals allowed: `99.9%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective(pub f64);

impl Objective {
    /// The objective as a ratio, `0.999` for `99.9%`.
    pub fn ratio(self) -> f64 {
        self.0 / 100.0
    }
}

impl Decode for Objective {
    const EXPECTED: &'static str = "a percentage such as `99.9%`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        match text.trim_end_matches('%').trim().parse::<f64>() {
            Ok(n) if n > 0.0 && n < 100.0 => Some(Objective(n)),
            _ => {
                d.report(
                    d.error(
                        "invalid-percent",
                        format!("`{text}` is not a percentage between 0% and 100%"),
                        node.span,
                        "not an objective",
                    )
                    .help("write a percentage such as `99.9%` or `1%`"),
                );
                None
            }
        }
    }
}

impl JsonSchema for Objective {
    fn schema_name() -> Cow<'static, str> {
        "Objective".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [{ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100 }, { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?%$" }] })
    }
}

record! {
    /// What one environment changes.
    pub struct EnvironmentSpec ("an environment") {
        /// Whether people depend on it; `false` for `local`, `true` for any other
        /// name. `strata audit` allows single replicas where it is `false`.
        optional production: bool = "production",
        /// Every service runs this many replicas (typically 1 for `local`).
        optional replicas: super::runtime::Replicas = "replicas",
        /// Services run at least this many replicas.
        optional min_replicas: super::runtime::Replicas = "minReplicas",
        /// Factor applied to every CPU and memory request and limit.
        optional scale: f64 = "scale",
        /// StorageClass of every volume in this environment, named or not.
        optional storage_class: String = "storageClass",
        /// The shared namespace in this environment (a rename of the shared
        /// namespace, like an entry of `namespaces`).
        optional namespace: Name = "namespace",
        /// Namespaces renamed in this environment: base name to this
        /// environment's name, applied to every object and reference.
        optional namespaces: Map<Name, Name> = "namespaces",
        /// Labels of every Namespace object of this environment; they win over
        /// `namespaces.NAME.labels` and tenants' labels.
        optional namespace_labels: Map<LabelKey, super::names::LabelValue> = "namespaceLabels",
        /// Services, or whole tiers (`tier/NAME`), this environment leaves out.
        optional without: Vec<Spanned<String>> = "without",
        /// Node pools added or changed in this environment, merged key by key
        /// over the base pools.
        optional node_pools: Map<Name, NodePoolOverride> = "nodePools",
        /// StorageClasses added or changed in this environment, merged key by
        /// key over the base classes.
        optional storage_classes: Map<Name, StorageClassOverride> = "storageClasses",
        /// Externals added or changed in this environment (another Kafka's
        /// hosts, say), merged key by key over the base externals.
        optional externals: Map<Name, ExternalOverride> = "externals",
        /// Registries added or changed in this environment (another pull
        /// secret, say), merged key by key over the base registries.
        optional registries: Map<RegistryHost, RegistryOverride> = "registries",
        /// Per-service overrides of any service field, merged key by key over
        /// the base spec and checked after the merge.
        optional services: Map<Name, ServiceOverride> = "services",
    }
}

record! {
    /// Values every service gets unless it sets its own.
    pub struct DefaultsSpec ("defaults") {
        /// Replicas of a service that sets none.
        optional replicas: super::runtime::Replicas = "replicas",
        /// Requests and limits of a service that sets none.
        optional resources: ResourcesSpec = "resources",
        /// StorageClass of a volume that names none.
        optional storage_class: String = "storageClass",
        /// Node pool of a service that names none.
        optional pool: Name = "pool",
        /// Probes of every service; `false` switches them off.
        clearable probes: ProbesSpec = "probes",
        /// Security context of every service.
        optional security: SecuritySpec = "security",
        /// Spread replicas across nodes.
        optional spread: bool = "spread",
        /// PodDisruptionBudgets for replicated services.
        optional disruption_budget: bool = "disruptionBudget",
        /// Time given to stop gracefully.
        optional termination_grace_period: Duration = "terminationGracePeriod",
        /// Mount service account tokens.
        optional service_account_token: bool = "serviceAccountToken",
        /// Call policy between services (timeouts, retries, circuit breaking).
        optional calls: CallsSpec = "calls",
        /// Backups of every stateful service that sets none: `{ schedule,
        /// keep, to }`, as a service's `backup`.
        optional backup: super::service::BackupSpec = "backup",
    }
}

record! {
    /// A group of nodes selected by labels, possibly tainted.
    pub struct NodePoolSpec ("a node pool") {
        /// Node labels that select the pool.
        required selector: Map<LabelKey, super::names::LabelValue> = "selector",
        /// Taints the pool's nodes carry: `key`, `key=value` or `key=value:Effect`.
        optional taints: Vec<Spanned<TaintSpec>> = "taints",
        /// How many nodes the pool has (`3`, or a range `{ min, max }` when it
        /// autoscales), for the capacity check in `plan`.
        optional nodes: NodeCount = "nodes",
        /// The machine type of the nodes (informational; `plan` shows it).
        optional instance_type: String = "instanceType",
        /// What one node offers.
        optional capacity: CapacitySpec = "capacity",
    }
}

record! {
    /// Allocatable resources of one node.
    pub struct CapacitySpec ("a node's capacity (`cpu`, `memory`, `gpu`)") {
        /// CPU cores.
        optional cpu: Cpu = "cpu",
        /// Memory.
        optional memory: Bytes = "memory",
        /// GPUs.
        optional gpu: u32 = "gpu",
    }
}

record! {
    /// Settings of one namespace.
    pub struct NamespaceSpec ("a namespace") {
        /// Extra labels of the Namespace object.
        optional labels: Map<LabelKey, super::names::LabelValue> = "labels",
        /// Annotations of the Namespace object.
        optional annotations: Map<LabelKey, String> = "annotations",
        /// The namespace's ResourceQuota.
        optional budget: BudgetSpec = "budget",
        /// The values of its LimitRange, instead of the built-in defaults.
        optional limits: ContainerLimitsSpec = "limits",
        /// Pod Security levels, instead of the ones derived from the services.
        optional pod_security: PodSecuritySpec = "podSecurity",
    }
}

record! {
    /// The Pod Security Standards levels of a namespace.
    pub struct PodSecuritySpec ("Pod Security levels (`enforce`, `audit`, `warn`)") {
        /// Pods violating it are rejected; the least restrictive profile of the
        /// namespace's services by default. `check` fails when a service needs more.
        optional enforce: Profile = "enforce",
        /// Violations are recorded in the audit log; `restricted` by default.
        optional audit: Profile = "audit",
        /// Violations are reported to the client; `restricted` by default.
        optional warn: Profile = "warn",
    }
}

record! {
    /// A resource budget: what a namespace may request in total.
    pub struct BudgetSpec ("a budget (`cpu`, `memory`, `limits`, `gpu`, `storage`, `pvcs`, `pods`)") {
        /// Total CPU requests.
        optional cpu: Cpu = "cpu",
        /// Total memory requests.
        optional memory: Bytes = "memory",
        /// Totals of limits (`limits.cpu`, `limits.memory` of the ResourceQuota).
        optional limits: BudgetLimitsSpec = "limits",
        /// Total GPUs.
        optional gpu: u32 = "gpu",
        /// Total storage requested by volume claims.
        optional storage: Bytes = "storage",
        /// Number of volume claims.
        optional pvcs: u32 = "pvcs",
        /// Number of pods.
        optional pods: u32 = "pods",
    }
}

record! {
    /// What the pods of a namespace may use at most, in total.
    pub struct BudgetLimitsSpec ("budget limits (`cpu`, `memory`)") {
        /// Total CPU limits.
        optional cpu: Cpu = "cpu",
        /// Total memory limits.
        optional memory: Bytes = "memory",
    }
}

record! {
    /// What each container of a namespace gets and may ask for (its LimitRange).
    pub struct ContainerLimitsSpec ("container limits (`default`, `defaultRequest`, `max`, `min`)") {
        /// Limits of a container that sets none.
        optional default_limit: ResourceList = "default",
        /// Requests of a container that sets none.
        optional default_request: ResourceList = "defaultRequest",
        /// The most one container may set as its limits.
        optional max: ResourceList = "max",
        /// The least one container may request.
        optional min: ResourceList = "min",
    }
}

record! {
    /// A layer of the platform.
    pub struct TierSpec ("a tier") {
        /// The tier's name (`infrastructure`, `gateway`…).
        required name: Name = "name",
        /// A sentence for people reading the spec.
        optional description: String = "description",
        /// The tier's namespace; the platform's shared one when absent.
        optional namespace: Name = "namespace",
        /// Whether its pods join `network.mesh`; `true` by default. Tiers
        /// sharing a namespace agree (sidecar injection is per namespace).
        optional mesh: bool = "mesh",
        /// Tiers whose every service must be ready before this one starts.
        optional after: Vec<Spanned<Name>> = "after",
        /// The tier's services, by name.
        optional services: Map<Name, std::sync::Arc<ServiceSpec>> = "services",
        /// Raw manifest files (relative to the spec) applied as they are, in this tier's wave.
        optional manifests: Vec<Spanned<super::names::SpecPath>> = "manifests",
    }
}

record! {
    /// A tenant: a namespace of its own with a budget.
    pub struct TenantSpec ("a tenant") {
        /// The tenant's namespace; `tenant-NAME` when absent.
        optional namespace: Name = "namespace",
        /// Extra labels of the tenant's Namespace.
        optional labels: Map<LabelKey, super::names::LabelValue> = "labels",
        /// Annotations of the tenant's Namespace.
        optional annotations: Map<LabelKey, String> = "annotations",
        /// The tenant's ResourceQuota.
        optional budget: BudgetSpec = "budget",
        /// More namespaces of the tenant, `NAMESPACE-SUFFIX` each
        /// (`[data, model]` → `tenant-001-data`, `tenant-001-model`), with
        /// its labels and annotations.
        optional namespaces: Vec<Spanned<Name>> = "namespaces",
    }
}

/// A node taint: `key`, `key=value`, `key:Effect` or `key=value:Effect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaintSpec {
    /// The taint's key.
    pub key: String,
    /// The taint's value, if any.
    pub value: Option<String>,
    /// `NoSchedule` (the default), `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

impl Decode for TaintSpec {
    const EXPECTED: &'static str = "a taint such as `nvidia.com/gpu=true:NoSchedule`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        let (rest, effect) = match text.rsplit_once(':') {
            Some((rest, effect)) => (rest, effect),
            None => (text, "NoSchedule"),
        };
        if !EFFECTS.contains(&effect) {
            let hint = crate::diag::suggestion(effect, &EFFECTS, "taint effect");
            d.report(
                d.error(
                    "unknown-value",
                    format!("`{effect}` is not a taint effect"),
                    node.span,
                    "unknown effect",
                )
                .help(hint),
            );
            return None;
        }
        let (key, value) = match rest.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (rest, None),
        };
        if key.is_empty() {
            d.report(
                d.error("invalid-name", "a taint needs a key", node.span, "no key")
                    .help("write `key=value:Effect`"),
            );
            return None;
        }
        Some(TaintSpec {
            key: key.to_string(),
            value,
            effect: effect.to_string(),
        })
    }
}

impl JsonSchema for TaintSpec {
    fn schema_name() -> Cow<'static, str> {
        "Taint".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "`key`, `key=value` or `key=value:Effect` (NoSchedule, PreferNoSchedule, NoExecute).",
            "pattern": "^[^=:]+(=[^:]*)?(:(NoSchedule|PreferNoSchedule|NoExecute))?$"
        })
    }
}

record! {
    /// The range of an autoscaled node pool.
    pub struct NodeRange ("a node range (`min`, `max`)") {
        /// Nodes the pool always has.
        required min: u32 = "min",
        /// Nodes the pool may grow to.
        required max: u32 = "max",
    }
}

/// How many nodes a pool has: a fixed number or an autoscaling range.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeCount {
    /// `nodes: 3`.
    Fixed(u32),
    /// `nodes: { min: 3, max: 10 }`.
    Range(NodeRange),
}

impl Decode for NodeCount {
    const EXPECTED: &'static str = "a number of nodes or `{ min, max }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            super::yaml::NodeKind::Map(_) => NodeRange::decode(node, d).map(NodeCount::Range),
            _ => u32::decode(node, d).map(NodeCount::Fixed),
        }
    }
}

impl JsonSchema for NodeCount {
    fn schema_name() -> Cow<'static, str> {
        "NodeCount".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let range = generator.subschema_for::<NodeRange>();
        json_schema!({
            "description": "A number of nodes, or the range of an autoscaled pool.",
            "anyOf": [{ "type": "integer", "minimum": 0 }, range]
        })
    }
}

/// Declares a partial record an environment merges over a base entry.
macro_rules! override_of {
    ($(#[$meta:meta])* $name:ident, $base:ty, $schema:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(pub $base);

        impl Decode for $name {
            const EXPECTED: &'static str = $what;
            fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
                d.partial::<$base>(node).map($name)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $schema.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "object",
                    "description": concat!($what, ", merged key by key over the base entry (or a new entry), checked after the merge."),
                    "propertyNames": { "anyOf": [{ "enum": <$base>::FIELDS }, { "pattern": "^x-" }] }
                })
            }
        }
    };
}

override_of!(
    /// An environment's node pool: a new pool, or fields merged over the base pool.
    NodePoolOverride,
    NodePoolSpec,
    "NodePoolOverride",
    "node pool fields"
);
override_of!(
    /// An environment's external: a new one, or fields merged over the base one.
    ExternalOverride,
    ExternalSpec,
    "ExternalOverride",
    "external fields"
);
override_of!(
    /// An environment's registry: a new one, or fields merged over the base one.
    RegistryOverride,
    RegistrySpec,
    "RegistryOverride",
    "registry fields"
);
override_of!(
    /// An environment's StorageClass: a new class, or fields merged over the base class.
    StorageClassOverride,
    StorageClassSpec,
    "StorageClassOverride",
    "storage class fields"
);

/// An environment's override of a service: any service fields, possibly
/// part of a mapping (`autoscale: { min: 3 }`), merged over the service.
/// Keys and types are checked here; completeness after the merge.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceOverride(pub ServiceSpec);

impl Decode for ServiceOverride {
    const EXPECTED: &'static str = "service fields to merge over the service";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        d.partial::<ServiceSpec>(node).map(ServiceOverride)
    }
}

impl JsonSchema for ServiceOverride {
    fn schema_name() -> Cow<'static, str> {
        "ServiceOverride".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Values may be parts of mappings, so only the keys are described.
        json_schema!({
            "type": "object",
            "description": "Service fields merged key by key over the service, checked after the merge.",
            "propertyNames": { "anyOf": [{ "enum": ServiceSpec::FIELDS }, { "pattern": "^x-" }] }
        })
    }
}
