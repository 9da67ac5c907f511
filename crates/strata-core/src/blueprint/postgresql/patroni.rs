//! `patroni` mode: PostgreSQL with Patroni, for teams that keep their
//! leader election in etcd rather than hand it to an operator.
//!
//! Strata runs the pods: a StatefulSet of Spilo (Zalando's image of
//! PostgreSQL, Patroni and their tools). Patroni holds the leader lock in the
//! platform's etcd (`options: { dcs: ETCD }`); on every role change Spilo's
//! callback labels its own pod `spilo-role: master` or `replica` through the
//! API server, and the Services `NAME-primary` and `NAME-replicas` select on
//! that label. A Job creates the databases, owners and schemas through the
//! primary, idempotently, on every apply.

use serde_json::{Value, json};

use super::super::database;
use super::super::recipe::{self, credentials_name, image, reference, resources, user, volume};
use super::{PATRONI, PORT, parameters};
use crate::diag::Diagnostic;
use crate::model::{Members, OptionCheck, Platform, Service, Tuning};

/// Spilo's release with Patroni 3.3, which names the leader `master` in its
/// role callbacks; the `spilo-16` image runs PostgreSQL 12 to 16 (the mode's
/// versions).
const SPILO: &str = "ghcr.io/zalando/spilo-16:3.3-p1";
/// Patroni's REST API: health, role and metrics.
const API_PORT: u16 = 8008;
/// The pod label Spilo's callback keeps at the pod's role.
const ROLE_LABEL: &str = "spilo-role";
/// Spilo runs as its image's `postgres` user and group.
const UID: u32 = 101;
const GID: u32 = 103;

/// `dcs` is required, and names an `etcd`.
pub(super) fn check(check: &OptionCheck<'_>) -> Vec<Diagnostic> {
    if *check.mode != PATRONI {
        return Vec::new();
    }
    let mut errors = Vec::new();
    if let Some(dcs) = check.get("dcs")
        && check
            .siblings
            .iter()
            .any(|s| s.name == dcs.value && s.blueprint.as_deref() != Some("etcd"))
    {
        errors.push(
            check
                .error(
                    "invalid-option",
                    format!("`{}` is not an `etcd` service", dcs.value),
                    dcs.span,
                    "wrong blueprint",
                )
                .help("name a service with `blueprint: etcd`"),
        );
    }
    if check.get("dcs").is_none() {
        errors.push(
            check
                .error(
                    "missing-option",
                    "`mode: patroni` keeps its leader lock in etcd, and no `dcs` option names it".into(),
                    check.span,
                    "no etcd named",
                )
                .help("add an `etcd` service and `options: { dcs: etcd }`, or use `mode: ha` (CloudNativePG elects through the Kubernetes API)"),
        );
    }
    errors
}

