//! Kinds an operator reconciles: which operator, and how each one says a
//! resource is ready, learnt from its CRD's status schema and printer columns.

use super::{Readiness, by_condition, condition, int, observed};
use crate::steps::group_of;
use serde_json::Value;
use strata_core::kind;

/// A kind an operator reconciles: who, and how it says the resource is ready.
pub(super) struct Operated {
    pub(super) group: &'static str,
    pub(super) kind: &'static str,
    /// The operator, as `operators:` names it.
    pub(super) operator: &'static str,
    /// Judges a live object that has a status.
    pub(super) judge: fn(&Value) -> Readiness,
}

/// Every kind whose operator reports readiness, learnt from each
/// operator's CRD (its status schema and printer columns). A resource of
/// one of these kinds without any status is waited for: its operator has
/// not seen it yet (or is not running).
pub(super) const OPERATED: &[Operated] = &[
    Operated {
        group: "postgresql.cnpg.io",
        kind: kind::CNPG_CLUSTER,
        operator: "cloudnative-pg",
        judge: |o| by_condition(o, "Ready"),
    },
    // A Database is `applied` once the operator ran its statements.
    Operated {
        group: "postgresql.cnpg.io",
        kind: "Database",
        operator: "cloudnative-pg",
        judge: cnpg_database,
    },
    Operated {
        group: "kafka.strimzi.io",
        kind: kind::KAFKA,
        operator: "strimzi",
        judge: |o| by_condition(o, "Ready"),
    },
    Operated {
        group: "kafka.strimzi.io",
        kind: kind::KAFKA_TOPIC,
        operator: "strimzi",
        judge: |o| by_condition(o, "Ready"),
    },
    // A node pool has no Ready condition: the Kafka reconcile gives it
    // node ids, one per replica.
    Operated {
        group: "kafka.strimzi.io",
        kind: "KafkaNodePool",
        operator: "strimzi",
        judge: kafka_node_pool,
    },
    // The Milvus Operator: every component up.
    Operated {
        group: "milvus.io",
        kind: kind::MILVUS,
        operator: "milvus-operator",
        judge: |o| by_condition(o, "MilvusReady"),
    },
    Operated {
        group: "ray.io",
        kind: kind::RAY_CLUSTER,
        operator: "kuberay-operator",
        judge: ray_cluster,
    },
    Operated {
        group: "mysql.oracle.com",
        kind: "InnoDBCluster",
        operator: "mysql-operator",
        judge: innodb_cluster,
    },
    Operated {
        group: "clickhouse.altinity.com",
        kind: "ClickHouseInstallation",
        operator: "clickhouse-operator",
        judge: clickhouse,
    },
    Operated {
        group: "clickhouse-keeper.altinity.com",
        kind: "ClickHouseKeeperInstallation",
        operator: "clickhouse-operator",
        judge: clickhouse,
    },
    Operated {
        group: "redis.redis.opstreelabs.in",
        kind: "RedisCluster",
        operator: "redis-operator",
        judge: redis_cluster,
    },
    Operated {
        group: "monitoring.coreos.com",
        kind: "Prometheus",
        operator: "prometheus-operator",
        judge: prometheus,
    },
    Operated {
        group: "elasticsearch.k8s.elastic.co",
        kind: "Elasticsearch",
        operator: "eck-operator",
        judge: elasticsearch,
    },
];

pub(super) fn operated(api_version: &str, kind: &str) -> Option<&'static Operated> {
    let group = group_of(api_version);
    OPERATED.iter().find(|o| o.group == group && o.kind == kind)
}

/// The operator that reconciles `kind` (as `operators:` names it), for
/// the kinds whose readiness an operator reports.
pub fn operator_of(api_version: &str, kind: &str) -> Option<&'static str> {
    operated(api_version, kind).map(|o| o.operator)
}

/// True when a live object of an operated kind carries no status at all:
/// no operator has reconciled it.
pub fn unreconciled(object: &Value) -> bool {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind = object["kind"].as_str().unwrap_or("");
    operated(api_version, kind).is_some() && has_no_status(object)
}

pub(super) fn has_no_status(object: &Value) -> bool {
    object["status"]
        .as_object()
        .is_none_or(serde_json::Map::is_empty)
}

/// KubeRay reports a cluster's state rather than a `Ready` condition:
/// `ready` once the head and every worker run.
pub(super) fn ray_cluster(object: &Value) -> Readiness {
    match object["status"]["state"].as_str() {
        Some("ready") => Readiness::Ready,
        Some("failed") => Readiness::Failed(format!(
            "Ray cluster failed: {}",
            object["status"]["reason"]
                .as_str()
                .unwrap_or("no reason given")
        )),
        Some(state) => Readiness::Progressing(format!("Ray cluster {state}")),
        None => Readiness::Progressing("waiting for KubeRay to report its state".into()),
    }
}

