//! Vault: secrets management on integrated raft storage; replicas join the
//! first pod with retry-join. TLS is left to the mesh.

use serde_json::json;

use super::recipe::{self, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `vault` blueprint.
pub(super) struct Vault;

impl Blueprint for Vault {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "vault",
    summary: "Vault on integrated raft storage, peers joined with retry-join",
    modes: &[Mode::new(
        "raft",
        "a StatefulSet of Vault servers (3 by default) sharing raft storage; initialise and unseal once after apply",
        3,
    )],
    version: "1.18.1",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "a Vault token: `vault operator init`, run once after apply, prints the root token and unseal keys, which Strata neither makes nor keeps",
    ),
};

fn config(tuning: &Tuning) -> String {
    let joins = recipe::peers(
        tuning,
        |i| {
            format!(
                "  retry_join {{\n    leader_api_addr = \"http://{}:8200\"\n  }}\n",
                tuning.pod_host(i)
            )
        },
        "",
    );
    format!(
        "# Written by the Strata vault blueprint.\n\
         ui = true\n\
         disable_mlock = true\n\
         listener \"tcp\" {{\n  address = \"[::]:8200\"\n  cluster_address = \"[::]:8201\"\n  tls_disable = true\n  telemetry {{\n    unauthenticated_metrics_access = true\n  }}\n}}\n\
         storage \"raft\" {{\n  path = \"/vault/data\"\n{joins}}}\n\
         telemetry {{\n  prometheus_retention_time = \"30s\"\n  disable_hostname = true\n}}\n"
    )
}

fn recipe(tuning: &Tuning) -> Recipe {
    let own = format!(
        "$(POD_NAME).{}-headless.{}.svc.cluster.local",
        tuning.service, tuning.namespace
    );
    Recipe {
        spec: json!({
            "image": image("hashicorp/vault", tuning),
            "kind": "stateful",
            "command": ["vault", "server", "-config=/vault/strata/vault.hcl"],
            "ports": { "api": { "port": 8200, "protocol": "http" }, "cluster": 8201 },
            "env": {
                "VAULT_API_ADDR": format!("http://{own}:8200"),
                "VAULT_CLUSTER_ADDR": format!("http://{own}:8201"),
                "SKIP_SETCAP": "true",
                "SKIP_CHOWN": "true",
            },
            "storage": volume("10Gi", "/vault/data"),
            // Sealed and uninitialised servers answer too, so a new cluster can be set up.
            "probes": { "port": "api", "path": "/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204", "startupSeconds": 120 },
            "metrics": { "port": "api", "path": "/v1/sys/metrics?format=prometheus" },
            "security": user(100, 1000, true),
            "resources": resources("250m", "256Mi", "1", "512Mi"),
            "config": { "mountPath": "/vault/strata", "files": { "vault.hcl": config(tuning) } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 8200),
            pod_env: true,
            ..Supplied::default()
        },
    }
}
