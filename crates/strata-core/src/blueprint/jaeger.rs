//! Jaeger all-in-one: OTLP collector, query UI and Badger storage on a volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `jaeger` blueprint.
pub(super) struct Jaeger;

impl Blueprint for Jaeger {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "jaeger",
    summary: "Jaeger tracing: OTLP in, query UI out, traces kept in Badger on a volume",
    modes: &[Mode::new(
        "all-in-one",
        "collector, query and storage in one pod",
        1,
    )],
    version: "1.62.0",
    takes: &[],
    options: &[],
    auth: Auth::none("none: any pod the NetworkPolicies admit sends spans and queries traces"),
};

fn recipe(tuning: &Tuning) -> Recipe {
    let host = tuning.host(&tuning.service);
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 4318);
    exports.push(("otlpGrpc".into(), format!("{host}:4317")));
    exports.push(("ui".into(), format!("http://{host}:16686")));
    Recipe {
        spec: json!({
            "image": image("jaegertracing/all-in-one", tuning),
            "kind": "stateful",
            "ports": {
                "otlp-http": { "port": 4318, "protocol": "http" },
                "otlp-grpc": 4317,
                "ui": 16686,
                "admin": { "port": 14269, "protocol": "http" },
            },
            "env": {
                "SPAN_STORAGE_TYPE": "badger",
                "BADGER_EPHEMERAL": "false",
                "BADGER_DIRECTORY_VALUE": "/badger/data",
                "BADGER_DIRECTORY_KEY": "/badger/key",
                "BADGER_SPAN_STORE_TTL": "168h",
                "COLLECTOR_OTLP_ENABLED": "true",
            },
            "storage": volume("10Gi", "/badger"),
            "probes": { "port": "admin", "path": "/" },
            "metrics": { "port": "admin" },
            "security": user(10001, 10001, true),
            "resources": resources("250m", "512Mi", "1", "1Gi"),
        }),
        supplied: Supplied {
            exports,
            ..Supplied::default()
        },
    }
}
