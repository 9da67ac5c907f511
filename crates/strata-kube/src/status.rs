//! `strata status`: each workload of the rendered set as the cluster sees
//! it: desired and ready replicas, restarts, age, failing conditions.

use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::render::Object;

use crate::apply::pod_selector;
use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::readiness::{self, Readiness};
use crate::steps;

/// One workload's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its wave.
    pub wave: usize,
    /// Its tier, if any.
    pub tier: Option<String>,
    /// Its service, if any.
    pub service: Option<String>,
    /// The object.
    pub id: ObjectId,
    /// Replicas wanted, for kinds that have replicas.
    pub desired: Option<i64>,
    /// Replicas ready.
    pub ready: Option<i64>,
    /// Container restarts summed over its pods.
    pub restarts: i64,
    /// `metadata.creationTimestamp`, when it exists.
    pub created: Option<String>,
    /// Ready, progressing, failed, or not in the cluster.
    pub state: State,
    /// Conditions that are not as they should be, `Type: reason message`.
    pub conditions: Vec<String>,
}

/// A workload's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not in the cluster.
    Missing,
    /// Ready.
    Ready,
    /// Not ready yet, and why.
    Progressing(String),
    /// Failed, and why.
    Failed(String),
}

/// True for the objects `status` shows a line for.
pub fn is_shown(object: &Object) -> bool {
    readiness::is_waited_for(object.api_version(), object.kind()) && !steps::is_setup(object)
}

/// Desired and ready replicas (or pods) of a live workload.
pub fn replicas(live: &Value) -> (Option<i64>, Option<i64>) {
    let spec = &live["spec"];
    let status = &live["status"];
    let n = |v: &Value| v.as_i64();
    match live["kind"].as_str().unwrap_or("") {
        kind::DEPLOYMENT | kind::STATEFUL_SET => (
            Some(n(&spec["replicas"]).unwrap_or(1)),
            Some(n(&status["readyReplicas"]).unwrap_or(0)),
        ),
        kind::DAEMON_SET => (
            Some(n(&status["desiredNumberScheduled"]).unwrap_or(0)),
            Some(n(&status["numberReady"]).unwrap_or(0)),
        ),
        kind::JOB => (
            Some(n(&spec["completions"]).unwrap_or(1)),
            Some(n(&status["succeeded"]).unwrap_or(0)),
        ),
        _ => (None, None),
    }
}

/// Conditions that say something is wrong: a positive condition
/// (`Available`, `Ready`, `Progressing`…) that is not True, or a negative
/// one (`Failed`, `ReplicaFailure`…) that is.
pub fn failing_conditions(live: &Value) -> Vec<String> {
    const NEGATIVE: [&str; 4] = ["Failed", "ReplicaFailure", "Degraded", "Stalled"];
    live["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            let kind = c["type"].as_str().unwrap_or("");
            let on = c["status"] == "True";
            if NEGATIVE.contains(&kind) { on } else { !on }
        })
        .map(|c| {
            format!(
                "{}: {} {}",
                c["type"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
            .trim()
            .to_string()
        })
        .collect()
}

/// The status of each workload among `objects`, in their order.
pub async fn status(
    cluster: &Cluster,
    objects: &[&Object],
    concurrency: usize,
) -> Result<Vec<Row>, ClusterError> {
    let shown: Vec<&Object> = objects.iter().copied().filter(|o| is_shown(o)).collect();
    let rows: Vec<Result<Row, ClusterError>> = stream::iter(shown)
        .map(|object| row(cluster, object))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    rows.into_iter().collect()
}

async fn row(cluster: &Cluster, object: &Object) -> Result<Row, ClusterError> {
    let id = ObjectId::of(&object.value);
    let mut row = Row {
        wave: object.wave,
        tier: object.tier.clone(),
        service: object.service.clone(),
        id: id.clone(),
        desired: None,
        ready: None,
        restarts: 0,
        created: None,
        state: State::Missing,
        conditions: Vec::new(),
    };
    let live = match cluster.get(&id).await {
        Ok(Some(live)) => live,
        Ok(None) | Err(ClusterError::UnknownKind { .. }) => return Ok(row),
        Err(e) => return Err(e),
    };
    (row.desired, row.ready) = replicas(&live);
    row.created = live["metadata"]["creationTimestamp"]
        .as_str()
        .map(str::to_string);
    row.state = match readiness::judge(&live) {
        Readiness::Ready => State::Ready,
        Readiness::Progressing(r) => State::Progressing(r),
        Readiness::Failed(r) => State::Failed(r),
    };
    row.conditions = failing_conditions(&live);
    if let Some(selector) = pod_selector(&live) {
        let namespace = cluster.namespace_of(&id).await?;
        let pods = cluster.list("v1", kind::POD, &namespace, &selector).await?;
        row.restarts = pods.iter().map(restarts).sum();
    }
    Ok(row)
}

fn restarts(pod: &Value) -> i64 {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replicas_by_kind() {
        let d = json!({"kind": kind::DEPLOYMENT, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}});
        assert_eq!(replicas(&d), (Some(3), Some(2)));
        let ds = json!({"kind": kind::DAEMON_SET, "status": {"desiredNumberScheduled": 4, "numberReady": 4}});
        assert_eq!(replicas(&ds), (Some(4), Some(4)));
        let job = json!({"kind": kind::JOB, "spec": {}, "status": {}});
        assert_eq!(replicas(&job), (Some(1), Some(0)));
        assert_eq!(replicas(&json!({"kind": kind::CNPG_CLUSTER})), (None, None));
    }

    #[test]
    fn failing_conditions_are_false_positives_and_true_negatives() {
        let d = json!({"status": {"conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "quota exceeded"},
            {"type": "Failed", "status": "False"}
        ]}});
        assert_eq!(
            failing_conditions(&d),
            [
                "Available: MinimumReplicasUnavailable Deployment does not have minimum availability.",
                "ReplicaFailure: FailedCreate quota exceeded"
            ]
        );
    }

    #[test]
    fn rows_are_shown_for_workloads_not_setup() {
        use crate::steps::tests::object;
        assert!(is_shown(&object(1, Some("a"), kind::DEPLOYMENT, "n", "x")));
        assert!(!is_shown(&object(0, None, kind::NAMESPACE, "", "n")));
        assert!(!is_shown(&object(
            1,
            Some("a"),
            kind::SERVICE_ACCOUNT,
            "n",
            "x"
        )));
    }
}
