//! Neo4j: a graph database serving Bolt and HTTP.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, OptionDoc, Recipe, Supplied, Tuning};

/// The `neo4j` blueprint.
pub(super) struct Neo4j;

impl Blueprint for Neo4j {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "neo4j",
    summary: "Neo4j graph database (community edition), Bolt and HTTP",
    modes: &[Mode::new(
        "single",
        "one server (clustering needs the enterprise edition)",
        1,
    )],
    version: "5.24.2",
    takes: &[],
    options: &[OptionDoc::text(
        "heap",
        "The JVM heap, such as `1G`; `1G` by default (page cache gets the same).",
    )],
    auth: Auth::required(
        "user `neo4j` (export `user`) with the password in `NAME-credentials`, key `password` (export `secret`)",
    ),
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let heap = tuning.option("heap", "1G");
    let mut exports = recipe::endpoint(tuning, &tuning.service, "bolt", 7687);
    exports.push((
        "http".into(),
        format!("http://{}:7474", tuning.host(&tuning.service)),
    ));
    exports.push(("user".into(), "neo4j".into()));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": image("neo4j", tuning),
            "kind": "stateful",
            "ports": { "http": 7474, "bolt": 7687 },
            "env": {
                "NEO4J_PASSWORD": { "secret": secret, "key": "password" },
                // Kubernetes expands $(NEO4J_PASSWORD) from the variable above.
                "NEO4J_AUTH": "neo4j/$(NEO4J_PASSWORD)",
                "NEO4J_server_memory_heap_initial__size": heap,
                "NEO4J_server_memory_heap_max__size": heap,
                "NEO4J_server_memory_pagecache_size": heap,
            },
            "storage": volume("20Gi", "/data"),
            "probes": { "port": "http", "path": "/" },
            // The entrypoint writes neo4j.conf under /var/lib/neo4j.
            "security": user(7474, 7474, false),
            "resources": resources("500m", "2Gi", "2", "4Gi"),
            "terminationGracePeriod": "60s",
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            ..Supplied::default()
        },
    }
}
