//! What the SQL blueprints (MySQL, PostgreSQL single and Patroni) share
//! about the databases they create: one login Secret per owner, the variables
//! that carry each password, the Job that creates databases and owners, and
//! each database's exports.

use serde_json::Value;

use super::recipe;
use crate::model::{Platform, Secret, Service, Tuning, owner_secret_of};

/// The environment variable holding a database owner's password.
pub(super) fn password_variable(owner: &str) -> String {
    format!("{}_PASSWORD", owner.to_ascii_uppercase())
}

/// The Secret holding a database owner's login: `NAME-OWNER`, with `_`
/// written `-` as Kubernetes names require.
pub(super) fn owner_secret(tuning: &Tuning, owner: &str) -> String {
    owner_secret_of(&tuning.service, owner)
}

/// The Job `NAME-databases` running `script` in `image` as its user 999
/// (the official images' `postgres` and `mysql`), with `env` and each
/// owner's password in the variable the script reads.
pub(super) fn databases_job(
    platform: &Platform,
    service: &Service,
    tuning: &Tuning,
    image: &str,
    script: &str,
    mut env: Vec<Value>,
) -> Vec<Value> {
    for owner in tuning.database_owners() {
        env.push(serde_json::json!({ "name": password_variable(&owner), "valueFrom": { "secretKeyRef": { "name": owner_secret(tuning, &owner), "key": "password" } } }));
    }
    recipe::member_setup(
        platform,
        service,
        recipe::MemberSetup {
            what: "databases",
            label: recipe::DATABASES_JOB_LABEL,
            user: 999,
            image,
            script,
            env,
        },
    )
}

/// One `kubernetes.io/basic-auth` Secret per database owner: the user name
/// given, the password generated once by `apply`. Each client namespace
/// that reads one gets a copy with the same value, and no other owner's.
pub(super) fn owner_secrets(tuning: &Tuning) -> Vec<Secret> {
    tuning
        .database_owners()
        .into_iter()
        .map(|owner| Secret {
            name: owner_secret(tuning, &owner),
            generate: vec!["password".into()],
            data: [("username".to_string(), owner)].into(),
            namespaces: Vec::new(),
            secret_type: Some("kubernetes.io/basic-auth".into()),
            written: std::collections::BTreeMap::new(),
        })
        .collect()
}

/// The exports of each database: `databases.DB.url`, `.name`, `.user` and
/// `.secret` (its owner's Secret, key `password`), so a client names the
/// database it uses, `${pg.databases.orders.url}`.
pub(super) fn database_exports(
    tuning: &Tuning,
    scheme: &str,
    host: &str,
    port: u16,
) -> Vec<(String, String)> {
    let mut exports = Vec::new();
    for db in &tuning.databases {
        let field = |what: &str| format!("databases.{}.{what}", db.name);
        exports.push((
            field("url"),
            format!("{scheme}://{host}:{port}/{}", db.name),
        ));
        exports.push((field("name"), db.name.clone()));
        exports.push((field("user"), db.owner.clone()));
        exports.push((field("secret"), owner_secret(tuning, &db.owner)));
    }
    exports
}
