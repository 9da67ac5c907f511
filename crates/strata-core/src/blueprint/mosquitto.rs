//! Eclipse Mosquitto: an MQTT broker with persistence and a WebSocket listener.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `mosquitto` blueprint.
pub(super) struct Mosquitto;

impl Blueprint for Mosquitto {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "mosquitto",
    summary: "Mosquitto MQTT broker with persistence, MQTT and WebSocket listeners, password login",
    modes: &[Mode::new(
        "single",
        "one broker (MQTT brokers of this kind do not cluster)",
        1,
    )],
    version: "2.0.20",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "user `mqtt` (export `username`) with the password in `NAME-credentials`, key `password` (export `secret`); anonymous clients are refused",
    ),
};

/// The broker's configuration: clients log in with the generated password.
const CONFIG: &str = "# Written by the Strata mosquitto blueprint.\n\
per_listener_settings false\n\
listener 1883\n\
listener 9001\n\
protocol websockets\n\
persistence true\n\
persistence_location /mosquitto/data/\n\
autosave_interval 60\n\
log_dest stdout\n\
allow_anonymous false\n\
password_file /mosquitto/auth/passwd\n";

/// Hashes the generated password into a password file (Mosquitto reads only
/// hashed entries) and starts the broker. The password goes into the file
/// through a here-document: on no command line.
const START: &str = "#!/bin/sh\n\
# Written by the Strata mosquitto blueprint.\n\
set -eu\n\
umask 077\n\
cat > /mosquitto/auth/passwd <<EOF\n\
$MQTT_USERNAME:$MQTT_PASSWORD\n\
EOF\n\
mosquitto_passwd -U /mosquitto/auth/passwd\n\
exec mosquitto -c /mosquitto/strata/mosquitto.conf\n";

/// The user clients log in as.
const USERNAME: &str = "mqtt";

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut exports = recipe::endpoint(tuning, &tuning.service, "mqtt", 1883);
    exports.push(("secret".into(), secret.clone()));
    exports.push(("username".into(), USERNAME.into()));
    Recipe {
        spec: json!({
            "image": image("eclipse-mosquitto", tuning),
            "kind": "stateful",
            "command": ["sh", "/mosquitto/strata/start.sh"],
            "ports": { "mqtt": 1883, "websocket": 9001 },
            "env": {
                "MQTT_USERNAME": USERNAME,
                "MQTT_PASSWORD": { "secret": secret, "key": "password" },
            },
            "storage": volume("2Gi", "/mosquitto/data"),
            "security": user(1883, 1883, true),
            "resources": resources("100m", "128Mi", "500m", "256Mi"),
            "config": { "mountPath": "/mosquitto/strata", "files": { "mosquitto.conf": CONFIG, "start.sh": START } },
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            // The hashed password file is written at every start.
            scratch: vec!["/mosquitto/auth".into()],
            ..Supplied::default()
        },
    }
}
