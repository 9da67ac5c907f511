//! Elasticsearch: one node with security on (password from a generated
//! Secret) and memory-mapped storage off, so nodes need no host sysctl.

use serde_json::json;

use super::recipe::{self, credentials_name, resources, user, volume};
use super::{Blueprint, Mode, OptionDoc, Recipe, Supplied, Tuning};

/// The `elasticsearch` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "elasticsearch",
    summary: "Elasticsearch with security enabled and the `elastic` password generated",
    modes: &[Mode {
        name: "single",
        summary: "one node (`discovery.type: single-node`); clusters need transport TLS, which the ECK operator does better",
        replicas: 1,
        operator: None,
        operated: false,
    }],
    version: "8.15.3",
    takes: &[],
    options: &[OptionDoc {
        name: "heap",
        summary: "The JVM heap, such as `1g`; `1g` by default (keep it half the memory limit).",
    }],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
};

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let heap = tuning.option("heap", "1g");
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 9200);
    exports.push(("user".into(), "elastic".into()));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec: json!({
            "image": format!("docker.elastic.co/elasticsearch/elasticsearch:{}", tuning.version),
            "kind": "stateful",
            // Security is on, so HTTP answers 401 without credentials: probe the socket.
            "ports": { "http": { "port": 9200, "protocol": "tcp" }, "transport": 9300 },
            "env": {
                "discovery.type": "single-node",
                "cluster.name": tuning.service,
                "ELASTIC_PASSWORD": { "secret": secret, "key": "password" },
                "xpack.security.enabled": "true",
                "xpack.security.http.ssl.enabled": "false",
                "node.store.allow_mmap": "false",
                "ES_JAVA_OPTS": format!("-Xms{heap} -Xmx{heap}"),
            },
            "storage": volume("30Gi", "/usr/share/elasticsearch/data"),
            "probes": { "port": "http", "startupSeconds": 600 },
            // The entrypoint writes the keystore under /usr/share/elasticsearch/config.
            "security": user(1000, 1000, false),
            "resources": resources("1", "2Gi", "2", "4Gi"),
            "terminationGracePeriod": "120s",
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            ..Supplied::default()
        },
    }
}
