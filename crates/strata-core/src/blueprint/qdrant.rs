//! Qdrant: a vector database with its HTTP and gRPC APIs and an API key.

use serde_json::json;

use super::common::{self, credentials_name, image, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `qdrant` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "qdrant",
    summary: "Qdrant vector database with an API key",
    modes: &[Mode {
        name: "single",
        summary: "one node (a StatefulSet)",
        replicas: 1,
        operator: None,
        operated: false,
    }],
    version: "v1.12.4",
    takes: &[],
    options: &[],
    recipe,
    objects: common::no_objects,
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut exports = common::endpoint(tuning, &tuning.service, "http", 6333);
    exports.push((
        "grpc".into(),
        format!("{}:6334", tuning.host(&tuning.service)),
    ));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
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
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["api-key".into()])),
            ..Supplied::default()
        },
    }
}
