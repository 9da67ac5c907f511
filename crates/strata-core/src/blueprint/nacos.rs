//! Nacos: service discovery and configuration, standalone or a cluster with
//! embedded raft storage.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `nacos` blueprint.
pub(super) struct Nacos;

impl Blueprint for Nacos {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "nacos",
    summary: "Nacos naming and configuration server with authentication on",
    modes: &[STANDALONE, CLUSTER],
    version: "v2.4.3",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "a Nacos user and password, made in its console (Strata creates none); `NAME-credentials` holds the token key and the servers' identity (`token`, `identity`; export `secret`), not a client login",
    ),
};

/// The `standalone` mode.
const STANDALONE: Mode = Mode::new("standalone", "one server with embedded storage", 1);

/// The `cluster` mode.
const CLUSTER: Mode = Mode::new(
    "cluster",
    "a StatefulSet of servers (3 by default) sharing embedded raft storage",
    3,
);

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let cluster = *tuning.mode == CLUSTER && tuning.replicas > 1;
    let mut env = json!({
        "MODE": if cluster { "cluster" } else { "standalone" },
        "EMBEDDED_STORAGE": "embedded",
        "PREFER_HOST_MODE": "hostname",
        "NACOS_AUTH_ENABLE": "true",
        "NACOS_AUTH_TOKEN": { "secret": secret, "key": "token" },
        "NACOS_AUTH_IDENTITY_KEY": "strata",
        "NACOS_AUTH_IDENTITY_VALUE": { "secret": secret, "key": "identity" },
        "JVM_XMS": "512m",
        "JVM_XMX": "512m",
    });
    if cluster {
        env["NACOS_SERVERS"] = json!(recipe::peers(
            tuning,
            |i| format!("{}:8848", tuning.pod_host(i)),
            " "
        ));
    }
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 8848);
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": image("nacos/nacos-server", tuning),
            "kind": "stateful",
            "ports": { "http": 8848, "client-rpc": 9848, "raft-rpc": 9849, "raft": 7848 },
            "env": env,
            "storage": volume("10Gi", "/home/nacos/data"),
            "probes": { "port": "http", "path": "/nacos/v1/console/health/liveness", "readinessPath": "/nacos/v1/console/health/readiness" },
            // The image starts as root and writes its cluster list into its own
            // directory: it runs under the baseline profile.
            "security": { "profile": "baseline", "runAsUser": 0, "readOnlyRootFilesystem": false },
            "resources": resources("500m", "1Gi", "2", "2Gi"),
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["token".into(), "identity".into()])),
            ..Supplied::default()
        },
    }
}
