//! PostgreSQL: one server from the official image, a highly available
//! CloudNativePG `Cluster` (a primary, streaming replicas, automated
//! failover, optional base backups and WAL archive to S3), or Patroni
//! electing its primary in the platform's etcd ([`patroni`]). Databases,
//! owners and schemas are created in every mode; psql reads each owner's
//! password from the environment itself, so none is on a command line.

use serde_json::{Value, json};

use super::database;
use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::diag::Diagnostic;
use crate::image::ImageRef;
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Database, Dump, Key, Members, Mode, OptionCheck,
    OptionDoc, OptionValue, Platform, PodGroup, Recipe, Release, Releases, Service, Supplied,
    Tuning,
};

mod patroni;

/// The `postgresql` blueprint.
pub(super) struct PostgreSQL;

impl Blueprint for PostgreSQL {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn pods(&self, service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
        pods(service, tuning)
    }

    fn check_options(&self, check: &OptionCheck<'_>) -> Vec<Diagnostic> {
        check_options(check)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        backup(tuning)
    }

    /// Spilo's tag is its own release, not PostgreSQL's: `version:` picks
    /// the major the image runs.
    fn image_version(&self, mode: &Mode, image: &ImageRef<'_>) -> Option<String> {
        if *mode == PATRONI {
            return None;
        }
        image.tag.and_then(Release::prefix).map(str::to_string)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "postgresql",
    summary: "PostgreSQL with its databases, owners and schemas created at first start",
    modes: &[SINGLE, HA, PATRONI],
    version: "16.4",
    takes: &[Key::Databases, Key::Settings],
    options: &[
        OptionDoc::text(
            "backup",
            "`ha` mode: the S3 URL base backups and WAL go to (`s3://bucket/path`); none by default.",
        ),
        OptionDoc::text(
            "backupSecret",
            "`ha` mode: the Secret with `ACCESS_KEY_ID` and `ACCESS_SECRET_KEY` for `backup`; `NAME-backup` by default.",
        ),
        OptionDoc::text(
            "backupAccessKey",
            "`ha` mode: the key of `backupSecret` holding the access key ID; `ACCESS_KEY_ID` by default (needs `backupSecret`).",
        ),
        OptionDoc::text(
            "backupSecretKey",
            "`ha` mode: the key of `backupSecret` holding the secret access key, such as `SECRET_ACCESS_KEY`; `ACCESS_SECRET_KEY` by default (needs `backupSecret`).",
        ),
        OptionDoc::of(
            OptionValue::Number,
            "walMaxParallel",
            "A number: `ha` mode: WAL files archived and fetched in parallel (`wal.maxParallel` of the object store); one at a time by default (needs `backup`).",
        ),
        OptionDoc::text(
            "backupEndpoint",
            "`ha` mode: a service of the platform serving S3 (a `minio`) that `backup` goes to: its URL is the `endpointURL`, the cluster calls it (an edge, so NetworkPolicies allow it), and without `backupSecret` a `minio`'s root credentials in its Secret `SERVICE-credentials` (`root-user`, `root-password`) sign the requests; none by default (AWS S3).",
        )
        .deprecated("write `backup: { to: SERVICE/BUCKET/PREFIX, keep: 30d }` on the service instead of the options `backup`, `backupEndpoint` and `retention`: the same edge, endpoint and login, and `strata backup`, `backups` and `restore` know it"),
        OptionDoc::text(
            "retention",
            "`ha` mode: how long backups are kept, such as `30d`; `30d` by default.",
        ),
        OptionDoc::text(
            "dcs",
            "`patroni` mode, required: the platform's `etcd` service Patroni keeps its leader lock and configuration in; the pods call it and start after it.",
        ),
        OptionDoc::of(
            OptionValue::Number,
            "maxConnections",
            "A number: `max_connections`; 200 by default.",
        ),
    ],
    auth: Auth::required(
        "each database owner logs in with the password in its Secret `NAME-OWNER`, key `password` (exports `user` and `secret` for the first database, `databases.DB.user` and `databases.DB.secret` for each), hashed with SCRAM; without databases, `postgres` with `NAME-credentials`, key `password` (`ha`: CloudNativePG's `app` with `NAME-app`); `patroni` admits remote logins over TLS only (`sslmode=require`)",
    ),
};

/// The `single` mode.
const SINGLE: Mode = Mode::new(
    "single",
    "one server (a StatefulSet of the official image)",
    1,
)
// The official image of 18 keeps its data under a path of its major, not
// on the volume this mode mounts.
.versions(&[Releases::majors(12, 17)]);

/// The `ha` mode.
const HA: Mode = Mode::new(
    "ha",
    "a CloudNativePG `Cluster`: a primary and streaming replicas with automated failover, a PodDisruptionBudget and anti-affinity, optional backups to S3; each database (and its schemas) a `Database` resource, owners after the first managed roles (CloudNativePG 1.26 or later)",
    3,
)
.operator("cloudnative-pg")
.operated()
// The PostgreSQL majors CloudNativePG 1.26 manages.
.versions(&[Releases::majors(13, 17)]);

/// The `patroni` mode.
const PATRONI: Mode = Mode::new(
    "patroni",
    "a StatefulSet of Spilo (PostgreSQL with Patroni) electing its primary in the platform's etcd (option `dcs`): Services `NAME-primary` and `NAME-replicas` follow the pods' role labels, replicas stream from the primary, a Job `NAME-databases` creates the databases, owners and schemas",
    3,
)
// The majors the `spilo-16` image carries; `version:` picks one.
.versions(&[Releases::majors(12, 16)]);

const PORT: u16 = 5432;

/// Options that only mean something in one mode, or beside another: without
/// these checks they would be accepted and ignored.
/// Whether the service has `backup:` of its own or from `defaults`.
fn backup_key(check: &OptionCheck<'_>) -> bool {
    use crate::spec::null::OrNone;
    let own = check
        .platform
        .tiers
        .value
        .iter()
        .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
        .find(|(name, _)| name.value.0 == check.service)
        .and_then(|(_, spec)| spec.value.rare.backup.as_ref());
    match own {
        Some(own) => matches!(own.value, OrNone::Value(_)),
        None => check
            .platform
            .defaults
            .as_ref()
            .is_some_and(|d| d.value.backup.is_some()),
    }
}

fn check_options(check: &OptionCheck<'_>) -> Vec<crate::diag::Diagnostic> {
    const NEEDS: [(&str, &str); 3] = [
        ("walMaxParallel", "backup"),
        ("backupAccessKey", "backupSecret"),
        ("backupSecretKey", "backupSecret"),
    ];
    const MODE_OF: [(&str, &str); 8] = [
        ("backup", "ha"),
        ("backupSecret", "ha"),
        ("backupAccessKey", "ha"),
        ("backupSecretKey", "ha"),
        ("backupEndpoint", "ha"),
        ("walMaxParallel", "ha"),
        ("retention", "ha"),
        ("dcs", "patroni"),
    ];
    let mut errors = patroni::check(check);
    if let Some(option) = check.get("backup")
        && backup_key(check)
    {
        errors.push(
            check
                .error(
                    "backup-twice",
                    format!("`{}` has backups from the option `backup` and from `backup:`", check.service),
                    option.span,
                    "a second backup",
                )
                .help("remove the option (`backup: { to: s3://BUCKET/PREFIX, secret: NAME }` replaces it), or write `backup: none` on the service"),
        );
    }
    for (key, value) in check.options.iter().flat_map(|m| m.value.iter()) {
        if let Some((_, mode)) = MODE_OF
            .iter()
            .find(|(name, mode)| *name == key.value && *mode != check.mode.name)
        {
            errors.push(
                check
                    .error(
                        "unsupported-option",
                        format!(
                            "the option `{}` is for `mode: {mode}`, and this service runs `{}`",
                            key.value, check.mode.name
                        ),
                        key.span,
                        "not used by this mode",
                    )
                    .help(format!("remove it, or use `mode: {mode}`")),
            );
        } else if let Some((_, needed)) = NEEDS.iter().find(|(name, _)| *name == key.value)
            && check.get(needed).is_none()
        {
            errors.push(
                check
                    .error(
                        "invalid-option",
                        format!("the option `{}` needs the option `{needed}`", key.value),
                        key.span,
                        "nothing to apply it to",
                    )
                    .help(format!("set `{needed}` too, or remove `{}`", key.value)),
            );
        } else if key.value == "walMaxParallel" && value.value.trim() == "0" {
            errors.push(
                check
                    .error(
                        "invalid-option",
                        "the option `walMaxParallel` is 0".to_string(),
                        value.span,
                        "not at least 1",
                    )
                    .help("write 1 or more WAL files at a time, such as `\"8\"`"),
            );
        }
    }
    errors
}

/// The role owning the first database: who the top-level exports log in as.
fn app_user(tuning: &Tuning) -> String {
    tuning
        .databases
        .first()
        .map_or_else(|| "app".to_string(), |d| d.owner.clone())
}

/// The psql call creating every role, database and schema; each schema is
/// created in its own database. Idempotent, so a Job may run it on every
/// apply. `connect` is what psql needs besides the variables (user, host),
/// if anything. Each role's password goes from the environment into a psql
/// variable through a command psql runs itself (`printf`, a shell
/// built-in): on no command line, and quoted by psql as a literal.
fn setup(connect: &str, databases: &[Database], owners: &[String]) -> String {
    let mut call = String::from("psql -v ON_ERROR_STOP=1");
    for part in [connect, "--dbname postgres"]
        .iter()
        .filter(|p| !p.is_empty())
    {
        call.push(' ');
        call.push_str(part);
    }
    call.push_str(" <<'SQL'\n");
    for owner in owners {
        let variable = database::password_variable(owner);
        call.push_str(&format!("\\set {variable} `printf '%s' \"${variable}\"`\n"));
    }
    for owner in owners {
        call.push_str(&format!(
            "SELECT 'CREATE ROLE {owner} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}')\\gexec\n\
             ALTER ROLE {owner} PASSWORD :'{}';\n",
            database::password_variable(owner)
        ));
    }
    for db in databases {
        call.push_str(&format!(
            "SELECT 'CREATE DATABASE {name} OWNER {owner}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}')\\gexec\n",
            name = db.name,
            owner = db.owner
        ));
    }
    for db in databases.iter().filter(|db| !db.schemas.is_empty()) {
        call.push_str(&format!("\\connect {}\n", db.name));
        for schema in &db.schemas {
            call.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {};\n",
                db.owner
            ));
        }
    }
    call.push_str("SQL\n");
    call
}

