//! Elasticsearch: one node with security on (password from a generated
//! Secret), or a cluster run by Elastic's ECK operator; memory-mapped
//! storage off either way, so nodes need no host sysctl.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, resources, user, volume};
use super::{Blueprint, Members, Mode, OptionDoc, Recipe, Supplied, Tuning};
use crate::model::{Platform, Service};

/// The `elasticsearch` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "elasticsearch",
    summary: "Elasticsearch with security enabled and the `elastic` password generated",
    modes: &[
        Mode {
            name: "single",
            summary: "one node (`discovery.type: single-node`); for a cluster use `eck`, which sets up the transport TLS a cluster needs",
            replicas: 1,
            operator: None,
            operated: false,
            sharded: false,
        },
        Mode {
            name: "eck",
            summary: "an `Elasticsearch` of Elastic's ECK operator: a node set of `replicas` nodes (3 by default) with TLS on HTTP and transport, the `elastic` user's password in `NAME-es-elastic-user` (key `elastic`), a PodDisruptionBudget",
            replicas: 3,
            operator: Some("eck-operator"),
            operated: true,
            sharded: false,
        },
    ],
    version: "8.15.3",
    takes: &[],
    options: &[OptionDoc {
        name: "heap",
        summary: "The JVM heap, such as `1g`; `1g` by default (keep it half the memory limit).",
    }],
    recipe,
    objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
    check_options: recipe::no_option_checks,
};

/// The `Elasticsearch` of `eck` mode. ECK makes the certificates, the
/// Services (`NAME-es-http`) and the `elastic` user's Secret.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if tuning.mode.name != "eck" {
        return Vec::new();
    }
    let heap = tuning.option("heap", "1g");
    let claim = recipe::claim_spec(service, &recipe::storage_size(service));
    vec![json!({
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": recipe::metadata(platform, service, &service.name),
        "spec": {
            "version": tuning.version,
            "nodeSets": [{
                "name": "default",
                "count": service.replicas,
                // Memory-mapped storage off: nodes need no vm.max_map_count sysctl.
                "config": { "node.store.allow_mmap": false },
                "podTemplate": {
                    "metadata": { "labels": crate::render::service_labels(platform, service) },
                    "spec": { "containers": [{
                        "name": "elasticsearch",
                        "env": [{ "name": "ES_JAVA_OPTS", "value": format!("-Xms{heap} -Xmx{heap}") }],
                        "resources": recipe::resource_values(service),
                    }] },
                },
                "volumeClaimTemplates": [{ "metadata": { "name": "elasticsearch-data" }, "spec": claim }],
            }],
        },
    })]
}

/// The label ECK gives every node of a cluster.
const CLUSTER_LABEL: &str = "elasticsearch.k8s.elastic.co/cluster-name";

fn recipe(tuning: &Tuning) -> Recipe {
    if tuning.mode.name == "eck" {
        let http = format!("{}-es-http", tuning.service);
        let mut exports = recipe::endpoint(tuning, &http, "http", 9200);
        // ECK serves HTTPS with its own CA (Secret `NAME-es-http-certs-public`).
        exports.retain(|(k, _)| k != "url");
        exports.push(("url".into(), format!("https://{}:9200", tuning.host(&http))));
        exports.push(("user".into(), "elastic".into()));
        exports.push((
            "secret".into(),
            format!("{}-es-elastic-user", tuning.service),
        ));
        return Recipe {
            spec: json!({
                "image": format!("docker.elastic.co/elasticsearch/elasticsearch:{}", tuning.version),
                "kind": "stateful",
                "ports": { "http": 9200, "transport": 9300 },
                "storage": volume("30Gi", "/usr/share/elasticsearch/data"),
                "resources": resources("1", "2Gi", "2", "4Gi"),
            }),
            supplied: Supplied {
                exports,
                // ECK labels every node with its cluster's name and reaches
                // them on the HTTP port.
                pods: Some(super::labels(&[(CLUSTER_LABEL, &tuning.service)])),
                members: vec![
                    Members::new("members", &[(CLUSTER_LABEL, &tuning.service)]).operated(&[9200]),
                ],
                ..Supplied::default()
            },
        };
    }
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
