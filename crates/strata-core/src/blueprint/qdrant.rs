//! Qdrant: a vector database with its HTTP and gRPC APIs and an API key.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `qdrant` blueprint.
pub(super) struct Qdrant;

impl Blueprint for Qdrant {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "qdrant",
    summary: "Qdrant vector database with an API key",
    modes: &[SINGLE, CLUSTER],
    version: "v1.12.4",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "an API key in `NAME-credentials`, key `api-key` (export `secret`), sent as the `api-key` header; the health endpoints take none",
    ),
};

/// The `single` mode.
const SINGLE: Mode = Mode::new("single", "one node (a StatefulSet)", 1);

/// The `cluster` mode.
const CLUSTER: Mode = Mode::new(
    "cluster",
    "distributed mode: nodes (3 by default) joined over Raft on port 6335, the first bootstrapping the others; a PodDisruptionBudget and anti-affinity",
    3,
);

const P2P_PORT: u16 = 6335;

/// Starts a cluster node: the first node founds the cluster, the others
/// join it; each announces its stable per-pod name. Raft state on the volume
/// makes the bootstrap address irrelevant after the first start.
fn start_script(tuning: &Tuning) -> String {
    let own = tuning
        .pod_host(0)
        .replacen(&format!("{}-0.", tuning.service), "", 1);
    format!(
        "#!/bin/sh\n# Written by the Strata qdrant blueprint.\nset -eu\n\
         uri=\"http://$HOSTNAME.{own}:{P2P_PORT}\"\n\
         if [ \"$${{HOSTNAME##*-}}\" = 0 ]; then\n  exec ./entrypoint.sh --uri \"$uri\"\nfi\n\
         exec ./entrypoint.sh --bootstrap \"http://{first}:{P2P_PORT}\" --uri \"$uri\"\n",
        first = tuning.pod_host(0),
    )
}

fn recipe(tuning: &Tuning) -> Recipe {
    let cluster = *tuning.mode == CLUSTER;
    let secret = credentials_name(tuning);
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 6333);
    exports.push((
        "grpc".into(),
        format!("{}:6334", tuning.host(&tuning.service)),
    ));
    exports.push(("secret".into(), secret.clone()));
    let mut spec = json!({
        "image": image("qdrant/qdrant", tuning),
        "kind": "stateful",
        "ports": { "http": 6333, "grpc": 6334 },
        "env": {
            "QDRANT__SERVICE__API_KEY": { "secret": secret, "key": "api-key" },
            "QDRANT__STORAGE__SNAPSHOTS_PATH": "/qdrant/storage/snapshots",
            "QDRANT__TELEMETRY_DISABLED": "true",
        },
        "storage": volume("20Gi", "/qdrant/storage"),
        // Health endpoints need no API key.
        "probes": { "port": "http", "path": "/livez", "readinessPath": "/readyz" },
        // The server marks its first start in its working directory.
        "security": user(1000, 1000, false),
        "resources": resources("500m", "1Gi", "2", "4Gi"),
    });
    if cluster {
        spec["ports"]["p2p"] = json!(P2P_PORT);
        spec["env"]["QDRANT__CLUSTER__ENABLED"] = json!("true");
        spec["command"] = json!(["sh", "/qdrant/strata/start.sh"]);
        spec["config"] =
            json!({ "mountPath": "/qdrant/strata", "files": { "start.sh": start_script(tuning) } });
    }
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["api-key".into()])),
            ..Supplied::default()
        },
    }
}
