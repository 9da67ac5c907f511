//! MinIO: one server, or a distributed pool of four or more that erasure-
//! codes objects across its pods, with its buckets and, for each client,
//! a user of its own limited to its buckets.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, resources, user, volume};
use crate::diag::Diagnostic;
use crate::model::{
    Auth, BackupMethod, Blueprint, BlueprintInfo, Dump, Key, Members, Mode, OptionCheck, OptionDoc,
    Platform, Recipe, Secret, Service, Supplied, Tuning, User, is_bucket_name,
};

/// The MinIO client image of the bucket Job: the one backups upload with.
use crate::render::backup::MC_IMAGE;
/// The label of the bucket Job's pods.
const JOB_LABEL: &str = "strata.dev/buckets-of";

/// The `minio` blueprint.
pub(super) struct MinIO;

impl Blueprint for MinIO {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        Some(backup(tuning))
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn check_options(&self, check: &OptionCheck<'_>) -> Vec<Diagnostic> {
        check_options(check)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "minio",
    summary: "S3-compatible object storage, standalone or distributed with erasure coding",
    modes: &[STANDALONE, DISTRIBUTED],
    version: "RELEASE.2024-11-07T00-52-20Z",
    takes: &[Key::Users],
    options: &[OptionDoc::text(
        "buckets",
        "Buckets to create, comma-separated (`documents,backups`): a Job `NAME-buckets` runs `mc mb --ignore-existing` for each once MinIO answers, then creates each of `users` with a policy `strata-USER` allowing its buckets only (`mc admin user add`, `mc admin policy create` and `attach`, again on every apply); none by default.",
    )],
    auth: Auth::required(
        "S3 requests signed with the root login in `NAME-credentials` (`root-user`, `root-password`; export `secret`), or with the key pair of one of `users` in `NAME-USER` (`accesskey`, `secretkey`; exports `users.USER.accessKey`, `users.USER.secret`)",
    ),
};

/// The `standalone` mode.
const STANDALONE: Mode = Mode::new("standalone", "one server with one volume", 1);

/// The `distributed` mode.
const DISTRIBUTED: Mode = Mode::new(
    "distributed",
    "a pool of 4 or more servers erasure-coding across their volumes (a standalone server when an environment pins fewer)",
    4,
);

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let distributed = *tuning.mode == DISTRIBUTED && tuning.replicas >= 4;
    let target = if distributed {
        format!(
            "http://{svc}-{{0...{last}}}.{svc}-headless.{ns}.svc.cluster.local/data",
            svc = tuning.service,
            last = tuning.replicas - 1,
            ns = tuning.namespace
        )
    } else {
        "/data".to_string()
    };
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 9000);
    exports.push((
        "console".into(),
        format!("http://{}:9001", tuning.host(&tuning.service)),
    ));
    exports.push(("secret".into(), secret.clone()));
    for user in &tuning.users {
        let field = |what: &str| format!("users.{}.{what}", user.name);
        exports.push((field("accessKey"), user.name.clone()));
        exports.push((
            field("secret"),
            user_secret_name(&tuning.service, &user.name),
        ));
    }
    Recipe {
        spec: json!({
            "image": format!("quay.io/minio/minio:{}", tuning.version),
            "kind": "stateful",
            "command": ["minio"],
            "args": ["server", target, "--console-address", ":9001", "--certs-dir", "/tmp/certs"],
            "ports": { "api": { "port": 9000, "protocol": "http" }, "console": 9001 },
            "env": {
                "MINIO_ROOT_USER": { "secret": secret, "key": "root-user" },
                "MINIO_ROOT_PASSWORD": { "secret": secret, "key": "root-password" },
                "MINIO_PROMETHEUS_AUTH_TYPE": "public",
            },
            "storage": volume("50Gi", "/data"),
            "probes": { "port": "api", "path": "/minio/health/live", "readinessPath": "/minio/health/ready" },
            "metrics": { "port": "api", "path": "/minio/v2/metrics/cluster" },
            "security": user(1000, 1000, true),
            "resources": resources("500m", "1Gi", "2", "4Gi"),
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["root-user".into(), "root-password".into()])),
            secrets: tuning
                .users
                .iter()
                .map(|u| user_secret(&tuning.service, &u.name))
                .collect(),
            // The bucket Job and the servers, so the Job may reach them.
            members: if buckets(tuning).is_empty() {
                Vec::new()
            } else {
                vec![
                    Members::new(
                        "servers",
                        &[
                            ("app.kubernetes.io/name", &tuning.service),
                            ("app.kubernetes.io/instance", &tuning.platform),
                        ],
                    ),
                    Members::setup_job("buckets", JOB_LABEL, &tuning.service),
                ]
            },
            ..Supplied::default()
        },
    }
}

/// The Secret of `user` of the MinIO service `service`: `SERVICE-USER`.
pub(super) fn user_secret_name(service: &str, user: &str) -> String {
    format!("{service}-{user}")
}

/// The login of `user` of the MinIO service `service`: its access key given,
/// its secret key generated once by `apply`, under the key names the Milvus
/// Operator's `secretRef` reads (`accesskey`, `secretkey`).
pub(super) fn user_secret(service: &str, user: &str) -> Secret {
    Secret {
        name: user_secret_name(service, user),
        generate: vec!["secretkey".into()],
        data: [("accesskey".to_string(), user.to_string())].into(),
        namespaces: Vec::new(),
        secret_type: None,
        written: std::collections::BTreeMap::new(),
    }
}

