//! NATS with JetStream: a cluster whose servers route to each other by
//! their stable names, with file storage on each server's volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `nats` blueprint.
pub(super) struct Nats;

impl Blueprint for Nats {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "nats",
    summary: "NATS with JetStream persistence, clustered",
    modes: &[Mode::new(
        "jetstream",
        "a StatefulSet of JetStream servers routed into one cluster (3 for a raft quorum)",
        3,
    )],
    version: "2.10.22-alpine",
    takes: &[],
    options: &[],
    auth: Auth::none(
        "none: no accounts, users or tokens; any pod the NetworkPolicies admit publishes and subscribes",
    ),
};

fn config(tuning: &Tuning) -> String {
    let mut conf = String::from(
        "# Written by the Strata nats blueprint.\n\
         server_name: $SERVER_NAME\n\
         listen: 0.0.0.0:4222\n\
         http: 0.0.0.0:8222\n\
         lame_duck_duration: 20s\n\
         lame_duck_grace_period: 5s\n\
         jetstream {\n  store_dir: /data/jetstream\n}\n",
    );
    if tuning.replicas > 1 {
        let routes = recipe::peers(
            tuning,
            |i| format!("    nats://{}:6222", tuning.pod_host(i)),
            "\n",
        );
        conf.push_str(&format!(
            "cluster {{\n  name: {}\n  listen: 0.0.0.0:6222\n  routes: [\n{routes}\n  ]\n}}\n",
            tuning.service
        ));
    }
    conf
}

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("nats", tuning),
            "kind": "stateful",
            "args": ["--config", "/etc/nats/nats.conf"],
            "ports": { "client": 4222, "cluster": 6222, "monitor": { "port": 8222, "protocol": "http" } },
            "env": { "SERVER_NAME": "$(POD_NAME)" },
            "storage": volume("10Gi", "/data"),
            "probes": { "port": "monitor", "path": "/healthz", "readinessPath": "/healthz?js-enabled-only=true" },
            "security": user(1000, 1000, true),
            "resources": resources("250m", "512Mi", "1", "2Gi"),
            "terminationGracePeriod": "60s",
            "config": { "mountPath": "/etc/nats", "files": { "nats.conf": config(tuning) } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "nats", 4222),
            pod_env: true,
            ..Supplied::default()
        },
    }
}
