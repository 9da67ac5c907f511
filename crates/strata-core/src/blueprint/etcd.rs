//! etcd: a three-member cluster bootstrapped statically over the
//! StatefulSet's stable names.

use serde_json::json;

use super::recipe::{self, resources, user, volume};
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Mode, Recipe, Supplied, Tuning,
};

/// The `etcd` blueprint.
pub(super) struct Etcd;

impl Blueprint for Etcd {
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
    name: "etcd",
    summary: "etcd key-value store, a cluster of members named by the StatefulSet",
    modes: &[Mode::new(
        "cluster",
        "a StatefulSet of members (3 by default, a quorum that survives one loss)",
        3,
    )],
    version: "v3.5.17",
    takes: &[],
    options: &[],
    auth: Auth::none(
        "none: client and peer ports take no login and no client certificate; any pod the NetworkPolicies admit reads and writes keys (a Patroni leader lock included)",
    ),
};

fn recipe(tuning: &Tuning) -> Recipe {
    let own = format!(
        "$(POD_NAME).{}-headless.{}.svc.cluster.local",
        tuning.service, tuning.namespace
    );
    let members = recipe::peers(
        tuning,
        |i| format!("{}-{i}=http://{}:2380", tuning.service, tuning.pod_host(i)),
        ",",
    );
    Recipe {
        spec: json!({
            "image": format!("quay.io/coreos/etcd:{}", tuning.version),
            "kind": "stateful",
            "ports": { "client": { "port": 2379, "protocol": "http" }, "peer": 2380 },
            "env": {
                "ETCD_NAME": "$(POD_NAME)",
                "ETCD_DATA_DIR": "/var/run/etcd/data",
                "ETCD_LISTEN_CLIENT_URLS": "http://0.0.0.0:2379",
                "ETCD_ADVERTISE_CLIENT_URLS": format!("http://{own}:2379"),
                "ETCD_LISTEN_PEER_URLS": "http://0.0.0.0:2380",
                "ETCD_INITIAL_ADVERTISE_PEER_URLS": format!("http://{own}:2380"),
                "ETCD_INITIAL_CLUSTER": members,
                "ETCD_INITIAL_CLUSTER_STATE": "new",
                "ETCD_INITIAL_CLUSTER_TOKEN": format!("{}-{}", tuning.service, tuning.namespace),
                "ETCD_AUTO_COMPACTION_MODE": "periodic",
                "ETCD_AUTO_COMPACTION_RETENTION": "1h",
                "ETCD_QUOTA_BACKEND_BYTES": "8589934592",
                "ETCD_LISTEN_METRICS_URLS": "http://0.0.0.0:2381",
            },
            "storage": volume("10Gi", "/var/run/etcd"),
            // /livez stays up when quorum is lost, so members are not all restarted at once.
            "probes": { "port": "client", "path": "/livez", "readinessPath": "/readyz" },
            "security": user(1000, 1000, true),
            "resources": resources("250m", "512Mi", "1", "2Gi"),
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 2379),
            pod_env: true,
            ..Supplied::default()
        },
    }
}

/// A snapshot of the keyspace (`etcdctl snapshot save`), from one member;
/// restored offline into a fresh data directory of each member
/// (`etcdutl snapshot restore`). The image has no shell: etcdctl runs
/// alone, the address expanded by Kubernetes.
fn backup(tuning: &Tuning) -> BackupMethod {
    BackupMethod::Dump(Dump {
        image: format!("quay.io/coreos/etcd:{}", tuning.version),
        user: 1000,
        command: vec![
            "etcdctl".into(),
            "--endpoints=http://$(BACKUP_HOST):$(BACKUP_PORT)".into(),
            "snapshot".into(),
            "save".into(),
            "/backup/snapshot.db".into(),
        ],
        env: Vec::new(),
        ports: vec![2379],
        contains: "`snapshot.db`: a consistent snapshot of the whole keyspace (`etcdctl snapshot save`)",
        restore: "set -eu\n\
                  # With every member stopped, on each member: a fresh data directory from the\n\
                  # snapshot, then the member started on it with `--initial-cluster-state new`.\n\
                  etcdutl snapshot restore \"$BACKUP_DIR/snapshot.db\" --name \"$ETCD_NAME\" \\\n  \
                    --initial-cluster \"$ETCD_INITIAL_CLUSTER\" --initial-advertise-peer-urls \"$ETCD_INITIAL_ADVERTISE_PEER_URLS\" \\\n  \
                    --data-dir \"$DATA_DIR/data\"\n"
            .to_string(),
        offline: true,
    })
}
