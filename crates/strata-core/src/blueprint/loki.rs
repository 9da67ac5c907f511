//! Loki: log storage in single-binary mode, on a volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `loki` blueprint.
pub(super) struct Loki;

impl Blueprint for Loki {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "loki",
    summary: "Loki log storage, single binary with filesystem storage",
    modes: &[Mode::new(
        "single",
        "every Loki role in one pod, chunks and index on its volume",
        1,
    )],
    version: "3.2.1",
    takes: &[],
    options: &[],
    auth: Auth::none("none: one tenant; any pod the NetworkPolicies admit pushes and queries logs"),
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
