//! Alertmanager: alert routing; replicas gossip into one cluster so each
//! alert is sent once.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `alertmanager` blueprint.
pub(super) struct Alertmanager;

impl Blueprint for Alertmanager {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "alertmanager",
    summary: "Alertmanager; replicas form a gossip cluster that deduplicates notifications",
    modes: &[Mode::new(
        "cluster",
        "a StatefulSet of peers (one by default) and a catch-all route to extend with `config:`",
        1,
    )],
    version: "v0.27.0",
    takes: &[],
    options: &[],
    auth: Auth::none(
        "none: the API takes alerts from, and shows them to, any pod the NetworkPolicies admit",
    ),
};

const CONFIG: &str = "# Written by the Strata alertmanager blueprint: replace it with `config:`\n\
# to send notifications somewhere.\n\
route:\n  receiver: default\n  group_by: [alertname, namespace]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 4h\n\
receivers:\n  - name: default\n";

fn recipe(tuning: &Tuning) -> Recipe {
    let mut args = vec![
        "--config.file=/etc/alertmanager/alertmanager.yml".to_string(),
        "--storage.path=/alertmanager".to_string(),
    ];
    if tuning.replicas > 1 {
        args.push("--cluster.listen-address=0.0.0.0:9094".into());
        args.push("--cluster.advertise-address=$(POD_IP):9094".into());
        for i in 0..tuning.replicas {
            args.push(format!("--cluster.peer={}:9094", tuning.pod_host(i)));
        }
    } else {
        args.push("--cluster.listen-address=".into());
    }
    Recipe {
        spec: json!({
            "image": image("prom/alertmanager", tuning),
            "kind": "stateful",
            "args": args,
            "ports": { "http": 9093, "cluster": 9094 },
            "storage": volume("2Gi", "/alertmanager"),
            "probes": { "port": "http", "path": "/-/healthy", "readinessPath": "/-/ready" },
            "metrics": { "port": "http" },
            "security": user(65534, 65534, true),
            "resources": resources("100m", "128Mi", "500m", "256Mi"),
            "config": { "mountPath": "/etc/alertmanager", "files": { "alertmanager.yml": CONFIG } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 9093),
            pod_env: true,
            ..Supplied::default()
        },
    }
}
