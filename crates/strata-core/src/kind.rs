//! The names of the Kubernetes kinds Strata's code refers to by name (the
//! apply order, readiness, prune, destroy…), as they appear in an object's
//! `kind` field: one constant each, so a misspelt kind is a compile error
//! rather than an object that never matches.
//!
//! A name says nothing of its API group: `Gateway` is both the Gateway API's
//! and Istio's, and [`CNPG_CLUSTER`] is only `Cluster`. Code that must tell
//! such kinds apart also looks at the `apiVersion`.

// Core (`v1`).

/// `v1` Namespace.
pub const NAMESPACE: &str = "Namespace";
/// `v1` Pod.
pub const POD: &str = "Pod";
/// `v1` Service.
pub const SERVICE: &str = "Service";
/// `v1` ServiceAccount.
pub const SERVICE_ACCOUNT: &str = "ServiceAccount";
/// `v1` Secret.
pub const SECRET: &str = "Secret";
/// `v1` ConfigMap.
pub const CONFIG_MAP: &str = "ConfigMap";
/// `v1` PersistentVolumeClaim.
pub const PERSISTENT_VOLUME_CLAIM: &str = "PersistentVolumeClaim";
/// `v1` ResourceQuota.
pub const RESOURCE_QUOTA: &str = "ResourceQuota";
/// `v1` LimitRange.
pub const LIMIT_RANGE: &str = "LimitRange";

// Workloads (`apps/v1`, `batch/v1`).

/// `apps/v1` Deployment.
pub const DEPLOYMENT: &str = "Deployment";
/// `apps/v1` StatefulSet.
pub const STATEFUL_SET: &str = "StatefulSet";
/// `apps/v1` DaemonSet.
pub const DAEMON_SET: &str = "DaemonSet";
/// `apps/v1` ReplicaSet (made by Deployments, never rendered).
pub const REPLICA_SET: &str = "ReplicaSet";
/// `batch/v1` Job.
pub const JOB: &str = "Job";
/// `batch/v1` CronJob.
pub const CRON_JOB: &str = "CronJob";

// Other built-in groups.

/// `apiextensions.k8s.io/v1` CustomResourceDefinition.
pub const CUSTOM_RESOURCE_DEFINITION: &str = "CustomResourceDefinition";
/// `storage.k8s.io/v1` StorageClass.
pub const STORAGE_CLASS: &str = "StorageClass";
/// `scheduling.k8s.io/v1` PriorityClass.
pub const PRIORITY_CLASS: &str = "PriorityClass";
/// `rbac.authorization.k8s.io/v1` ClusterRole.
pub const CLUSTER_ROLE: &str = "ClusterRole";
/// `rbac.authorization.k8s.io/v1` ClusterRoleBinding.
pub const CLUSTER_ROLE_BINDING: &str = "ClusterRoleBinding";
/// `rbac.authorization.k8s.io/v1` Role.
pub const ROLE: &str = "Role";
/// `rbac.authorization.k8s.io/v1` RoleBinding.
pub const ROLE_BINDING: &str = "RoleBinding";
/// `networking.k8s.io/v1` NetworkPolicy.
pub const NETWORK_POLICY: &str = "NetworkPolicy";
/// `networking.k8s.io/v1` Ingress.
pub const INGRESS: &str = "Ingress";
/// `autoscaling/v2` HorizontalPodAutoscaler.
pub const HORIZONTAL_POD_AUTOSCALER: &str = "HorizontalPodAutoscaler";
/// `policy/v1` PodDisruptionBudget.
pub const POD_DISRUPTION_BUDGET: &str = "PodDisruptionBudget";
/// `events.k8s.io/v1` Event.
pub const EVENT: &str = "Event";

// Gateway API and Istio.

/// `gateway.networking.k8s.io` Gateway (Istio's `networking.istio.io`
/// Gateway has the same name).
pub const GATEWAY: &str = "Gateway";
/// `gateway.networking.k8s.io` HTTPRoute.
pub const HTTP_ROUTE: &str = "HTTPRoute";
/// `networking.istio.io` VirtualService.
pub const VIRTUAL_SERVICE: &str = "VirtualService";
/// `networking.istio.io` DestinationRule.
pub const DESTINATION_RULE: &str = "DestinationRule";
/// `security.istio.io` PeerAuthentication.
pub const PEER_AUTHENTICATION: &str = "PeerAuthentication";
/// `security.istio.io` RequestAuthentication.
pub const REQUEST_AUTHENTICATION: &str = "RequestAuthentication";
/// `security.istio.io` AuthorizationPolicy.
pub const AUTHORIZATION_POLICY: &str = "AuthorizationPolicy";

// Operators' custom resources that report readiness.

/// `postgresql.cnpg.io` Cluster: a CloudNativePG database cluster.
pub const CNPG_CLUSTER: &str = "Cluster";
/// `kafka.strimzi.io` Kafka: a Strimzi Kafka cluster.
pub const KAFKA: &str = "Kafka";
/// `kafka.strimzi.io` KafkaTopic.
pub const KAFKA_TOPIC: &str = "KafkaTopic";
/// `milvus.io` Milvus: a Milvus Operator deployment.
pub const MILVUS: &str = "Milvus";
/// `ray.io` RayCluster: a KubeRay cluster.
pub const RAY_CLUSTER: &str = "RayCluster";

/// True for the kinds that run pods from a template and keep them running:
/// Deployments, StatefulSets and DaemonSets (not Jobs, which finish).
pub fn is_workload(kind: &str) -> bool {
    matches!(kind, DEPLOYMENT | STATEFUL_SET | DAEMON_SET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_the_long_running_pod_controllers() {
        for kind in [DEPLOYMENT, STATEFUL_SET, DAEMON_SET] {
            assert!(is_workload(kind), "{kind}");
        }
        for kind in [JOB, CRON_JOB, REPLICA_SET, POD, SERVICE, "deployment"] {
            assert!(!is_workload(kind), "{kind}");
        }
    }
}