/// The major of a PostgreSQL version (`16` of `16.4`).
fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// The Spilo pods' fields and the exports: clients write to `NAME-primary`
/// and read from `NAME-replicas`.
pub(super) fn workload(tuning: &Tuning, spec: &mut Value) -> Vec<(String, String)> {
    let secret = credentials_name(tuning);
    let settings: serde_json::Map<String, Value> = parameters(tuning).into_iter().collect();
    // Parameters every member must share live in the DCS, written once at
    // bootstrap; Spilo merges this over its own configuration.
    let configuration = serde_json::to_string(
        &json!({ "bootstrap": { "dcs": { "postgresql": { "parameters": settings } } } }),
    )
    .unwrap_or_default();
    spec["image"] = json!(SPILO);
    spec["ports"]["patroni"] = json!({ "port": API_PORT, "protocol": "http" });
    spec["env"] = json!({
        "SCOPE": tuning.service,
        "PGVERSION": major(&tuning.version).unwrap_or(16).to_string(),
        "PGROOT": "/home/postgres/pgdata/pgroot",
        "ETCD3_HOST": reference(tuning.option("dcs", ""), "address"),
        "KUBERNETES_ROLE_LABEL": ROLE_LABEL,
        "PGUSER_SUPERUSER": "postgres",
        "PGPASSWORD_SUPERUSER": { "secret": secret, "key": "password" },
        "PGUSER_STANDBY": "standby",
        "PGPASSWORD_STANDBY": { "secret": secret, "key": "standby-password" },
        // Patroni's unsafe endpoints (switchover, restart) need this login.
        "PATRONI_RESTAPI_USERNAME": "patroni",
        "PATRONI_RESTAPI_PASSWORD": { "secret": secret, "key": "api-password" },
        "SPILO_CONFIGURATION": configuration,
    });
    spec["storage"] = volume("20Gi", "/home/postgres/pgdata");
    // `/readiness`: the leader, or a replica streaming from it.
    spec["probes"] = json!({ "port": "patroni", "path": "/liveness", "readinessPath": "/readiness", "startupSeconds": 600 });
    spec["security"] = user(UID, GID, false);
    spec["resources"] = resources("500m", "1Gi", "2", "2Gi");
    // The role callback labels the pod through the API server.
    spec["serviceAccountToken"] = json!(true);
    spec["access"] = json!([{ "resources": ["pods"], "verbs": ["get", "patch"] }]);
    if tuning.metrics {
        spec["metrics"] = json!({ "port": "patroni", "path": "/metrics" });
    }
    super::primary_and_replicas(tuning, "primary", "replicas")
}

/// The generated Secret: the superuser's, the replication user's and the
/// REST API's passwords.
pub(super) fn credentials(tuning: &Tuning) -> (String, Vec<String>) {
    (
        credentials_name(tuning),
        vec![
            "password".into(),
            "standby-password".into(),
            "api-password".into(),
        ],
    )
}

/// The servers and the Job creating databases reach each other.
pub(super) fn members(tuning: &Tuning) -> Vec<Members> {
    vec![
        Members::new(
            "members",
            &[
                ("app.kubernetes.io/name", &tuning.service),
                ("app.kubernetes.io/instance", &tuning.platform),
            ],
        ),
        Members::setup_job("databases", recipe::DATABASES_JOB_LABEL, &tuning.service),
    ]
}

/// The role-following Services and, with databases, the Job creating them.
pub(super) fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let mut out: Vec<Value> = [("primary", "master"), ("replicas", "replica")]
        .into_iter()
        .map(|(suffix, role)| {
            let mut selector = crate::render::network::pod_selector(platform, service);
            selector[ROLE_LABEL] = json!(role);
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": crate::render::metadata(platform, service, &format!("{}-{suffix}", service.name)),
                "spec": {
                    "type": "ClusterIP",
                    "selector": selector,
                    "ports": [{ "name": "postgres", "port": PORT, "targetPort": "postgres", "protocol": "TCP" }],
                },
            })
        })
        .collect();
    if tuning.databases.is_empty() {
        return out;
    }
    let owners = tuning.database_owners();
    let script = format!(
        "set -eu\n\
         # Wait for the primary (10 minutes at most).\n\
         for attempt in $(seq 1 120); do\n  \
           psql --dbname postgres --tuples-only --command 'SELECT 1' >/dev/null 2>&1 && break\n  \
           sleep 5\n\
         done\n{}",
        super::setup("", &tuning.databases, &owners)
    );
    let env = vec![
        json!({ "name": "PGHOST", "value": tuning.host(&format!("{}-primary", service.name)) }),
        json!({ "name": "PGPORT", "value": PORT.to_string() }),
        json!({ "name": "PGUSER", "value": "postgres" }),
        json!({ "name": "PGPASSWORD", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "password" } } }),
        // Spilo admits remote logins over TLS only.
        json!({ "name": "PGSSLMODE", "value": "require" }),
    ];
    // The official image's psql, of the cluster's version, as its `postgres`.
    let client = image("postgres", tuning);
    out.extend(database::databases_job(
        platform, service, tuning, &client, &script, env,
    ));
    out
}