/// The first-start script of `single` mode, run by the image on an empty
/// data directory.
fn init_script(tuning: &Tuning) -> String {
    format!(
        "#!/bin/sh\n# Run once by the image on an empty data directory: roles, databases, schemas.\nset -eu\n{}",
        setup(
            "--username \"$POSTGRES_USER\"",
            &tuning.databases,
            &tuning.database_owners()
        )
    )
}

/// The server's parameters: the blueprint's, then the service's `settings`,
/// which replace a parameter of the same name.
fn parameters(tuning: &Tuning) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = vec![
        (
            "max_connections".into(),
            json!(tuning.number("maxConnections", 200).to_string()),
        ),
        ("password_encryption".into(), json!("scram-sha-256")),
    ];
    for (name, value) in &tuning.settings {
        match out.iter_mut().find(|(k, _)| k == name) {
            Some(own) => own.1 = json!(value),
            None => out.push((name.clone(), json!(value))),
        }
    }
    out
}

/// The metrics port: CloudNativePG's on every instance, and
/// postgres_exporter's beside a `single` server.
const METRICS_PORT: u16 = 9187;
/// postgres_exporter's image, pinned.
const EXPORTER_IMAGE: &str = "quay.io/prometheuscommunity/postgres-exporter:v0.16.0";
/// The postgres_exporter sidecar of `single` mode: reads the server on
/// localhost as the superuser.
fn exporter(secret: &str) -> Value {
    recipe::exporter(
        "postgres-exporter",
        EXPORTER_IMAGE,
        METRICS_PORT,
        65534,
        json!([
            { "name": "DATA_SOURCE_URI", "value": format!("localhost:{PORT}/postgres?sslmode=disable") },
            { "name": "DATA_SOURCE_USER", "value": "postgres" },
            { "name": "DATA_SOURCE_PASS", "valueFrom": { "secretKeyRef": { "name": secret, "key": "password" } } },
        ]),
    )
}

