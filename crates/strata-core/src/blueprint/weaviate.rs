//! Weaviate: a vector database with API-key authentication; replicas form
//! a raft cluster.

use serde_json::json;

use super::recipe::{self, credentials_name, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `weaviate` blueprint.
pub(super) struct Weaviate;

impl Blueprint for Weaviate {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "weaviate",
    summary: "Weaviate vector database with API keys; replicas join one raft cluster",
    modes: &[Mode::new(
        "cluster",
        "a StatefulSet of nodes (one by default) joined by gossip and raft",
        1,
    )],
    version: "1.27.2",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "an API key in `NAME-credentials`, key `api-key` (export `secret`), sent as a Bearer token (user `admin`); anonymous access is off",
    ),
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let nodes = recipe::peers(tuning, |i| format!("{}-{i}", tuning.service), ",");
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 8080);
    exports.push((
        "grpc".into(),
        format!("{}:50051", tuning.host(&tuning.service)),
    ));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": format!("cr.weaviate.io/semitechnologies/weaviate:{}", tuning.version),
            "kind": "stateful",
            "ports": { "http": 8080, "grpc": 50051, "gossip": 7100, "data": 7101, "raft": 8300, "raft-rpc": 8301 },
            "env": {
                "PERSISTENCE_DATA_PATH": "/var/lib/weaviate",
                "DEFAULT_VECTORIZER_MODULE": "none",
                "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "false",
                "AUTHENTICATION_APIKEY_ENABLED": "true",
                "AUTHENTICATION_APIKEY_ALLOWED_KEYS": { "secret": secret, "key": "api-key" },
                "AUTHENTICATION_APIKEY_USERS": "admin",
                "AUTHORIZATION_ADMINLIST_ENABLED": "true",
                "AUTHORIZATION_ADMINLIST_USERS": "admin",
                "CLUSTER_HOSTNAME": "$(POD_NAME)",
                "CLUSTER_GOSSIP_BIND_PORT": "7100",
                "CLUSTER_DATA_BIND_PORT": "7101",
                "CLUSTER_JOIN": format!("{}:7100", tuning.host(&format!("{}-headless", tuning.service))),
                "RAFT_JOIN": nodes,
                "RAFT_BOOTSTRAP_EXPECT": tuning.replicas.max(1).to_string(),
                "PROMETHEUS_MONITORING_ENABLED": "true",
            },
            "storage": volume("20Gi", "/var/lib/weaviate"),
            "probes": { "port": "http", "path": "/v1/.well-known/live", "readinessPath": "/v1/.well-known/ready" },
            "security": user(1000, 1000, true),
            "resources": resources("500m", "2Gi", "2", "4Gi"),
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["api-key".into()])),
            pod_env: true,
            ..Supplied::default()
        },
    }
}
