//! Eclipse Mosquitto: an MQTT broker with persistence and a WebSocket listener.

use serde_json::json;

use super::common::{self, image, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `mosquitto` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "mosquitto",
    summary: "Mosquitto MQTT broker with persistence, MQTT and WebSocket listeners",
    modes: &[Mode {
        name: "single",
        summary: "one broker (MQTT brokers of this kind do not cluster)",
        replicas: 1,
        operator: None,
        operated: false,
    }],
    version: "2.0.20",
    takes: &[],
    options: &[],
    recipe,
    objects: common::no_objects,
};

const CONFIG: &str = "# Written by the Strata mosquitto blueprint.\n\
listener 1883\n\
listener 9001\n\
protocol websockets\n\
persistence true\n\
persistence_location /mosquitto/data/\n\
autosave_interval 60\n\
log_dest stdout\n\
# Only the platform's pods reach the broker (NetworkPolicies); add a password\n\
# file with `config:` to require credentials.\n\
allow_anonymous true\n";

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("eclipse-mosquitto", tuning),
            "kind": "stateful",
            "command": ["mosquitto", "-c", "/mosquitto/strata/mosquitto.conf"],
            "ports": { "mqtt": 1883, "websocket": 9001 },
            "storage": volume("2Gi", "/mosquitto/data"),
            "security": user(1883, 1883, true),
            "resources": resources("100m", "128Mi", "500m", "256Mi"),
            "config": { "mountPath": "/mosquitto/strata", "files": { "mosquitto.conf": CONFIG } },
        }),
        supplied: Supplied {
            exports: common::endpoint(tuning, &tuning.service, "mqtt", 1883),
            ..Supplied::default()
        },
    }
}