/// What `plan` counts: a `single` server's pod carries the exporter when
/// the platform is monitored.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    let mut servers = PodGroup::of(service);
    if tuning.metrics && *tuning.mode == SINGLE {
        servers.resources = servers.resources.plus(recipe::EXPORTER_SIZE.resources());
    }
    vec![servers]
}

fn recipe(tuning: &Tuning) -> Recipe {
    let ha = *tuning.mode == HA;
    let patroni = *tuning.mode == PATRONI;
    let mut exports;
    let credentials;
    let mut spec = json!({
        "kind": "stateful",
        "ports": { "postgres": PORT },
        "storage": volume("20Gi", "/var/lib/postgresql/data"),
        "resources": resources("500m", "1Gi", "2", "2Gi"),
        "terminationGracePeriod": "60s",
    });
    if tuning.metrics && !patroni {
        // Every CloudNativePG instance serves its metrics on 9187; a
        // `single` server's exporter beside it does too.
        spec["ports"]["metrics"] = json!(METRICS_PORT);
    }
    match tuning.mode.name {
        "ha" => {
            // CloudNativePG names the Services.
            spec["image"] = json!(image("ghcr.io/cloudnative-pg/postgresql", tuning));
            exports = primary_and_replicas(tuning, "rw", "ro");
            credentials = None;
        }
        "patroni" => {
            exports = patroni::workload(tuning, &mut spec);
            credentials = Some(patroni::credentials(tuning));
        }
        _ => {
            let secret = credentials_name(tuning);
            spec["image"] = json!(image("postgres", tuning));
            let args: Vec<String> = parameters(tuning)
                .into_iter()
                .flat_map(|(k, v)| {
                    [
                        "-c".to_string(),
                        format!("{k}={}", v.as_str().unwrap_or_default()),
                    ]
                })
                .collect();
            spec["args"] = json!(args);
            spec["env"] = json!({
                "POSTGRES_USER": "postgres",
                "POSTGRES_PASSWORD": { "secret": secret, "key": "password" },
                "PGDATA": "/var/lib/postgresql/data/pgdata",
            });
            owner_passwords(tuning, &mut spec);
            spec["security"] = user(999, 999, true);
            if !tuning.databases.is_empty() {
                spec["config"] = json!({ "mountPath": "/docker-entrypoint-initdb.d", "files": { "10-databases.sh": init_script(tuning) } });
            }
            exports = recipe::endpoint(tuning, &tuning.service, "postgresql", PORT);
            credentials = Some((secret, vec!["password".into()]));
        }
    }
    let host = exports[0].1.clone();
    // Without databases: CloudNativePG's `app` owned by `app` (its Secret
    // `NAME-app`), or the official image's superuser.
    let (database, user, secret) = match tuning.databases.first() {
        Some(db) => (
            db.name.clone(),
            db.owner.clone(),
            database::owner_secret(tuning, &db.owner),
        ),
        None if ha => (
            "app".into(),
            "app".into(),
            format!("{}-app", tuning.service),
        ),
        None => (
            "postgres".into(),
            "postgres".into(),
            credentials_name(tuning),
        ),
    };
    exports.retain(|(k, _)| k != "url");
    exports.push((
        "url".into(),
        format!("postgresql://{host}:{PORT}/{database}"),
    ));
    exports.push(("database".into(), database));
    exports.push(("user".into(), user));
    exports.push(("secret".into(), secret));
    exports.extend(database::database_exports(
        tuning,
        "postgresql",
        &host,
        PORT,
    ));
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials,
            secrets: database::owner_secrets(tuning),
            // Options refused outside their mode (`check_options`).
            needs: ["backupEndpoint", "dcs"]
                .iter()
                .filter_map(|name| tuning.options.get(*name))
                .cloned()
                .collect(),
            // The official image's socket and lock files; the data is on the
            // volume. Spilo writes beside its image's files.
            scratch: if patroni {
                Vec::new()
            } else {
                vec!["/var/run/postgresql".into()]
            },
            pod_env: patroni,
            sidecars: if tuning.metrics && *tuning.mode == SINGLE {
                vec![exporter(&credentials_name(tuning))]
            } else {
                Vec::new()
            },
            // CloudNativePG labels its pods `cnpg.io/cluster` (instances and
            // their join and backup jobs) and `cnpg.io/podRole: instance`; it
            // reaches each instance's manager on 8000 and PostgreSQL on 5432.
            pods: ha.then(|| {
                crate::model::label_map(&[
                    ("cnpg.io/cluster", &tuning.service),
                    ("cnpg.io/podRole", "instance"),
                ])
            }),
            members: match tuning.mode.name {
                "ha" => vec![
                    Members::new("members", &[("cnpg.io/cluster", &tuning.service)])
                        .operated(&[8000, PORT]),
                ],
                "patroni" => patroni::members(tuning),
                _ => Vec::new(),
            },
            ..Supplied::default()
        },
    }
}

