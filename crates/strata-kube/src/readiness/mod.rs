//! When an applied object counts as ready: pure judgements over the live
//! object's JSON, one rule per kind.

use serde_json::Value;
use strata_core::kind;

use crate::steps::group_of;

mod operated;

use operated::{has_no_status, operated};
pub use operated::{operator_of, unreconciled};

/// What the live object says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Done: the wave need not wait for it.
    Ready,
    /// Not yet, and why (shown while waiting and when a wave times out).
    Progressing(String),
    /// It will not become ready without a change.
    Failed(String),
}

/// True when applying `kind` is followed by a wait for it.
pub fn is_waited_for(api_version: &str, kind: &str) -> bool {
    kind::is_workload(kind)
        || matches!(
            kind,
            kind::NAMESPACE
                | kind::CUSTOM_RESOURCE_DEFINITION
                | kind::JOB
                | kind::PERSISTENT_VOLUME_CLAIM
        )
        || is_custom(api_version)
}

/// True for kinds outside the built-in API groups.
pub(crate) fn is_custom(api_version: &str) -> bool {
    let group = group_of(api_version);
    group.contains('.') && !group.ends_with(".k8s.io")
}

/// Judges a live object.
pub fn judge(object: &Value) -> Readiness {
    let kind = object["kind"].as_str().unwrap_or("");
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    match kind {
        kind::NAMESPACE => match object["status"]["phase"].as_str() {
            Some("Terminating") => Readiness::Failed("namespace is being deleted".into()),
            _ => Readiness::Ready,
        },
        kind::CUSTOM_RESOURCE_DEFINITION => match condition(object, "Established") {
            Some(("True", _, _)) => Readiness::Ready,
            _ => Readiness::Progressing("CRD not established yet".into()),
        },
        kind::DEPLOYMENT => deployment(object),
        kind::STATEFUL_SET => stateful_set(object),
        kind::DAEMON_SET => daemon_set(object),
        kind::JOB => job(object),
        kind::PERSISTENT_VOLUME_CLAIM => match object["status"]["phase"].as_str() {
            Some("Bound") => Readiness::Ready,
            Some("Lost") => Readiness::Failed("claim lost its volume".into()),
            _ => Readiness::Progressing("claim not bound yet".into()),
        },
        _ => match operated(api_version, kind) {
            Some(operated) if has_no_status(object) => Readiness::Progressing(format!(
                "waiting for its operator `{}` to report status",
                operated.operator
            )),
            Some(operated) => (operated.judge)(object),
            None if is_custom(api_version) => by_condition(object, "Ready"),
            None => Readiness::Ready,
        },
    }
}

/// `(status, reason, message)` of condition `kind`.
fn condition<'a>(object: &'a Value, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or(""),
            )
        })
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// The controller has seen the latest spec.
fn observed(object: &Value) -> bool {
    let generation = int(&object["metadata"]["generation"]);
    int(&object["status"]["observedGeneration"]) >= generation
}

