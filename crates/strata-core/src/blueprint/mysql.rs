//! MySQL: one server with its databases and their owners created at first
//! start, or an InnoDB Cluster of the MySQL Operator behind MySQL Routers.
//!
//! The server's arguments and the setup SQL follow the version: MySQL 5.7
//! has no `utf8mb4_0900_ai_ci` collation. Clients of the setup scripts read
//! the root password from `MYSQL_PWD`, never from their command line.

use serde_json::{Value, json};

use super::database;
use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Key, Members, Mode, OptionDoc, OptionValue,
    Platform, PodGroup, Recipe, Release, Releases, Service, Supplied, Tuning,
};

/// The `mysql` blueprint.
pub(super) struct MySQL;

impl Blueprint for MySQL {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        backup(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn pods(&self, service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
        pods(service, tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "mysql",
    summary: "MySQL (LTS) with its databases and owners created at first start",
    modes: &[SINGLE, HA],
    version: "8.4.3",
    takes: &[Key::Databases],
    options: &[OptionDoc::of(
        OptionValue::Number,
        "routers",
        "A number: MySQL Router pods in `ha` mode; 2 by default.",
    )],
    auth: Auth::required(
        "each database owner logs in with the password in its Secret `NAME-OWNER`, key `password` (exports `user` and `secret` for the first database, `databases.DB.user` and `databases.DB.secret` for each); without databases, `root` with `NAME-credentials`, key `password` (`ha`: `rootPassword`)",
    ),
};

/// The `single` mode.
const SINGLE: Mode = Mode::new(
    "single",
    "one server (a StatefulSet of the official image)",
    1,
)
.versions(&[
    Releases::minors((5, 7), (5, 7)),
    Releases::minors((8, 0), (8, 4)),
]);

/// The `ha` mode.
const HA: Mode = Mode::new(
    "ha",
    "an InnoDB Cluster of the MySQL Operator (`InnoDBCluster`, `mysql.oracle.com/v2`): `replicas` servers in Group Replication with self-signed TLS, behind `routers` MySQL Routers; clients use the Service `NAME` (3306 read-write, 6447 read-only); a Job `NAME-databases` creates the databases and owners through the routers",
    3,
)
.operator("mysql-operator")
.operated()
.unset_security("the init containers and the sidecar")
// The MySQL Operator runs InnoDB Clusters of MySQL 8.
.versions(&[Releases::minors((8, 0), (8, 4))]);

/// The read-write and read-only ports of the MySQL Routers (the Service's
/// 3306 forwards to 6446).
const ROUTER_RW: u16 = 6446;
const ROUTER_RO: u16 = 6447;
/// What one router asks for and may use.
const ROUTER_SIZE: recipe::Size = recipe::Size {
    requests: ("100m", "256Mi"),
    limits: ("500m", "512Mi"),
};

/// Labels the MySQL Operator gives the router pods of cluster `name`.
fn router_labels(name: &str) -> [(&'static str, String); 2] {
    [
        ("mysql.oracle.com/cluster", name.to_string()),
        ("component", "mysqlrouter".to_string()),
    ]
}

/// The collation of the server and of the databases it creates: MySQL 8's
/// default, which 5.7 does not have; 5.7 gets the Unicode one it has.
fn collation(tuning: &Tuning) -> &'static str {
    if Release::parse(&tuning.version).is_some_and(|r| r.major < 8) {
        "utf8mb4_unicode_ci"
    } else {
        "utf8mb4_0900_ai_ci"
    }
}

/// `mysqld`'s arguments: `utf8mb4` and its collation, no DNS lookups of
/// clients.
fn server_args(tuning: &Tuning) -> Value {
    json!([
        "--character-set-server=utf8mb4",
        format!("--collation-server={}", collation(tuning)),
        "--skip-name-resolve"
    ])
}

/// `mysql`, logged in as root (the password in `MYSQL_PWD`), reading the
/// SQL creating every owner and database from a here-document: the owners'
/// passwords reach the server on its standard input. `connect` is what the
/// client needs besides (host, port), if anything. Idempotent.
fn create_databases(tuning: &Tuning, connect: &str) -> String {
    let mut script = format!("mysql{connect} --user=root <<SQL\n");
    for owner in tuning.database_owners() {
        script.push_str(&format!(
            "CREATE USER IF NOT EXISTS '{owner}'@'%' IDENTIFIED BY '${}';\n",
            database::password_variable(&owner)
        ));
    }
    for db in &tuning.databases {
        script.push_str(&format!(
            "CREATE DATABASE IF NOT EXISTS {0} CHARACTER SET utf8mb4 COLLATE {collation};\nGRANT ALL PRIVILEGES ON {0}.* TO '{1}'@'%';\n",
            db.name,
            db.owner,
            collation = collation(tuning),
        ));
    }
    script.push_str("SQL\n");
    script
}

/// The first-start script of `single` mode, run by the image on an empty
/// data directory; the root password is in `MYSQL_PWD` for the one call.
fn init_script(tuning: &Tuning) -> String {
    format!(
        "#!/bin/sh\n# Run once by the image on an empty data directory: databases and their owners.\nset -eu\n\
         MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\" {}",
        create_databases(tuning, "")
    )
}

/// What clients log in as: the first database's owner and its Secret (root
/// and the root Secret without databases), then each database's exports.
fn login_exports(
    tuning: &Tuning,
    database: &str,
    root_secret: &str,
    host: &str,
) -> Vec<(String, String)> {
    let (user, secret) = match tuning.databases.first() {
        Some(db) => (db.owner.clone(), database::owner_secret(tuning, &db.owner)),
        None => ("root".to_string(), root_secret.to_string()),
    };
    let mut exports = vec![
        ("database".to_string(), database.to_string()),
        ("user".to_string(), user),
        ("secret".to_string(), secret),
    ];
    exports.extend(database::database_exports(tuning, "mysql", host, 3306));
    exports
}

fn recipe(tuning: &Tuning) -> Recipe {
    if *tuning.mode == HA {
        return cluster_recipe(tuning);
    }
    let secret = credentials_name(tuning);
    let mut env = json!({ "MYSQL_ROOT_PASSWORD": { "secret": secret, "key": "password" } });
    for owner in tuning.database_owners() {
        env[database::password_variable(&owner)] =
            json!({ "secret": database::owner_secret(tuning, &owner), "key": "password" });
    }
    let mut spec = json!({
        "image": image("mysql", tuning),
        "kind": "stateful",
        "args": server_args(tuning),
        "ports": { "mysql": 3306 },
        "env": env,
        "storage": volume("20Gi", "/var/lib/mysql"),
        "security": user(999, 999, true),
        "resources": resources("500m", "1Gi", "2", "2Gi"),
        "terminationGracePeriod": "60s",
    });
    if !tuning.databases.is_empty() {
        spec["config"] = json!({ "mountPath": "/docker-entrypoint-initdb.d", "files": { "10-databases.sh": init_script(tuning) } });
    }
    let mut exports = recipe::endpoint(tuning, &tuning.service, "mysql", 3306);
    let host = exports[0].1.clone();
    let database = tuning
        .databases
        .first()
        .map_or("mysql", |d| d.name.as_str());
    exports.retain(|(k, _)| k != "url");
    exports.push(("url".into(), format!("mysql://{host}:3306/{database}")));
    exports.extend(login_exports(tuning, database, &secret, &host));
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            secrets: database::owner_secrets(tuning),
            // Socket, pid file and the import directory of secure-file-priv.
            scratch: vec!["/var/run/mysqld".into(), "/var/lib/mysql-files".into()],
            ..Supplied::default()
        },
    }
}

/// `ha` mode: clients reach the routers through the operator's Service
/// `NAME`; the servers, the routers and the database Job talk among
/// themselves; the operator reaches the servers.
fn cluster_recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let host = tuning.host(&tuning.service);
    let database = tuning
        .databases
        .first()
        .map_or("mysql", |d| d.name.as_str());
    let mut exports = recipe::endpoint(tuning, &tuning.service, "mysql", 3306);
    exports.retain(|(k, _)| k != "url");
    exports.push(("url".into(), format!("mysql://{host}:3306/{database}")));
    exports.push(("readHost".into(), host.clone()));
    exports.push(("readPort".into(), ROUTER_RO.to_string()));
    exports.push((
        "readUrl".into(),
        format!("mysql://{host}:{ROUTER_RO}/{database}"),
    ));
    exports.extend(login_exports(tuning, database, &secret, &host));
    // The operator reads the root account from `secretName`: rootUser,
    // rootHost and rootPassword.
    let mut secrets = database::owner_secrets(tuning);
    secrets.push(crate::model::Secret {
        name: secret.clone(),
        generate: vec!["rootPassword".into()],
        data: [
            ("rootUser".to_string(), "root".to_string()),
            ("rootHost".to_string(), "%".to_string()),
        ]
        .into(),
        namespaces: Vec::new(),
        secret_type: None,
        written: std::collections::BTreeMap::new(),
    });
    let routers: Vec<(&str, String)> = router_labels(&tuning.service).into();
    let routers: Vec<(&str, &str)> = routers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Recipe {
        spec: json!({
            "image": image("mysql", tuning),
            "kind": "stateful",
            // Policies see the routers' own ports: 3306 arrives on 6446.
            "ports": { "mysql": { "port": 3306, "targetPort": ROUTER_RW }, "mysql-ro": ROUTER_RO },
            "storage": volume("20Gi", "/var/lib/mysql"),
            "resources": resources("500m", "1Gi", "2", "2Gi"),
        }),
        supplied: Supplied {
            exports,
            secrets,
            pods: Some(crate::model::label_map(&routers)),
            members: vec![
                // The operator configures the servers with MySQL Shell over
                // the classic and X protocols.
                Members::new(
                    "members",
                    &[
                        ("mysql.oracle.com/cluster", &tuning.service),
                        ("component", "mysqld"),
                    ],
                )
                .operated(&[3306, 33060]),
                Members::new("routers", &routers),
                Members::setup_job("databases", recipe::DATABASES_JOB_LABEL, &tuning.service),
            ],
            ..Supplied::default()
        },
    }
}

