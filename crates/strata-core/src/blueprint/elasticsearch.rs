//! Elasticsearch: one node with security on (password from a generated
//! Secret), or a cluster run by Elastic's ECK operator; memory-mapped
//! storage off either way, so nodes need no host sysctl. With `retention`,
//! a Job puts an index lifecycle policy and the index template applying it.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, resources, user, volume};
use crate::diag::Diagnostic;
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Members, Mode, OptionCheck, OptionDoc, OptionValue, Platform,
    Recipe, Releases, Service, Supplied, Tuning,
};

/// The `elasticsearch` blueprint.
pub(super) struct Elasticsearch;

impl Blueprint for Elasticsearch {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn check_options(&self, check: &OptionCheck<'_>) -> Vec<Diagnostic> {
        check_options(check)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "elasticsearch",
    summary: "Elasticsearch with security enabled and the `elastic` password generated",
    modes: &[SINGLE, ECK],
    version: "8.15.3",
    takes: &[],
    options: &[
        OptionDoc::text(
            "heap",
            "The JVM heap, such as `1g`; `1g` by default (keep it half the memory limit).",
        ),
        OptionDoc::of(
            OptionValue::Period,
            "retention",
            "A period: how long the indices of `retentionIndices` are kept, such as `30d`. A Job (`NAME-retention`), once the cluster answers, puts the index lifecycle policy `strata-retention` (a delete phase at that age) and the composable index template `strata-retention` (priority 50) giving it to new indices of those patterns; none by default (needs `retentionIndices`).",
        ),
        OptionDoc::text(
            "retentionIndices",
            "The index patterns `retention` applies to, comma-separated, such as `\"logs-*,traces-*\"`: lowercase letters, digits, `-`, `_`, `.` and `*`, each starting with a letter or digit (needs `retention`).",
        ),
    ],
    auth: Auth::required(
        "user `elastic` (export `user`) with the password in the Secret of export `secret`: `NAME-credentials`, key `password`; `eck`: ECK's `NAME-es-elastic-user`, key `elastic`, over HTTPS signed by ECK's CA (`NAME-es-http-certs-public`)",
    ),
};

/// The releases both modes render for: security settings given as
/// variables, composable index templates, and what ECK 2 runs.
const VERSIONS: &[Releases] = &[Releases::minors((7, 17), (7, 17)), Releases::majors(8, 8)];

/// The `single` mode.
const SINGLE: Mode = Mode::new(
    "single",
    "one node (`discovery.type: single-node`); for a cluster use `eck`, which sets up the transport TLS a cluster needs",
    1,
)
.versions(VERSIONS);

/// The `eck` mode.
const ECK: Mode = Mode::new(
    "eck",
    "an `Elasticsearch` of Elastic's ECK operator: a node set of `replicas` nodes (3 by default) with TLS on HTTP and transport, the `elastic` user's password in `NAME-es-elastic-user` (key `elastic`), a PodDisruptionBudget",
    3,
)
.operator("eck-operator")
.operated()
.versions(VERSIONS);

/// The label of the pods of the Job that sets up index retention, whose
/// value is the service's name: the NetworkPolicies' member group.
const RETENTION_LABEL: &str = "strata.dev/retention-of";

/// The name of the lifecycle policy and of the index template the Job puts.
const RETENTION_NAME: &str = "strata-retention";

/// The index template's priority: above the 0 of templates written without
/// one, below the 100 of Elasticsearch's built-in templates (`logs-*-*`,
/// `metrics-*-*`…), so data streams keep theirs. Templates of the same
/// priority may not share indices.
const RETENTION_PRIORITY: u32 = 50;

/// Where the `eck` Job reads the CA of ECK's HTTP certificate.
const ECK_CA_DIR: &str = "/etc/elasticsearch-http";

/// The patterns of `retentionIndices`.
fn index_patterns(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `pattern` names indices Elasticsearch can create: lowercase, no
/// separators or quotes, and a name's first character (a bare `*` would
/// match every index and take over the applications' own templates).
fn is_index_pattern(pattern: &str) -> bool {
    pattern.len() <= 255
        && pattern.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && pattern.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '*')
        })
}

