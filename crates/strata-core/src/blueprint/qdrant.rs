//! Qdrant: a vector database with its HTTP and gRPC APIs and an API key.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Mode, Recipe, Supplied, Tuning,
};

/// The `qdrant` blueprint.
pub(super) struct Qdrant;

impl Blueprint for Qdrant {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        backup(tuning)
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

/// `single`: a snapshot of each collection through Qdrant's API, downloaded
/// and then deleted from the node; restored by uploading each. A cluster's
/// collections are spread over nodes, each snapshotted on its own: not yet.
fn backup(tuning: &Tuning) -> Option<BackupMethod> {
    (*tuning.mode == SINGLE).then(|| {
        BackupMethod::Dump(Dump {
            image: CURL_IMAGE.into(),
            user: 100,
            command: Dump::shell(
                "set -eu\n\
                 api=\"http://$BACKUP_HOST:$BACKUP_PORT\"\n\
                 # The API key, from the Secret, as a header file: on no command line.\n\
                 umask 077\n\
                 printf 'api-key: %s\\n' \"$QDRANT_API_KEY\" > /tmp/headers\n\
                 for c in $(curl -fsS -H @/tmp/headers \"$api/collections\" | grep -o '\"name\":\"[^\"]*\"' | cut -d'\"' -f4); do\n  \
                   snapshot=$(curl -fsS -X POST -H @/tmp/headers \"$api/collections/$c/snapshots?wait=true\" | grep -o '\"name\":\"[^\"]*\"' | head -n 1 | cut -d'\"' -f4)\n  \
                   curl -fsS -H @/tmp/headers -o \"$BACKUP_DIR/$c.snapshot\" \"$api/collections/$c/snapshots/$snapshot\"\n  \
                   curl -fsS -X DELETE -H @/tmp/headers \"$api/collections/$c/snapshots/$snapshot\" > /dev/null\n\
                 done\n"
                    .to_string(),
            ),
            env: vec![
                json!({ "name": "QDRANT_API_KEY", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "api-key" } } }),
            ],
            ports: vec![6333],
            contains: "`COLLECTION.snapshot` for each collection: its points, vectors, payloads and configuration (Qdrant's collection snapshots)",
            restore: "set -eu\n\
                      umask 077\n\
                      printf 'api-key: %s\\n' \"$QDRANT_API_KEY\" > /tmp/headers\n\
                      for file in \"$BACKUP_DIR\"/*.snapshot; do\n  \
                        c=$(basename \"$file\" .snapshot)\n  \
                        curl -fsS -X POST -H @/tmp/headers -F \"snapshot=@$file\" \"http://$BACKUP_HOST:$BACKUP_PORT/collections/$c/snapshots/upload?priority=snapshot\"\n\
                      done\n"
                .to_string(),
            offline: false,
        })
    })
}

/// curl with a POSIX shell, pinned.
const CURL_IMAGE: &str = "curlimages/curl:8.11.0";
