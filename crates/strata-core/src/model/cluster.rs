//! What a platform sets up around its services: namespaces with budgets,
//! limits and Pod Security levels, node pools, PriorityClasses,
//! StorageClasses, Secrets, private registries, tenants, and delivery by
//! Argo CD.

use std::collections::BTreeMap;

use super::Profile;
use crate::quantity::Quantity;

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
    /// Where the spec writes each of `data`'s values (none for a
    /// blueprint's Secret).
    pub written: BTreeMap<String, crate::source::Span>,
    /// Namespaces it is needed in.
    pub namespaces: Vec<String>,
    /// Its Kubernetes type when not `Opaque` (`kubernetes.io/basic-auth` for
    /// an operator that reads a role's login from it).
    pub secret_type: Option<String>,
}