/// `retention` and `retentionIndices` go together, and the patterns must be
/// index names (the period itself is checked as the catalog checks periods).
fn check_options(check: &OptionCheck<'_>) -> Vec<crate::diag::Diagnostic> {
    let mut errors = Vec::new();
    let retention = check.get("retention");
    let indices = check.get("retentionIndices");
    let key = |name: &str| {
        check
            .options
            .iter()
            .flat_map(|o| o.value.iter())
            .find(|(k, _)| k.value == name)
            .map(|(k, _)| k.span)
    };
    if let (Some(_), None) = (retention, indices) {
        errors.push(
            check
                .error(
                    "invalid-option",
                    "the option `retention` needs the option `retentionIndices`".into(),
                    key("retention").unwrap_or(check.span),
                    "no indices named",
                )
                .help("name the indices it deletes, such as `retentionIndices: \"logs-*\"`: a template for every index would take over the applications' own"),
        );
    }
    if let (None, Some(_)) = (retention, indices) {
        errors.push(
            check
                .error(
                    "invalid-option",
                    "the option `retentionIndices` needs the option `retention`".into(),
                    key("retentionIndices").unwrap_or(check.span),
                    "nothing to apply it to",
                )
                .help("say how long they are kept, such as `retention: 30d`"),
        );
    }
    if let Some(list) = indices {
        let patterns = index_patterns(&list.value);
        let bad: Vec<&&str> = patterns.iter().filter(|p| !is_index_pattern(p)).collect();
        if patterns.is_empty() || !bad.is_empty() {
            let found = if patterns.is_empty() {
                "no pattern".to_string()
            } else {
                bad.iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            errors.push(
                check
                    .error(
                        "invalid-option",
                        format!("the option `retentionIndices` takes index patterns, not {found}"),
                        list.span,
                        "not index patterns",
                    )
                    .help("write comma-separated patterns of lowercase letters, digits, `-`, `_`, `.` and `*`, each starting with a letter or digit, such as `\"logs-*,traces-*\"`"),
            );
        }
    }
    errors
}

/// The `Elasticsearch` of `eck` mode, and the retention Job of either mode.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let mut out = Vec::new();
    if *tuning.mode == ECK {
        out.push(eck_cluster(platform, service, tuning));
    }
    out.extend(retention_job(platform, service, tuning));
    out
}

/// The lifecycle policy of `retention`: indices are deleted once that old
/// (counted from their creation, as no rollover is configured).
fn retention_policy(retention: &str) -> Value {
    json!({
        "policy": {
            "_meta": { "managed_by": "strata" },
            "phases": { "delete": { "min_age": retention, "actions": { "delete": {} } } },
        },
    })
}

/// The composable index template giving the policy to new indices of
/// `patterns`.
fn retention_template(patterns: &[&str]) -> Value {
    json!({
        "index_patterns": patterns,
        "priority": RETENTION_PRIORITY,
        "template": { "settings": { "index.lifecycle.name": RETENTION_NAME } },
        "_meta": { "managed_by": "strata" },
    })
}

