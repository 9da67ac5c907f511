//! The catalog's behaviour: every blueprint in every mode resolves and
//! renders (snapshot per blueprint and mode), options are checked at their
//! span, the user's fields win, and the generated reference is current.

use serde_json::Value;

use super::*;
use crate::diag::Diagnostic;
use crate::model::{self, Key, Mode};
use crate::render::{self, NoAssets, Object};
use crate::source::SourceFile;
use crate::spec;

const OPERATORS: &str = "operators: {\n  cloudnative-pg: { installed: true },\n  strimzi: { installed: true },\n  clickhouse-operator: { installed: true },\n  redis-operator: { installed: true },\n  eck-operator: { installed: true }, mysql-operator: { installed: true }, milvus-operator: { installed: true }, kuberay-operator: { installed: true }, prometheus-operator: { installed: true } }\n";

fn platform(services: &str) -> Result<model::Platform, Vec<Diagnostic>> {
    let text =
        format!("platform: demo\n{OPERATORS}tiers:\n  - name: data\n    services:\n{services}");
    let file = SourceFile::new("platform.yaml", text);
    let doc = spec::parse(&file)?;
    crate::resolve(&doc, None)
}

fn rendered(services: &str) -> Vec<Object> {
    let platform = platform(services).unwrap_or_else(|e| panic!("{services}\n{e:#?}"));
    render::render(&platform, &NoAssets)
        .expect("renders")
        .objects
}

fn codes(services: &str) -> Vec<String> {
    match platform(services) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| format!("{} {}", e.code, e.location().unwrap_or_default()))
            .collect(),
    }
}

/// The typed keys a blueprint mode is exercised with.
fn sample(blueprint: &dyn Blueprint, mode: &Mode) -> String {
    let mut line = format!(
        "      {0}: {{ blueprint: {0}, mode: {1}",
        blueprint.name(),
        mode.name
    );
    if blueprint.info().takes.contains(&Key::Databases) {
        line.push_str(", databases: [app, { name: audit, owner: auditor, schemas: [events] }]");
    }
    if blueprint.info().takes.contains(&Key::Topics) {
        line.push_str(", topics: [orders, { name: payments, partitions: 12, retention: 7d }]");
    }
    if blueprint.info().takes.contains(&Key::Users) {
        line.push_str(", options: { buckets: \"models,logs\" }, users: { app: [models], auditor: [models, logs] }");
    }
    if mode.sharded {
        line.push_str(", shards: 2");
    }
    if blueprint.name() == "elasticsearch" {
        line.push_str(", options: { retention: 30d, retentionIndices: \"logs-*,traces-*\" }");
    }
    // Patroni's leader lock needs an etcd of the platform, and its pods
    // reach the API server (a top-level key after the services).
    if (blueprint.name(), mode.name) == ("postgresql", "patroni") {
        line.push_str(", options: { dcs: etcd } }\n      etcd: { blueprint: etcd }\nnetwork: { apiServer: 10.0.0.1/32 }\n");
        return line;
    }
    if mode.operator == Some("milvus-operator") {
        // Its store and its stream, with a user of its own.
        line.push_str(", storage: { size: 20Gi, class: fast }, options: { objectStore: store, messageStream: stream } }\n");
        line.push_str("      store: { blueprint: minio, options: { buckets: vectors }, users: { milvus: [vectors] } }\n");
        line.push_str("      stream: { blueprint: kafka");
    }
    line.push_str(" }\n");
    line
}

fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Value {
    &objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind}/{name} in {:?}",
                objects.iter().map(Object::key).collect::<Vec<_>>()
            )
        })
        .value
}

fn container(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn every_blueprint_renders_in_every_mode() {
    for blueprint in super::catalog().all() {
        for mode in blueprint.info().modes {
            let objects = rendered(&sample(blueprint, mode));
            let own: Vec<&Object> = objects
                .iter()
                .filter(|o| o.service.as_deref() == Some(blueprint.name()))
                .collect();
            assert!(!own.is_empty(), "{} {}", blueprint.name(), mode.name);
            let yaml = crate::export::stream(&own, crate::export::Format::Yaml);
            assert!(
                !yaml.contains(":latest"),
                "{} pins its image",
                blueprint.name()
            );
            insta::assert_snapshot!(format!("{}-{}", blueprint.name(), mode.name), yaml);
            if mode.operated {
                assert!(
                    own.iter()
                        .all(|o| !matches!(o.kind(), "StatefulSet" | "Deployment")),
                    "the operator runs the pods of {} {}",
                    blueprint.name(),
                    mode.name
                );
            } else {
                let workload = own
                    .iter()
                    .find(|o| {
                        matches!(o.kind(), "StatefulSet" | "Deployment" | "DaemonSet")
                            && o.name() == blueprint.name()
                    })
                    .expect("a workload");
                let container = container(&workload.value);
                // Spilo's image carries several PostgreSQL majors; the
                // version picks one.
                let runs_version = container["image"]
                    .as_str()
                    .unwrap()
                    .ends_with(blueprint.info().version)
                    || container["env"].as_array().is_some_and(|env| {
                        env.iter().any(|v| {
                            v["name"] == "PGVERSION"
                                && blueprint.info().version.starts_with(&format!(
                                    "{}.",
                                    v["value"].as_str().unwrap_or_default()
                                ))
                        })
                    });
                assert!(runs_version, "{} {}", blueprint.name(), mode.name);
                assert!(
                    container["readinessProbe"].is_object(),
                    "{} is probed",
                    blueprint.name()
                );
            }
        }
    }
}

#[test]
fn every_blueprint_exports_a_url_with_its_scheme() {
    for blueprint in super::catalog().all() {
        for mode in blueprint.info().modes {
            let platform = platform(&sample(blueprint, mode)).unwrap();
            let service = platform.service(blueprint.name()).unwrap();
            let exports = &service.tuning.as_ref().unwrap().supplied.exports;
            let url = exports
                .iter()
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            assert!(
                url.contains("://") && url.contains(".svc.cluster.local"),
                "{} {}: {url}",
                blueprint.name(),
                mode.name
            );
        }
    }
}

#[test]
fn references_to_blueprint_exports_resolve_and_imply_needs() {
    let platform = platform(
        "      redis: { blueprint: redis, mode: sentinel }\n      pg: { blueprint: postgresql, mode: ha, databases: [nova_core] }\n  - name: apps\n    services:\n      api: { image: demo/api:1.0, env: { REDIS: '${redis.url}', DB: '${pg.url}', SECRET: '${pg.secret}' } }\n",
    )
    .unwrap();
    let api = platform.service("api").unwrap();
    let value = |name: &str| match &api.env.iter().find(|e| e.name == name).unwrap().value {
        model::EnvValue::Literal(v) => v.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        value("REDIS"),
        "redis+sentinel://redis-sentinel.demo.svc.cluster.local:26379/redis"
    );
    assert_eq!(
        value("DB"),
        "postgresql://pg-rw.demo.svc.cluster.local:5432/nova_core"
    );
    assert_eq!(value("SECRET"), "pg-nova-core");
    assert_eq!(api.needs.len(), 3);
    assert!(api.wave > platform.service("redis").unwrap().wave);
}

#[test]
fn redis_cluster_is_a_redis_cluster_of_leaders_and_followers() {
    let objects = rendered(
        "      cache: { blueprint: redis, mode: cluster, shards: 3, replicas: 2, storage: 20Gi }\n",
    );
    let cluster = find(&objects, "RedisCluster", "cache");
    assert_eq!(cluster["spec"]["clusterSize"], 3);
    assert_eq!(cluster["spec"]["redisLeader"]["replicas"], 3);
    assert_eq!(cluster["spec"]["redisFollower"]["replicas"], 3);
    assert_eq!(
        cluster["spec"]["kubernetesConfig"]["redisSecret"]["name"],
        "cache-credentials"
    );
    assert_eq!(
        cluster["spec"]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
        "20Gi"
    );
    assert_eq!(
        cluster["spec"]["kubernetesConfig"]["image"],
        "quay.io/opstree/redis:v7.4.5"
    );
    assert!(
        objects.iter().all(|o| o.kind() != "StatefulSet"),
        "the operator runs the pods"
    );
    let plan = crate::plan::Plan::new(
        &platform("      cache: { blueprint: redis, mode: cluster, shards: 3, replicas: 2, storage: 20Gi }\n")
            .unwrap(),
    );
    assert_eq!(
        (plan.total.pods, plan.total.pvcs),
        (6, 12),
        "leaders and followers, data and node table"
    );
    // Shards are for sharded modes only.
    assert_eq!(
        codes("      cache: { blueprint: redis, mode: sentinel, shards: 3 }\n"),
        ["unsupported-option platform.yaml:11:58"]
    );
}

#[test]
fn elasticsearch_eck_is_a_node_set_with_the_platform_s_labels() {
    let objects =
        rendered("      search: { blueprint: elasticsearch, mode: eck, storage: 50Gi }\n");
    let cluster = find(&objects, "Elasticsearch", "search");
    let set = &cluster["spec"]["nodeSets"][0];
    assert_eq!(set["count"], 3);
    assert_eq!(
        set["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "50Gi"
    );
    // The pods carry the labels callers' NetworkPolicies select.
    assert_eq!(
        set["podTemplate"]["metadata"]["labels"]["app.kubernetes.io/name"],
        "search"
    );
    let platform = platform("      search: { blueprint: elasticsearch, mode: eck }\n").unwrap();
    let exports = &platform.services[0]
        .tuning
        .as_ref()
        .unwrap()
        .supplied
        .exports;
    assert!(exports.contains(&("secret".into(), "search-es-elastic-user".into())));
    assert!(exports.contains(&(
        "url".into(),
        "https://search-es-http.demo.svc.cluster.local:9200".into()
    )));
}

#[test]
fn plan_counts_the_sentinel_pods_beside_the_data_pods() {
    let standalone = platform("      redis: { blueprint: redis }\n").unwrap();
    let sentinel = platform("      redis: { blueprint: redis, mode: sentinel }\n").unwrap();
    let standalone = crate::plan::Plan::new(&standalone).total;
    let sentinel = crate::plan::Plan::new(&sentinel).total;
    assert_eq!((standalone.services, standalone.pods), (1, 1));
    // Three data pods and three sentinels, each sentinel a quarter of a data pod.
    assert_eq!((sentinel.services, sentinel.pods), (1, 6));
    assert_eq!(
        sentinel.cpu_requests,
        standalone
            .cpu_requests
            .times(3)
            .saturating_add(standalone.cpu_requests.scaled(0.25).times(3))
    );
}

#[test]
fn redis_sentinel_options_set_what_each_sentinel_requests_and_plan_counts_it() {
    let services = "      redis: { blueprint: redis, mode: sentinel, resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: 500m, memory: 512Mi } }, options: { sentinelCpu: 50m, sentinelMemory: 64Mi } }\n";
    let objects = rendered(services);
    let resources = &container(find(&objects, "StatefulSet", "redis-sentinel"))["resources"];
    assert_eq!(resources["requests"]["cpu"], "50m");
    assert_eq!(resources["requests"]["memory"], "64Mi");
    // The limits stay a quarter of the Redis pod's.
    assert_eq!(resources["limits"]["cpu"], "125m");
    assert_eq!(resources["limits"]["memory"], "128Mi");
    // A request above the quarter raises the limit to it.
    let objects = rendered(
        "      redis: { blueprint: redis, mode: sentinel, resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: 500m, memory: 512Mi } }, options: { sentinelCpu: 200m } }\n",
    );
    let resources = &container(find(&objects, "StatefulSet", "redis-sentinel"))["resources"];
    assert_eq!(resources["requests"]["cpu"], "200m");
    assert_eq!(resources["limits"]["cpu"], "200m");
    let total = crate::plan::Plan::new(&platform(services).unwrap()).total;
    let cpu = |text| crate::quantity::Quantity::parse(text, crate::quantity::Measure::Cpu).unwrap();
    // Three Redis pods at 100m and three sentinels at 50m.
    assert_eq!(total.cpu_requests, cpu("450m"));
}

#[test]
fn redis_sentinel_is_a_master_group_and_a_quorum_of_sentinels() {
    let objects = rendered("      redis: { blueprint: redis, mode: sentinel }\n");
    let data = find(&objects, "StatefulSet", "redis");
    let sentinel = find(&objects, "StatefulSet", "redis-sentinel");
    assert_eq!(data["spec"]["replicas"], 3);
    assert_eq!(sentinel["spec"]["replicas"], 3);
    let script = find(&objects, "ConfigMap", "redis-sentinel-config")["data"]["sentinel.sh"]
        .as_str()
        .unwrap();
    assert!(
        script.contains("sentinel monitor redis $master 6379 2"),
        "{script}"
    );
    let conf = find(&objects, "ConfigMap", "redis-config")["data"]["redis.conf"]
        .as_str()
        .unwrap();
    assert!(
        conf.contains("appendonly yes") && conf.contains("save "),
        "AOF and RDB"
    );
    assert_eq!(
        find(&objects, "PodDisruptionBudget", "redis-sentinel")["spec"]["maxUnavailable"],
        1
    );
    assert_eq!(
        container(data)["securityContext"]["readOnlyRootFilesystem"],
        true
    );
}

#[test]
fn postgresql_backup_options_name_the_secret_keys_and_wal_parallelism() {
    let objects = rendered(
        "      pg: { blueprint: postgresql, mode: ha, options: { backup: 's3://backups/pg', backupSecret: aws, backupSecretKey: SECRET_ACCESS_KEY, walMaxParallel: '8' } }\n",
    );
    let store = &find(&objects, "Cluster", "pg")["spec"]["backup"]["barmanObjectStore"];
    assert_eq!(store["wal"]["maxParallel"], 8);
    assert_eq!(
        store["s3Credentials"],
        serde_json::json!({
            "accessKeyId": { "name": "aws", "key": "ACCESS_KEY_ID" },
            "secretAccessKey": { "name": "aws", "key": "SECRET_ACCESS_KEY" },
        })
    );
    // Without what they apply to, they would be ignored: rejected instead.
    assert_eq!(
        codes("      pg: { blueprint: postgresql, mode: ha, options: { walMaxParallel: '8' } }\n"),
        ["invalid-option platform.yaml:11:57"]
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: ha, options: { backup: 's3://b/pg', backupAccessKey: KEY } }\n"
        ),
        ["invalid-option platform.yaml:11:78"]
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: ha, options: { backup: 's3://b/pg', walMaxParallel: '0' } }\n"
        ),
        ["invalid-option platform.yaml:11:94"]
    );
}

