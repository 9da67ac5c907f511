//! Status as the fake makes it up: objects stored without a status get
//! one on each GET, LIST and watch event, from the behaviour the test set
//! for them (ready at once by default, or once the fake's readiness
//! latency has passed since the spec changed), the way controllers and
//! operators would report.
//! A custom resource has a status only when the test set a behaviour for
//! it (its operator runs), in the shape its operator's CRD gives it.

use serde_json::{Value, json};

use super::store::{State, Stored, id_of};

/// How a workload behaves when its status is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behavior {
    /// Ready at once (the default).
    Ready,
    /// Ready N readiness steps (see `Fake::readiness`) after each change
    /// of spec.
    ReadyAfter(usize),
    /// Never ready.
    Never,
    /// Reports a failure (deadline exceeded, job failed).
    Fail,
}

impl State {
    /// Whether objects like `value` get a made-up status: workloads,
    /// claims, CRDs, and custom resources whose operator runs (`explicit`,
    /// a behaviour was set).
    pub(super) fn has_status(value: &Value, explicit: bool) -> bool {
        if value.get("status").is_some() {
            return false;
        }
        match value["kind"].as_str().unwrap_or("") {
            "CustomResourceDefinition"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "PersistentVolumeClaim" => true,
            "Namespace" => false,
            _ => explicit,
        }
    }

    /// The object as a GET shows it: with a made-up status for workloads.
    pub(super) fn view(&self, stored: &Stored) -> Value {
        let mut value = stored.value.clone();
        if value.get("status").is_some() {
            return value;
        }
        let id = id_of(&value);
        let explicit = self.behaviors.get(&id).copied();
        let behavior = explicit.unwrap_or(Behavior::Ready);
        let ready = match behavior {
            Behavior::Ready | Behavior::ReadyAfter(_) => stored.settles.is_none(),
            Behavior::Never | Behavior::Fail => false,
        };
        let failed = behavior == Behavior::Fail;
        let generation = value["metadata"]["generation"].as_i64().unwrap_or(1);
        let replicas = value["spec"]["replicas"].as_i64().unwrap_or(1);
        let status = match value["kind"].as_str().unwrap_or("") {
            "Namespace" => json!({"phase": "Active"}),
            "CustomResourceDefinition" if ready => {
                json!({"conditions": [{"type": "Established", "status": "True"}]})
            }
            "CustomResourceDefinition" => json!({}),
            "Deployment" if failed => {
                json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "availableReplicas": 0,
                "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet has timed out progressing."}]})
            }
            "Deployment" => {
                let available = if ready { replicas } else { 0 };
                json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": available, "availableReplicas": available})
            }
            "StatefulSet" => {
                let ready_n = if ready { replicas } else { 0 };
                json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready_n, "updatedReplicas": replicas, "currentRevision": "r1", "updateRevision": "r1"})
            }
            "DaemonSet" => {
                let n = i32::from(ready);
                json!({"observedGeneration": generation, "desiredNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": n, "numberReady": n})
            }
            "Job" if failed => {
                json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]})
            }
            "Job" if ready => {
                json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
            }
            "Job" => json!({"active": 1}),
            "PersistentVolumeClaim" if ready => json!({"phase": "Bound"}),
            "PersistentVolumeClaim" => json!({"phase": "Pending"}),
            // A custom resource gets a status only from its operator: one
            // the test set a behaviour for runs; without, none does.
            kind if explicit.is_some() => operator_status(kind, &value, ready, failed),
            _ => return value,
        };
        value["status"] = status;
        value
    }
}

/// The status an operator reports on `value` (of `kind`), as its CRD
/// defines it; a `Ready` condition for kinds of other operators.
fn operator_status(kind: &str, value: &Value, ready: bool, failed: bool) -> Value {
    let generation = value["metadata"]["generation"].as_i64().unwrap_or(1);
    // A Kubernetes condition (`metav1.Condition`), all its fields said.
    let condition = |kind: &str| {
        let (status, reason) = if ready {
            ("True", kind)
        } else {
            ("False", "Reconciling")
        };
        json!({"conditions": [{"type": kind, "status": status, "reason": reason, "message": "",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
    };
    match kind {
        "Database" => {
            json!({"observedGeneration": generation, "applied": ready, "message": if ready { "" } else { "reconciling" }})
        }
        "KafkaNodePool" => {
            let replicas = value["spec"]["replicas"].as_u64().unwrap_or(1);
            let ids: Vec<u64> = (0..if ready { replicas } else { 0 }).collect();
            json!({"observedGeneration": generation, "nodeIds": ids, "replicas": ids.len(), "roles": value["spec"]["roles"].as_array().cloned().unwrap_or_default()})
        }
        "Milvus" => {
            let mut status = condition("MilvusReady");
            status["status"] = json!(if ready { "Healthy" } else { "Pending" });
            status
        }
        "RayCluster" if failed => json!({"state": "failed", "reason": "head pod failed"}),
        "RayCluster" => json!({"state": if ready { "ready" } else { "unhealthy" }}),
        "InnoDBCluster" => {
            let instances = value["spec"]["instances"].as_i64().unwrap_or(1);
            json!({"cluster": {"status": if ready { "ONLINE" } else { "PENDING" }, "onlineInstances": if ready { instances } else { 0 }}})
        }
        "ClickHouseInstallation" | "ClickHouseKeeperInstallation" => {
            let state = match (ready, failed) {
                (true, _) => "Completed",
                (false, true) => "Aborted",
                (false, false) => "InProgress",
            };
            json!({"status": state, "hosts": 1, "hostsCompleted": i32::from(ready)})
        }
        "RedisCluster" => {
            let state = match (ready, failed) {
                (true, _) => "Ready",
                (false, true) => "Failed",
                (false, false) => "Bootstrap",
            };
            let size = value["spec"]["clusterSize"].as_i64().unwrap_or(3);
            json!({"state": state, "reason": "", "readyLeaderReplicas": if ready { size } else { 0 }, "readyFollowerReplicas": 0})
        }
        "Prometheus" => {
            let available = if ready { "True" } else { "False" };
            let since = "2026-01-01T00:00:00Z";
            json!({"conditions": [{"type": "Available", "status": available, "lastTransitionTime": since},
                {"type": "Reconciled", "status": "True", "lastTransitionTime": since}], "availableReplicas": i32::from(ready)})
        }
        _ => condition("Ready"),
    }
}