fn deployment(object: &Value) -> Readiness {
    // Until the controller sees the new spec, a deadline exceeded is the
    // previous rollout's.
    if !observed(object) {
        return Readiness::Progressing("controller has not seen the new spec".into());
    }
    if let Some(("False", "ProgressDeadlineExceeded", message)) = condition(object, "Progressing") {
        return Readiness::Failed(format!("progress deadline exceeded: {message}"));
    }
    let want = object["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &object["status"];
    let updated = int(&status["updatedReplicas"]);
    let available = int(&status["availableReplicas"]);
    let total = int(&status["replicas"]);
    if updated < want {
        return Readiness::Progressing(format!("{updated} of {want} replicas updated"));
    }
    if total > updated {
        return Readiness::Progressing(format!(
            "{} old replicas still terminating",
            total - updated
        ));
    }
    if available < want {
        return Readiness::Progressing(format!("{available} of {want} replicas available"));
    }
    Readiness::Ready
}

fn stateful_set(object: &Value) -> Readiness {
    if !observed(object) {
        return Readiness::Progressing("controller has not seen the new spec".into());
    }
    let want = object["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &object["status"];
    let ready = int(&status["readyReplicas"]);
    if ready < want {
        return Readiness::Progressing(format!("{ready} of {want} replicas ready"));
    }
    let on_delete = object["spec"]["updateStrategy"]["type"] == "OnDelete";
    if !on_delete {
        let updated = int(&status["updatedReplicas"]);
        if updated < want {
            return Readiness::Progressing(format!("{updated} of {want} replicas updated"));
        }
        let current = status["currentRevision"].as_str().unwrap_or("");
        let update = status["updateRevision"].as_str().unwrap_or("");
        if !update.is_empty() && current != update {
            return Readiness::Progressing(format!("rolling out revision {update}"));
        }
    }
    Readiness::Ready
}

fn daemon_set(object: &Value) -> Readiness {
    if !observed(object) {
        return Readiness::Progressing("controller has not seen the new spec".into());
    }
    let status = &object["status"];
    let want = int(&status["desiredNumberScheduled"]);
    let updated = int(&status["updatedNumberScheduled"]);
    let available = int(&status["numberAvailable"]);
    if updated < want {
        return Readiness::Progressing(format!("{updated} of {want} pods updated"));
    }
    if available < want {
        return Readiness::Progressing(format!("{available} of {want} pods available"));
    }
    Readiness::Ready
}

fn job(object: &Value) -> Readiness {
    if let Some(("True", reason, message)) = condition(object, "Failed") {
        return Readiness::Failed(format!("job failed: {reason} {message}").trim().into());
    }
    if let Some(("True", _, _)) = condition(object, "Complete") {
        return Readiness::Ready;
    }
    let succeeded = int(&object["status"]["succeeded"]);
    let active = int(&object["status"]["active"]);
    Readiness::Progressing(format!(
        "job not complete ({active} active, {succeeded} succeeded)"
    ))
}

/// Judged by condition `kind`: ready when `True`. A custom resource of a
/// kind no operator table knows, without the condition, counts as ready:
/// most (ServiceMonitor, VirtualService…) never report readiness.
fn by_condition(object: &Value, kind: &str) -> Readiness {
    match condition(object, kind) {
        Some(("True", _, _)) => Readiness::Ready,
        Some((_, reason, message)) => {
            let why = [reason, message]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(": ");
            Readiness::Progressing(if why.is_empty() {
                format!("{kind} condition is not True")
            } else {
                format!("not ready: {why}")
            })
        }
        None if operated(
            object["apiVersion"].as_str().unwrap_or(""),
            object["kind"].as_str().unwrap_or(""),
        )
        .is_some() =>
        {
            Readiness::Progressing(format!("waiting for its operator to report {kind}"))
        }
        None => Readiness::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::operated::OPERATED;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ray_cluster_is_ready_when_kuberay_says_so() {
        let cluster = |status: Value| json!({"apiVersion": "ray.io/v1", "kind": kind::RAY_CLUSTER, "metadata": {"name": "ray"}, "status": status});
        assert_eq!(judge(&cluster(json!({"state": "ready"}))), Readiness::Ready);
        assert!(matches!(
            judge(&cluster(json!({}))),
            Readiness::Progressing(_)
        ));
        assert!(matches!(
            judge(&cluster(json!({"state": "suspended"}))),
            Readiness::Progressing(r) if r.contains("suspended")
        ));
        assert!(matches!(
            judge(&cluster(json!({"state": "failed", "reason": "head pod failed"}))),
            Readiness::Failed(r) if r.contains("head pod failed")
        ));
    }

    fn deploy(generation: i64, status: &Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "generation": generation}, "spec": {"replicas": 2}, "status": status})
    }

    #[test]
    fn deployment_is_ready_when_updated_and_available() {
        let ready = deploy(
            3,
            &json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(judge(&ready), Readiness::Ready);
    }

    #[test]
    fn deployment_waits_for_the_controller_updates_and_old_pods() {
        let unseen = deploy(
            4,
            &json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert!(matches!(judge(&unseen), Readiness::Progressing(r) if r.contains("not seen")));
        let rolling = deploy(
            4,
            &json!({"observedGeneration": 4, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}),
        );
        assert_eq!(
            judge(&rolling),
            Readiness::Progressing("1 of 2 replicas updated".into())
        );
        let old = deploy(
            4,
            &json!({"observedGeneration": 4, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(
            judge(&old),
            Readiness::Progressing("1 old replicas still terminating".into())
        );
        let unavailable = deploy(
            4,
            &json!({"observedGeneration": 4, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}),
        );
        assert_eq!(
            judge(&unavailable),
            Readiness::Progressing("1 of 2 replicas available".into())
        );
    }

    #[test]
    fn deployment_past_its_deadline_has_failed() {
        let stuck = deploy(
            1,
            &json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"api-1\" has timed out progressing."}]}),
        );
        assert!(matches!(judge(&stuck), Readiness::Failed(r) if r.contains("timed out")));
        // Applied again with a fix: the old rollout's deadline is not the new one's.
        let fixed = deploy(
            2,
            &json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"api-1\" has timed out progressing."}]}),
        );
        assert!(matches!(judge(&fixed), Readiness::Progressing(r) if r.contains("not seen")));
    }

    #[test]
    fn deployment_without_status_is_progressing() {
        let fresh = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "generation": 1}, "spec": {"replicas": 1}});
        assert!(matches!(judge(&fresh), Readiness::Progressing(_)));
    }

    #[test]
    fn stateful_set_waits_for_ready_replicas_and_its_update_revision() {
        let sts = |status: Value| json!({"apiVersion": "apps/v1", "kind": kind::STATEFUL_SET, "metadata": {"name": "db", "generation": 2}, "spec": {"replicas": 3}, "status": status});
        assert_eq!(
            judge(&sts(
                json!({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "db-2", "updateRevision": "db-2"})
            )),
            Readiness::Ready
        );
        assert_eq!(
            judge(&sts(
                json!({"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 3})
            )),
            Readiness::Progressing("1 of 3 replicas ready".into())
        );
        assert_eq!(
            judge(&sts(
                json!({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "db-1", "updateRevision": "db-2"})
            )),
            Readiness::Progressing("rolling out revision db-2".into())
        );
    }

    #[test]
    fn stateful_set_on_delete_needs_only_ready_replicas() {
        let sts = json!({"apiVersion": "apps/v1", "kind": kind::STATEFUL_SET, "metadata": {"name": "db", "generation": 2}, "spec": {"replicas": 1, "updateStrategy": {"type": "OnDelete"}}, "status": {"observedGeneration": 2, "readyReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"}});
        assert_eq!(judge(&sts), Readiness::Ready);
    }

    #[test]
    fn daemon_set_counts_scheduled_updated_and_available_pods() {
        let ds = |status: Value| json!({"apiVersion": "apps/v1", "kind": kind::DAEMON_SET, "metadata": {"name": "agent", "generation": 1}, "status": status});
        assert_eq!(
            judge(&ds(
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3})
            )),
            Readiness::Ready
        );
        assert_eq!(
            judge(&ds(
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2})
            )),
            Readiness::Progressing("2 of 3 pods available".into())
        );
    }

    #[test]
    fn job_completes_or_fails() {
        let job = |status: Value| json!({"apiVersion": "batch/v1", "kind": kind::JOB, "metadata": {"name": "migrate"}, "status": status});
        assert_eq!(
            judge(&job(
                json!({"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1})
            )),
            Readiness::Ready
        );
        assert!(
            matches!(judge(&job(json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}))), Readiness::Failed(r) if r.contains("BackoffLimitExceeded"))
        );
        assert_eq!(
            judge(&job(json!({"active": 1}))),
            Readiness::Progressing("job not complete (1 active, 0 succeeded)".into())
        );
    }

    #[test]
    fn claims_namespaces_and_crds() {
        let pvc = |phase: &str| json!({"apiVersion": "v1", "kind": kind::PERSISTENT_VOLUME_CLAIM, "metadata": {"name": "d"}, "status": {"phase": phase}});
        assert_eq!(judge(&pvc("Bound")), Readiness::Ready);
        assert!(matches!(judge(&pvc("Pending")), Readiness::Progressing(_)));
        assert!(matches!(judge(&pvc("Lost")), Readiness::Failed(_)));
        let ns = json!({"apiVersion": "v1", "kind": kind::NAMESPACE, "metadata": {"name": "n"}, "status": {"phase": "Terminating"}});
        assert!(matches!(judge(&ns), Readiness::Failed(_)));
        let crd = |status: &str| json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": kind::CUSTOM_RESOURCE_DEFINITION, "metadata": {"name": "x"}, "status": {"conditions": [{"type": "Established", "status": status}]}});
        assert_eq!(judge(&crd("True")), Readiness::Ready);
        assert!(matches!(judge(&crd("False")), Readiness::Progressing(_)));
    }

    #[test]
    fn custom_resources_follow_their_ready_condition() {
        let cr = |conditions: Value| json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": kind::CNPG_CLUSTER, "metadata": {"name": "pg"}, "status": {"conditions": conditions}});
        assert_eq!(
            judge(&cr(json!([{"type": "Ready", "status": "True"}]))),
            Readiness::Ready
        );
        assert_eq!(
            judge(&cr(
                json!([{"type": "Ready", "status": "False", "reason": "Setup", "message": "primary starting"}])
            )),
            Readiness::Progressing("not ready: Setup: primary starting".into())
        );
        let fresh = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": kind::CNPG_CLUSTER, "metadata": {"name": "pg"}});
        assert!(matches!(judge(&fresh), Readiness::Progressing(_)));
        let milvus = |conditions: Value| json!({"apiVersion": "milvus.io/v1beta1", "kind": kind::MILVUS, "metadata": {"name": "milvus"}, "status": {"conditions": conditions}});
        assert_eq!(
            judge(&milvus(json!([{"type": "MilvusReady", "status": "True"}]))),
            Readiness::Ready
        );
        assert!(
            matches!(
                judge(&milvus(json!([{"type": "EtcdReady", "status": "True"}]))),
                Readiness::Progressing(_)
            ),
            "its dependencies ready, its components not yet"
        );
        let monitor = json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "api"}});
        assert_eq!(judge(&monitor), Readiness::Ready);
    }

    fn live(api_version: &str, kind: &str, spec: &Value, status: Option<Value>) -> Value {
        let mut object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "data", "generation": 2}, "spec": spec});
        if let Some(status) = status {
            object["status"] = status;
        }
        object
    }

    fn progressing(r: &Readiness) -> bool {
        matches!(r, Readiness::Progressing(_))
    }

    #[test]
    fn every_operated_kind_waits_for_its_operator_until_it_reports() {
        for operated in OPERATED {
            let api_version = format!("{}/v1", operated.group);
            let fresh = live(&api_version, operated.kind, &json!({}), None);
            assert!(unreconciled(&fresh), "{}", operated.kind);
            assert!(
                matches!(judge(&fresh), Readiness::Progressing(r) if r.contains(operated.operator)),
                "{} without status waits for `{}`",
                operated.kind,
                operated.operator
            );
            assert!(unreconciled(&live(
                &api_version,
                operated.kind,
                &json!({}),
                Some(json!({}))
            )));
            assert!(!unreconciled(&live(
                &api_version,
                operated.kind,
                &json!({}),
                Some(json!({"observedGeneration": 1}))
            )));
            assert_eq!(
                operator_of(&api_version, operated.kind),
                Some(operated.operator)
            );
        }
        let monitor = live(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            &json!({}),
            None,
        );
        assert!(!unreconciled(&monitor));
        assert_eq!(
            operator_of("monitoring.coreos.com/v1", "ServiceMonitor"),
            None
        );
    }

    #[test]
    fn cnpg_databases_are_ready_once_applied() {
        let db = |status: Value| {
            live(
                "postgresql.cnpg.io/v1",
                "Database",
                &json!({"name": "app"}),
                Some(status),
            )
        };
        assert_eq!(
            judge(&db(json!({"observedGeneration": 2, "applied": true}))),
            Readiness::Ready
        );
        assert!(
            matches!(judge(&db(json!({"observedGeneration": 2, "applied": false, "message": "role app does not exist"}))), Readiness::Progressing(r) if r.contains("role app does not exist"))
        );
        assert!(
            progressing(&judge(&db(
                json!({"observedGeneration": 1, "applied": true})
            ))),
            "an older spec applied"
        );
    }

    #[test]
    fn kafka_node_pools_are_ready_with_a_node_id_per_replica() {
        let pool = |status: Value| {
            live(
                "kafka.strimzi.io/v1",
                "KafkaNodePool",
                &json!({"replicas": 3}),
                Some(status),
            )
        };
        assert_eq!(
            judge(&pool(
                json!({"observedGeneration": 2, "nodeIds": [0, 1, 2], "replicas": 3})
            )),
            Readiness::Ready
        );
        assert_eq!(
            judge(&pool(json!({"observedGeneration": 2, "nodeIds": [0]}))),
            Readiness::Progressing("1 of 3 nodes assigned".into())
        );
        assert!(progressing(&judge(&pool(
            json!({"observedGeneration": 1, "nodeIds": [0, 1, 2]})
        ))));
    }

    #[test]
    fn innodb_clusters_are_ready_online_with_every_instance() {
        let cluster = |status: Value| {
            live(
                "mysql.oracle.com/v2",
                "InnoDBCluster",
                &json!({"instances": 3}),
                Some(status),
            )
        };
        assert_eq!(
            judge(&cluster(
                json!({"cluster": {"status": "ONLINE", "onlineInstances": 3}})
            )),
            Readiness::Ready
        );
        assert_eq!(
            judge(&cluster(
                json!({"cluster": {"status": "ONLINE_PARTIAL", "onlineInstances": 2}})
            )),
            Readiness::Progressing("cluster ONLINE_PARTIAL, 2 of 3 instances online".into())
        );
        assert!(progressing(&judge(&cluster(
            json!({"cluster": {"status": "ONLINE", "onlineInstances": 1}})
        ))));
        assert!(matches!(
            judge(&cluster(json!({"cluster": {"status": "SPLIT_BRAIN"}}))),
            Readiness::Failed(_)
        ));
        assert!(progressing(&judge(&cluster(
            json!({"createTime": "2026-01-01T00:00:00Z"})
        ))));
    }

    #[test]
    fn clickhouse_installations_are_ready_when_completed() {
        for (api_version, kind) in [
            ("clickhouse.altinity.com/v1", "ClickHouseInstallation"),
            (
                "clickhouse-keeper.altinity.com/v1",
                "ClickHouseKeeperInstallation",
            ),
        ] {
            let chi = |status: Value| live(api_version, kind, &json!({}), Some(status));
            assert_eq!(
                judge(&chi(
                    json!({"status": "Completed", "hosts": 2, "hostsCompleted": 2})
                )),
                Readiness::Ready
            );
            assert_eq!(
                judge(&chi(
                    json!({"status": "InProgress", "hosts": 2, "hostsCompleted": 1})
                )),
                Readiness::Progressing("InProgress, 1 of 2 hosts completed".into())
            );
            assert!(
                matches!(judge(&chi(json!({"status": "Aborted", "error": "pod refused"}))), Readiness::Failed(r) if r.contains("pod refused"))
            );
        }
    }

    #[test]
    fn redis_clusters_are_ready_when_their_state_is() {
        let redis = |status: Value| {
            live(
                "redis.redis.opstreelabs.in/v1beta2",
                "RedisCluster",
                &json!({"clusterSize": 3}),
                Some(status),
            )
        };
        assert_eq!(
            judge(&redis(json!({"state": "Ready", "readyLeaderReplicas": 3}))),
            Readiness::Ready
        );
        assert_eq!(
            judge(&redis(
                json!({"state": "Bootstrap", "readyLeaderReplicas": 1})
            )),
            Readiness::Progressing("Bootstrap, 1 of 3 leaders ready".into())
        );
        assert!(
            matches!(judge(&redis(json!({"state": "Failed", "reason": "slots not covered"}))), Readiness::Failed(r) if r.contains("slots not covered"))
        );
    }

    #[test]
    fn prometheus_is_ready_when_available() {
        let prom = |conditions: Value| {
            live(
                "monitoring.coreos.com/v1",
                "Prometheus",
                &json!({}),
                Some(json!({"conditions": conditions})),
            )
        };
        assert_eq!(
            judge(&prom(
                json!([{"type": "Available", "status": "True"}, {"type": "Reconciled", "status": "True"}])
            )),
            Readiness::Ready
        );
        assert!(progressing(&judge(&prom(
            json!([{"type": "Available", "status": "Degraded", "reason": "SomePodsNotReady"}])
        ))));
        assert!(
            matches!(judge(&prom(json!([{"type": "Available", "status": "True"}, {"type": "Reconciled", "status": "False", "reason": "ReconciliationFailed", "message": "bad rule"}]))), Readiness::Progressing(r) if r.contains("bad rule"))
        );
    }

    #[test]
    fn elasticsearch_is_ready_green() {
        let es = |status: Value| {
            live(
                "elasticsearch.k8s.elastic.co/v1",
                "Elasticsearch",
                &json!({}),
                Some(status),
            )
        };
        assert_eq!(
            judge(&es(json!({"phase": "Ready", "health": "green"}))),
            Readiness::Ready
        );
        assert!(progressing(&judge(&es(
            json!({"phase": "Ready", "health": "yellow"})
        ))));
        assert!(matches!(
            judge(&es(json!({"phase": "Invalid"}))),
            Readiness::Failed(_)
        ));
    }

    #[test]
    fn what_is_waited_for() {
        assert!(is_waited_for("apps/v1", kind::DEPLOYMENT));
        assert!(is_waited_for("postgresql.cnpg.io/v1", kind::CNPG_CLUSTER));
        assert!(!is_waited_for("v1", kind::CONFIG_MAP));
        assert!(!is_waited_for("networking.k8s.io/v1", kind::NETWORK_POLICY));
        assert!(!is_waited_for("policy/v1", kind::POD_DISRUPTION_BUDGET));
    }
}