#[test]
fn patroni_elects_in_etcd_and_its_services_follow_the_role_labels() {
    let services = "      pg: { blueprint: postgresql, mode: patroni, options: { dcs: etcd }, databases: [{ name: core, owner: core, schemas: [auth] }] }\n      etcd: { blueprint: etcd }\nnetwork: { apiServer: 10.0.0.1/32 }\n";
    let platform = platform(services).unwrap();
    let pg = platform.service("pg").unwrap();
    assert_eq!(
        pg.exported("host"),
        Some("pg-primary.demo.svc.cluster.local")
    );
    assert_eq!(
        pg.exported("readHost"),
        Some("pg-replicas.demo.svc.cluster.local")
    );
    let (from, to) = (
        platform.services.iter().position(|s| s.name == "pg"),
        platform.services.iter().position(|s| s.name == "etcd"),
    );
    assert!(
        platform
            .edges
            .iter()
            .any(|e| Some(e.from().0) == from && Some(e.to().0) == to),
        "the pods call etcd and start after it"
    );
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    for (name, role) in [("pg-primary", "master"), ("pg-replicas", "replica")] {
        let selector = &find(&objects, "Service", name)["spec"]["selector"];
        assert_eq!(selector["spilo-role"], role);
        assert_eq!(selector["app.kubernetes.io/name"], "pg");
    }
    let pod = &find(&objects, "StatefulSet", "pg")["spec"]["template"]["spec"];
    let env = |name: &str| {
        pod["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        env("ETCD3_HOST")["value"],
        "etcd.demo.svc.cluster.local:2379"
    );
    assert_eq!(env("SCOPE")["value"], "pg");
    assert_eq!(env("PGVERSION")["value"], "16");
    assert_eq!(pod["automountServiceAccountToken"], true);
    let role = find(&objects, "Role", "pg");
    assert_eq!(role["rules"][0]["resources"], serde_json::json!(["pods"]));
    assert_eq!(
        role["rules"][0]["verbs"],
        serde_json::json!(["get", "patch"])
    );
    let job = &find(&objects, "Job", "pg-databases")["spec"]["template"]["spec"];
    let script = job["containers"][0]["command"][2].as_str().unwrap();
    assert!(
        script.contains("WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'core')\\gexec")
    );
    assert!(
        script.contains("\\connect core\nCREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION core;")
    );
    assert_eq!(
        job["containers"][0]["env"][0]["value"],
        "pg-primary.demo.svc.cluster.local"
    );
}

#[test]
fn patroni_needs_its_etcd_and_a_version_its_image_runs() {
    assert_eq!(
        codes("      pg: { blueprint: postgresql, mode: patroni }\n"),
        ["missing-option platform.yaml:11:42"]
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: patroni, version: \"17.2\", options: { dcs: etcd } }\n      etcd: { blueprint: etcd }\n"
        ),
        ["unsupported-version platform.yaml:11:60"]
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: patroni, options: { dcs: etcd, backup: \"s3://b/p\" } }\n      etcd: { blueprint: etcd }\n"
        ),
        ["unsupported-option platform.yaml:11:73"]
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: patroni, options: { dcs: cache } }\n      cache: { blueprint: redis }\n"
        ),
        ["invalid-option platform.yaml:11:67"]
    );
    assert_eq!(
        codes("      pg: { blueprint: postgresql, mode: ha, options: { dcs: etcd } }\n"),
        ["unsupported-option platform.yaml:11:57"]
    );
}

#[test]
fn a_monitored_single_postgresql_runs_an_exporter_and_patroni_serves_its_own() {
    let single = monitored("      pg: { blueprint: postgresql }\n", false);
    let statefulset = find(&single, "StatefulSet", "pg");
    let containers = statefulset["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers[1]["name"], "postgres-exporter");
    assert_eq!(containers[1]["ports"][0]["containerPort"], 9187);
    assert!(!containers[0]["ports"].to_string().contains("9187"));
    assert_eq!(
        containers[1]["env"][2]["valueFrom"]["secretKeyRef"]["name"],
        "pg-credentials"
    );
    assert_eq!(
        statefulset["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"],
        "9187"
    );
    assert_eq!(scraped_ports(&single, "pg"), [9187]);
    let patroni = monitored(
        "      pg: { blueprint: postgresql, mode: patroni, options: { dcs: etcd } }\n      etcd: { blueprint: etcd }\nnetwork: { apiServer: 10.0.0.1/32 }\n",
        false,
    );
    let statefulset = find(&patroni, "StatefulSet", "pg");
    assert_eq!(
        statefulset["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "Patroni serves its metrics itself"
    );
    let annotations = &statefulset["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], "8008");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
}

#[test]
fn postgresql_ha_is_a_cloudnative_pg_cluster_with_databases() {
    let objects = rendered(
        "      pg: { blueprint: postgresql, mode: ha, replicas: 3, storage: 100Gi, databases: [nova_core, { name: nova_messaging, owner: messaging, schemas: [inbox] }], options: { backup: 's3://backups/pg' } }\n",
    );
    let cluster = find(&objects, "Cluster", "pg");
    assert_eq!(cluster["spec"]["instances"], 3);
    assert_eq!(cluster["spec"]["storage"]["size"], "100Gi");
    assert_eq!(
        cluster["spec"]["bootstrap"]["initdb"]["database"],
        "nova_core"
    );
    assert_eq!(
        cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"],
        "pg-nova-core"
    );
    // Each schema is created in its own database, owned by its owner.
    let messaging = find(&objects, "Database", "pg-nova-messaging");
    assert_eq!(messaging["spec"]["name"], "nova_messaging");
    assert_eq!(messaging["spec"]["owner"], "messaging");
    assert_eq!(messaging["spec"]["cluster"]["name"], "pg");
    assert_eq!(messaging["spec"]["schemas"][0]["name"], "inbox");
    assert_eq!(messaging["spec"]["schemas"][0]["owner"], "messaging");
    assert!(find(&objects, "Database", "pg-nova-core")["spec"]["schemas"].is_null());
    assert_eq!(
        cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"],
        "s3://backups/pg"
    );
    find(&objects, "ScheduledBackup", "pg-daily");
    assert!(objects.iter().all(|o| o.kind() != "StatefulSet"));
    // Owners after the first log in with passwords CloudNativePG manages.
    let roles = cluster["spec"]["managed"]["roles"].as_array().unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["messaging"]);
    assert_eq!(roles[0]["passwordSecret"]["name"], "pg-messaging");
    for (secret, owner) in [("pg-messaging", "messaging"), ("pg-nova-core", "nova_core")] {
        let secret = find(&objects, "Secret", secret);
        assert_eq!(secret["type"], "kubernetes.io/basic-auth");
        assert_eq!(secret["stringData"]["username"], owner);
        assert_eq!(
            secret["metadata"]["annotations"]["strata.dev/generate"],
            "password"
        );
    }
}

#[test]
fn each_database_exports_its_url_user_and_owner_secret() {
    for mode in ["single", "ha"] {
        let platform = platform(&format!(
            "      pg: {{ blueprint: postgresql, mode: {mode}, databases: [core, {{ name: audit, owner: auditor }}] }}\n"
        ))
        .unwrap();
        let exports = &platform.services[0]
            .tuning
            .as_ref()
            .unwrap()
            .supplied
            .exports;
        let get = |field: &str| {
            exports
                .iter()
                .find(|(k, _)| k == field)
                .map_or_else(|| panic!("{mode}: no export {field}"), |(_, v)| v.as_str())
        };
        let host = if mode == "ha" { "pg-rw" } else { "pg" };
        assert_eq!(
            get("databases.audit.url"),
            format!("postgresql://{host}.demo.svc.cluster.local:5432/audit")
        );
        assert_eq!(get("databases.audit.user"), "auditor");
        assert_eq!(get("databases.audit.secret"), "pg-auditor");
        assert_eq!(get("secret"), "pg-core");
        assert_eq!(get("user"), "core");
    }
    let mysql = platform("      db: { blueprint: mysql, databases: [shop] }\n").unwrap();
    let exports = &mysql.services[0].tuning.as_ref().unwrap().supplied.exports;
    assert!(exports.contains(&("databases.shop.secret".into(), "db-shop".into())));
}

#[test]
fn the_user_s_fields_win_and_partial_mappings_merge() {
    let objects = rendered(
        "      cache: { blueprint: redis, version: 7.2.6, storage: 40Gi, env: { EXTRA: 'yes' }, resources: { limits: { memory: 3Gi } } }\n",
    );
    let workload = find(&objects, "StatefulSet", "cache");
    let container = container(workload);
    assert_eq!(container["image"], "redis:7.2.6");
    let claim =
        &workload["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"];
    assert_eq!(claim, "40Gi");
    let mounts = container["volumeMounts"].to_string();
    assert!(
        mounts.contains("\"/data\""),
        "the blueprint's path stays: {mounts}"
    );
    assert_eq!(container["resources"]["limits"]["memory"], "3Gi");
    assert_eq!(container["resources"]["requests"]["memory"], "512Mi");
    let env = container["env"].to_string();
    assert!(
        env.contains("EXTRA") && env.contains("REDIS_PASSWORD"),
        "{env}"
    );
    assert_eq!(
        workload["spec"]["template"]["spec"]["securityContext"]["runAsUser"],
        999
    );
}

#[test]
fn generated_credentials_go_through_secrets() {
    let file = SourceFile::new(
        "p.yaml",
        "platform: demo\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, databases: [shop] }\n",
    );
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &NoAssets).unwrap();
    let secret = set
        .generated_secrets
        .iter()
        .find(|s| s.name == "db-credentials")
        .expect("generated");
    assert_eq!(secret.keys, ["password"]);
    let owner = set
        .generated_secrets
        .iter()
        .find(|s| s.name == "db-shop")
        .expect("the owner's password is generated");
    assert_eq!(owner.keys, ["password"]);
    // Only the user name is rendered; generated values never are.
    for object in set.objects.iter().filter(|o| o.kind() == "Secret") {
        assert!(object.value["stringData"].get("password").is_none());
    }
}

#[test]
fn grafana_gets_datasources_for_the_platform_and_waits_for_them() {
    let platform = platform(
        "      logs: { blueprint: loki }\n      metrics: { blueprint: prometheus }\n      dashboards: { blueprint: grafana }\n",
    )
    .unwrap();
    let grafana = platform.service("dashboards").unwrap();
    let model::FileContent::Inline(text) = &grafana.config.as_ref().unwrap().files[0].content
    else {
        panic!()
    };
    assert!(
        text.contains("url: http://logs.demo.svc.cluster.local:3100"),
        "{text}"
    );
    assert!(text.contains("type: prometheus"), "{text}");
    assert!(grafana.wave > platform.service("logs").unwrap().wave);
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let binding = find(&objects, "ClusterRoleBinding", "demo-demo-metrics");
    assert_eq!(binding["subjects"][0]["name"], "metrics");
}

#[test]
fn option_errors_point_at_the_offending_value() {
    assert_eq!(
        codes("      r: { blueprint: redis, mode: sentinal }\n"),
        ["unknown-mode platform.yaml:11:36"]
    );
    assert_eq!(
        codes("      r: { blueprint: redis, topics: [a] }\n"),
        ["unsupported-option platform.yaml:11:38"]
    );
    assert_eq!(
        codes("      r: { blueprint: redis, options: { quorom: '2' } }\n"),
        ["unsupported-option platform.yaml:11:41"]
    );
    assert_eq!(
        codes("      r: { blueprint: redis, options: { quorum: two } }\n"),
        ["invalid-option platform.yaml:11:49"]
    );
    assert_eq!(
        codes("      r: { blueprint: redis, options: { sentinelMemory: 64MB } }\n"),
        ["invalid-option platform.yaml:11:57"]
    );
    assert_eq!(
        codes("      r: { blueprint: redis, version: latest }\n"),
        ["invalid-option platform.yaml:11:39"]
    );
    assert_eq!(
        codes("      r: { image: redis:7.4.1, mode: sentinel }\n"),
        ["option-without-blueprint platform.yaml:11:38"]
    );
    assert_eq!(
        codes("      k: { blueprint: kafka, topics: [Bad_Topic] }\n"),
        ["invalid-option platform.yaml:11:39"]
    );
    let platform = platform("      r: { blueprint: redis, mode: sentinal }\n");
    let help = platform.unwrap_err()[0].help.clone().unwrap();
    assert!(help.contains("sentinel"), "{help}");
}

#[test]
fn a_missing_operator_is_reported_at_the_mode_with_both_ways_to_declare_it() {
    let file = SourceFile::new(
        "p.yaml",
        "platform: demo\ntiers:\n  - name: data\n    services:\n      pg: { blueprint: postgresql, mode: ha }\n",
    );
    let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
    assert_eq!(errors[0].code, "missing-operator");
    assert_eq!(errors[0].location().unwrap(), "p.yaml:5:42");
    let help = errors[0].help.clone().unwrap();
    assert!(
        help.contains("installed: true") && help.contains("tier:"),
        "{help}"
    );
}

#[test]
fn custom_resources_come_after_the_operator_tier() {
    let file = SourceFile::new(
        "p.yaml",
        "platform: demo\noperators: { strimzi: { tier: operators } }\ntiers:\n  - name: operators\n    manifests: [strimzi.yaml]\n  - name: data\n    services:\n      kafka: { blueprint: kafka, mode: strimzi, topics: [orders] }\n",
    );
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let manifests = platform.tiers[0].manifest_wave.unwrap();
    assert!(platform.service("kafka").unwrap().wave > manifests);
    let file = SourceFile::new(
        "p.yaml",
        "platform: demo\noperators: { strimzi: { tier: operater } }\ntiers:\n  - name: operators\n    manifests: [strimzi.yaml]\n",
    );
    let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
    assert_eq!(errors[0].code, "unknown-tier");
}

#[test]
fn local_environments_scale_blueprints_down() {
    let file = SourceFile::new(
        "p.yaml",
        "platform: demo\nenvironments: { local: { replicas: 1, scale: 0.25 } }\ntiers:\n  - name: data\n    services:\n      redis: { blueprint: redis, mode: sentinel }\n      consul: { blueprint: consul }\n",
    );
    let platform = crate::resolve(&spec::parse(&file).unwrap(), Some("local")).unwrap();
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    assert_eq!(
        find(&objects, "StatefulSet", "redis-sentinel")["spec"]["replicas"],
        1
    );
    let script = find(&objects, "ConfigMap", "redis-sentinel-config")["data"]["sentinel.sh"]
        .as_str()
        .unwrap();
    assert!(script.contains(" 6379 1\n"), "quorum of one: {script}");
    let consul = find(&objects, "ConfigMap", "consul-config")["data"]["consul.hcl"]
        .as_str()
        .unwrap();
    assert!(consul.contains("bootstrap_expect = 1"), "{consul}");
    assert_eq!(
        container(find(&objects, "StatefulSet", "consul"))["resources"]["requests"]["memory"],
        "128Mi"
    );
}

#[test]
fn blueprint_docs_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/blueprints.md");
    let generated = docs::markdown();
    if std::env::var_os("STRATA_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/blueprints.md is stale: run `STRATA_WRITE_DOCS=1 cargo test -p strata-core blueprint_docs`"
    );
    for blueprint in super::catalog().all() {
        assert!(committed.contains(&format!("### {}", blueprint.name())));
    }
}

#[test]
fn backup_docs_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/backup.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let (begin, end) = docs::BACKUP_MARKERS;
    let (head, rest) = committed
        .split_once(begin)
        .expect("docs/backup.md has its begin marker");
    let (_, tail) = rest
        .split_once(end)
        .expect("docs/backup.md has its end marker");
    let generated = format!("{head}{begin}\n{}{end}{tail}", docs::backup_markdown());
    if std::env::var_os("STRATA_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    assert!(
        committed == generated,
        "docs/backup.md is stale: run `STRATA_WRITE_DOCS=1 cargo test -p strata-core backup_docs`"
    );
}

