//! MySQL: one server with its databases and their owners created at first start.

use serde_json::json;

use super::recipe::{self, credentials_name, image, resources, user, volume};
use super::{Blueprint, Key, Mode, Recipe, Supplied, Tuning};

/// The `mysql` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "mysql",
    summary: "MySQL (LTS) with its databases and owners created at first start",
    modes: &[Mode {
        name: "single",
        summary: "one server (a StatefulSet of the official image)",
        replicas: 1,
        operator: None,
        operated: false,
        sharded: false,
    }],
    version: "8.4.3",
    takes: &[Key::Databases],
    options: &[],
    recipe,
    objects: recipe::no_objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
};

fn init_script(tuning: &Tuning) -> String {
    let mut script = String::from(
        "#!/bin/sh\n# Run once by the image on an empty data directory: databases and their owners.\nset -eu\n\
         mysql --user=root --password=\"$MYSQL_ROOT_PASSWORD\" <<SQL\n",
    );
    for owner in tuning.database_owners() {
        script.push_str(&format!(
            "CREATE USER IF NOT EXISTS '{owner}'@'%' IDENTIFIED BY '${}';\n",
            super::password_variable(&owner)
        ));
    }
    for db in &tuning.databases {
        script.push_str(&format!(
            "CREATE DATABASE IF NOT EXISTS {0} CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;\nGRANT ALL PRIVILEGES ON {0}.* TO '{1}'@'%';\n",
            db.name, db.owner
        ));
    }
    script.push_str("SQL\n");
    script
}

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut env = json!({ "MYSQL_ROOT_PASSWORD": { "secret": secret, "key": "password" } });
    for owner in tuning.database_owners() {
        env[super::password_variable(&owner)] =
            json!({ "secret": super::owner_secret(tuning, &owner), "key": "password" });
    }
    let mut spec = json!({
        "image": image("mysql", tuning),
        "kind": "stateful",
        "args": ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_0900_ai_ci", "--skip-name-resolve"],
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
    exports.push(("database".into(), database.to_string()));
    exports.push((
        "user".into(),
        tuning
            .databases
            .first()
            .map_or("root", |d| d.owner.as_str())
            .to_string(),
    ));
    // The first database's owner, not root, is what clients log in as.
    exports.push((
        "secret".into(),
        tuning
            .databases
            .first()
            .map_or(secret.clone(), |d| super::owner_secret(tuning, &d.owner)),
    ));
    exports.extend(super::database_exports(tuning, "mysql", &host, 3306));
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            secrets: super::owner_secrets(tuning),
            // Socket, pid file and the import directory of secure-file-priv.
            scratch: vec!["/var/run/mysqld".into(), "/var/lib/mysql-files".into()],
            ..Supplied::default()
        },
    }
}
