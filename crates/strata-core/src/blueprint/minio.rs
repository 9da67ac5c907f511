//! MinIO: one server, or a distributed pool of four or more that erasure-
//! codes objects across its pods.

use serde_json::json;

use super::recipe::{self, credentials_name, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `minio` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "minio",
    summary: "S3-compatible object storage, standalone or distributed with erasure coding",
    modes: &[
        Mode {
            name: "standalone",
            summary: "one server with one volume",
            replicas: 1,
            operator: None,
            operated: false,
            sharded: false,
        },
        Mode {
            name: "distributed",
            summary: "a pool of 4 or more servers erasure-coding across their volumes (a standalone server when an environment pins fewer)",
            replicas: 4,
            operator: None,
            operated: false,
            sharded: false,
        },
    ],
    version: "RELEASE.2024-11-07T00-52-20Z",
    takes: &[],
    options: &[],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let distributed = tuning.mode.name == "distributed" && tuning.replicas >= 4;
    let target = if distributed {
        format!(
            "http://{svc}-{{0...{last}}}.{svc}-headless.{ns}.svc.cluster.local/data",
            svc = tuning.service,
            last = tuning.replicas - 1,
            ns = tuning.namespace
        )
    } else {
        "/data".to_string()
    };
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 9000);
    exports.push((
        "console".into(),
        format!("http://{}:9001", tuning.host(&tuning.service)),
    ));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": format!("quay.io/minio/minio:{}", tuning.version),
            "kind": "stateful",
            "command": ["minio"],
            "args": ["server", target, "--console-address", ":9001", "--certs-dir", "/tmp/certs"],
            "ports": { "api": { "port": 9000, "protocol": "http" }, "console": 9001 },
            "env": {
                "MINIO_ROOT_USER": { "secret": secret, "key": "root-user" },
                "MINIO_ROOT_PASSWORD": { "secret": secret, "key": "root-password" },
                "MINIO_PROMETHEUS_AUTH_TYPE": "public",
            },
            "storage": volume("50Gi", "/data"),
            "probes": { "port": "api", "path": "/minio/health/live", "readinessPath": "/minio/health/ready" },
            "metrics": { "port": "api", "path": "/minio/v2/metrics/cluster" },
            "security": user(1000, 1000, true),
            "resources": resources("500m", "1Gi", "2", "4Gi"),
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["root-user".into(), "root-password".into()])),
            ..Supplied::default()
        },
    }
}
