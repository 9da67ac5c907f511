//! Consul: a raft cluster of servers that find each other with retry-join
//! over the StatefulSet's stable names.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Mode, Recipe, Supplied, Tuning,
};

/// The `consul` blueprint.
pub(super) struct Consul;

impl Blueprint for Consul {
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
    name: "consul",
    summary: "Consul servers in a raft cluster, joined with retry-join",
    modes: &[Mode::new(
        "server",
        "a StatefulSet of servers (3 for a quorum that survives one loss), UI enabled",
        3,
    )],
    version: "1.20.1",
    takes: &[],
    options: &[],
    auth: Auth::none(
        "none: ACLs are off; the HTTP API, the catalog and the key-value store answer any pod the NetworkPolicies admit",
    ),
};

fn config(tuning: &Tuning) -> String {
    let joins = recipe::peers(tuning, |i| format!("\"{}\"", tuning.pod_host(i)), ", ");
    format!(
        "# Written by the Strata consul blueprint.\n\
         server = true\n\
         bootstrap_expect = {n}\n\
         retry_join = [{joins}]\n\
         data_dir = \"/consul/data\"\n\
         client_addr = \"0.0.0.0\"\n\
         ui_config {{ enabled = true }}\n\
         disable_update_check = true\n\
         # A server that stops keeps its raft membership; it rejoins on restart.\n\
         leave_on_terminate = false\n\
         performance {{ raft_multiplier = 1 }}\n",
        n = tuning.replicas.max(1),
    )
}

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("hashicorp/consul", tuning),
            "kind": "stateful",
            "command": ["consul"],
            "args": ["agent", "-config-file=/consul/strata/consul.hcl", "-advertise=$(POD_IP)"],
            "ports": { "http": 8500, "server": 8300, "serf-lan": 8301, "dns": { "port": 8600, "protocol": "udp" } },
            "storage": volume("10Gi", "/consul/data"),
            "probes": { "port": "http", "path": "/v1/status/leader" },
            "security": user(100, 1000, true),
            "resources": resources("250m", "512Mi", "1", "1Gi"),
            "config": { "mountPath": "/consul/strata", "files": { "consul.hcl": config(tuning) } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 8500),
            pod_env: true,
            ..Supplied::default()
        },
    }
}

/// A snapshot of the servers' state: catalog, key-value store, sessions
/// and ACLs (`consul snapshot save`); restored into running servers with
/// `consul snapshot restore`.
fn backup(tuning: &Tuning) -> BackupMethod {
    BackupMethod::Dump(Dump {
        image: image("hashicorp/consul", tuning),
        user: 100,
        command: Dump::shell(
            "set -eu\n\
             consul snapshot save -http-addr=\"http://$BACKUP_HOST:$BACKUP_PORT\" \"$BACKUP_DIR/consul.snap\"\n"
                .to_string(),
        ),
        env: Vec::new(),
        ports: vec![8500],
        contains: "`consul.snap`: the servers' state — catalog, key-value store, sessions, prepared queries and ACLs (`consul snapshot save`)",
        restore: "set -eu\n\
                  consul snapshot restore -http-addr=\"http://$BACKUP_HOST:$BACKUP_PORT\" \"$BACKUP_DIR/consul.snap\"\n"
            .to_string(),
        offline: false,
    })
}
