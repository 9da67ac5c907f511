//! Keycloak: identity and access management in production mode, behind the
//! platform's edge, with its database in a PostgreSQL or MySQL service of the platform.

use serde_json::json;

use super::recipe::{self, credentials_name, image, reference, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, OptionDoc, Recipe, Supplied, Tuning};

/// The `keycloak` blueprint.
pub(super) struct Keycloak;

impl Blueprint for Keycloak {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "keycloak",
    summary: "Keycloak in production mode (`start`), health and metrics on its management port",
    modes: &[Mode::new(
        "single",
        "Keycloak pods (clustered through the database cache when replicated)",
        1,
    )],
    version: "26.0.5",
    takes: &[],
    options: &[OptionDoc::text(
        "database",
        "The platform's `postgresql` or `mysql` service holding Keycloak's data (its database `keycloak` when it lists one, else its first, as that database's owner); without it, an embedded file database on a volume (for trials only).",
    )],
    auth: Auth::required(
        "the bootstrap admin `admin` with the password in `NAME-credentials`, key `admin-password` (export `secret`); applications sign their users in through it",
    ),
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut env = json!({
        "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
        "KC_BOOTSTRAP_ADMIN_PASSWORD": { "secret": secret, "key": "admin-password" },
        "KC_HTTP_ENABLED": "true",
        "KC_HOSTNAME_STRICT": "false",
        "KC_PROXY_HEADERS": "xforwarded",
        "KC_HEALTH_ENABLED": "true",
        "KC_METRICS_ENABLED": "true",
        "KC_CACHE": "ispn",
        "KC_CACHE_STACK": "kubernetes",
        "JAVA_OPTS_APPEND": format!("-Djgroups.dns.query={}", tuning.host(&format!("{}-headless", tuning.service))),
    });
    let mut spec = json!({
        "image": image("quay.io/keycloak/keycloak", tuning),
        "args": ["start"],
        "ports": { "http": 8080, "management": { "port": 9000, "protocol": "http" }, "jgroups": 7800 },
        "probes": { "port": "management", "path": "/health/live", "readinessPath": "/health/ready", "startupSeconds": 600 },
        "metrics": { "port": "management" },
        // Keycloak rebuilds its Quarkus application under /opt/keycloak at start.
        "security": user(1000, 1000, false),
        "resources": resources("500m", "1Gi", "2", "2Gi"),
    });
    if let Some(database) = tuning.options.get("database") {
        let sibling = tuning.siblings.iter().find(|s| &s.name == database);
        let mysql = sibling.is_some_and(|s| s.blueprint.as_deref() == Some("mysql"));
        // Keycloak's own database when the server lists one named
        // `keycloak`, else the server's first; logged in as its owner.
        let listed = sibling.map(|s| s.databases.as_slice()).unwrap_or_default();
        let own = listed
            .iter()
            .find(|(name, _)| name == "keycloak")
            .or(listed.first());
        let (name, user, secret) = match own {
            Some((name, owner)) => (
                name.clone(),
                owner.clone(),
                crate::model::owner_secret_of(database, owner),
            ),
            None => (
                reference(database, "database"),
                reference(database, "user"),
                if sibling.is_some_and(|s| s.mode.as_deref() == Some("ha")) {
                    format!("{database}-app")
                } else {
                    format!("{database}-credentials")
                },
            ),
        };
        env["KC_DB"] = json!(if mysql { "mysql" } else { "postgres" });
        env["KC_DB_URL"] = json!(format!(
            "jdbc:{}://{}:{}/{name}",
            if mysql { "mysql" } else { "postgresql" },
            reference(database, "host"),
            reference(database, "port"),
        ));
        env["KC_DB_USERNAME"] = json!(user);
        env["KC_DB_PASSWORD"] = json!({ "secret": secret, "key": "password" });
        spec["kind"] = json!("stateful");
    } else {
        env["KC_DB"] = json!("dev-file");
        spec["storage"] = volume("2Gi", "/opt/keycloak/data");
    }
    spec["env"] = env;
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 8080);
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["admin-password".into()])),
            ..Supplied::default()
        },
    }
}
