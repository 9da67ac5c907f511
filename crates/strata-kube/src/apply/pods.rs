//! The pods of a workload: how to find them, and what they say when the
//! workload is not ready (container states, scheduling, latest events).

use std::collections::BTreeSet;

use serde_json::Value;
use strata_core::kind;
use strata_core::render::Object;

use crate::cluster::{Cluster, ObjectId};

/// A pod of a workload that is not ready, with what Kubernetes says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodReport {
    /// `namespace/name`.
    pub pod: String,
    /// Container states and pod conditions that explain it.
    pub problems: Vec<String>,
    /// Its latest events, `Reason: message`, then those of the claims it
    /// mounts, `claim NAME: Reason: message` (a claim that cannot bind
    /// says why there: no such StorageClass, no volume to provision).
    pub events: Vec<String>,
}

/// The label selector of a workload's pods, if it has pods.
pub fn pod_selector(object: &Value) -> Option<String> {
    let labels = match object["kind"].as_str()? {
        k if kind::is_workload(k) || k == kind::REPLICA_SET => {
            object["spec"]["selector"]["matchLabels"]
                .as_object()?
                .clone()
        }
        kind::JOB => {
            let mut m = serde_json::Map::new();
            m.insert(
                "job-name".into(),
                object["metadata"]["name"].as_str()?.into(),
            );
            m
        }
        _ => return None,
    };
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Reports on the pods of the not-ready workloads: container states,
/// unschedulable conditions, and their latest events.
pub(super) async fn diagnose(
    cluster: &Cluster,
    objects: &[&Object],
    not_ready: &[(ObjectId, String)],
) -> Vec<PodReport> {
    let mut reports = Vec::new();
    let stuck: BTreeSet<&ObjectId> = not_ready.iter().map(|(id, _)| id).collect();
    for object in objects {
        let id = ObjectId::of(&object.value);
        if !stuck.contains(&id) {
            continue;
        }
        let Some(selector) = pod_selector(&object.value) else {
            continue;
        };
        let Ok(namespace) = cluster.namespace_of(&id).await else {
            continue;
        };
        let Ok(pods) = cluster.list("v1", kind::POD, &namespace, &selector).await else {
            continue;
        };
        let events = cluster
            .list("events.k8s.io/v1", kind::EVENT, &namespace, "")
            .await
            .unwrap_or_default();
        for pod in pods.iter().filter(|p| !pod_ready(p)).take(3) {
            let name = pod["metadata"]["name"].as_str().unwrap_or("");
            let mut found = pod_events(&events, name);
            for claim in claims_of(pod) {
                found.extend(
                    pod_events(&events, claim)
                        .into_iter()
                        .map(|e| format!("claim {claim}: {e}")),
                );
            }
            reports.push(PodReport {
                pod: format!("{namespace}/{name}"),
                problems: pod_problems(pod),
                events: found,
            });
        }
    }
    reports
}

/// The claims a pod mounts.
fn claims_of(pod: &Value) -> impl Iterator<Item = &str> {
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
}

/// True when the pod's `Ready` condition is.
fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// What a pod's status says is wrong.
pub fn pod_problems(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let status = &pod["status"];
    if let Some(conditions) = status["conditions"].as_array() {
        for c in conditions {
            if c["type"] == "PodScheduled" && c["status"] == "False" {
                out.push(format!(
                    "not scheduled: {}",
                    c["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in status[list].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            let restarts = c["restartCount"].as_i64().unwrap_or(0);
            if let Some(waiting) = c["state"]["waiting"].as_object() {
                out.push(
                    format!(
                        "container {name}: {} {}",
                        waiting
                            .get("reason")
                            .and_then(Value::as_str)
                            .unwrap_or("waiting"),
                        waiting.get("message").and_then(Value::as_str).unwrap_or("")
                    )
                    .trim()
                    .to_string(),
                );
            }
            if let Some(last) = c["lastState"]["terminated"].as_object() {
                out.push(format!(
                    "container {name}: last exit {} ({}), {restarts} restarts",
                    last.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
                    last.get("reason").and_then(Value::as_str).unwrap_or("")
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(format!(
            "phase {}",
            status["phase"].as_str().unwrap_or("unknown")
        ));
    }
    out
}

/// The last five of `events` about `pod`, in the order listed, as
/// `Reason: message`.
fn pod_events(events: &[Value], pod: &str) -> Vec<String> {
    let mut found: Vec<String> = events
        .iter()
        .filter(|e| e["regarding"]["name"] == pod || e["involvedObject"]["name"] == pod)
        .map(|e| {
            let note = e["note"].as_str().or(e["message"].as_str()).unwrap_or("");
            format!("{}: {note}", e["reason"].as_str().unwrap_or(""))
        })
        .collect();
    let keep = found.len().saturating_sub(5);
    found.drain(..keep);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_are_found_by_the_workloads_selector() {
        let d = json!({"kind": kind::DEPLOYMENT, "metadata": {"name": "api"}, "spec": {"selector": {"matchLabels": {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "api"}}}});
        assert_eq!(
            pod_selector(&d).as_deref(),
            Some("app.kubernetes.io/instance=shop,app.kubernetes.io/name=api")
        );
        let job = json!({"kind": kind::JOB, "metadata": {"name": "migrate"}});
        assert_eq!(pod_selector(&job).as_deref(), Some("job-name=migrate"));
        assert_eq!(pod_selector(&json!({"kind": kind::CONFIG_MAP})), None);
    }

    #[test]
    fn pod_problems_explain_waiting_crashing_and_unschedulable_pods() {
        let pod = json!({"status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "message": "0/3 nodes are available: insufficient cpu"}],
            "containerStatuses": [{"name": "api", "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}});
        assert_eq!(
            pod_problems(&pod),
            [
                "not scheduled: 0/3 nodes are available: insufficient cpu",
                "container api: CrashLoopBackOff back-off 40s",
                "container api: last exit 1 (Error), 4 restarts"
            ]
        );
        assert_eq!(
            pod_problems(&json!({"status": {"phase": "Pending"}})),
            ["phase Pending"]
        );
    }

    #[test]
    fn pod_events_keep_the_latest_five_of_that_pod() {
        let mut events: Vec<Value> = (0..7)
            .map(|i| json!({"regarding": {"name": "api-1"}, "reason": "BackOff", "note": format!("n{i}")}))
            .collect();
        events.push(json!({"regarding": {"name": "other"}, "reason": "Pulled", "note": "x"}));
        let found = pod_events(&events, "api-1");
        assert_eq!(found.len(), 5);
        assert_eq!(found[0], "BackOff: n2");
        assert_eq!(found[4], "BackOff: n6");
    }
}