/// The policy of `user`: every S3 action on its buckets and their objects,
/// nothing else.
fn policy(user: &User) -> String {
    let resources: Vec<String> = user
        .buckets
        .iter()
        .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": ["s3:*"], "Resource": resources }],
    })
    .to_string()
}

/// The buckets of the `buckets` option, in order.
pub(super) fn buckets(tuning: &Tuning) -> Vec<&str> {
    tuning
        .option("buckets", "")
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect()
}

/// The `buckets` option: names S3 accepts.
fn check_options(check: &OptionCheck<'_>) -> Vec<crate::diag::Diagnostic> {
    let Some(value) = check.get("buckets") else {
        return Vec::new();
    };
    value
        .value
        .split(',')
        .map(str::trim)
        .find(|b| !is_bucket_name(b))
        .map(|bad| {
            check
                .error(
                    "invalid-option",
                    format!("`{bad}` is not a bucket name"),
                    value.span,
                    "not a bucket name",
                )
                .help("write 3 to 63 lowercase letters, digits, `-` and `.`, comma-separated: `documents,backups`")
        })
        .into_iter()
        .collect()
}

/// The Job creating the buckets: it waits for MinIO, then makes each one
/// unless it exists (it runs again, harmlessly, on every apply).
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let buckets = buckets(tuning);
    if buckets.is_empty() {
        return Vec::new();
    }
    let secret = credentials_name(tuning);
    let host = tuning.host(&tuning.service);
    // mc reads the alias's keys from the environment, and each user's
    // secret key from its standard input: none is on a command line.
    let mut script = format!(
        "set -eu\n\
         export MC_HOST_strata=\"http://$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD@{host}:9000\"\n\
         # Wait for MinIO (10 minutes at most).\n\
         for attempt in $(seq 1 120); do\n  \
           mc ls strata >/dev/null 2>&1 && break\n  \
           sleep 5\n\
         done\n"
    );
    for bucket in &buckets {
        script.push_str(&format!("mc mb --ignore-existing strata/{bucket}\n"));
    }
    // Each user: its policy (created or replaced), the user (added, or its
    // secret key set again), the policy attached unless it is already.
    for (i, user) in tuning.users.iter().enumerate() {
        let name = &user.name;
        script.push_str(&format!(
            "cat > /tmp/strata-{name}.json <<'POLICY'\n{}\nPOLICY\n\
             mc admin policy create strata strata-{name} /tmp/strata-{name}.json\n\
             mc admin user add strata {name} <<EOF\n$SECRET_KEY_{i}\nEOF\n\
             out=$(mc admin policy attach strata strata-{name} --user {name} 2>&1) || case \"$out\" in *\"already in effect\"*) ;; *) echo \"$out\" >&2; exit 1 ;; esac\n",
            policy(user)
        ));
    }
    let key = |k: &str| json!({ "secretKeyRef": { "name": secret, "key": k } });
    let mut env = vec![
        json!({ "name": "MINIO_ROOT_USER", "valueFrom": key("root-user") }),
        json!({ "name": "MINIO_ROOT_PASSWORD", "valueFrom": key("root-password") }),
        json!({ "name": "MC_CONFIG_DIR", "value": "/tmp/.mc" }),
    ];
    env.extend(tuning.users.iter().enumerate().map(|(i, u)| {
        json!({ "name": format!("SECRET_KEY_{i}"), "valueFrom": { "secretKeyRef": { "name": user_secret_name(&tuning.service, &u.name), "key": "secretkey" } } })
    }));
    recipe::member_setup(
        platform,
        service,
        recipe::MemberSetup {
            what: "buckets",
            label: JOB_LABEL,
            user: 1000,
            image: MC_IMAGE,
            script: &script,
            env,
        },
    )
}

/// Every bucket and object, mirrored (`mc mirror`) with the root login;
/// restored by mirroring them back.
fn backup(tuning: &Tuning) -> BackupMethod {
    let secret = credentials_name(tuning);
    let key = |k: &str| json!({ "secretKeyRef": { "name": secret, "key": k } });
    let login = "mkdir -p \"$MC_CONFIG_DIR\"\n\
                 umask 077\n\
                 cat > \"$MC_CONFIG_DIR/config.json\" <<EOF\n\
                 {\"version\":\"10\",\"aliases\":{\"source\":{\"url\":\"http://$BACKUP_HOST:$BACKUP_PORT\",\"accessKey\":\"$MINIO_ROOT_USER\",\"secretKey\":\"$MINIO_ROOT_PASSWORD\",\"api\":\"s3v4\",\"path\":\"auto\"}}}\n\
                 EOF\n";
    BackupMethod::Dump(Dump {
        image: MC_IMAGE.into(),
        user: 1000,
        command: Dump::shell(format!(
            "set -eu\n# The root login, from the Secret, into mc's configuration.\n{login}\
             mc mirror --quiet source/ \"$BACKUP_DIR/\"\n"
        )),
        env: vec![
            json!({ "name": "MINIO_ROOT_USER", "valueFrom": key("root-user") }),
            json!({ "name": "MINIO_ROOT_PASSWORD", "valueFrom": key("root-password") }),
            json!({ "name": "MC_CONFIG_DIR", "value": "/tmp/.mc-source" }),
        ],
        ports: vec![9000],
        contains: "a directory per bucket with every object (`mc mirror`); users and policies are not included (the `users` key recreates them)",
        restore: format!("set -eu\n{login}mc mirror --quiet \"$BACKUP_DIR/\" source/\n"),
        offline: false,
    })
}