/// The `InnoDBCluster` and the Job creating databases and owners.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if *tuning.mode != HA {
        return Vec::new();
    }
    let claim = recipe::claim_spec(service, &recipe::storage_size(service));
    let mut pod = json!({ "containers": [{ "name": "mysql", "resources": crate::render::resource_values(&service.resources, service.rare.gpu) }] });
    let mut router_pod =
        json!({ "containers": [{ "name": "router", "resources": ROUTER_SIZE.json() }] });
    if let Some(pool) = recipe::pool_scheduling(platform, service)
        && let Some(fields) = pool.as_object()
    {
        for (key, value) in fields {
            pod[key] = value.clone();
            router_pod[key] = value.clone();
        }
    }
    let mut out = vec![json!({
        "apiVersion": "mysql.oracle.com/v2",
        "kind": "InnoDBCluster",
        "metadata": crate::render::metadata(platform, service, &service.name),
        "spec": {
            "secretName": credentials_name(tuning),
            "tlsUseSelfSigned": true,
            "instances": service.replicas,
            "version": tuning.version,
            "router": { "instances": tuning.number("routers", 2), "podSpec": router_pod },
            "datadirVolumeClaimTemplate": claim,
            "podSpec": pod,
        },
    })];
    if !tuning.databases.is_empty() {
        out.extend(databases_job(platform, service, tuning));
    }
    out
}

