//! `docs/blueprints.md`, generated from the catalog itself so the reference
//! cannot drift from the code (a test checks the committed page is current).

use crate::model::{self, Blueprint, Key, Mode, Siblings, Tuning};

/// The exported fields of a blueprint's mode, as a sample service `NAME` in
/// namespace `NS` computes them.
fn sample_exports(blueprint: &'static dyn Blueprint, mode: &'static Mode) -> Vec<(String, String)> {
    blueprint
        .recipe(&sample_tuning(blueprint, mode))
        .supplied
        .exports
}

/// A sample service `NAME` of a blueprint's mode in namespace `NS`, with
/// no typed keys or options.
fn sample_tuning(blueprint: &'static dyn Blueprint, mode: &'static Mode) -> Tuning {
    Tuning {
        blueprint,
        mode,
        platform: "demo".into(),
        service: "NAME".into(),
        namespace: "NS".into(),
        version: mode
            .operator_release(None)
            .map_or(blueprint.info().version, |o| o.version)
            .into(),
        replicas: mode.replicas,
        databases: Vec::new(),
        topics: Vec::new(),
        users: Vec::new(),
        shards: 1,
        options: std::collections::BTreeMap::default(),
        deprecated: Vec::new(),
        settings: Vec::new(),
        metrics: false,
        siblings: Siblings::default(),
        operator_namespace: None,
        operator: mode.operator_release(None),
        supplied: crate::model::Supplied::default(),
    }
}

/// Where docs/backup.md's generated part begins and ends.
pub const BACKUP_MARKERS: (&str, &str) = (
    "<!-- Generated from crates/strata-core/src/blueprint by `STRATA_WRITE_DOCS=1 cargo test -p strata-core backup_docs`; do not edit by hand. -->\n",
    "<!-- End of the generated part. -->\n",
);

/// The generated part of docs/backup.md: for each blueprint and mode, what
/// one backup holds and the script that restores it, or why it has none.
pub fn backup_markdown() -> String {
    let mut out = String::new();
    for blueprint in super::catalog().all() {
        out.push_str(&format!("### {}\n\n", blueprint.name()));
        for mode in blueprint.info().modes {
            let tuning = sample_tuning(blueprint, mode);
            match blueprint.backup(&tuning) {
                Some(model::BackupMethod::Dump(dump)) => {
                    let when = if dump.offline {
                        "With the server stopped, the restore writes its data directory `$DATA_DIR`"
                    } else {
                        "The restore runs against the running server at `$BACKUP_HOST:$BACKUP_PORT`"
                    };
                    out.push_str(&format!(
                        "- `{}`: {}. Taken in `{}` as the CronJob's `dump` step. {when}, the backup's files in `$BACKUP_DIR`, with the variables of the `dump` step:\n\n  ```sh\n",
                        mode.name, dump.contains, dump.image
                    ));
                    for line in dump.restore.lines() {
                        out.push_str(&format!("  {line}\n").replace("  \n", "\n"));
                    }
                    out.push_str("  ```\n\n");
                }
                Some(model::BackupMethod::Operator) => out.push_str(&format!(
                    "- `{}`: taken by its operator ({}), from the resources the blueprint renders; restore as the operator documents.\n\n",
                    mode.name,
                    mode.operator.unwrap_or("its operator")
                )),
                None => out.push_str(&format!(
                    "- `{}`: no backup Strata can take; `backup:` is an error.\n\n",
                    mode.name
                )),
            }
        }
    }
    out
}