/// The exports of a primary behind Service `NAME-WRITE` and replicas behind
/// `NAME-READ` (as `readHost`).
fn primary_and_replicas(tuning: &Tuning, write: &str, read: &str) -> Vec<(String, String)> {
    let mut exports = recipe::endpoint(
        tuning,
        &format!("{}-{write}", tuning.service),
        "postgresql",
        PORT,
    );
    exports.push((
        "readHost".into(),
        tuning.host(&format!("{}-{read}", tuning.service)),
    ));
    exports
}

/// Each database owner's password, from its Secret, in the variable the
/// setup script reads.
fn owner_passwords(tuning: &Tuning, spec: &mut Value) {
    for owner in tuning.database_owners() {
        spec["env"][database::password_variable(&owner)] =
            json!({ "secret": database::owner_secret(tuning, &owner), "key": "password" });
    }
}

/// `single`: every database and role as SQL (`pg_dumpall`), restored with
/// psql; `ha`: CloudNativePG's base backups and WAL archive
/// ([`cluster`]). Patroni's servers take logins over TLS only, which
/// the dump does not yet speak.
fn backup(tuning: &Tuning) -> Option<BackupMethod> {
    match tuning.mode.name {
        "single" => Some(BackupMethod::Dump(Dump {
            image: image("postgres", tuning),
            user: 999,
            command: Dump::shell(String::from(
                "set -eu\n\
                 # Every database, role and setting, as SQL that drops and recreates them.\n\
                 pg_dumpall --host=\"$BACKUP_HOST\" --port=\"$BACKUP_PORT\" --clean --if-exists --file=\"$BACKUP_DIR/all.sql\"\n\
                 gzip \"$BACKUP_DIR/all.sql\"\n",
            )),
            env: vec![
                json!({ "name": "PGUSER", "value": "postgres" }),
                json!({ "name": "PGPASSWORD", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "password" } } }),
            ],
            ports: vec![PORT],
            contains: "`all.sql.gz`: every database, role and setting of the server as SQL (`pg_dumpall --clean --if-exists`), which drops and recreates each database",
            restore: String::from(
                "set -eu\n\
                 # All but dropping and creating the role psql logs in as, which exists.\n\
                 gunzip -c \"$BACKUP_DIR/all.sql.gz\" \\\n  \
                   | sed -e '/^DROP ROLE IF EXISTS postgres;$/d' -e '/^CREATE ROLE postgres;$/d' \\\n  \
                   | psql --host=\"$BACKUP_HOST\" --port=\"$BACKUP_PORT\" --dbname=postgres --quiet --output=/dev/null --set=ON_ERROR_STOP=1\n",
            ),
            offline: false,
        })),
        "ha" => Some(BackupMethod::Operator),
        _ => None,
    }
}

fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    match tuning.mode.name {
        "ha" => cluster(platform, service, tuning),
        "patroni" => patroni::objects(platform, service, tuning),
        _ => Vec::new(),
    }
}

/// The `backup` of a `Cluster` from `backup:`: base backups and WAL into
/// `s3://BUCKET/PREFIX/NAME`, expired after `keep` days by the operator.
fn barman(backup: &crate::model::Backup, service: &Service) -> Value {
    let target = &backup.target;
    let mut store = json!({
        "destinationPath": target.url(&service.name),
        "s3Credentials": {
            "accessKeyId": { "name": target.secret, "key": target.access_key },
            "secretAccessKey": { "name": target.secret, "key": target.secret_key },
        },
        "wal": { "compression": "gzip" },
        "data": { "compression": "gzip" },
    });
    if target.endpoint != crate::model::DEFAULT_S3_ENDPOINT {
        store["endpointURL"] = json!(target.endpoint);
    }
    json!({ "retentionPolicy": format!("{}d", backup.keep_days), "barmanObjectStore": store })
}

/// A CronJob schedule as CloudNativePG's, whose first field is seconds;
/// macros (`@daily`) as they are.
fn with_seconds(schedule: &str) -> String {
    if schedule.starts_with('@') {
        schedule.to_string()
    } else {
        format!("0 {schedule}")
    }
}