/// The Job putting the lifecycle policy and the index template once the
/// cluster answers: both are created or replaced, so it runs again
/// harmlessly on every apply. It logs in as `elastic` (the generated
/// password, or ECK's Secret `NAME-es-elastic-user`), which curl reads from
/// a file the script writes first, not from its command line; in `eck` mode
/// it checks the HTTPS certificate against ECK's CA
/// (`NAME-es-http-certs-public`).
fn retention_job(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let retention = tuning.option("retention", "");
    if retention.is_empty() {
        return Vec::new();
    }
    let patterns = index_patterns(tuning.option("retentionIndices", ""));
    let eck = *tuning.mode == ECK;
    let (url, secret, key, tls) = if eck {
        (
            // The Service's name as ECK's certificate lists it.
            format!(
                "https://{}-es-http.{}.svc:9200",
                service.name, service.namespace
            ),
            format!("{}-es-elastic-user", service.name),
            "elastic",
            format!(" --cacert {ECK_CA_DIR}/tls.crt"),
        )
    } else {
        (
            format!("http://{}:9200", tuning.host(&tuning.service)),
            credentials_name(tuning),
            "password",
            String::new(),
        )
    };
    let script = format!(
        "set -eu\n\
         # The login, for curl to read: on no command line.\n\
         umask 077\n\
         cat > /tmp/elastic.curl <<EOF\n\
         user = \"elastic:$ELASTIC_PASSWORD\"\n\
         EOF\n\
         es() {{ curl -fsS{tls} -K /tmp/elastic.curl -H 'Content-Type: application/json' \"$@\"; }}\n\
         # Wait for the cluster (10 minutes at most).\n\
         for attempt in $(seq 1 120); do\n  \
           es -o /dev/null '{url}/_cluster/health?wait_for_status=yellow&timeout=5s' && break\n  \
           sleep 5\n\
         done\n\
         es -X PUT '{url}/_ilm/policy/{RETENTION_NAME}' -d '{}'\n\
         echo\n\
         es -X PUT '{url}/_index_template/{RETENTION_NAME}' -d '{}'\n\
         echo\n",
        retention_policy(retention),
        retention_template(&patterns),
    );
    let env = vec![json!({
        "name": "ELASTIC_PASSWORD",
        "valueFrom": { "secretKeyRef": { "name": secret, "key": key } },
    })];
    let image = format!(
        "docker.elastic.co/elasticsearch/elasticsearch:{}",
        tuning.version
    );
    let mut objects = recipe::member_setup(
        platform,
        service,
        recipe::MemberSetup {
            what: "retention",
            label: RETENTION_LABEL,
            user: 1000,
            image: &image,
            script: &script,
            env,
        },
    );
    if eck && let Some(job) = objects.iter_mut().find(|o| o["kind"] == "Job") {
        let pod = &mut job["spec"]["template"]["spec"];
        if let Some(volumes) = pod["volumes"].as_array_mut() {
            volumes.push(json!({ "name": "http-ca", "secret": { "secretName": format!("{}-es-http-certs-public", service.name) } }));
        }
        if let Some(mounts) = pod["containers"][0]["volumeMounts"].as_array_mut() {
            mounts.push(json!({ "name": "http-ca", "mountPath": ECK_CA_DIR, "readOnly": true }));
        }
    }
    objects
}

/// The `Elasticsearch` of `eck` mode. ECK makes the certificates, the
/// Services (`NAME-es-http`) and the `elastic` user's Secret.
fn eck_cluster(platform: &Platform, service: &Service, tuning: &Tuning) -> Value {
    let heap = tuning.option("heap", "1g");
    let claim = recipe::claim_spec(service, &recipe::storage_size(service));
    json!({
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": crate::render::metadata(platform, service, &service.name),
        "spec": {
            "version": tuning.version,
            "nodeSets": [{
                "name": "default",
                "count": service.replicas,
                // Memory-mapped storage off: nodes need no vm.max_map_count sysctl.
                "config": { "node.store.allow_mmap": false },
                "podTemplate": {
                    "metadata": { "labels": crate::render::service_labels(platform, service) },
                    "spec": {
                        "securityContext": crate::render::pod_security_context(service),
                        "containers": [{
                            "name": "elasticsearch",
                            "env": [{ "name": "ES_JAVA_OPTS", "value": format!("-Xms{heap} -Xmx{heap}") }],
                            "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
                            "securityContext": crate::render::operated_container_security(service),
                        }],
                    },
                },
                "volumeClaimTemplates": [{ "metadata": { "name": "elasticsearch-data" }, "spec": claim }],
            }],
        },
    })
}

/// The retention Job's pods, as a member group, when `retention` is set.
fn retention_members(tuning: &Tuning) -> Vec<Members> {
    if tuning.option("retention", "").is_empty() {
        return Vec::new();
    }
    vec![Members::setup_job(
        "retention",
        RETENTION_LABEL,
        &tuning.service,
    )]
}

/// The label ECK gives every node of a cluster.
const CLUSTER_LABEL: &str = "elasticsearch.k8s.elastic.co/cluster-name";

fn recipe(tuning: &Tuning) -> Recipe {
    if *tuning.mode == ECK {
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
                pods: Some(crate::model::label_map(&[(CLUSTER_LABEL, &tuning.service)])),
                members: {
                    let mut groups = vec![
                        Members::new("members", &[(CLUSTER_LABEL, &tuning.service)])
                            .operated(&[9200]),
                    ];
                    groups.extend(retention_members(tuning));
                    groups
                },
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
            // The retention Job and the server, so the Job may reach it.
            members: if retention_members(tuning).is_empty() {
                Vec::new()
            } else {
                let mut groups = vec![Members::new(
                    "servers",
                    &[
                        ("app.kubernetes.io/name", &tuning.service),
                        ("app.kubernetes.io/instance", &tuning.platform),
                    ],
                )];
                groups.extend(retention_members(tuning));
                groups
            },
            ..Supplied::default()
        },
    }
}