#[test]
fn isolated_platforms_let_blueprint_groups_talk() {
    // Default-deny NetworkPolicies are on by default.
    let objects = rendered(
        "      redis: { blueprint: redis, mode: sentinel }\n      pg: { blueprint: postgresql, mode: ha }\n      plain: { blueprint: redis }\n      api: { image: ghcr.io/t/api:1.0.0, ports: { http: 8080 }, env: { R: \"${redis.url}\", P: \"${pg.url}\" } }\n",
    );
    let members = find(&objects, "NetworkPolicy", "redis-members");
    assert!(
        members["spec"]["podSelector"]
            .to_string()
            .contains("redis-sentinel")
    );
    // Its callers, and only they, reach the Sentinels on 26379.
    assert_eq!(members["spec"]["ingress"][1]["ports"][0]["port"], 26379);
    assert_eq!(
        members["spec"]["ingress"][1]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "api"
    );
    let egress = find(&objects, "NetworkPolicy", "api-egress").to_string();
    assert!(
        egress.contains("26379") && egress.contains("redis-sentinel"),
        "{egress}"
    );
    assert!(
        objects.iter().all(|o| o.name() != "redis-clients"),
        "no blanket allow for the whole namespace"
    );
    let pg = find(&objects, "NetworkPolicy", "pg-members");
    assert_eq!(
        pg["spec"]["podSelector"]["matchLabels"]["cnpg.io/cluster"],
        "pg"
    );
    // The operator, installed somewhere the spec does not say, reaches the
    // instance manager and PostgreSQL only.
    assert_eq!(
        pg["spec"]["ingress"][1],
        serde_json::json!({ "from": [{ "namespaceSelector": {} }], "ports": [{ "protocol": "TCP", "port": 8000 }, { "protocol": "TCP", "port": 5432 }] })
    );
    assert_eq!(pg["spec"]["ingress"].as_array().unwrap().len(), 2);
    // The callers' policies select the pods by the operator's labels.
    assert_eq!(
        find(&objects, "NetworkPolicy", "pg-ingress")["spec"]["podSelector"]["matchLabels"],
        serde_json::json!({ "cnpg.io/cluster": "pg", "cnpg.io/podRole": "instance" })
    );
    assert!(
        objects.iter().all(|o| o.name() != "plain-members"),
        "a lone server is covered by the graph"
    );
}

#[test]
fn an_operator_installed_by_a_tier_is_admitted_from_its_namespace_only() {
    let text = "platform: demo\noperators: { cloudnative-pg: { tier: operators } }\ntiers:\n  - name: operators\n    namespace: cnpg-system\n    manifests: [cnpg.yaml]\n  - name: data\n    services:\n      pg: { blueprint: postgresql, mode: ha }\n";
    let platform = crate::resolve(
        &spec::parse(&SourceFile::new("p.yaml", text)).unwrap(),
        None,
    )
    .unwrap();
    let tuning = platform.service("pg").unwrap().tuning.clone().unwrap();
    assert_eq!(tuning.operator_namespace.as_deref(), Some("cnpg-system"));
    let policies =
        crate::render::member_policies(&platform, platform.service("pg").unwrap(), &tuning);
    assert_eq!(
        policies[0]["spec"]["ingress"][1]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "cnpg-system"
    );
    // The operator's own namespace denies by default: it gets its way out.
    let out = &policies[1];
    assert_eq!(
        (
            out["metadata"]["name"].as_str(),
            out["metadata"]["namespace"].as_str()
        ),
        (Some("pg-operator"), Some("cnpg-system"))
    );
    assert_eq!(out["spec"]["egress"][0]["ports"][0]["port"], 8000);
}

#[test]
fn an_installed_operator_in_a_namespace_it_names_is_admitted_from_there_only() {
    let text = "platform: demo\noperators: { cloudnative-pg: { installed: true, namespace: cnpg-system } }\ntiers:\n  - name: data\n    services:\n      pg: { blueprint: postgresql, mode: ha }\n";
    let platform = crate::resolve(
        &spec::parse(&SourceFile::new("p.yaml", text)).unwrap(),
        None,
    )
    .unwrap();
    let tuning = platform.service("pg").unwrap().tuning.clone().unwrap();
    let policies =
        crate::render::member_policies(&platform, platform.service("pg").unwrap(), &tuning);
    assert_eq!(
        policies[0]["spec"]["ingress"][1]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "cnpg-system"
    );
    assert_eq!(
        policies.len(),
        1,
        "no policy in a namespace the platform does not own"
    );
    let both = text.replace(
        "{ installed: true, namespace: cnpg-system }",
        "{ tier: data, namespace: cnpg-system }",
    );
    let errors = crate::resolve(
        &spec::parse(&SourceFile::new("p.yaml", both)).unwrap(),
        None,
    )
    .unwrap_err();
    assert!(
        errors.iter().any(|e| e.code == "invalid-operator"),
        "{errors:?}"
    );
}

#[test]
fn partial_security_and_probes_keep_the_blueprint_s_rest() {
    let platform = platform(
        "      a: { blueprint: redis, security: baseline }\n      b: { blueprint: loki, probes: { startupSeconds: 900 } }\n      c: { blueprint: loki, security: { runAsUser: 2000 } }\n",
    )
    .unwrap();
    let a = &platform.service("a").unwrap().runtime.security;
    assert_eq!(
        (a.profile, a.run_as_user),
        (model::Profile::Baseline, Some(999))
    );
    let b = platform
        .service("b")
        .unwrap()
        .runtime
        .probes
        .clone()
        .unwrap();
    let liveness = b.liveness.unwrap();
    assert!(
        matches!(&*liveness.check, model::ProbeCheck::Http { path, .. } if path == "/ready"),
        "{liveness:?}"
    );
    // 900 seconds to start, checked every 5.
    assert_eq!(b.startup.unwrap().failure_threshold, 180);
    let c = &platform.service("c").unwrap().runtime.security;
    assert_eq!(
        (c.run_as_user, c.fs_group),
        (Some(2000), Some(2000)),
        "their own user, their own group"
    );
}

#[test]
fn operated_modes_run_on_their_node_pool() {
    let text = format!(
        "platform: demo\n{OPERATORS}nodePools:\n  mem: {{ selector: {{ pool: mem }}, taints: [\"dedicated=mem:NoSchedule\"] }}\ntiers:\n  - name: data\n    services:\n      pg: {{ blueprint: postgresql, mode: ha, pool: mem }}\n      kafka: {{ blueprint: kafka, mode: strimzi, pool: mem }}\n      ch: {{ blueprint: clickhouse, mode: altinity, pool: mem }}\n      vectors: {{ blueprint: milvus, mode: cluster, pool: mem, options: {{ objectStore: s3, messageStream: kafka }} }}\n      s3: {{ blueprint: minio, options: {{ buckets: vectors }}, users: {{ vectors: [vectors] }} }}\n"
    );
    let platform = crate::resolve(
        &spec::parse(&SourceFile::new("p.yaml", text)).unwrap(),
        None,
    )
    .unwrap();
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let toleration = serde_json::json!([{ "key": "dedicated", "operator": "Equal", "value": "mem", "effect": "NoSchedule" }]);
    let cluster = &find(&objects, "Cluster", "pg")["spec"]["affinity"];
    assert_eq!(
        cluster["nodeSelector"],
        serde_json::json!({ "pool": "mem" })
    );
    assert_eq!(cluster["tolerations"], toleration);
    assert_eq!(
        cluster["enablePodAntiAffinity"], true,
        "the anti-affinity stays"
    );
    let pod = &find(&objects, "KafkaNodePool", "kafka-nodes")["spec"]["template"]["pod"];
    assert_eq!(
        pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchExpressions"],
        serde_json::json!([{ "key": "pool", "operator": "In", "values": ["mem"] }])
    );
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    assert_eq!(pod["tolerations"], toleration);
    let template = &find(&objects, "ClickHouseInstallation", "ch")["spec"]["templates"]["podTemplates"]
        [0]["spec"];
    assert_eq!(
        template["nodeSelector"],
        serde_json::json!({ "pool": "mem" })
    );
    assert_eq!(template["tolerations"], toleration);
    let milvus = &find(&objects, "Milvus", "vectors")["spec"];
    for pods in [
        &milvus["components"],
        &milvus["dependencies"]["etcd"]["inCluster"]["values"],
    ] {
        assert_eq!(pods["nodeSelector"], serde_json::json!({ "pool": "mem" }));
        assert_eq!(pods["tolerations"], toleration);
    }
}

#[test]
fn operator_modes_carry_extra_volumes_or_refuse_them() {
    let objects = rendered(
        "      ch: { blueprint: clickhouse, mode: altinity, volumes: [{ name: logs, size: 100Gi, mountPath: /var/log/clickhouse-server }, { name: backups, size: 50Gi, mountPath: /backups, class: slow }] }\n",
    );
    let installation = &find(&objects, "ClickHouseInstallation", "ch")["spec"];
    assert_eq!(
        installation["defaults"]["templates"]["logVolumeClaimTemplate"],
        "logs"
    );
    let templates: Vec<&str> = installation["templates"]["volumeClaimTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(templates, ["data", "logs", "backups"]);
    let container = &installation["templates"]["podTemplates"][0]["spec"]["containers"][0];
    assert_eq!(
        container["volumeMounts"],
        serde_json::json!([{ "name": "backups", "mountPath": "/backups" }])
    );
    // The log sidecar the operator would add, named with its security
    // context, and counted by `plan` beside each server.
    let log = &installation["templates"]["podTemplates"][0]["spec"]["containers"][1];
    assert_eq!(log["name"], "clickhouse-log");
    assert_eq!(log["securityContext"]["allowPrivilegeEscalation"], false);
    let servers = |line: &str| platform(line).unwrap().services[0].footprint()[0].resources;
    let with_logs = servers(
        "      ch: { blueprint: clickhouse, mode: altinity, volumes: [{ name: logs, size: 1Gi, mountPath: /var/log/clickhouse-server }] }\n",
    );
    let without = servers("      ch: { blueprint: clickhouse, mode: altinity }\n");
    assert_eq!(with_logs, without.plus(clickhouse::LOG_SIZE.resources()));
    // Strimzi makes the broker pods: it would never see the volume.
    let errors = codes(
        "      kafka: { blueprint: kafka, mode: strimzi, volumes: [{ name: logs, size: 1Gi, mountPath: /logs }] }\n",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("unsupported-option "), "{errors:?}");
    let errors = codes("      kafka: { blueprint: kafka, mode: strimzi, envFrom: configMap }\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("unsupported-option "), "{errors:?}");
    // Modes Strata runs itself take them as any service does.
    let objects = rendered(
        "      cache: { blueprint: redis, volumes: [{ name: dumps, size: 1Gi, mountPath: /dumps }] }\n",
    );
    let set = find(&objects, "StatefulSet", "cache");
    assert_eq!(
        set["spec"]["volumeClaimTemplates"][1]["metadata"]["name"],
        "dumps"
    );
}

#[test]
fn settings_reach_each_engine_as_written() {
    let container_args = |objects: &[Object], kind: &str, name: &str| {
        find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0].clone()
    };
    // PostgreSQL: `-c` arguments, or the Cluster's parameters, over the blueprint's.
    let single = rendered(
        "      pg: { blueprint: postgresql, settings: { shared_buffers: 4GB, max_connections: \"500\" } }\n",
    );
    let args = container_args(&single, "StatefulSet", "pg")["args"].clone();
    assert_eq!(
        args,
        serde_json::json!([
            "-c",
            "max_connections=500",
            "-c",
            "password_encryption=scram-sha-256",
            "-c",
            "shared_buffers=4GB"
        ])
    );
    let ha =
        rendered("      pg: { blueprint: postgresql, mode: ha, settings: { work_mem: 10MB } }\n");
    let parameters = &find(&ha, "Cluster", "pg")["spec"]["postgresql"]["parameters"];
    assert_eq!(parameters["work_mem"], "10MB");
    assert_eq!(parameters["max_connections"], "200");
    // Kafka: the image's variables, or the Kafka resource's config.
    let kraft = rendered(
        "      kafka: { blueprint: kafka, settings: { compression.type: snappy, log.segment.bytes: \"1073741824\" } }\n",
    );
    let env = container_args(&kraft, "StatefulSet", "kafka")["env"].clone();
    let var = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| v["value"].clone())
    };
    assert_eq!(
        var("KAFKA_COMPRESSION_TYPE"),
        Some(serde_json::json!("snappy"))
    );
    assert_eq!(
        var("KAFKA_LOG_SEGMENT_BYTES"),
        Some(serde_json::json!("1073741824"))
    );
    let strimzi = rendered(
        "      kafka: { blueprint: kafka, mode: strimzi, settings: { compression.type: snappy } }\n",
    );
    assert_eq!(
        find(&strimzi, "Kafka", "kafka")["spec"]["kafka"]["config"]["compression.type"],
        "snappy"
    );
    // ClickHouse: profiles of the installation, or a users.d file.
    let chi = rendered(
        "      ch: { blueprint: clickhouse, mode: altinity, settings: { default/max_execution_time: \"300\" } }\n",
    );
    assert_eq!(
        find(&chi, "ClickHouseInstallation", "ch")["spec"]["configuration"]["profiles"]["default/max_execution_time"],
        "300"
    );
    let ch = rendered(
        "      ch: { blueprint: clickhouse, settings: { default/max_execution_time: \"300\" } }\n",
    );
    let xml = find(&ch, "ConfigMap", "ch-config")["data"]["strata-settings.xml"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        xml.contains("<default>\n      <max_execution_time>300</max_execution_time>"),
        "{xml}"
    );
    // Redis: redis.conf directives, or the operator's additional configuration.
    let redis = rendered(
        "      cache: { blueprint: redis, settings: { maxmemory-policy: allkeys-lru } }\n",
    );
    let conf = find(&redis, "ConfigMap", "cache-config")["data"]["redis.conf"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(conf.ends_with("maxmemory-policy allkeys-lru\n"), "{conf}");
    let cluster = rendered(
        "      cache: { blueprint: redis, mode: cluster, replicas: 2, settings: { maxmemory-policy: allkeys-lru } }\n",
    );
    assert_eq!(
        find(&cluster, "ConfigMap", "cache-settings")["data"]["redis-additional.conf"],
        "# The service's settings.\nmaxmemory-policy allkeys-lru\n"
    );
    let spec = &find(&cluster, "RedisCluster", "cache")["spec"];
    for role in ["redisLeader", "redisFollower"] {
        assert_eq!(
            spec[role]["redisConfig"]["additionalRedisConfig"],
            "cache-settings"
        );
    }
}

#[test]
fn settings_are_refused_where_no_engine_takes_them() {
    assert_eq!(
        codes("      mq: { blueprint: nats, settings: { max_payload: 8MB } }\n"),
        ["unsupported-option platform.yaml:11:40"]
    );
    assert_eq!(
        codes("      ch: { blueprint: clickhouse, settings: { max_memory_usage: \"1\" } }\n"),
        ["invalid-setting platform.yaml:11:48"]
    );
    assert_eq!(
        codes("      pg: { blueprint: postgresql, settings: { \"a b\": \"1\" } }\n"),
        ["invalid-setting platform.yaml:11:48"]
    );
}

/// Renders `services` on a monitored platform (`monitoring:` set).
fn monitored(services: &str, service_monitors: bool) -> Vec<Object> {
    let text = format!(
        "platform: demo\nmonitoring: {{ serviceMonitors: {service_monitors} }}\n{OPERATORS}tiers:\n  - name: data\n    services:\n{services}"
    );
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    render::render(&platform, &NoAssets)
        .expect("renders")
        .objects
}