/// The CloudNativePG `Cluster` of `ha` mode, its databases and backups.
fn cluster(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let mut storage = json!({ "size": recipe::storage_size(service) });
    if let Some(class) = service.storage.as_ref().and_then(|s| s.class.as_ref()) {
        storage["storageClass"] = json!(class);
    }
    let mut initdb = json!({ "database": tuning.databases.first().map_or("app", |d| d.name.as_str()), "owner": app_user(tuning) });
    if !tuning.databases.is_empty() {
        initdb["secret"] = json!({ "name": database::owner_secret(tuning, &app_user(tuning)) });
    }
    let mut spec = json!({
        "instances": service.replicas,
        "imageName": service.image,
        "primaryUpdateStrategy": "unsupervised",
        "postgresql": { "parameters": parameters(tuning).into_iter().collect::<serde_json::Map<String, Value>>() },
        "bootstrap": { "initdb": initdb },
        "storage": storage,
        "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
        "affinity": { "enablePodAntiAffinity": true, "topologyKey": "kubernetes.io/hostname", "podAntiAffinityType": "preferred" },
        "monitoring": { "enablePodMonitor": platform.service_monitors },
    });
    // Metrics: a PodMonitor where the Prometheus Operator runs, else the
    // scrape annotations on every instance (CloudNativePG copies
    // `inheritedMetadata` onto its pods).
    if tuning.metrics && !platform.service_monitors {
        spec["inheritedMetadata"] = json!({ "annotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": METRICS_PORT.to_string(),
            "prometheus.io/path": "/metrics",
        } });
    }
    // CloudNativePG schedules instances by `affinity.nodeSelector` and
    // `affinity.tolerations`.
    if let Some(pool) = recipe::pool_scheduling(platform, service) {
        for key in ["nodeSelector", "tolerations"] {
            if let Some(value) = pool.get(key) {
                spec["affinity"][key] = value.clone();
            }
        }
    }
    // Owners after the first are managed roles: CloudNativePG creates them
    // and keeps their passwords in step with the Secrets `apply` fills once.
    let app = app_user(tuning);
    let roles: Vec<Value> = tuning
        .database_owners()
        .into_iter()
        .filter(|owner| *owner != app)
        .map(|owner| json!({ "name": owner, "ensure": "present", "login": true, "passwordSecret": { "name": database::owner_secret(tuning, &owner) } }))
        .collect();
    if !roles.is_empty() {
        spec["managed"] = json!({ "roles": roles });
    }
    if let Some(backup) = &service.backup {
        spec["backup"] = barman(backup, service);
    } else if let Some(destination) = tuning.options.get("backup") {
        let secret = tuning.option("backupSecret", "").to_string();
        let secret = if secret.is_empty() {
            format!("{}-backup", tuning.service)
        } else {
            secret
        };
        let mut credentials = json!({
            "accessKeyId": { "name": secret, "key": tuning.option("backupAccessKey", "ACCESS_KEY_ID") },
            "secretAccessKey": { "name": secret, "key": tuning.option("backupSecretKey", "ACCESS_SECRET_KEY") },
        });
        let endpoint = tuning
            .options
            .get("backupEndpoint")
            .and_then(|name| platform.service(name));
        if let Some(store) = endpoint
            && !tuning.options.contains_key("backupSecret")
            && store
                .tuning
                .as_ref()
                .is_some_and(|t| t.blueprint.name() == "minio")
        {
            let minio = format!("{}-credentials", store.name);
            credentials = json!({
                "accessKeyId": { "name": minio, "key": "root-user" },
                "secretAccessKey": { "name": minio, "key": "root-password" },
            });
        }
        spec["backup"] = json!({
            "retentionPolicy": tuning.option("retention", "30d"),
            "barmanObjectStore": {
                "destinationPath": destination,
                "s3Credentials": credentials,
                "wal": { "compression": "gzip" },
                "data": { "compression": "gzip" },
            },
        });
        if tuning.options.contains_key("walMaxParallel") {
            spec["backup"]["barmanObjectStore"]["wal"]["maxParallel"] =
                json!(tuning.number("walMaxParallel", 1));
        }
        if let Some(store) = endpoint
            && let Some(port) = store.ports.first()
        {
            spec["backup"]["barmanObjectStore"]["endpointURL"] = json!(format!(
                "http://{}.{}.svc.{}:{}",
                store.name,
                store.namespace,
                crate::model::CLUSTER_DOMAIN,
                port.service_port()
            ));
        }
    }
    if let Some(refs) = crate::render::pull_secret_refs(platform, service.image.as_deref()) {
        spec["imagePullSecrets"] = refs;
    }
    let mut out = vec![json!({
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": crate::render::metadata(platform, service, &service.name),
        "spec": spec,
    })];
    // Every database, the first included, as a `Database` resource: each
    // schema is created inside its own database and owned by its owner.
    for db in &tuning.databases {
        let mut spec = json!({ "name": db.name, "owner": db.owner, "cluster": { "name": service.name }, "ensure": "present" });
        if !db.schemas.is_empty() {
            spec["schemas"] = db
                .schemas
                .iter()
                .map(|schema| json!({ "name": schema, "owner": db.owner, "ensure": "present" }))
                .collect();
        }
        out.push(json!({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Database",
            "metadata": crate::render::metadata(platform, service, &format!("{}-{}", service.name, db.name.replace('_', "-"))),
            "spec": spec,
        }));
    }
    if let Some(backup) = &service.backup {
        out.push(json!({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": crate::render::metadata(platform, service, &crate::render::backup::cronjob_name(&service.name)),
            "spec": { "schedule": with_seconds(&backup.schedule), "backupOwnerReference": "self", "cluster": { "name": service.name } },
        }));
    } else if tuning.options.contains_key("backup") {
        out.push(json!({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": crate::render::metadata(platform, service, &format!("{}-daily", service.name)),
            "spec": { "schedule": "0 0 3 * * *", "backupOwnerReference": "self", "cluster": { "name": service.name } },
        }));
    }
    out
}