/// The Markdown reference of every blueprint.
pub fn markdown() -> String {
    let catalog = super::catalog();
    let mut out = String::from(
        "# Blueprints\n\n\
         <!-- Generated from crates/strata-core/src/blueprint by `STRATA_WRITE_DOCS=1 cargo test -p strata-core blueprint_docs`; do not edit by hand. -->\n\n\
         A service selects a blueprint with `blueprint: NAME` and tunes it with a few\n\
         typed keys. The blueprint fills in every field the service leaves out — a\n\
         pinned image, the ports the system uses, probes that work for that image, a\n\
         volume at the image's data path, the user id it runs as, resources, and its\n\
         arguments, environment and configuration files. **Whatever the service\n\
         writes wins**: `env`, `security`, `resources`, `probes` and `storage` are\n\
         merged key by key (`storage: 100Gi` keeps the data path), every other key\n\
         replaces the blueprint's. Replicas are the service's, else the mode's\n\
         (not `defaults.replicas`); an environment's `replicas` still pins them,\n\
         and clustered blueprints then configure themselves for that many pods\n\
         (a laptop's Sentinel quorum is 1). An environment's `scale` scales the\n\
         blueprint's resources like any others.\n\n\
         ```yaml\n\
         operators:\n  cloudnative-pg: { installed: true }\n\
         tiers:\n  - name: data\n    services:\n\
         \x20     redis: { blueprint: redis, mode: sentinel, replicas: 3 }\n\
         \x20     postgres: { blueprint: postgresql, mode: ha, databases: [nova_core, nova_messaging] }\n\
         \x20     kafka: { blueprint: kafka, topics: [orders, { name: payments, partitions: 12, retention: 7d }] }\n\
         \x20 - name: apps\n    services:\n\
         \x20     api: { image: ghcr.io/demo/api:1.0.0, env: { REDIS_URL: \"${redis.url}\", DB_HOST: \"${postgres.host}\" } }\n\
         ```\n\n\
         ## Keys every blueprint service may write\n\n\
         | key | meaning |\n|---|---|\n\
         | `blueprint` | the blueprint's name |\n\
         | `mode` | one of the blueprint's modes; the first one listed below by default |\n\
         | `version` | the release it renders for and its image's tag; the tested one listed below by default; one of the mode's [versions](#versions); never `latest` |\n\
         | `databases` | (database blueprints) names, or `{ name, owner, schemas }`; created at first start with their owners and schemas |\n\
         | `topics` | (`kafka`) names, or `{ name, partitions, replicas, retention, config }` |\n\
         | `shards` | (`clickhouse`, `altinity` mode) shards of the cluster |\n\
         | `users` | (`minio`) object-store users by name, each with the buckets it may read and write: `{ data: [models] }` |\n\
         | `options` | the blueprint's own settings below, by name |\n\
         | `settings` | (`postgresql`, `kafka`, `clickhouse`, `redis`) the engine's own configuration, passed as written: see [Engine settings](#engine-settings) |\n\n\
         ## Versions\n\n\
         Each mode lists the releases it renders for (below, per blueprint); its\n\
         arguments, configuration and setup scripts follow the release: `mysql`\n\
         5.7 gets the `utf8mb4_unicode_ci` collation, 8.x `utf8mb4_0900_ai_ci`.\n\
         The release a service renders for is\n\n\
         1. the one the tag of the service's own `image:` begins with (`8.0.36` of\n   \
         `mysql:8.0.36-oracle`, `7.4.5` of `v7.4.5`; Strimzi's\n   \
         `1.2.0-kafka-4.3.1` runs Kafka 4.3.1; Spilo's tags name no\n   \
         PostgreSQL release, so `version:` picks the major in `patroni` mode);\n\
         2. else `version:`;\n\
         3. else the blueprint's own, listed below (for a mode that follows its\n   \
         operator's release, that release's own).\n\n\
         A mode whose custom resources change with its operator's release\n\
         (Strimzi's) follows `operators.NAME.version` (the newest release\n\
         listed by default): the release chooses the API version written and the\n\
         product releases the mode runs, listed below per operator release.\n\
         `check` refuses an operator release Strata does not know\n\
         (`unsupported-version` at `version:` under `operators:`), `version:` on\n\
         an operator that renders alike for every release (`unsupported-option`),\n\
         a product release the chosen operator release does not run\n\
         (`unsupported-version` at the service's `version:` or `image:`), and an\n\
         image built for another release of the operator (`conflicting-version`).\n\n\
         A release the mode does not list is `unsupported-version`, at the\n\
         `image:` or `version:` that chose it, the hint naming the releases it\n\
         runs. A tag that names no release (a digest alone, `latest`, `stable`)\n\
         is accepted and the blueprint assumes `version:`, else its own release:\n\
         write `version:` beside `image: NAME@sha256:…` to say what the image\n\
         runs (`strata audit` reports a `latest` tag as `mutable-image-tag`).\n\
         `version:` beside a tag of another major or minor is\n\
         `conflicting-version`. A mode whose versions say \"any\" is not checked.\n\n\
         ## Authentication\n\n\
         Whether a blueprint's clients must log in, whether an option switches\n\
         it off, and how they pass credentials. A client reads a password from\n\
         the Secret a blueprint exports as `secret`, as `{ secret: NAME, key:\n\
         KEY }` in its `env`. Without authentication a service exports no\n\
         `secret`, so a `${NAME.secret}` reference is `unknown-field`, and\n\
         `strata audit` reports a data store that admits anyone as\n\
         `store-without-auth`. The containers a blueprint renders (servers,\n\
         exporters, setup Jobs) get passwords in their environment, and their\n\
         scripts hand them on through files and here-documents, never on a\n\
         command line `ps` would show.\n\n\
         | blueprint | clients log in | switched off by | how |\n|---|---|---|---|\n",
    );
    for b in catalog.all() {
        let auth = &b.info().auth;
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} | {3} |\n",
            b.name(),
            if auth.required { "yes" } else { "no" },
            auth.off
                .map_or("—".to_string(), |o| format!("`options: {{ {o} }}`")),
            auth.clients
        ));
    }
    out.push_str(
        "\n\
         ## Metrics\n\n\
         On a platform with `monitoring:` (any of its keys), these blueprints\n\
         expose their system's metrics on a port named `metrics`, which the\n\
         scraper may reach ([networking.md](networking.md#metrics-scraping)):\n\n\
         | blueprint | modes | how | port |\n|---|---|---|---|\n\
         | `redis` | `standalone`, `sentinel` | a `redis-exporter` sidecar (`oliver006/redis_exporter`, restricted, 25m/32Mi to 100m/64Mi, counted by `plan`) reading the server on localhost; scrape annotations or a ServiceMonitor like any metrics port | 9121 |\n\
         | `redis` | `cluster` | the operator's `redisExporter` beside each node: a PodMonitor of its `redis-exporter` port with `monitoring.serviceMonitors`, else `prometheus.io/*` annotations on the `RedisCluster`, which the operator copies onto its pods | 9121 |\n\
         | `postgresql` | `single` | a `postgres-exporter` sidecar (`quay.io/prometheuscommunity/postgres-exporter`, restricted, 25m/32Mi to 100m/64Mi, counted by `plan`) reading the server on localhost as `postgres` | 9187 |\n\
         | `postgresql` | `ha` | CloudNativePG's exporter: `monitoring.enablePodMonitor` with `monitoring.serviceMonitors`, else `prometheus.io/*` annotations through `inheritedMetadata` | 9187 |\n\
         | `postgresql` | `patroni` | Patroni's own `/metrics` on its REST port `patroni` (the cluster's roles, lag and timeline) | 8008 |\n\
         | `kafka` | `strimzi` | `spec.kafka.metricsConfig`, the JMX Prometheus exporter with rules from a ConfigMap `NAME-metrics`; annotated broker pods | 9404 |\n\
         | `clickhouse` | `altinity` | ClickHouse's `prometheus` endpoint (`configuration.settings`); annotated server pods | 9363 |\n\n\
         Other modes (`kafka` `kraft`, `clickhouse` `single`) have no exporter yet.\n\n\
         ## Engine settings\n\n\
         `settings:` hands the engine its own configuration, name by name, with\n\
         no checking beyond one line per value; it overrides what the blueprint\n\
         sets for the same name:\n\n\
         | blueprint | mode | where the settings go |\n|---|---|---|\n\
         | `postgresql` | `single` | `-c NAME=VALUE` arguments of `postgres` |\n\
         | `postgresql` | `ha` | the `Cluster`'s `spec.postgresql.parameters` |\n\
         | `kafka` | `kraft` | broker properties as the image's `KAFKA_*` variables (`compression.type` → `KAFKA_COMPRESSION_TYPE`; `_` is written `__`, `-` `___`) |\n\
         | `kafka` | `strimzi` | the `Kafka`'s `spec.kafka.config` |\n\
         | `clickhouse` | `single` | a `users.d/strata-settings.xml` profile file (`PROFILE/SETTING` keys) |\n\
         | `clickhouse` | `altinity` | the installation's `configuration.profiles` (`PROFILE/SETTING` keys) |\n\
         | `redis` | `standalone`, `sentinel` | directives appended to `redis.conf` |\n\
         | `redis` | `cluster` | a ConfigMap `NAME-settings` named by `redisLeader` and `redisFollower` `redisConfig.additionalRedisConfig` |\n\n\
         ```yaml\n\
         postgres: { blueprint: postgresql, mode: ha, settings: { shared_buffers: 4GB, work_mem: 10MB } }\n\
         kafka: { blueprint: kafka, mode: strimzi, settings: { compression.type: snappy } }\n\
         clickhouse: { blueprint: clickhouse, settings: { default/max_execution_time: \"300\" } }\n\
         ```\n\n\
         Other blueprints refuse `settings` (`unsupported-option`); a name that\n\
         is not the engine's form, or a value on several lines, is `invalid-setting`.\n\n\
         ## What a blueprint renders\n\n\
         A mode without an operator renders what any service renders (a\n\
         ServiceAccount, a Service and a headless Service, the StatefulSet or\n\
         Deployment with its volume claims, a ConfigMap of its files, a\n\
         PodDisruptionBudget when replicated, NetworkPolicies) with the blueprint's\n\
         settings, plus the objects its row below names. A mode with an operator\n\
         renders only the operator's custom resources, with the service's\n\
         node pool in the operator's pod template, and the pod's and each\n\
         container's security context as its own pods get them (the root\n\
         filesystem left to the operator), so the pods the operator makes meet\n\
         the namespace's Pod Security level: `clickhouse` `altinity` names the\n\
         `clickhouse-log` sidecar the operator would otherwise add without one,\n\
         `kafka` `strimzi` sets the node pool's and the entity operator's\n\
         templates, `redis` `cluster` the exporter's. Where the custom resource\n\
         cannot carry them (the MySQL operator's init containers and sidecar in\n\
         `mysql` `ha`, the Milvus operator's containers in `milvus` `cluster`),\n\
         `check` warns `operator-pod-security` at a namespace enforcing\n\
         `restricted`. Groups of pods the\n\
         dependency graph does not name (Sentinels, an operator's pods, a\n\
         Keeper ensemble) get NetworkPolicies of their own (`NAME-members`,\n\
         `NAME-keeper`), and NetworkPolicies select operator-run pods by the\n\
         operator's own labels; see [networking.md](networking.md#blueprint-groups-and-operator-run-pods).\n\
         `strata plan` counts every pod a mode runs ([plan.md](plan.md#resources)).\n\n\
         ## Endpoints\n\n\
         Besides the fields every service exports (`name`, `namespace`, `host`,\n\
         `port`, `address`, `url`, `ports.NAME`), a blueprint sets `url` to its\n\
         system's scheme (`redis://`, `postgresql://`…), points `host` at the Service\n\
         clients should use (an operator's read-write Service, say) and adds the\n\
         fields listed for it, such as `secret`: the Secret holding its credentials.\n\
         Generated credentials are declared like `secrets:` with `generate:` —\n\
         `strata apply` creates them once and they never appear in rendered output;\n\
         a Secret read from several namespaces is copied into each with the same\n\
         values.\n\n\
         The SQL blueprints (`postgresql`, `mysql`) give each database owner its own\n\
         `kubernetes.io/basic-auth` Secret `NAME-OWNER` (`_` written `-`), and export\n\
         for each database `databases.DB.url`, `databases.DB.name`,\n\
         `databases.DB.user` and `databases.DB.secret`, so a client names the\n\
         database it uses: `${pg.databases.orders.url}`, and `{ secret: pg-orders,\n\
         key: password }` for its password. The top-level `user` and `secret` are\n\
         the first database's owner.\n\n\
         The `minio` blueprint gives each of its `users` an `Opaque` Secret\n\
         `NAME-USER` with `accesskey` (the user's name) and `secretkey` (generated),\n\
         the keys the Milvus Operator's `secretRef` reads, and exports\n\
         `users.USER.accessKey` and `users.USER.secret`: `{ secret: minio-data,\n\
         key: secretkey }` signs a client's requests with its own key.\n\n\
         A reference such as `${redis.url}` makes the referring service wait for it.\n\n\
         ## Operators\n\n\
         A mode marked with an operator renders that operator's custom resources\n\
         instead of a workload. The platform declares the operator under\n\
         `operators:`, either as already installed (`cloudnative-pg: { installed:\n\
         true }`) or as installed by a tier's raw manifests (`strimzi: { tier:\n\
         operators }`, the tier listing the operator's install files under\n\
         `manifests:`); in the second case the custom resources are applied in a\n\
         wave after that tier. `strata check` reports `missing-operator` at the\n\
         `mode:` of a service whose operator is not declared.\n\n\
         | operator | modes that need it |\n|---|---|\n",
    );
    for operator in catalog.operators() {
        let users: Vec<String> = catalog
            .all()
            .flat_map(|b| {
                b.info()
                    .modes
                    .iter()
                    .filter(move |m| m.operator == Some(operator))
                    .map(move |m| format!("`{}` `{}`", b.name(), m.name))
            })
            .collect();
        out.push_str(&format!("| `{operator}` | {} |\n", users.join(", ")));
    }
    out.push_str("\n## Catalog\n\n| blueprint | what it deploys | modes |\n|---|---|---|\n");
    for b in catalog.all() {
        let modes: Vec<String> = b
            .info()
            .modes
            .iter()
            .map(|m| format!("`{}`", m.name))
            .collect();
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} |\n",
            b.name(),
            b.info().summary,
            modes.join(", ")
        ));
    }
    for b in catalog.all() {
        out.push_str(&format!("\n### {}\n\n{}.\n\n", b.name(), b.info().summary));
        out.push_str(&format!("Version: `{}`.\n\n", b.info().version));
        out.push_str(
            "| mode | replicas | what it renders | operator | versions |\n|---|---|---|---|---|\n",
        );
        for m in b.info().modes {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                m.name,
                m.replicas,
                m.summary,
                m.operator.map_or("—".to_string(), |o| format!("`{o}`")),
                m.versions_text().unwrap_or_else(|| "any".to_string())
            ));
        }
        for m in b
            .info()
            .modes
            .iter()
            .filter(|m| !m.operator_releases.is_empty())
        {
            let operator = m.operator.unwrap_or_default();
            out.push_str(&format!(
                "
`{}` follows `operators.{operator}.version`, the newest by default:\n\n| {operator} | API version | versions | default |\n|---|---|---|---|\n",
                m.name
            ));
            for o in m.operator_releases {
                out.push_str(&format!(
                    "| {} | `{}` | {} | `{}` |\n",
                    o.minor(),
                    o.api,
                    model::Releases::text(o.runs).unwrap_or_else(|| "any".to_string()),
                    o.version
                ));
            }
        }
        let takes: Vec<String> = b
            .info()
            .takes
            .iter()
            .map(|k: &Key| format!("`{}`", k.as_str()))
            .collect();
        if !takes.is_empty() {
            out.push_str(&format!("\nTakes {}.\n", takes.join(", ")));
        }
        if !b.info().options.is_empty() {
            out.push_str("\n| option | meaning |\n|---|---|\n");
            for o in b.info().options {
                match o.instead {
                    Some(instead) => out.push_str(&format!(
                        "| `{}` | **Deprecated:** {instead}. {} |\n",
                        o.name, o.summary
                    )),
                    None => out.push_str(&format!("| `{}` | {} |\n", o.name, o.summary)),
                }
            }
        }
        out.push_str(
            "\nExports besides `port` and `address` (for a service `NAME` in namespace `NS`):\n\n",
        );
        for m in b.info().modes {
            let fields: Vec<String> = sample_exports(b, m)
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "port" | "address"))
                .map(|(k, v)| format!("`{k}` = `{v}`"))
                .collect();
            out.push_str(&format!("- `{}`: {}\n", m.name, fields.join(", ")));
        }
    }
    out
}
