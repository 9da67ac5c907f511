//! Prometheus node exporter: the CPU, memory, disk and network metrics of
//! every node, from a DaemonSet reading the host's `/proc`, `/sys` and root
//! filesystem on the host's network and process namespaces, as the upstream
//! chart runs it.

use serde_json::json;

use super::recipe::{self, image, resources, user};
use crate::model::{Auth, Blueprint, BlueprintInfo, HostAccess, Mode, Recipe, Supplied, Tuning};

/// The `node-exporter` blueprint.
pub(super) struct NodeExporter;

impl Blueprint for NodeExporter {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "node-exporter",
    summary: "Prometheus node exporter on every node: CPU, memory, disk and network metrics of the hosts, on a port named `metrics`",
    modes: &[Mode::new(
        "daemon",
        "a DaemonSet on the node's network and process namespaces with `/proc`, `/sys` and `/` of the node mounted read-only (the namespace enforces the `privileged` Pod Security level; the DaemonSet carries `strata.dev/ignore: host-network,host-pid,host-path-volume`), tolerating every taint so that GPU and other tainted nodes report too; the scraper reaches it on the node's address, port 9100",
        1,
    )],
    version: "v1.8.2",
    takes: &[],
    options: &[],
    auth: Auth::none("none: node metrics for the scraper"),
};

/// The port it serves on, on the node's address.
const PORT: u16 = 9100;

/// The node's paths it reads, where the `--path.*` flags point.
const PATHS: &[(&str, &str, &str)] = &[
    ("proc", "/proc", "/host/proc"),
    ("sys", "/sys", "/host/sys"),
    ("root", "/", "/host/root"),
];

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("quay.io/prometheus/node-exporter", tuning),
            "kind": "daemon",
            "args": [
                "--path.procfs=/host/proc",
                "--path.sysfs=/host/sys",
                "--path.rootfs=/host/root",
                "--path.udev.data=/host/root/run/udev/data",
                format!("--web.listen-address=:{PORT}"),
                // The kubelet's and the container runtime's mounts are the
                // pods' volumes, not the node's disks.
                "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
            ],
            "ports": { "metrics": { "port": PORT, "protocol": "http" } },
            "probes": { "port": "metrics", "path": "/" },
            "metrics": { "port": "metrics" },
            // It reads the host's files as nobody: no root, no capability.
            "security": user(65534, 65534, true),
            "resources": resources("50m", "64Mi", "250m", "128Mi"),
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", PORT),
            // Deliberate exceptions to the host-access lint checks: a node
            // exporter exists to report its node, whose namespaces and
            // files it must see; it mounts them read-only.
            host: Some(HostAccess {
                network: true,
                pid: true,
                paths: PATHS,
                every_node: true,
            }),
            ..Supplied::default()
        },
    }
}
