//! Loki: log storage in single-binary mode, on a volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `loki` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "loki",
    summary: "Loki log storage, single binary with filesystem storage",
    modes: &[Mode {
        name: "single",
        summary: "every Loki role in one pod, chunks and index on its volume",
        replicas: 1,
        operator: None,
        operated: false,
        sharded: false,
    }],
    version: "3.2.1",
    takes: &[],
    options: &[],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
    check_options: recipe::no_option_checks,
};

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("grafana/loki", tuning),
            "kind": "stateful",
            "args": ["-config.file=/etc/loki/local-config.yaml"],
            "ports": { "http": 3100, "grpc": { "port": 9095, "protocol": "tcp" } },
            "storage": volume("20Gi", "/loki"),
            "probes": { "port": "http", "path": "/ready" },
            "metrics": { "port": "http" },
            "security": user(10001, 10001, true),
            "resources": resources("250m", "512Mi", "1", "1Gi"),
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 3100),
            ..Supplied::default()
        },
    }
}