/// A Job that waits for the routers, then creates the databases and their
/// owners (idempotently: it may run again on every apply).
fn databases_job(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let connect = format!(" --host={} --port=3306", tuning.host(&tuning.service));
    let script = format!(
        "set -eu\n\
         # Wait for the cluster's routers (10 minutes at most).\n\
         for attempt in $(seq 1 120); do\n  \
           mysql{connect} --user=root --execute='SELECT 1' >/dev/null 2>&1 && break\n  \
           sleep 5\n\
         done\n{}",
        create_databases(tuning, &connect)
    );
    let env = vec![
        json!({ "name": "MYSQL_PWD", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "rootPassword" } } }),
    ];
    database::databases_job(
        platform,
        service,
        tuning,
        service.image.as_deref().unwrap_or_default(),
        &script,
        env,
    )
}

/// What `plan` counts: in `ha` mode the servers and the routers.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    let servers = PodGroup::of(service);
    if *tuning.mode != HA {
        return vec![servers];
    }
    let mut routers = PodGroup::of(service);
    routers.name = format!("{}-router", service.name);
    routers.pods = tuning.number("routers", 2);
    routers.gpu = 0;
    routers.pvcs = 0;
    routers.storage = crate::quantity::Quantity::default();
    routers.resources = ROUTER_SIZE.resources();
    vec![servers, routers]
}

/// `single`: every database as SQL (`mysqldump --all-databases`),
/// restored with the `mysql` client; an InnoDB Cluster's are the MySQL
/// Operator's to take, which Strata does not yet render.
fn backup(tuning: &Tuning) -> Option<BackupMethod> {
    (*tuning.mode == SINGLE).then(|| {
        BackupMethod::Dump(Dump {
            image: image("mysql", tuning),
            user: 999,
            command: Dump::shell(
                "set -eu\n\
                 # Every database, with its routines, events and triggers, in one transaction.\n\
                 mysqldump --host=\"$BACKUP_HOST\" --port=\"$BACKUP_PORT\" --user=root --all-databases --single-transaction --routines --events --triggers --result-file=\"$BACKUP_DIR/all.sql\"\n\
                 gzip \"$BACKUP_DIR/all.sql\"\n"
                    .to_string(),
            ),
            env: vec![
                json!({ "name": "MYSQL_PWD", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "password" } } }),
            ],
            ports: vec![3306],
            contains: "`all.sql.gz`: every database, its routines, events and triggers, and the users of the `mysql` schema, as SQL (`mysqldump --all-databases --single-transaction`) that drops and recreates each table",
            restore: "set -eu\n\
                      gunzip -c \"$BACKUP_DIR/all.sql.gz\" | mysql --host=\"$BACKUP_HOST\" --port=\"$BACKUP_PORT\" --user=root\n"
                .to_string(),
            offline: false,
        })
    })
}
