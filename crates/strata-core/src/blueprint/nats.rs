//! NATS with JetStream: a cluster whose servers route to each other by
//! their stable names, with file storage on each server's volume.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Mode, Recipe, Supplied, Tuning,
};

/// The `nats` blueprint.
pub(super) struct Nats;

impl Blueprint for Nats {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        Some(backup(tuning))
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

/// Each JetStream stream, its messages and configuration (`nats stream
/// backup`), into a directory of its own; restored into a running server
/// with `nats stream restore`.
fn backup(_tuning: &Tuning) -> BackupMethod {
    BackupMethod::Dump(Dump {
        image: NATS_BOX_IMAGE.into(),
        user: 1000,
        command: Dump::shell(
            "set -eu\n\
             server=\"nats://$BACKUP_HOST:$BACKUP_PORT\"\n\
             for stream in $(nats --server \"$server\" stream ls --names); do\n  \
               nats --server \"$server\" stream backup \"$stream\" \"$BACKUP_DIR/$stream\"\n\
             done\n"
                .to_string(),
        ),
        env: Vec::new(),
        ports: vec![4222],
        contains: "a directory per JetStream stream: its messages and configuration (`nats stream backup`)",
        restore: "set -eu\n\
                  for stream in \"$BACKUP_DIR\"/*/; do\n  \
                    nats --server \"nats://$BACKUP_HOST:$BACKUP_PORT\" stream restore \"$stream\"\n\
                  done\n"
            .to_string(),
        offline: false,
    })
}

/// The NATS command-line tools, pinned.
const NATS_BOX_IMAGE: &str = "natsio/nats-box:0.14.5";
