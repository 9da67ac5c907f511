//! Milvus standalone: a vector database with its metadata in embedded etcd
//! and its segments on local storage, all on one volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `milvus` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "milvus",
    summary: "Milvus vector database, standalone with embedded etcd and local storage",
    modes: &[Mode {
        name: "standalone",
        summary: "one pod running every Milvus role, its metadata and data on one volume",
        replicas: 1,
        operator: None,
        operated: false,
        sharded: false,
    }],
    version: "v2.4.15",
    takes: &[],
    options: &[],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
    check_options: recipe::no_option_checks,
};

const EMBEDDED_ETCD: &str = "listen-client-urls: http://0.0.0.0:2379\n\
advertise-client-urls: http://0.0.0.0:2379\n\
quota-backend-bytes: 4294967296\n\
auto-compaction-mode: revision\n\
auto-compaction-retention: '1000'\n";

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("milvusdb/milvus", tuning),
            "kind": "stateful",
            "command": ["milvus", "run", "standalone"],
            "ports": { "grpc": { "port": 19530, "protocol": "tcp" }, "metrics": 9091 },
            "env": {
                "ETCD_USE_EMBED": "true",
                "ETCD_DATA_DIR": "/var/lib/milvus/etcd",
                "ETCD_CONFIG_PATH": "/milvus/strata/embedEtcd.yaml",
                "COMMON_STORAGETYPE": "local",
            },
            "storage": volume("50Gi", "/var/lib/milvus"),
            "probes": { "port": "metrics", "path": "/healthz", "startupSeconds": 600 },
            "security": user(1000, 1000, false),
            "resources": resources("1", "4Gi", "4", "8Gi"),
            "config": { "mountPath": "/milvus/strata", "files": { "embedEtcd.yaml": EMBEDDED_ETCD } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 19530),
            ..Supplied::default()
        },
    }
}