/// The ports the scraper may reach on the pods of `name`'s ingress policy.
fn scraped_ports(objects: &[Object], name: &str) -> Vec<u64> {
    find(objects, "NetworkPolicy", &format!("{name}-ingress"))["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rule| {
            rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                == "monitoring"
        })
        .flat_map(|rule| {
            rule["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn monitored_platforms_get_each_systems_metrics() {
    // Without `monitoring:`, nothing changes.
    let plain = rendered("      cache: { blueprint: redis }\n");
    let pod = &find(&plain, "StatefulSet", "cache")["spec"]["template"]["spec"];
    assert_eq!(pod["containers"].as_array().unwrap().len(), 1);

    // Redis: the exporter sidecar owns the metrics port; the pods are
    // annotated and the scraper may reach 9121.
    let redis = monitored(
        "      cache: { blueprint: redis, mode: sentinel, replicas: 3 }\n",
        false,
    );
    let statefulset = find(&redis, "StatefulSet", "cache");
    let containers = statefulset["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2);
    assert!(!containers[0]["ports"].to_string().contains("9121"));
    assert_eq!(containers[1]["name"], "redis-exporter");
    assert_eq!(containers[1]["ports"][0]["containerPort"], 9121);
    assert_eq!(
        containers[1]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    assert_eq!(
        statefulset["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"],
        "9121"
    );
    assert_eq!(scraped_ports(&redis, "cache"), [9121]);
    let sentinels = find(&redis, "StatefulSet", "cache-sentinel");
    assert_eq!(
        sentinels["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let cluster = monitored(
        "      cache: { blueprint: redis, mode: cluster, replicas: 2 }\n",
        false,
    );
    assert_eq!(
        find(&cluster, "RedisCluster", "cache")["spec"]["redisExporter"]["enabled"],
        true
    );
    assert_eq!(scraped_ports(&cluster, "cache"), [9121]);
    // The operator copies the resource's annotations onto the pods.
    assert_eq!(
        find(&cluster, "RedisCluster", "cache")["metadata"]["annotations"]["prometheus.io/port"],
        "9121"
    );
    assert!(!cluster.iter().any(|o| o.kind() == "PodMonitor"));
    let cluster = monitored(
        "      cache: { blueprint: redis, mode: cluster, replicas: 2 }\n",
        true,
    );
    let monitor = &find(&cluster, "PodMonitor", "cache")["spec"];
    assert_eq!(monitor["podMetricsEndpoints"][0]["port"], "redis-exporter");
    assert_eq!(
        monitor["selector"]["matchLabels"]["redis_setup_type"],
        "cluster"
    );
    assert_eq!(
        monitor["selector"]["matchExpressions"][0]["values"],
        serde_json::json!(["cache-leader", "cache-follower"])
    );
    assert!(
        find(&cluster, "RedisCluster", "cache")["metadata"]
            .get("annotations")
            .is_none()
    );

    // CloudNativePG: a PodMonitor with serviceMonitors, else annotations.
    let pg = monitored("      pg: { blueprint: postgresql, mode: ha }\n", false);
    let cluster_spec = &find(&pg, "Cluster", "pg")["spec"];
    assert_eq!(
        cluster_spec["inheritedMetadata"]["annotations"]["prometheus.io/port"],
        "9187"
    );
    assert_eq!(cluster_spec["monitoring"]["enablePodMonitor"], false);
    assert_eq!(scraped_ports(&pg, "pg"), [9187]);
    let pg = monitored("      pg: { blueprint: postgresql, mode: ha }\n", true);
    let cluster_spec = &find(&pg, "Cluster", "pg")["spec"];
    assert_eq!(cluster_spec["monitoring"]["enablePodMonitor"], true);
    assert!(cluster_spec.get("inheritedMetadata").is_none());

    // Strimzi: the JMX exporter from a ConfigMap, annotated broker pods.
    let kafka = monitored("      kafka: { blueprint: kafka, mode: strimzi }\n", false);
    assert_eq!(
        find(&kafka, "Kafka", "kafka")["spec"]["kafka"]["metricsConfig"]["valueFrom"]["configMapKeyRef"]
            ["name"],
        "kafka-metrics"
    );
    assert!(
        find(&kafka, "ConfigMap", "kafka-metrics")["data"]["kafka-metrics-config.yml"]
            .as_str()
            .unwrap()
            .contains("rules:")
    );
    assert_eq!(scraped_ports(&kafka, "kafka"), [9404]);

    // ClickHouse: its own Prometheus endpoint.
    let ch = monitored(
        "      ch: { blueprint: clickhouse, mode: altinity }\n",
        false,
    );
    assert_eq!(
        find(&ch, "ClickHouseInstallation", "ch")["spec"]["configuration"]["settings"]["prometheus/port"],
        9363
    );
    assert_eq!(scraped_ports(&ch, "ch"), [9363]);
}

#[test]
fn minio_buckets_are_made_by_a_job_that_may_reach_the_servers() {
    let objects = rendered(
        "      minio: { blueprint: minio, options: { buckets: \"documents, backups\" } }\n",
    );
    let job = find(&objects, "Job", "minio-buckets");
    let script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(
        script.contains(
            "mc mb --ignore-existing strata/documents\nmc mb --ignore-existing strata/backups\n"
        ),
        "{script}"
    );
    let policy = find(&objects, "NetworkPolicy", "minio-buckets");
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"]["strata.dev/buckets-of"],
        "minio"
    );
    let servers = find(&objects, "NetworkPolicy", "minio-servers");
    assert!(
        servers["spec"]["ingress"][0]["from"]
            .to_string()
            .contains("strata.dev/buckets-of")
    );
    assert!(
        !rendered("      minio: { blueprint: minio }\n")
            .iter()
            .any(|o| o.kind() == "Job" && !crate::render::secret_job::is_part(o)),
        "no buckets, no Job"
    );
    assert_eq!(
        codes("      minio: { blueprint: minio, options: { buckets: \"Docs\" } }\n"),
        ["invalid-option platform.yaml:11:54"]
    );
}

#[test]
fn minio_users_get_their_own_keys_and_a_policy_on_their_buckets_only() {
    let services = "      minio: { blueprint: minio, options: { buckets: \"models,logs\" }, users: { data: [models], audit: [models, logs] } }\n      api: { image: demo/api:1.0.0, env: { S3_ACCESS_KEY: \"${minio.users.data.accessKey}\", S3_SECRET_KEY: { secret: minio-data, key: secretkey } } }\n";
    let platform = platform(services).unwrap();
    let secret = platform
        .secrets
        .iter()
        .find(|s| s.name == "minio-data")
        .expect("a Secret per user");
    assert_eq!(secret.generate, ["secretkey"]);
    assert_eq!(secret.data["accesskey"], "data");
    let api = platform.service("api").unwrap();
    assert!(
        api.env
            .iter()
            .any(|e| e.name == "S3_ACCESS_KEY" && format!("{:?}", e.value).contains("\"data\"")),
        "{:?}",
        api.env
    );
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let job = &find(&objects, "Job", "minio-buckets")["spec"]["template"]["spec"]["containers"][0];
    let script = job["command"][2].as_str().unwrap();
    assert!(
        script.contains(r#""Resource":["arn:aws:s3:::models","arn:aws:s3:::models/*"]"#),
        "data's policy names its bucket only: {script}"
    );
    assert!(script.contains(
        r#""Resource":["arn:aws:s3:::models","arn:aws:s3:::models/*","arn:aws:s3:::logs","arn:aws:s3:::logs/*"]"#
    ));
    for line in [
        "mc admin policy create strata strata-data /tmp/strata-data.json\n",
        // The secret key on the standard input, not the command line.
        "mc admin user add strata data <<EOF\n$SECRET_KEY_0\nEOF\n",
        "mc admin policy attach strata strata-data --user data 2>&1) || case",
        "mc admin user add strata audit <<EOF\n$SECRET_KEY_1\nEOF\n",
    ] {
        assert!(script.contains(line), "{line} in {script}");
    }
    // Buckets are made before the policies that name them.
    assert!(script.find("mc mb").unwrap() < script.find("mc admin").unwrap());
    assert_eq!(job["env"][3]["name"], "SECRET_KEY_0");
    assert_eq!(
        job["env"][3]["valueFrom"]["secretKeyRef"],
        serde_json::json!({ "name": "minio-data", "key": "secretkey" })
    );
    assert_eq!(
        codes(
            "      minio: { blueprint: minio, options: { buckets: models }, users: { data: [logs] } }\n"
        ),
        ["invalid-option platform.yaml:11:80"],
        "a bucket the store does not make"
    );
    assert_eq!(
        codes(
            "      minio: { blueprint: minio, options: { buckets: models }, users: { ab: [models], credentials: [models], data: [] } }\n"
        ),
        [
            "invalid-option platform.yaml:11:73",
            "invalid-option platform.yaml:11:87",
            "invalid-option platform.yaml:11:116",
        ]
    );
    assert_eq!(
        codes("      pg: { blueprint: postgresql, users: { data: [models] } }\n"),
        ["unsupported-option platform.yaml:11:43"]
    );
}

#[test]
fn milvus_cluster_is_an_operator_s_milvus_on_the_platform_s_minio_and_kafka() {
    let services = "      milvus: { blueprint: milvus, mode: cluster, replicas: 3, storage: { size: 20Gi, class: fast }, options: { objectStore: minio, messageStream: kafka } }\n      minio: { blueprint: minio, options: { buckets: \"vectors,models\" }, users: { milvus: [vectors], app: [models] } }\n      kafka: { blueprint: kafka }\n      api: { image: demo/api:1.0.0, env: { MILVUS: \"${milvus.address}\" } }\n";
    let platform = platform(services).unwrap();
    let index = |name: &str| {
        platform
            .services
            .iter()
            .position(|s| s.name == name)
            .unwrap()
    };
    for store in ["minio", "kafka"] {
        assert!(
            platform
                .edges
                .iter()
                .any(|e| e.from().0 == index("milvus") && e.to().0 == index(store)),
            "milvus calls {store}"
        );
    }
    let api = platform.service("api").unwrap();
    assert!(
        format!("{:?}", api.env).contains("milvus-milvus.demo.svc.cluster.local:19530"),
        "callers dial the operator's Service in front of the proxies"
    );
    let secret = platform
        .secrets
        .iter()
        .find(|s| s.name == "minio-milvus")
        .unwrap();
    assert_eq!(secret.generate, ["secretkey"]);
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    assert!(
        !objects
            .iter()
            .any(|o| o.service.as_deref() == Some("milvus")
                && matches!(o.kind(), "StatefulSet" | "Deployment" | "Service")),
        "the operator runs the pods"
    );
    let spec = &find(&objects, "Milvus", "milvus")["spec"];
    assert_eq!(spec["mode"], "cluster");
    for component in ["proxy", "mixCoord", "queryNode", "dataNode", "indexNode"] {
        assert_eq!(spec["components"][component]["replicas"], 3, "{component}");
    }
    assert_eq!(spec["components"]["serviceAccountName"], "milvus");
    assert_eq!(spec["config"]["rootCoord"]["enableActiveStandby"], true);
    assert_eq!(spec["config"]["minio"]["bucketName"], "vectors");
    let deps = &spec["dependencies"];
    assert_eq!(
        deps["storage"],
        serde_json::json!({ "external": true, "type": "MinIO", "endpoint": "minio.demo.svc.cluster.local:9000", "secretRef": "minio-milvus" })
    );
    assert_eq!(deps["msgStreamType"], "kafka");
    assert_eq!(
        deps["kafka"]["brokerList"][0],
        "kafka.demo.svc.cluster.local:9092"
    );
    let etcd = &deps["etcd"]["inCluster"]["values"];
    assert_eq!(etcd["replicaCount"], 3);
    assert_eq!(
        etcd["persistence"],
        serde_json::json!({ "size": "20Gi", "storageClass": "fast" })
    );
    // The operator checks the store before it deploys Milvus.
    let check = find(&objects, "NetworkPolicy", "milvus-operator-to-minio");
    assert_eq!(
        check["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "milvus-operator"
    );
    // plan: 5 components of 3 pods, and 3 etcd members with their claims.
    let groups = platform.service("milvus").unwrap().footprint();
    assert_eq!(groups.iter().map(|g| g.pods).sum::<u32>(), 18);
    assert_eq!(groups.iter().map(|g| g.pvcs).sum::<u32>(), 3);
    assert_eq!(
        codes(
            "      milvus: { blueprint: milvus, mode: cluster, options: { objectStore: minio } }\n      minio: { blueprint: minio, options: { buckets: vectors }, users: { app: [vectors] } }\n"
        ),
        [
            "missing-option platform.yaml:11:42",
            "invalid-option platform.yaml:11:75"
        ],
        "no stream, and no user `milvus` in the store"
    );
    assert_eq!(
        codes("      milvus: { blueprint: milvus, options: { objectStore: minio } }\n"),
        ["unsupported-option platform.yaml:11:60"],
        "standalone would ignore it"
    );
}

#[test]
fn backups_to_an_in_cluster_store_call_it_with_its_credentials() {
    let services = "      pg: { blueprint: postgresql, mode: ha, options: { backup: \"s3://backups/pg\", backupEndpoint: minio } }\n      minio: { blueprint: minio }\n";
    let platform = platform(services).unwrap();
    let (pg, minio) = (
        platform
            .services
            .iter()
            .position(|s| s.name == "pg")
            .unwrap(),
        platform
            .services
            .iter()
            .position(|s| s.name == "minio")
            .unwrap(),
    );
    assert!(
        platform
            .edges
            .iter()
            .any(|e| e.from().0 == pg && e.to().0 == minio),
        "the cluster calls its store"
    );
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let store = &find(&objects, "Cluster", "pg")["spec"]["backup"]["barmanObjectStore"];
    assert_eq!(
        store["endpointURL"],
        "http://minio.demo.svc.cluster.local:9000"
    );
    assert_eq!(
        store["s3Credentials"]["accessKeyId"]["name"],
        "minio-credentials"
    );
    assert_eq!(
        store["s3Credentials"]["secretAccessKey"]["key"],
        "root-password"
    );
    assert_eq!(
        codes(
            "      pg: { blueprint: postgresql, mode: ha, options: { backup: \"s3://b/p\", backupEndpoint: s3 } }\n"
        ),
        ["unknown-dependency platform.yaml:11:93"]
    );
}

#[test]
fn strimzi_adds_a_tls_listener_on_request() {
    let services = "      kafka: { blueprint: kafka, mode: strimzi, options: { tls: \"true\" } }\n      app: { image: demo/app:1.0.0, env: { BROKERS: \"${kafka.tlsBootstrap}\", CA: \"${kafka.caSecret}\" } }\n";
    let platform = platform(services).unwrap();
    let app = platform.service("app").unwrap();
    let env = |name: &str| {
        app.env
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.clone())
    };
    assert_eq!(
        env("BROKERS"),
        Some(model::EnvValue::Literal(
            "kafka-kafka-bootstrap.demo.svc.cluster.local:9093".into()
        ))
    );
    assert_eq!(
        env("CA"),
        Some(model::EnvValue::Literal("kafka-cluster-ca-cert".into()))
    );
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let listeners = &find(&objects, "Kafka", "kafka")["spec"]["kafka"]["listeners"];
    assert_eq!(
        listeners[1],
        serde_json::json!({ "name": "tls", "port": 9093, "type": "internal", "tls": true })
    );
    let egress = find(&objects, "NetworkPolicy", "app-egress").to_string();
    assert!(
        egress.contains("9093"),
        "callers may reach the TLS listener"
    );
    assert_eq!(
        codes("      kafka: { blueprint: kafka, options: { tls: \"true\" } }\n"),
        ["unsupported-option platform.yaml:11:50"]
    );
}

#[test]
fn keycloak_keeps_its_data_in_its_own_database_of_a_postgresql_or_mysql_server() {
    let env = |services: &str| {
        let platform = platform(services).unwrap();
        let keycloak = platform.service("sso").unwrap().clone();
        keycloak
            .env
            .iter()
            .map(|e| (e.name.clone(), format!("{:?}", e.value)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let mysql = env(
        "      db: { blueprint: mysql, databases: [shop, keycloak] }\n      sso: { blueprint: keycloak, options: { database: db } }\n",
    );
    assert!(mysql["KC_DB"].contains("\"mysql\""), "{mysql:?}");
    assert!(
        mysql["KC_DB_URL"].contains("jdbc:mysql://db.demo.svc.cluster.local:3306/keycloak"),
        "{mysql:?}"
    );
    assert!(
        mysql["KC_DB_USERNAME"].contains("\"keycloak\""),
        "{mysql:?}"
    );
    assert!(mysql["KC_DB_PASSWORD"].contains("db-keycloak"), "{mysql:?}");
    let postgres = env(
        "      pg: { blueprint: postgresql, databases: [{ name: iam, owner: iam_owner }] }\n      sso: { blueprint: keycloak, options: { database: pg } }\n",
    );
    assert!(postgres["KC_DB"].contains("\"postgres\""), "{postgres:?}");
    assert!(
        postgres["KC_DB_URL"].contains("jdbc:postgresql://pg.demo.svc.cluster.local:5432/iam"),
        "{postgres:?}"
    );
    assert!(
        postgres["KC_DB_PASSWORD"].contains("pg-iam-owner"),
        "{postgres:?}"
    );
}

#[test]
fn a_ray_cluster_puts_its_workers_on_the_gpu_pool_and_its_head_off_it() {
    let text = format!(
        "platform: demo\n{OPERATORS}nodePools:\n  gpu: {{ selector: {{ nvidia.com/gpu.present: \"true\" }}, taints: [\"nvidia.com/gpu=true:NoSchedule\"] }}\ntiers:\n  - name: data\n    services:\n      ray: {{ blueprint: ray, replicas: 3, gpu: 1, pool: gpu, image: rayproject/ray:2.40.0-gpu }}\n      trainer: {{ image: demo/trainer:1.0.0, env: {{ RAY_ADDRESS: \"${{ray.url}}\" }} }}\n"
    );
    let platform = crate::resolve(
        &spec::parse(&SourceFile::new("p.yaml", text.clone())).unwrap(),
        None,
    )
    .unwrap();
    let meshed = crate::resolve(
        &spec::parse(&SourceFile::new(
            "p.yaml",
            text.replace(
                "platform: demo\n",
                "platform: demo\nnetwork: { mesh: istio }\n",
            ),
        ))
        .unwrap(),
        None,
    )
    .unwrap();
    let nodes = render::render(&meshed, &NoAssets).unwrap().objects;
    assert_eq!(
        find(&nodes, "Service", "ray-nodes")["spec"],
        serde_json::json!({ "clusterIP": "None", "publishNotReadyAddresses": true, "selector": { "ray.io/cluster": "ray" } }),
        "in the mesh, every node's address is a Service's"
    );
    let trainer = platform.service("trainer").unwrap();
    assert_eq!(
        trainer.env[0].value,
        model::EnvValue::Literal("http://ray-head-svc.demo.svc.cluster.local:8265".into()),
        "jobs go to the head's job API"
    );
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let spec = &find(&objects, "RayCluster", "ray")["spec"];
    let head = &spec["headGroupSpec"]["template"]["spec"];
    assert!(head["nodeSelector"].is_null() && head["tolerations"].is_null());
    assert!(head["containers"][0]["resources"]["limits"]["nvidia.com/gpu"].is_null());
    let group = &spec["workerGroupSpecs"][0];
    assert_eq!(
        (
            &group["replicas"],
            &group["minReplicas"],
            &group["maxReplicas"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!(3),
            &serde_json::json!(3)
        )
    );
    let worker = &group["template"]["spec"];
    assert_eq!(
        worker["nodeSelector"],
        serde_json::json!({ "nvidia.com/gpu.present": "true" })
    );
    assert_eq!(
        worker["tolerations"],
        serde_json::json!([{ "key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule" }])
    );
    assert_eq!(
        worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"],
        "1"
    );
    for template in [head, worker] {
        assert_eq!(
            template["containers"][0]["image"],
            "rayproject/ray:2.40.0-gpu"
        );
        assert_eq!(template["serviceAccountName"], "ray");
    }
    find(&objects, "ServiceAccount", "ray");
    assert!(
        !objects.iter().any(|o| o.name() == "ray-nodes"),
        "no sidecars, no headless Service"
    );
    // plan counts three GPU workers on the pool and a head off it.
    let groups = platform.service("ray").unwrap().footprint();
    let counted: Vec<(&str, u32, u32, Option<&str>)> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.pods, g.gpu, g.pool.as_deref()))
        .collect();
    assert_eq!(
        counted,
        [("ray-workers", 3, 1, Some("gpu")), ("ray-head", 1, 0, None)]
    );
}

/// A platform whose scraper is `prometheus`, with `serviceMonitors` as given.
fn scraped_by(
    prometheus: &str,
    service_monitors: bool,
) -> Result<model::Platform, Vec<Diagnostic>> {
    let text = format!(
        "platform: demo\nmonitoring: {{ serviceMonitors: {service_monitors}, scraper: prometheus }}\n{OPERATORS}tiers:\n  - name: data\n    services:\n      prometheus: {prometheus}\n      alerts: {{ blueprint: alertmanager }}\n      api: {{ image: api:1, ports: {{ http: 8080, metrics: 9100 }} }}\n"
    );
    let file = SourceFile::new("platform.yaml", text);
    crate::resolve(&spec::parse(&file)?, None)
}

#[test]
fn prometheus_operator_mode_reads_the_platform_s_monitors_and_alerts_its_alertmanagers() {
    let platform = scraped_by(
        "{ blueprint: prometheus, mode: operator, replicas: 2 }",
        true,
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let spec = &find(&objects, "Prometheus", "prometheus")["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["serviceAccountName"], "prometheus");
    let in_platform = serde_json::json!({ "matchExpressions": [{ "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["demo"] }] });
    for key in ["serviceMonitor", "podMonitor", "rule"] {
        assert_eq!(
            spec[format!("{key}NamespaceSelector")],
            in_platform,
            "{key}"
        );
        assert_eq!(
            spec[format!("{key}Selector")],
            serde_json::json!({}),
            "{key}"
        );
    }
    assert_eq!(
        spec["alerting"]["alertmanagers"],
        serde_json::json!([{ "namespace": "demo", "name": "alerts", "port": "http", "apiVersion": "v2" }])
    );
    // The operator runs the pods; the Service and policies find them by
    // the operator's labels.
    let pods = serde_json::json!({ "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "prometheus" });
    assert!(
        !objects
            .iter()
            .any(|o| o.kind() == "Service" && o.name() == "prometheus")
    );
    assert_eq!(
        platform.service("prometheus").unwrap().exported("url"),
        Some("http://prometheus-operated.demo.svc.cluster.local:9090")
    );
    assert_eq!(
        find(&objects, "ServiceAccount", "prometheus")["metadata"]["namespace"],
        "demo"
    );
    assert_eq!(
        find(&objects, "NetworkPolicy", "prometheus-egress")["spec"]["podSelector"]["matchLabels"],
        pods
    );
    let egress = find(&objects, "NetworkPolicy", "prometheus-egress")["spec"]["egress"].to_string();
    assert!(egress.contains("9100"), "scrapes the api: {egress}");
    assert!(
        egress.contains("9093"),
        "reaches the Alertmanager: {egress}"
    );
    assert!(
        find(&objects, "NetworkPolicy", "prometheus-api-server")["spec"]["egress"][0]["ports"]
            .to_string()
            .contains("443")
    );
    assert!(
        objects
            .iter()
            .any(|o| o.kind() == "ServiceMonitor" && o.name() == "api")
    );
    // plan counts the operator's config-reloader in each pod.
    let service = platform.service("prometheus").unwrap();
    let group = &service.footprint()[0];
    assert_eq!(group.pods, 2);
    assert!(group.resources.requests.cpu > service.resources.requests.cpu);
}

#[test]
fn the_scraper_reads_what_the_platform_renders() {
    assert_eq!(
        codes_of(scraped_by(
            "{ blueprint: prometheus, mode: operator }",
            false
        )),
        ["scraper-mismatch platform.yaml:12:50"]
    );
    assert_eq!(
        codes_of(scraped_by("{ blueprint: prometheus }", true)),
        ["scraper-mismatch platform.yaml:12:32"]
    );
    assert!(scraped_by("{ blueprint: prometheus }", false).is_ok());
    assert!(scraped_by("{ blueprint: prometheus, mode: operator }", true).is_ok());
}

fn codes_of(result: Result<model::Platform, Vec<Diagnostic>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .iter()
        .map(|e| format!("{} {}", e.code, e.location().unwrap_or_default()))
        .collect()
}

/// A meshed platform whose `prometheus` (in `mode`) checks `slo`.
fn with_slo(
    mode: &str,
    service_monitors: bool,
    slo: &str,
) -> Result<model::Platform, Vec<Diagnostic>> {
    let text = format!(
        "platform: demo\nnetwork: {{ mesh: istio }}\nmonitoring: {{ serviceMonitors: {service_monitors}, scraper: prometheus, slo: {slo} }}\n{OPERATORS}tiers:\n  - name: data\n    services:\n      prometheus: {{ blueprint: prometheus, mode: {mode} }}\n      api: {{ image: api:1, ports: {{ http: 8080, metrics: 9100 }} }}\n"
    );
    let file = SourceFile::new("platform.yaml", text);
    crate::resolve(&spec::parse(&file)?, None)
}

/// The rules of `monitoring.slo` as Prometheus reads them.
fn slo_rules(objects: &[Object]) -> Vec<Value> {
    let text = find(objects, "ConfigMap", "prometheus-rules")["data"]["slo-rules.yml"]
        .as_str()
        .expect("a rules file")
        .to_string();
    let file = SourceFile::new("slo-rules.yml", text);
    let groups = crate::spec::yaml::parse(&file)
        .expect("the rules file is YAML")
        .to_json();
    groups["groups"][0]["rules"].as_array().unwrap().clone()
}

#[test]
fn slo_rules_record_and_alert_each_objective_per_service() {
    let slo = "{ availability: 99.9%, errors: 1%, latency: { p95: 500ms } }";
    let platform = with_slo("single", false, slo).unwrap_or_else(|e| panic!("{e:#?}"));
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let config = find(&objects, "ConfigMap", "prometheus-config")["data"]["prometheus.yml"]
        .as_str()
        .unwrap();
    assert!(config.contains("rule_files:\n  - /etc/prometheus-rules/*.yml\n"));
    // The rules ConfigMap is mounted where `rule_files` looks.
    let pod = &find(&objects, "StatefulSet", "prometheus")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["configMap"]["name"] == "prometheus-rules")
        .expect("a volume of the rules");
    assert!(
        pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == volume["name"] && m["mountPath"] == "/etc/prometheus-rules")
    );
    insta::assert_snapshot!(
        "slo-rules",
        find(&objects, "ConfigMap", "prometheus-rules")["data"]["slo-rules.yml"]
            .as_str()
            .unwrap()
    );
    let rules = slo_rules(&objects);
    let expr = |key: &str, name: &str| {
        rules
            .iter()
            .find(|r| r[key] == name)
            .unwrap_or_else(|| panic!("no {key} {name}"))["expr"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Availability: the share of each service's scraped pods that are up.
    let availability = expr("record", "slo:availability:ratio_5m");
    assert!(
        availability
            .starts_with("avg by (namespace, service) (avg_over_time(up{namespace=~\"demo\""),
        "{availability}"
    );
    // Errors and latency: Istio's metrics as the destination reports them,
    // one series per service.
    let errors = expr("record", "slo:errors:ratio_5m");
    let by = "sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter=\"destination\", destination_service_namespace=~\"demo\"";
    assert_eq!(errors.matches(by).count(), 2, "{errors}");
    assert!(
        errors.contains(", response_code=~\"5..\"}[5m])) / sum by"),
        "{errors}"
    );
    let latency = expr("record", "slo:latency:p95_5m");
    assert!(latency.starts_with("histogram_quantile(0.95, sum by (destination_service_namespace, destination_service_name, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\""), "{latency}");
    assert_eq!(
        expr("alert", "SLOAvailability"),
        "slo:availability:ratio_5m < 0.999"
    );
    assert_eq!(expr("alert", "SLOErrors"), "slo:errors:ratio_5m > 0.01");
    assert_eq!(expr("alert", "SLOLatency"), "slo:latency:p95_5m > 500");
    assert!(
        rules
            .iter()
            .filter(|r| r.get("alert").is_some())
            .all(|r| r["for"] == "5m")
    );

    // Operator mode: the same rules as a PrometheusRule its selector reads.
    let platform =
        with_slo("operator", true, "{ availability: 99.5% }").unwrap_or_else(|e| panic!("{e:#?}"));
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let rule = find(&objects, "PrometheusRule", "prometheus-slo");
    assert_eq!(rule["metadata"]["namespace"], "demo");
    let rules = rule["spec"]["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1]["expr"], "slo:availability:ratio_5m < 0.995");
}

#[test]
fn slo_objectives_need_a_prometheus_and_istio_s_metrics_as_annotations_scrape_them() {
    let all = "{ availability: 99.9%, errors: 1%, latency: { p95: 500ms } }";
    assert_eq!(
        codes_of(with_slo("operator", true, all)),
        [
            "unsupported-slo platform.yaml:3:95",
            "unsupported-slo platform.yaml:3:108"
        ]
    );
    let text = "platform: demo\nmonitoring: { scraper: prometheus, slo: { errors: 1% } }\ntiers:\n  - name: data\n    services:\n      prometheus: { blueprint: prometheus }\n";
    let file = SourceFile::new("platform.yaml", text);
    assert_eq!(
        codes_of(crate::resolve(&spec::parse(&file).unwrap(), None)),
        ["slo-needs-mesh platform.yaml:2:51"]
    );
    let text = "platform: demo\nmonitoring: { slo: { availability: 99% } }\ntiers:\n  - name: data\n    services:\n      api: { image: api:1 }\n";
    let file = SourceFile::new("platform.yaml", text);
    assert_eq!(
        codes_of(crate::resolve(&spec::parse(&file).unwrap(), None)),
        ["unsupported-slo platform.yaml:2:20"]
    );
    assert_eq!(
        codes_of(with_slo("single", false, "{ availability: 100% }")),
        ["invalid-percent platform.yaml:3:81"]
    );
}

#[test]
fn grafana_provisions_dashboards_of_the_platform_from_its_prometheus() {
    let text = "platform: demo\nnetwork: { mesh: istio }\nmonitoring: { scraper: prometheus, slo: { availability: 99.9%, errors: 1% } }\ntiers:\n  - name: data\n    services:\n      prometheus: { blueprint: prometheus }\n      grafana: { blueprint: grafana }\n      api: { image: api:1, ports: { http: 8080, metrics: 9100 } }\n";
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let datasources = find(&objects, "ConfigMap", "grafana-config")["data"]["datasources.yaml"]
        .as_str()
        .unwrap();
    assert!(
        datasources.contains("  - name: prometheus\n    uid: prometheus\n"),
        "{datasources}"
    );
    let data = &find(&objects, "ConfigMap", "grafana-dashboards")["data"];
    let provider = data["strata.yaml"].as_str().unwrap();
    assert!(
        provider.contains("type: file")
            && provider.contains("path: /etc/grafana/provisioning/dashboards"),
        "{provider}"
    );
    // Grafana mounts the ConfigMap where the provider file and its path are.
    let pod = &find(&objects, "Deployment", "grafana")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["configMap"]["name"] == "grafana-dashboards")
        .expect("a volume of the dashboards");
    assert!(
        pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == volume["name"]
                && m["mountPath"] == "/etc/grafana/provisioning/dashboards"
                && m["readOnly"] == true)
    );
    let dashboard =
        |file: &str| -> Value { serde_json::from_str(data[file].as_str().unwrap()).expect("JSON") };
    insta::assert_snapshot!(
        "grafana-services-dashboard",
        data["services.json"].as_str().unwrap()
    );
    let services = dashboard("services.json");
    assert_eq!(services["schemaVersion"], 38);
    assert_eq!(services["uid"], "demo-services");
    let panels = services["panels"].as_array().unwrap();
    let queries: Vec<&Value> = panels
        .iter()
        .filter(|p| p["type"] == "timeseries")
        .inspect(|p| {
            assert_eq!(
                p["datasource"],
                serde_json::json!({ "type": "prometheus", "uid": "prometheus" })
            );
        })
        .map(|p| &p["targets"][0]["expr"])
        .collect();
    assert!(
        queries.contains(&&Value::from(
            "sum by (service) (up{namespace=\"demo\", service=~\"prometheus|api\"})"
        )),
        "{queries:?}"
    );
    assert!(queries.iter().any(|q| q.as_str().unwrap().starts_with("histogram_quantile(0.95, sum by (destination_service_namespace, destination_service_name, le)")));
    // Panels do not overlap on the grid.
    let mut cells = std::collections::HashSet::new();
    for panel in panels {
        let g = &panel["gridPos"];
        for dy in 0..g["h"].as_u64().unwrap() {
            for dx in 0..g["w"].as_u64().unwrap() {
                assert!(
                    cells.insert((g["x"].as_u64().unwrap() + dx, g["y"].as_u64().unwrap() + dy)),
                    "{}",
                    panel["title"]
                );
            }
        }
    }
    let slo = dashboard("slo.json");
    let exprs: Vec<&Value> = slo["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("targets"))
        .map(|t| &t[0]["expr"])
        .collect();
    assert_eq!(
        exprs,
        [
            &Value::from("slo:availability:ratio_5m"),
            &Value::from("slo:errors:ratio_5m")
        ]
    );

    // Without a Prometheus there is nothing to chart.
    let plain = rendered("      grafana: { blueprint: grafana }\n");
    assert!(!plain.iter().any(|o| o.name() == "grafana-dashboards"));
}

#[test]
fn a_service_s_own_objective_replaces_the_platform_s_for_it() {
    let text = "platform: demo\nnetwork: { mesh: istio }\nmonitoring: { scraper: prometheus, slo: { errors: 1% } }\ntiers:\n  - name: data\n    services:\n      prometheus: { blueprint: prometheus }\n      api: { image: api:1, ports: { http: 8080 }, slo: { errors: 5%, latency: { p95: 250ms } } }\n      web: { image: web:1, ports: { http: 8080 } }\n";
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let alerts: Vec<String> = slo_rules(&objects)
        .iter()
        .filter(|r| r.get("alert").is_some())
        .map(|r| r["expr"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        alerts,
        [
            "slo:errors:ratio_5m{destination_service_name!~\"api\"} > 0.01",
            "slo:errors:ratio_5m{destination_service_name=\"api\", destination_service_namespace=\"demo\"} > 0.05",
            "slo:latency:p95_5m{destination_service_name=\"api\", destination_service_namespace=\"demo\"} > 250",
        ]
    );
    // A service out of the mesh has no request metrics.
    let text = text.replace("      web: { image: web:1, ports: { http: 8080 } }\n", "  - name: edge\n    namespace: edge\n    mesh: false\n    services:\n      web: { image: web:1, ports: { http: 8080 }, slo: { availability: 99%, latency: { p95: 1s } } }\n");
    let file = SourceFile::new("platform.yaml", text);
    assert_eq!(
        codes_of(crate::resolve(&spec::parse(&file).unwrap(), None)),
        ["slo-needs-mesh platform.yaml:13:86"]
    );
}

/// The JSON bodies a setup script sends with `-d '…'`, parsed.
fn request_bodies(script: &str) -> Vec<Value> {
    script
        .split(" -d '")
        .skip(1)
        .map(|rest| {
            let body = &rest[..rest.find('\'').expect("a closing quote")];
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"))
        })
        .collect()
}

#[test]
fn elasticsearch_retention_is_a_lifecycle_policy_and_template_put_by_a_job() {
    for (mode, url, secret, key) in [
        (
            "single",
            "http://search.demo.svc.cluster.local:9200",
            "search-credentials",
            "password",
        ),
        (
            "eck",
            "https://search-es-http.demo.svc:9200",
            "search-es-elastic-user",
            "elastic",
        ),
    ] {
        let objects = rendered(&format!(
            "      search: {{ blueprint: elasticsearch, mode: {mode}, options: {{ retention: 30d, retentionIndices: \"logs-*, app-events.*\" }} }}\n"
        ));
        let job = find(&objects, "Job", "search-retention");
        let pod = &job["spec"]["template"];
        assert_eq!(
            pod["metadata"]["labels"]["strata.dev/retention-of"],
            "search"
        );
        let container = &pod["spec"]["containers"][0];
        let script = container["command"][2].as_str().unwrap();
        assert!(
            script.contains(&format!(
                "es -X PUT '{url}/_ilm/policy/strata-retention' -d '"
            )),
            "{script}"
        );
        assert!(script.contains(&format!(
            "es -X PUT '{url}/_index_template/strata-retention' -d '"
        )));
        assert!(script.contains(&format!("'{url}/_cluster/health?wait_for_status=yellow")));
        let bodies = request_bodies(script);
        assert_eq!(bodies.len(), 2, "{script}");
        let delete = &bodies[0]["policy"]["phases"]["delete"];
        assert_eq!(delete["min_age"], "30d");
        assert_eq!(delete["actions"], serde_json::json!({ "delete": {} }));
        assert_eq!(
            bodies[1]["index_patterns"],
            serde_json::json!(["logs-*", "app-events.*"])
        );
        assert_eq!(
            bodies[1]["template"]["settings"]["index.lifecycle.name"],
            "strata-retention"
        );
        assert_eq!(bodies[1]["priority"], 50);
        let password = &container["env"][0];
        assert_eq!(password["name"], "ELASTIC_PASSWORD");
        assert_eq!(password["valueFrom"]["secretKeyRef"]["name"], secret);
        assert_eq!(password["valueFrom"]["secretKeyRef"]["key"], key);
        // ECK serves HTTPS signed by its own CA.
        let ca = pod["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "http-ca");
        assert_eq!(mode == "eck", ca.is_some());
        if let Some(ca) = ca {
            assert_eq!(ca["secret"]["secretName"], "search-es-http-certs-public");
            assert!(script.contains("--cacert /etc/elasticsearch-http/tls.crt"));
        }
        // The Job's pods are a member group: they reach the nodes.
        let policy = find(&objects, "NetworkPolicy", "search-retention");
        assert_eq!(
            policy["spec"]["podSelector"]["matchLabels"]["strata.dev/retention-of"],
            "search"
        );
    }
    assert!(
        !rendered("      search: { blueprint: elasticsearch }\n")
            .iter()
            .any(|o| o.kind() == "Job" && !crate::render::secret_job::is_part(o)),
        "no retention, no Job"
    );
}

#[test]
fn elasticsearch_retention_is_checked_at_its_values() {
    let codes_of = |options: &str| {
        codes(&format!(
            "      search: {{ blueprint: elasticsearch, options: {{ {options} }} }}\n"
        ))
    };
    // A period that does not parse, or zero.
    assert_eq!(
        codes_of("retention: 30 days, retentionIndices: logs-*"),
        ["invalid-option platform.yaml:11:65"]
    );
    assert_eq!(
        codes_of("retention: 0d, retentionIndices: logs-*"),
        ["invalid-option platform.yaml:11:65"]
    );
    // Patterns that are not index names, or every index.
    for patterns in ["\"Logs-*\"", "\"logs-*,*\"", "\"a b\"", "\" , \""] {
        assert_eq!(
            codes_of(&format!("retention: 30d, retentionIndices: {patterns}")),
            ["invalid-option platform.yaml:11:88"],
            "{patterns}"
        );
    }
    // One without the other.
    assert_eq!(
        codes_of("retention: 30d"),
        ["invalid-option platform.yaml:11:54"]
    );
    assert_eq!(
        codes_of("retentionIndices: logs-*"),
        ["invalid-option platform.yaml:11:54"]
    );
    assert!(codes_of("retention: 12h, retentionIndices: \"logs-*,2026.*\"").is_empty());
}

#[test]
fn kafka_retention_is_checked_as_a_period() {
    assert_eq!(
        codes("      kafka: { blueprint: kafka, options: { retention: 7days } }\n"),
        ["invalid-option platform.yaml:11:56"]
    );
}

#[test]
fn setup_jobs_in_the_mesh_run_their_sidecar_natively() {
    let services = "      search: { blueprint: elasticsearch, options: { retention: 30d, retentionIndices: logs-* } }\n      minio: { blueprint: minio, options: { buckets: models } }\n";
    let meshed = rendered(&format!(
        "{services}network: {{ mesh: istio, apiServer: 10.0.0.1/32 }}\n"
    ));
    let plain = rendered(services);
    for job in ["search-retention", "minio-buckets"] {
        let annotations = |objects: &[Object]| {
            find(objects, "Job", job)["spec"]["template"]["metadata"]["annotations"].clone()
        };
        assert_eq!(
            annotations(&meshed)["sidecar.istio.io/nativeSidecar"],
            "true",
            "{job}: a native sidecar stops with the script"
        );
        assert!(annotations(&plain).is_null(), "{job}: no mesh, no sidecar");
    }
    // The servers' AuthorizationPolicy admits the Jobs' accounts.
    for (service, account) in [("search", "search-retention"), ("minio", "minio-buckets")] {
        let rules = find(&meshed, "AuthorizationPolicy", service)["spec"]["rules"].to_string();
        assert!(
            rules.contains(&format!("\"cluster.local/ns/demo/sa/{account}\"")),
            "{service}: {rules}"
        );
    }
}

#[test]
fn node_exporter_reads_every_node_and_its_namespace_is_privileged() {
    let text = "platform: demo\nnetwork: { policies: true, apiServer: 10.0.0.1/32 }\nmonitoring: { scraper: prometheus }\nnodePools:\n  gpu: { selector: { pool: gpu }, taints: [\"nvidia.com/gpu=true:NoSchedule\"] }\ntiers:\n  - name: data\n    services:\n      prometheus: { blueprint: prometheus }\n  - name: nodes\n    namespace: metrics\n    services:\n      node-exporter: { blueprint: node-exporter }\n      kube-state-metrics: { blueprint: kube-state-metrics }\n";
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let objects = render::render(&platform, &NoAssets).unwrap().objects;
    let daemon = find(&objects, "DaemonSet", "node-exporter");
    assert_eq!(
        daemon["metadata"]["annotations"]["strata.dev/ignore"],
        "host-network,host-pid,host-path-volume"
    );
    let pod = &daemon["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["hostPID"], true);
    assert_eq!(
        pod["tolerations"],
        serde_json::json!([{ "operator": "Exists" }])
    );
    let host: Vec<(&str, &str)> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| Some((v["name"].as_str()?, v["hostPath"]["path"].as_str()?)))
        .collect();
    assert_eq!(host, [("proc", "/proc"), ("sys", "/sys"), ("root", "/")]);
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    for (name, _) in &host {
        assert!(
            mounts
                .iter()
                .any(|m| m["name"] == *name && m["readOnly"] == true),
            "{name}"
        );
    }
    assert_eq!(pod["containers"][0]["ports"][0]["name"], "metrics");
    // Only the exporters' namespace relaxes its Pod Security level.
    let enforce = |ns: &str| {
        find(&objects, "Namespace", ns)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
            .clone()
    };
    assert_eq!(enforce("metrics"), "privileged");
    assert_eq!(enforce("demo"), "restricted");
    // The scraper reaches the exporter on its node's address: by port.
    let egress = &find(&objects, "NetworkPolicy", "prometheus-egress")["spec"]["egress"];
    assert!(
        egress
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("to").is_none()
                && r["ports"] == serde_json::json!([{ "protocol": "TCP", "port": 9100 }])),
        "{egress}"
    );
    // kube-state-metrics lists and watches what it exports, from its account.
    let role = find(&objects, "ClusterRole", "demo-metrics-kube-state-metrics");
    let rules = role["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["verbs"] == serde_json::json!(["list", "watch"]))
    );
    let args = find(&objects, "Deployment", "kube-state-metrics")["spec"]["template"]["spec"]["containers"][0]["args"].clone();
    let listed: Vec<String> = rules
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap().iter())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let exported = args[1].as_str().unwrap().trim_start_matches("--resources=");
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(exported, sorted.join(","));
    assert_eq!(
        find(
            &objects,
            "ClusterRoleBinding",
            "demo-metrics-kube-state-metrics"
        )["subjects"][0]["name"],
        "kube-state-metrics"
    );
    assert!(
        find(&objects, "NetworkPolicy", "kube-state-metrics-api-server")["spec"]["egress"][0]["to"]
            [0]["ipBlock"]["cidr"]
            == "10.0.0.1/32"
    );
}

#[test]
fn grafana_charts_the_cluster_and_the_nodes_from_their_exporters() {
    let services =
        "      prometheus: { blueprint: prometheus }\n      grafana: { blueprint: grafana }\n";
    let dashboards = |extra: &str| -> Value {
        let text = format!(
            "platform: demo\nmonitoring: {{ scraper: prometheus }}\ntiers:\n  - name: data\n    services:\n{services}{extra}"
        );
        let file = SourceFile::new("platform.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let objects = render::render(&platform, &NoAssets).unwrap().objects;
        find(&objects, "ConfigMap", "grafana-dashboards")["data"].clone()
    };
    let plain = dashboards("");
    assert!(plain.get("cluster.json").is_none() && plain.get("infrastructure.json").is_none());
    let data = dashboards(
        "      node-exporter: { blueprint: node-exporter }\n      kube-state-metrics: { blueprint: kube-state-metrics }\n",
    );
    insta::assert_snapshot!(
        "grafana-cluster-dashboard",
        data["cluster.json"].as_str().unwrap()
    );
    insta::assert_snapshot!(
        "grafana-infrastructure-dashboard",
        data["infrastructure.json"].as_str().unwrap()
    );
    for (file, uid, metric) in [
        (
            "cluster.json",
            "demo-cluster",
            "kube_pod_status_phase{service=\"kube-state-metrics\", namespace=\"demo\"",
        ),
        (
            "infrastructure.json",
            "demo-infrastructure",
            "node_cpu_seconds_total{service=\"node-exporter\", namespace=\"demo\"",
        ),
    ] {
        let dashboard: Value = serde_json::from_str(data[file].as_str().unwrap()).expect("JSON");
        assert_eq!(dashboard["uid"], uid);
        assert_eq!(dashboard["schemaVersion"], 38);
        let panels: Vec<&Value> = dashboard["panels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "timeseries")
            .collect();
        assert!(panels.len() >= 5, "{file}");
        for panel in &panels {
            assert_eq!(
                panel["datasource"],
                serde_json::json!({ "type": "prometheus", "uid": "prometheus" })
            );
        }
        assert!(
            panels
                .iter()
                .any(|p| p["targets"][0]["expr"].as_str().unwrap().contains(metric)),
            "{file}"
        );
    }
}

/// Every container of `value`, however deep (pod templates, operator
/// resources): an object with a `name` and an `image`.
fn containers<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.get("image").is_some_and(Value::is_string) && map.contains_key("name") {
                out.push(value);
            }
            map.values().for_each(|v| containers(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| containers(v, out)),
        _ => {}
    }
}

/// Flags that put a password on a command line whatever follows them.
const PASSWORD_FLAGS: [&str; 4] = ["--password", "--requirepass", "--masterauth", "--pass="];

/// Whether `text` expands the variable `name`: `$NAME`, `${NAME}`, or
/// Kubernetes' `$(NAME)`.
fn expands(text: &str, name: &str) -> bool {
    if text.contains(&format!("${{{name}}}")) || text.contains(&format!("$({name})")) {
        return true;
    }
    let plain = format!("${name}");
    text.match_indices(&plain).any(|(at, _)| {
        !text[at + plain.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The lines of a shell `script` whose commands get a secret among their
/// arguments: an expansion of one of `secrets`, or a password flag. The
/// body of a here-document (a command's standard input) and the value of a
/// leading assignment (the environment) are on no command line.
fn exposing_lines(script: &str, secrets: &[String]) -> Vec<String> {
    let mut exposed = Vec::new();
    let mut heredoc: Option<String> = None;
    for line in script.lines() {
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        if let Some((_, after)) = line.split_once("<<") {
            let marker: String = after
                .trim_start_matches('-')
                .trim_start()
                .trim_start_matches(['\'', '"'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            heredoc = Some(marker);
        }
        let mut command = line.trim_start();
        if command.starts_with('#') {
            continue;
        }
        command = command.strip_prefix("export ").unwrap_or(command);
        while let Some((word, rest)) = command
            .split_once(char::is_whitespace)
            .or(Some((command, "")))
            && word.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        {
            command = rest.trim_start();
        }
        if secrets.iter().any(|s| expands(command, s))
            || PASSWORD_FLAGS.iter().any(|f| command.contains(f))
        {
            exposed.push(line.to_string());
        }
    }
    exposed
}

/// Every command line of `objects` that carries a secret: a variable some
/// container reads from a Secret, expanded by Kubernetes in a `command` or
/// `args` (`$(VAR)`) or by a shell script (`sh -c`, or a `.sh` file of a
/// ConfigMap) in a command's arguments, or a password flag.
fn secrets_on_command_lines(objects: &[Object]) -> Vec<String> {
    let mut all = Vec::new();
    for object in objects {
        containers(&object.value, &mut all);
    }
    let secrets: Vec<String> = all
        .iter()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .filter(|e| e["valueFrom"]["secretKeyRef"].is_object())
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect();
    let mut exposed = Vec::new();
    for container in &all {
        let words: Vec<&str> = ["command", "args"]
            .iter()
            .flat_map(|k| container[k].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let shell = words
            .first()
            .is_some_and(|w| matches!(*w, "sh" | "bash" | "/bin/sh" | "/bin/bash"));
        let mut script_next = false;
        for word in words {
            if script_next {
                exposed.extend(exposing_lines(word, &secrets));
            } else if secrets.iter().any(|s| expands(word, s))
                || PASSWORD_FLAGS.iter().any(|f| word.contains(f))
            {
                exposed.push(format!("{}: {word}", container["name"]));
            }
            script_next = shell && word == "-c";
        }
    }
    for object in objects.iter().filter(|o| o.kind() == "ConfigMap") {
        for (file, text) in object.value["data"].as_object().into_iter().flatten() {
            if std::path::Path::new(file)
                .extension()
                .is_some_and(|ext| ext == "sh")
            {
                let text = text.as_str().unwrap_or_default();
                exposed.extend(
                    exposing_lines(text, &secrets)
                        .into_iter()
                        .map(|l| format!("{}/{file}: {l}", object.name())),
                );
            }
        }
    }
    exposed
}

#[test]
fn the_command_line_scan_sees_a_password_where_ps_would() {
    let secrets = ["REDIS_PASSWORD".to_string()];
    for exposing in [
        "redis-server /etc/redis.conf --requirepass \"$REDIS_PASSWORD\"",
        "redis-cli -a ${REDIS_PASSWORD} ping",
        "mysql --user=root --password=x",
        "A=1 redis-cli -a $REDIS_PASSWORD <<EOF",
    ] {
        assert_eq!(exposing_lines(exposing, &secrets).len(), 1, "{exposing}");
    }
    for hidden in [
        "cat > /tmp/auth.conf <<EOF\nrequirepass \"$REDIS_PASSWORD\"\nEOF\nredis-server /tmp/auth.conf",
        "export URL=\"redis://:$REDIS_PASSWORD@localhost\"",
        "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli ping",
        "psql <<'SQL'\n\\set p `printf '%s' \"$REDIS_PASSWORD\"`\nSQL",
        "echo $REDIS_PASSWORD_FILE",
        "# --requirepass is given in the file",
    ] {
        assert!(exposing_lines(hidden, &secrets).is_empty(), "{hidden}");
    }
    let objects = rendered(
        "      r: { blueprint: redis, args: [/etc/redis/redis.conf, --requirepass, $(REDIS_PASSWORD)], command: [redis-server] }\n",
    );
    assert_eq!(
        secrets_on_command_lines(&objects),
        ["\"r\": --requirepass", "\"r\": $(REDIS_PASSWORD)"]
    );
}

#[test]
fn no_blueprint_puts_a_password_on_a_command_line() {
    for blueprint in super::catalog().all() {
        for mode in blueprint.info().modes {
            let services = sample(blueprint, mode);
            for objects in [rendered(&services), monitored(&services, false)] {
                let exposed = secrets_on_command_lines(&objects);
                assert!(
                    exposed.is_empty(),
                    "{} {}: {exposed:#?}",
                    blueprint.name(),
                    mode.name
                );
            }
        }
    }
}

#[test]
fn redis_reads_its_password_from_a_file_its_start_script_writes() {
    let objects = monitored(
        "      standalone: { blueprint: redis }\n      group: { blueprint: redis, mode: sentinel }\n      shards: { blueprint: redis, mode: cluster }\n",
        false,
    );
    let standalone = container(find(&objects, "StatefulSet", "standalone"));
    assert_eq!(
        standalone["command"],
        serde_json::json!(["sh", "/etc/redis/start.sh"])
    );
    assert!(standalone.get("args").is_none());
    for name in ["standalone", "group"] {
        let data = &find(&objects, "ConfigMap", &format!("{name}-config"))["data"];
        let conf = data["redis.conf"].as_str().unwrap();
        assert!(conf.contains("include /tmp/redis-auth.conf\n"), "{conf}");
        let script = data["start.sh"].as_str().unwrap();
        assert!(
            script.contains("cat > /tmp/redis-auth.conf <<EOF\nrequirepass \"$REDIS_PASSWORD\"\nmasterauth \"$REDIS_PASSWORD\"\nEOF\n"),
            "{script}"
        );
    }
    let sentinel = find(&objects, "ConfigMap", "group-sentinel-config")["data"]["sentinel.sh"]
        .as_str()
        .unwrap();
    assert!(
        sentinel.contains("sentinel auth-pass group $REDIS_PASSWORD\n"),
        "{sentinel}"
    );
    let cluster = find(&objects, "RedisCluster", "shards");
    assert_eq!(
        cluster["spec"]["kubernetesConfig"]["redisSecret"],
        serde_json::json!({ "name": "shards-credentials", "key": "password" })
    );
    let exporter =
        &find(&objects, "StatefulSet", "standalone")["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(exporter["env"][1]["name"], "REDIS_PASSWORD");
}

#[test]
fn redis_without_auth_runs_every_mode_without_a_password() {
    let services = "      standalone: { blueprint: redis, options: { auth: off } }\n      group: { blueprint: redis, mode: sentinel, options: { auth: \"off\" } }\n      shards: { blueprint: redis, mode: cluster, options: { auth: \"off\" } }\n";
    let text = format!(
        "platform: demo\nmonitoring: {{ serviceMonitors: false }}\n{OPERATORS}tiers:\n  - name: data\n    services:\n{services}"
    );
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &NoAssets).unwrap();
    assert!(
        set.generated_secrets.is_empty(),
        "{:?}",
        set.generated_secrets
    );
    let yaml = crate::export::stream(
        &set.objects.iter().collect::<Vec<_>>(),
        crate::export::Format::Yaml,
    );
    for absent in [
        "REDIS_PASSWORD",
        "requirepass",
        "masterauth",
        "auth-pass",
        "redisSecret",
        "credentials",
    ] {
        assert!(!yaml.contains(absent), "{absent} in\n{yaml}");
    }
    let standalone = container(find(&set.objects, "StatefulSet", "standalone"));
    assert_eq!(standalone["command"], serde_json::json!(["redis-server"]));
    assert_eq!(
        standalone["args"],
        serde_json::json!(["/etc/redis/redis.conf"])
    );
    // The exporter reads the server without a password.
    let exporter = &find(&set.objects, "StatefulSet", "standalone")["spec"]["template"]["spec"]["containers"]
        [1];
    assert_eq!(exporter["name"], "redis-exporter");
    assert_eq!(exporter["env"].as_array().unwrap().len(), 1);
    for name in ["standalone", "group", "shards"] {
        let service = platform.service(name).unwrap();
        let tuning = service.tuning.as_ref().unwrap();
        assert!(
            !tuning.supplied.exports.iter().any(|(k, _)| k == "secret"),
            "{name}"
        );
        assert!(tuning.supplied.credentials.is_none(), "{name}");
        assert!(!tuning.blueprint.authenticates(tuning), "{name}");
    }
}

#[test]
fn a_store_without_auth_exports_no_secret_to_refer_to() {
    let api = "      api: { image: demo/api:1.0, env: { REDIS_SECRET: \"${cache.secret}\" } }\n";
    let errors = codes(&format!(
        "      cache: {{ blueprint: redis, options: {{ auth: \"off\" }} }}\n{api}"
    ));
    let column = api.find("${cache").unwrap() + 1;
    assert_eq!(errors, [format!("unknown-field platform.yaml:12:{column}")]);
    let errors = platform(
        "      cache: { blueprint: redis, options: { auth: \"off\" } }\n      api: { image: demo/api:1.0, env: { REDIS_PASSWORD: \"${cache.password}\" } }\n",
    )
    .unwrap_err();
    assert_eq!(errors[0].code, "unknown-field");
    assert!(
        errors[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("url"),
        "{:?}",
        errors[0].help
    );
}

#[test]
fn auth_is_on_or_off() {
    let line = "      r: { blueprint: redis, options: { auth: none } }\n";
    assert_eq!(
        codes(line),
        [format!(
            "invalid-option platform.yaml:11:{}",
            line.find("none").unwrap() + 1
        )]
    );
    let help = platform(line).unwrap_err()[0].help.clone().unwrap();
    assert!(help.contains("`on`") && help.contains("`off`"), "{help}");
    assert!(codes("      r: { blueprint: redis, options: { auth: \"on\" } }\n").is_empty());
}

/// `code platform.yaml:11:COL`, the column where `needle` begins in `line`
/// (the eleventh line of [`platform`]'s text).
fn at(code: &str, line: &str, needle: &str) -> String {
    let column = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {line}"))
        + 1;
    format!("{code} platform.yaml:11:{column}")
}

#[test]
fn a_version_or_image_the_mode_does_not_run_is_refused_where_it_is_written() {
    for (line, code, needle) in [
        (
            "      db: { blueprint: mysql, version: \"5.6.51\" }\n",
            "unsupported-version",
            "\"5.6",
        ),
        (
            "      db: { blueprint: mysql, version: stable }\n",
            "unsupported-version",
            "stable",
        ),
        (
            "      db: { blueprint: mysql, mode: ha, version: \"5.7.44\" }\n",
            "unsupported-version",
            "\"5.7",
        ),
        (
            "      db: { blueprint: mysql, image: \"mysql:5.6.51\" }\n",
            "unsupported-version",
            "\"mysql",
        ),
        (
            "      db: { blueprint: mysql, version: \"8.4.3\", image: \"mysql:5.7.44\" }\n",
            "conflicting-version",
            "\"8.4",
        ),
        (
            "      pg: { blueprint: postgresql, version: \"18.1\" }\n",
            "unsupported-version",
            "\"18",
        ),
        (
            "      r: { blueprint: redis, image: \"redis:6.2.14-alpine\" }\n",
            "unsupported-version",
            "\"redis",
        ),
        (
            "      r: { blueprint: redis, mode: cluster, version: \"6.2\" }\n",
            "unsupported-version",
            "\"6.2",
        ),
        (
            "      k: { blueprint: kafka, mode: strimzi, version: \"3.9.0\" }\n",
            "unsupported-version",
            "\"3.9",
        ),
        (
            "      k: { blueprint: kafka, version: \"3.6.2\" }\n",
            "unsupported-version",
            "\"3.6",
        ),
        (
            "      es: { blueprint: elasticsearch, version: \"7.10.2\" }\n",
            "unsupported-version",
            "\"7.10",
        ),
    ] {
        assert_eq!(codes(line), [at(code, line, needle)], "{line}");
    }
    let help = |line: &str| platform(line).unwrap_err()[0].help.clone().unwrap();
    let mysql = help("      db: { blueprint: mysql, mode: ha, version: \"5.7.44\" }\n");
    assert!(
        mysql.contains("renders for 8.0 to 8.4")
            && mysql.contains("`mode: single`, which runs 5.7.44"),
        "{mysql}"
    );
    let patroni = help(
        "      pg: { blueprint: postgresql, mode: patroni, version: \"17.2\", options: { dcs: etcd } }\n      etcd: { blueprint: etcd }\n",
    );
    assert!(
        patroni.contains("12 to 16") && patroni.contains("`mode: single` or `mode: ha`"),
        "{patroni}"
    );
    let single = help("      db: { blueprint: mysql, version: \"5.6.51\" }\n");
    assert!(
        single.contains("5.7, 8.0 to 8.4") && !single.contains("mode:"),
        "{single}"
    );
}

#[test]
fn an_image_s_tag_chooses_the_version_and_one_without_a_release_keeps_the_assumed_one() {
    let version = |line: &str| {
        let platform = platform(line).unwrap_or_else(|e| panic!("{line}\n{e:#?}"));
        platform.services[0]
            .tuning
            .as_ref()
            .unwrap()
            .version
            .clone()
    };
    assert_eq!(
        version("      db: { blueprint: mysql, image: \"mysql:5.7.44-oracle\" }\n"),
        "5.7.44"
    );
    assert_eq!(
        version(
            "      r: { blueprint: redis, mode: cluster, image: \"quay.io/opstree/redis:v7.0.15\" }\n"
        ),
        "7.0.15"
    );
    assert_eq!(
        version(
            "      k: { blueprint: kafka, mode: strimzi, image: \"quay.io/strimzi/kafka:1.2.0-kafka-4.2.0\" }\n"
        ),
        "4.2.0"
    );
    // The same release in both, at another patch: the image's runs.
    assert_eq!(
        version("      db: { blueprint: mysql, version: \"8.0\", image: \"mysql:8.0.36\" }\n"),
        "8.0.36"
    );
    // Tags naming no release: `version:`, else the blueprint's own.
    assert_eq!(
        version(
            "      r: { blueprint: redis, image: \"redis@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31\" }\n"
        ),
        "7.4.5"
    );
    assert_eq!(
        version(
            "      db: { blueprint: mysql, version: \"5.7.44\", image: \"registry.local/mysql:hardened\" }\n"
        ),
        "5.7.44"
    );
    // Spilo's tag is its own release: `version:` picks PostgreSQL's.
    assert_eq!(
        version(
            "      pg: { blueprint: postgresql, mode: patroni, version: \"15.8\", image: \"ghcr.io/zalando/spilo-16:3.3-p1\", options: { dcs: etcd } }\n      etcd: { blueprint: etcd }\nnetwork: { apiServer: 10.0.0.1/32 }\n"
        ),
        "15.8"
    );
}

#[test]
fn every_mode_runs_its_blueprint_s_own_version() {
    for blueprint in super::catalog().all() {
        for mode in blueprint.info().modes {
            // A mode that follows its operator's release runs each
            // release's own version instead.
            let defaults: Vec<&str> = if mode.operator_releases.is_empty() {
                vec![blueprint.info().version]
            } else {
                mode.operator_releases.iter().map(|o| o.version).collect()
            };
            for default in defaults {
                assert!(
                    mode.runs(default),
                    "{} {} does not run {default}",
                    blueprint.name(),
                    mode.name,
                );
            }
            for release in mode.operator_releases {
                assert!(
                    model::Releases::any_contains(release.runs, release.version),
                    "{} {release:?} does not run its own version",
                    blueprint.name()
                );
            }
        }
    }
}

/// `platform(…)` with the Strimzi operator at `version`.
fn with_strimzi(version: &str, services: &str) -> Result<model::Platform, Vec<Diagnostic>> {
    let text = format!(
        "platform: demo\noperators: {{ strimzi: {{ installed: true, version: \"{version}\" }} }}\ntiers:\n  - name: data\n    services:\n{services}"
    );
    let file = SourceFile::new("platform.yaml", text);
    crate::resolve(&spec::parse(&file)?, None)
}

#[test]
fn strimzi_s_release_chooses_the_api_the_image_and_the_kafka_versions() {
    let line = "      k: { blueprint: kafka, mode: strimzi, topics: [orders] }\n";
    for (release, api, image) in [
        (
            None,
            "kafka.strimzi.io/v1",
            "quay.io/strimzi/kafka:1.2.0-kafka-4.3.1",
        ),
        (
            Some("1.2"),
            "kafka.strimzi.io/v1",
            "quay.io/strimzi/kafka:1.2.0-kafka-4.3.1",
        ),
        (
            Some("0.51.0"),
            "kafka.strimzi.io/v1",
            "quay.io/strimzi/kafka:0.51.0-kafka-4.2.0",
        ),
    ] {
        let platform = match release {
            None => platform(line),
            Some(release) => with_strimzi(release, line),
        }
        .unwrap();
        let service = &platform.services[0];
        assert_eq!(service.image.as_deref(), Some(image), "{release:?}");
        let objects = render::render(&platform, &NoAssets).unwrap().objects;
        for kind in ["Kafka", "KafkaNodePool", "KafkaTopic"] {
            let object = objects.iter().find(|o| o.kind() == kind).unwrap();
            assert_eq!(object.value["apiVersion"], api, "{kind} {release:?}");
        }
        let kafka = find(&objects, "Kafka", "k");
        let version = service.tuning.as_ref().unwrap().version.clone();
        assert_eq!(kafka["spec"]["kafka"]["version"], version.as_str());
        assert_eq!(
            kafka["spec"]["kafka"]["metadataVersion"],
            version.rsplit_once('.').unwrap().0
        );
    }
}

#[test]
fn a_kafka_release_the_chosen_strimzi_does_not_run_is_refused_at_its_line() {
    // 4.1 runs on 0.51 only; 4.3 on 1.2 only.
    let line = "      k: { blueprint: kafka, mode: strimzi, version: \"4.1.0\" }\n";
    assert_eq!(codes(line), [at("unsupported-version", line, "\"4.1")]);
    let help = platform(line).unwrap_err()[0].help.clone().unwrap();
    assert!(
        help.contains("4.2 to 4.3 with strimzi 1.2")
            && help.contains("`operators.strimzi.version` to 0.51"),
        "{help}"
    );
    assert!(with_strimzi("0.51", line).is_ok());
    let newer = "      k: { blueprint: kafka, mode: strimzi, version: \"4.3.1\" }\n";
    assert!(platform(newer).is_ok());
    let refused = codes_of(with_strimzi("0.51", newer));
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].starts_with("unsupported-version platform.yaml:6:"),
        "{refused:?}"
    );
    // The image's Kafka release is checked the same way, and its Strimzi
    // release against the platform's.
    let image = "      k: { blueprint: kafka, mode: strimzi, image: \"quay.io/strimzi/kafka:1.2.0-kafka-3.8.1\" }\n";
    assert_eq!(codes(image), [at("unsupported-version", image, "\"quay")]);
    let older = "      k: { blueprint: kafka, mode: strimzi, image: \"quay.io/strimzi/kafka:0.51.0-kafka-4.2.0\" }\n";
    assert_eq!(codes(older), [at("conflicting-version", older, "\"quay")]);
    let help = platform(older).unwrap_err()[0].help.clone().unwrap();
    assert!(help.contains("tag the image for strimzi 1.2.0"), "{help}");
    assert!(with_strimzi("0.51", older).is_ok());
}

#[test]
fn an_operator_release_is_one_strata_knows_and_only_where_it_matters() {
    let line = "      k: { blueprint: kafka, mode: strimzi }\n";
    for unknown in ["0.44", "1.2.7", "2", "latest"] {
        let errors = with_strimzi(unknown, line).unwrap_err();
        assert_eq!(errors.len(), 1, "{unknown}: {errors:?}");
        assert_eq!(errors[0].code, "unsupported-version", "{unknown}");
        assert_eq!(
            errors[0].location().unwrap_or_default(),
            "platform.yaml:2:51",
            "{unknown}: at the version"
        );
        let help = errors[0].help.clone().unwrap();
        assert!(help.contains("`0.51`, `1.2`"), "{help}");
    }
    for known in ["0.51", "0.51.0", "1.2", "v1.2.0"] {
        assert!(with_strimzi(known, line).is_ok(), "{known}");
    }
    let text = "platform: demo\noperators: { cloudnative-pg: { installed: true, version: \"1.30\" } }\ntiers:\n  - name: data\n    services:\n      pg: { blueprint: postgresql, mode: ha }\n";
    let file = SourceFile::new("platform.yaml", text.to_string());
    let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
    assert_eq!(
        codes_of(Err(errors)),
        ["unsupported-option platform.yaml:2:58"]
    );
}

#[test]
fn mysql_arguments_and_setup_follow_the_version() {
    for (key, collation) in [
        ("version: \"5.7.44\"", "utf8mb4_unicode_ci"),
        ("image: \"mysql:5.7\"", "utf8mb4_unicode_ci"),
        ("version: \"8.0.40\"", "utf8mb4_0900_ai_ci"),
        ("image: \"mysql:8.4.3\"", "utf8mb4_0900_ai_ci"),
    ] {
        let objects = rendered(&format!(
            "      db: {{ blueprint: mysql, {key}, databases: [shop] }}\n"
        ));
        let server = container(find(&objects, "StatefulSet", "db"));
        assert_eq!(
            server["args"],
            serde_json::json!([
                "--character-set-server=utf8mb4",
                format!("--collation-server={collation}"),
                "--skip-name-resolve"
            ]),
            "{key}"
        );
        let script = find(&objects, "ConfigMap", "db-config")["data"]["10-databases.sh"]
            .as_str()
            .unwrap();
        assert!(
            script.contains(&format!("CHARACTER SET utf8mb4 COLLATE {collation};")),
            "{script}"
        );
        assert!(
            script.contains("MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\" mysql --user=root <<SQL\n"),
            "{script}"
        );
        assert!(!script.contains("--password"), "{script}");
    }
    let ha = rendered(
        "      db: { blueprint: mysql, mode: ha, version: \"8.0.40\", databases: [shop] }\n",
    );
    assert_eq!(
        find(&ha, "InnoDBCluster", "db")["spec"]["version"],
        "8.0.40"
    );
    let job = &find(&ha, "Job", "db-databases")["spec"]["template"]["spec"]["containers"][0];
    let script = job["command"][2].as_str().unwrap();
    assert!(
        script.contains("mysql --host=db.demo.svc.cluster.local --port=3306 --user=root <<SQL\nCREATE USER IF NOT EXISTS 'shop'@'%'"),
        "{script}"
    );
    assert_eq!(job["env"][0]["name"], "MYSQL_PWD");
}

#[test]
fn psql_reads_each_owner_s_password_from_the_environment_itself() {
    let objects = rendered("      pg: { blueprint: postgresql, databases: [shop] }\n");
    let script = find(&objects, "ConfigMap", "pg-config")["data"]["10-databases.sh"]
        .as_str()
        .unwrap();
    assert!(
        script.contains("psql -v ON_ERROR_STOP=1 --username \"$POSTGRES_USER\" --dbname postgres <<'SQL'\n\\set SHOP_PASSWORD `printf '%s' \"$SHOP_PASSWORD\"`\n"),
        "{script}"
    );
    assert!(
        script.contains("ALTER ROLE shop PASSWORD :'SHOP_PASSWORD';"),
        "{script}"
    );
}

#[test]
fn audit_reports_a_store_that_lets_anyone_in() {
    let file = SourceFile::new(
        "platform.yaml",
        format!(
            "platform: demo\n{OPERATORS}tiers:\n  - name: data\n    services:\n      cache: {{ blueprint: redis, options: {{ auth: \"off\" }} }}\n      locked: {{ blueprint: redis }}\n      events: {{ blueprint: kafka }}\n      web: {{ blueprint: nginx }}\n"
        ),
    );
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let findings: Vec<String> = crate::audit::audit(&platform, &crate::audit::Options::default())
        .into_iter()
        .filter(|f| f.check.id == "store-without-auth")
        .map(|f| {
            format!(
                "{} {}",
                f.diagnostic.location().unwrap_or_default(),
                f.diagnostic.message
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            "platform.yaml:11:7 `cache` (redis) lets any client in: its password is switched off (`auth: \"off\"`)",
            "platform.yaml:13:7 `events` (kafka) lets any client in: the `kafka` blueprint sets up no login",
        ]
    );
}

/// Every mode whose blueprint takes backups renders them (snapshot of the
/// backup objects); every other mode refuses `backup:` at its line.
#[test]
fn every_mode_backs_up_or_refuses_backup_at_its_line() {
    for blueprint in super::catalog().all() {
        for mode in blueprint.info().modes {
            let name = blueprint.name();
            let own = format!("      {name}: {{ blueprint: {name}, ");
            let sample = sample(blueprint, mode).replacen(
                &own,
                &format!("{own}backup: {{ to: backups, keep: 14d }}, "),
                1,
            );
            let services = format!("      backups: {{ blueprint: minio, backup: none }}\n{sample}");
            // The services begin on line 11, after the operators and the tier.
            let line = services.lines().position(|l| l.starts_with(&own)).unwrap() + 11;
            match platform(&services) {
                Ok(platform) => {
                    let service = platform.service(name).unwrap();
                    let tuning = service.tuning.as_ref().unwrap();
                    assert!(
                        tuning.blueprint.backup(tuning).is_some(),
                        "{name} {}",
                        mode.name
                    );
                    let objects = render::render(&platform, &NoAssets)
                        .expect("renders")
                        .objects;
                    let backup: Vec<&Object> = objects
                        .iter()
                        .filter(|o| {
                            o.service.as_deref() == Some(name) && o.name().contains("backup")
                        })
                        .collect();
                    assert!(!backup.is_empty(), "{name} {}", mode.name);
                    let yaml = crate::export::stream(&backup, crate::export::Format::Yaml);
                    insta::assert_snapshot!(format!("backup-{name}-{}", mode.name), yaml);
                }
                Err(errors) => {
                    let codes: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{} {}", e.code, e.location().unwrap_or_default()))
                        .collect();
                    assert!(
                        codes.iter().any(|c| c.starts_with("backup-unsupported ")
                            && c.contains(&format!(":{line}:"))),
                        "{name} {}: {codes:?}",
                        mode.name
                    );
                }
            }
        }
    }
}

#[test]
fn a_cloudnative_pg_cluster_backs_up_to_the_store_with_its_login() {
    let objects = rendered(
        "      backups: { blueprint: minio, backup: none }\n      db: { blueprint: postgresql, mode: ha, backup: { schedule: \"@daily\", to: backups/pgdata/prod, keep: 2w } }\n",
    );
    let cluster = find(&objects, "Cluster", "db");
    let store = &cluster["spec"]["backup"];
    assert_eq!(store["retentionPolicy"], "14d");
    assert_eq!(
        store["barmanObjectStore"]["destinationPath"],
        "s3://pgdata/prod/db"
    );
    assert_eq!(
        store["barmanObjectStore"]["endpointURL"],
        "http://backups.demo.svc.cluster.local:9000"
    );
    assert_eq!(
        store["barmanObjectStore"]["s3Credentials"]["secretAccessKey"]["name"],
        "backups-credentials"
    );
    let scheduled = find(&objects, "ScheduledBackup", "db-backup");
    assert_eq!(scheduled["spec"]["schedule"], "@daily");
    // The instances reach the store, which admits them: the edge of the
    // call graph the backup adds.
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let store = find(&objects, "StatefulSet", "backups");
    let labels = store["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect::<Vec<_>>();
    let store = crate::network_policy::Pod::new("demo", &labels);
    let instance = crate::network_policy::Pod::new(
        "demo",
        &[("cnpg.io/cluster", "db"), ("cnpg.io/podRole", "instance")],
    );
    assert!(crate::network_policy::allowed(
        &policies, &instance, &store, 9000, "TCP"
    ));
    let other = crate::network_policy::Pod::new("demo", &[("cnpg.io/cluster", "other")]);
    assert!(!crate::network_policy::allowed(
        &policies, &other, &store, 9000, "TCP"
    ));
}

#[test]
fn the_backup_option_and_the_key_together_are_refused_at_the_option() {
    let twice = codes(
        "      s3: { blueprint: minio }\n      db: { blueprint: postgresql, mode: ha, options: { backup: \"s3://b/pg\" }, backup: { to: s3 } }\n",
    );
    assert!(
        twice
            .iter()
            .any(|c| c.starts_with("backup-twice ") && c.contains(":12:")),
        "{twice:?}"
    );
    // `backup: none` leaves the option alone.
    let alone = codes(
        "      db: { blueprint: postgresql, mode: ha, options: { backup: \"s3://b/pg\" }, backup: none }\n",
    );
    assert!(alone.is_empty(), "{alone:?}");
}
