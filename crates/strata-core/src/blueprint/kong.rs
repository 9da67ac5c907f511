//! Kong in DB-less mode: the proxy of a `kind: kong` gateway, whose routes
//! (with rate limits, JWT and CORS) become its declarative configuration.

use serde_json::json;

use super::recipe::{self, image, resources, user};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, Recipe, Supplied, Tuning};

/// The `kong` blueprint.
pub(super) struct Kong;

impl Blueprint for Kong {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "kong",
    summary: "Kong gateway, DB-less, configured from the routes of the gateway it runs",
    modes: &[Mode::new(
        "dbless",
        "Kong pods reading a declarative configuration rendered from the spec's routes (name this service as a Kong gateway's `proxy`)",
        2,
    )],
    version: "3.8.0",
    takes: &[],
    options: &[],
    auth: Auth::none(
        "none at the proxy: routes are public unless the gateway's plugins say otherwise; the admin API is off",
    ),
};

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("kong", tuning),
            "ports": { "proxy": { "port": 8000, "protocol": "http" }, "status": { "port": 8100, "protocol": "http" } },
            "env": {
                "KONG_DATABASE": "off",
                "KONG_PROXY_LISTEN": "0.0.0.0:8000",
                "KONG_STATUS_LISTEN": "0.0.0.0:8100",
                "KONG_ADMIN_LISTEN": "off",
                "KONG_PREFIX": "/tmp/kong",
                "KONG_PROXY_ACCESS_LOG": "/dev/stdout",
                "KONG_PROXY_ERROR_LOG": "/dev/stderr",
                "KONG_NGINX_WORKER_PROCESSES": "2",
            },
            "probes": { "port": "status", "path": "/status", "readinessPath": "/status/ready" },
            "metrics": { "port": "status" },
            "security": user(1000, 1000, true),
            "resources": resources("500m", "512Mi", "1", "1Gi"),
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 8000),
            ..Supplied::default()
        },
    }
}