/// CloudNativePG: `applied` true once the database exists as declared;
/// false with a message while the operator retries.
pub(super) fn cnpg_database(object: &Value) -> Readiness {
    let status = &object["status"];
    if !observed(object) {
        return Readiness::Progressing("operator has not seen the new spec".into());
    }
    match status["applied"].as_bool() {
        Some(true) => Readiness::Ready,
        Some(false) => Readiness::Progressing(format!(
            "not applied: {}",
            status["message"].as_str().unwrap_or("no message")
        )),
        None => Readiness::Progressing("database not applied yet".into()),
    }
}

/// Strimzi gives a node pool its node ids when the Kafka cluster reconciles.
pub(super) fn kafka_node_pool(object: &Value) -> Readiness {
    if !observed(object) {
        return Readiness::Progressing("operator has not seen the new spec".into());
    }
    let want = int(&object["spec"]["replicas"]);
    let ids = object["status"]["nodeIds"].as_array().map_or(0, Vec::len);
    let have = i64::try_from(ids).unwrap_or(i64::MAX);
    if have < want {
        return Readiness::Progressing(format!("{have} of {want} nodes assigned"));
    }
    Readiness::Ready
}

/// The MySQL Operator reports the InnoDB Cluster's state as MySQL Shell
/// sees it: `ONLINE` with every instance online.
pub(super) fn innodb_cluster(object: &Value) -> Readiness {
    let cluster = &object["status"]["cluster"];
    let want = object["spec"]["instances"].as_i64().unwrap_or(1);
    let online = int(&cluster["onlineInstances"]);
    match cluster["status"].as_str() {
        Some("ONLINE") if online >= want => Readiness::Ready,
        Some("INVALID" | "SPLIT_BRAIN") => Readiness::Failed(format!(
            "InnoDB cluster {}",
            cluster["status"].as_str().unwrap_or("")
        )),
        Some(state) => Readiness::Progressing(format!(
            "cluster {state}, {online} of {want} instances online"
        )),
        None => Readiness::Progressing("waiting for the cluster to be created".into()),
    }
}

/// The Altinity operator: `Completed` once a reconcile went through every
/// host; `Aborted` when it gave up on one.
pub(super) fn clickhouse(object: &Value) -> Readiness {
    let status = &object["status"];
    match status["status"].as_str() {
        Some("Completed") => Readiness::Ready,
        Some("Aborted") => Readiness::Failed(format!(
            "the operator aborted its reconcile{}",
            status["error"]
                .as_str()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )),
        Some(state) => Readiness::Progressing(format!(
            "{state}, {} of {} hosts completed",
            int(&status["hostsCompleted"]),
            int(&status["hosts"])
        )),
        None => Readiness::Progressing("waiting for the operator to start a reconcile".into()),
    }
}

/// OT redis-operator: `state` becomes `Ready` with every leader ready.
pub(super) fn redis_cluster(object: &Value) -> Readiness {
    let status = &object["status"];
    let reason = status["reason"].as_str().unwrap_or("");
    match status["state"].as_str() {
        Some("Ready") => Readiness::Ready,
        Some("Failed") => Readiness::Failed(format!(
            "Redis cluster failed: {}",
            if reason.is_empty() {
                "no reason given"
            } else {
                reason
            }
        )),
        Some(state) => Readiness::Progressing(format!(
            "{state}, {} of {} leaders ready",
            int(&status["readyLeaderReplicas"]),
            object["spec"]["clusterSize"].as_i64().unwrap_or(0)
        )),
        None => Readiness::Progressing("waiting for the cluster state".into()),
    }
}

/// Prometheus Operator: `Available` once every replica runs (`Degraded`
/// when some do), `Reconciled` False when the operator cannot apply it.
pub(super) fn prometheus(object: &Value) -> Readiness {
    if let Some(("False", reason, message)) = condition(object, "Reconciled") {
        return Readiness::Progressing(format!("not reconciled: {reason} {message}").trim().into());
    }
    by_condition(object, "Available")
}

/// ECK: `phase` Ready and health green.
pub(super) fn elasticsearch(object: &Value) -> Readiness {
    let status = &object["status"];
    let health = status["health"].as_str().unwrap_or("unknown");
    match status["phase"].as_str() {
        Some("Ready") if health == "green" => Readiness::Ready,
        Some("Invalid") => Readiness::Failed("the operator found the resource invalid".into()),
        Some(phase) => Readiness::Progressing(format!("{phase}, health {health}")),
        None => Readiness::Progressing(format!("health {health}")),
    }
}
