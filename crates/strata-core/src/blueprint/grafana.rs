//! Grafana: dashboards, with datasources provisioned for the platform's own
//! Loki, Prometheus and Jaeger services.

use serde_json::json;

use super::recipe::{self, credentials_name, image, reference, resources, user, volume};
use super::{Blueprint, Mode, Recipe, Supplied, Tuning};

/// The `grafana` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "grafana",
    summary: "Grafana with datasources for the platform's Loki, Prometheus and Jaeger",
    modes: &[Mode {
        name: "single",
        summary: "one pod (a Deployment with its volume), the admin password generated",
        replicas: 1,
        operator: None,
        operated: false,
        sharded: false,
    }],
    version: "11.3.0",
    takes: &[],
    options: &[],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
    check_options: recipe::no_option_checks,
};

/// One datasource per Loki, Prometheus and Jaeger service of the platform;
/// the `${…}` references make Grafana wait for them.
fn datasources(tuning: &Tuning) -> String {
    let mut out =
        String::from("# Written by the Strata grafana blueprint.\napiVersion: 1\ndatasources:\n");
    let mut default = true;
    for (blueprint, kind) in [
        ("prometheus", "prometheus"),
        ("loki", "loki"),
        ("jaeger", "jaeger"),
    ] {
        for sibling in tuning.siblings_of(blueprint) {
            let url = if blueprint == "jaeger" {
                reference(&sibling.name, "ui")
            } else {
                reference(&sibling.name, "url")
            };
            out.push_str(&format!(
                "  - name: {name}\n    type: {kind}\n    access: proxy\n    url: {url}\n    isDefault: {default}\n    editable: false\n",
                name = sibling.name,
            ));
            default = false;
        }
    }
    if default {
        out = out.replace("datasources:\n", "datasources: []\n");
    }
    out
}

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 3000);
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": image("grafana/grafana", tuning),
            "kind": "stateless",
            "ports": { "http": 3000 },
            "env": {
                "GF_SECURITY_ADMIN_USER": "admin",
                "GF_SECURITY_ADMIN_PASSWORD": { "secret": secret, "key": "admin-password" },
                "GF_LOG_MODE": "console",
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
                "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            },
            "storage": volume("5Gi", "/var/lib/grafana"),
            "probes": { "port": "http", "path": "/api/health" },
            "security": user(472, 472, true),
            "resources": resources("100m", "256Mi", "500m", "512Mi"),
            "config": { "mountPath": "/etc/grafana/provisioning/datasources", "files": { "datasources.yaml": datasources(tuning) } },
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["admin-password".into()])),
            ..Supplied::default()
        },
    }
}
