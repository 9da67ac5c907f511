//! A service's scheduled backups (`backup:`): a CronJob whose pod dumps
//! the data with the blueprint's script in an init container, then uploads
//! the files to the object store and deletes those past retention; its
//! ServiceAccount; and the NetworkPolicies that let it reach the service
//! and the store. A blueprint whose operator takes backups itself renders
//! them (CloudNativePG's `ScheduledBackup`); its pods then call a store of
//! the platform along an edge of the call graph, whose NetworkPolicies are
//! any other call's.
//!
//! Both containers run as the blueprint's user under the `restricted` Pod
//! Security level, with a read-only root filesystem: the dump writes into
//! an empty directory the upload reads. Credentials come from Secrets in
//! the environment; the store's login reaches `mc` through a configuration
//! file written from a here-document, never through a command line.

use serde_json::{Map, Value, json};

use super::{labels, network};
use crate::model::{Backup, BackupMethod, Dump, Platform, Service};

/// The MinIO client that uploads and expires backups (and creates a
/// platform's buckets), pinned.
pub const MC_IMAGE: &str = "quay.io/minio/mc:RELEASE.2024-11-21T17-21-54Z";

/// The label naming the service a backup pod saves.
pub const BACKUP_OF_LABEL: &str = "strata.dev/backup-of";

/// `app.kubernetes.io/component` of every backup object.
pub const COMPONENT: &str = "backup";

/// Where the dump writes and the upload reads.
pub const BACKUP_DIR: &str = "/backup";

/// The container that dumps the data.
pub const DUMP_CONTAINER: &str = "dump";

/// The name of a service's backup CronJob, ServiceAccount and pods.
pub fn cronjob_name(service: &str) -> String {
    format!("{service}-backup")
}

/// Every object of `service`'s backups; none without `backup:`.
pub(super) fn render(platform: &Platform, service: &Service) -> Vec<Value> {
    let (Some(backup), Some(tuning)) = (&service.backup, &service.tuning) else {
        return Vec::new();
    };
    match tuning.blueprint.backup(tuning) {
        Some(BackupMethod::Dump(dump)) => {
            let mut out = vec![
                account(platform, service),
                cronjob(platform, service, backup, &dump),
            ];
            if platform.network.policies {
                out.extend(policies(platform, service, backup, &dump));
            }
            out
        }
        // The operator's pods call a store of the platform along an edge of
        // the call graph (`DependencyOrigin::Backup`), whose policies admit
        // them; S3 outside the cluster, here.
        Some(BackupMethod::Operator)
            if platform.network.policies && backup.target.store.is_none() =>
        {
            vec![network::policy_object(
                metadata(
                    platform,
                    service,
                    &format!("{}-backup-egress", service.name),
                ),
                network::pod_selector(platform, service),
                "Egress",
                store_egress(platform, backup),
            )]
        }
        _ => Vec::new(),
    }
}

/// Whether `service`'s backups are taken by a CronJob of its own (whose
/// account and pods are not the service's).
pub(super) fn has_job(service: &Service) -> bool {
    service.backup.is_some()
        && service
            .tuning
            .as_ref()
            .and_then(|t| t.blueprint.backup(t))
            .is_some_and(|m| matches!(m, BackupMethod::Dump(_)))
}

/// The labels of the backup pods: their own name, never the service's
/// selector, so the service's Service and policies do not take them in.
fn pod_labels(platform: &Platform, service: &Service) -> Map<String, Value> {
    let mut labels = labels::platform(platform);
    labels.insert(
        "app.kubernetes.io/name".into(),
        json!(cronjob_name(&service.name)),
    );
    labels.insert("app.kubernetes.io/instance".into(), json!(platform.name));
    labels.insert("app.kubernetes.io/component".into(), json!(COMPONENT));
    labels.insert(BACKUP_OF_LABEL.into(), json!(service.name));
    labels.insert(
        labels::TIER_LABEL.into(),
        json!(platform.tier_of(service).name),
    );
    labels
}

/// The selector of the backup pods in policies.
fn pod_selector(platform: &Platform, service: &Service) -> Value {
    json!({
        "app.kubernetes.io/name": cronjob_name(&service.name),
        "app.kubernetes.io/instance": platform.name,
    })
}

fn metadata(platform: &Platform, service: &Service, name: &str) -> Value {
    let mut meta = labels::metadata(platform, service, name);
    meta["labels"]["app.kubernetes.io/component"] = json!(COMPONENT);
    meta
}

fn account(platform: &Platform, service: &Service) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(platform, service, &cronjob_name(&service.name)),
        "automountServiceAccountToken": false,
    })
}

/// The upload: the store's login into mc's configuration, the files under
/// `PATH/STAMP/`, then every object of `PATH/` older than the retention
/// removed (never the one just written). The last line says where it went.
pub fn upload_script(service: &Service, backup: &Backup) -> String {
    let target = &backup.target;
    let path = target.location(&service.name);
    let bucket = if target.store.is_some() {
        format!("mc mb --ignore-existing store/{}\n", target.bucket)
    } else {
        String::new()
    };
    format!(
        "{login}\
         # A run started by `strata backup` names its backup; others by the time.\n\
         stamp=\"${{STAMP:-$(date -u +%Y%m%dT%H%M%SZ)}}\"\n\
         {bucket}\
         mc cp --recursive {dir}/ \"store/{path}/$stamp/\"\n\
         # Retention: what is older than {keep} days goes, never this one.\n\
         mc rm --recursive --force --older-than {keep}d \"store/{path}/\"\n\
         echo \"backup written to s3://{path}/$stamp\"\n",
        login = store_login(backup),
        dir = BACKUP_DIR,
        keep = backup.keep_days,
    )
}

/// The head of every script of `mc`: the store's login, from the Secret
/// (`ACCESS_KEY`, `SECRET_KEY`), into mc's configuration as alias `store`.
fn store_login(backup: &Backup) -> String {
    format!(
        "set -eu\n\
         # The store's login, from the Secret, into mc's configuration.\n\
         mkdir -p \"$MC_CONFIG_DIR\"\n\
         umask 077\n\
         cat > \"$MC_CONFIG_DIR/config.json\" <<EOF\n\
         {{\"version\":\"10\",\"aliases\":{{\"store\":{{\"url\":\"{endpoint}\",\"accessKey\":\"$ACCESS_KEY\",\"secretKey\":\"$SECRET_KEY\",\"api\":\"s3v4\",\"path\":\"auto\"}}}}}}\n\
         EOF\n",
        endpoint = backup.target.endpoint,
    )
}

/// The name of the container that uploads a backup (and, in the Jobs of
/// `strata backups` and `strata restore`, lists or downloads them).
pub const STORE_CONTAINER: &str = "upload";

/// The script listing the backups of `service`: one line per object, as
/// `mc ls --recursive --json` writes them (`key`, `size`, `lastModified`).
pub fn list_script(service: &Service, backup: &Backup) -> String {
    let path = backup.target.location(&service.name);
    format!(
        "{}mc ls --recursive --json \"store/{path}/\"\n",
        store_login(backup)
    )
}

/// The script copying the backup `name` of `service` down into the
/// backup directory, where the restore reads it. It copies, never moves.
pub fn download_script(service: &Service, backup: &Backup, name: &str) -> String {
    let path = backup.target.location(&service.name);
    format!(
        "{}mc cp --recursive \"store/{path}/{name}/\" {BACKUP_DIR}/\n",
        store_login(backup)
    )
}

/// The Job `name` of the backup CronJob `cronjob`'s pod, its containers
/// as they are but for `edit`: what `strata backup`, `backups` and
/// `restore` run, with the CronJob's account, labels (so its
/// NetworkPolicies admit it), security and Secrets.
pub fn job_from(cronjob: &Value, name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let template = &cronjob["spec"]["jobTemplate"];
    let mut spec = template["spec"].clone();
    edit(&mut spec["template"]["spec"]);
    let mut metadata = json!({
        "name": name,
        "namespace": cronjob["metadata"]["namespace"],
        "labels": template["metadata"]["labels"],
        // As `kubectl create job --from=cronjob/…` marks its Jobs.
        "annotations": { "cronjob.kubernetes.io/instantiate": "manual" },
    });
    if let Some(uid) = cronjob["metadata"]["uid"].as_str() {
        metadata["ownerReferences"] = json!([{
            "apiVersion": "batch/v1", "kind": "CronJob",
            "name": cronjob["metadata"]["name"], "uid": uid,
        }]);
    }
    json!({ "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec })
}

/// A backup now: the CronJob's pod, its backup named `stamp`.
pub fn backup_job(cronjob: &Value, name: &str, stamp: &str) -> Value {
    job_from(cronjob, name, |pod| {
        if let Some(env) = pod["containers"][0]["env"].as_array_mut() {
            env.push(json!({ "name": "STAMP", "value": stamp }));
        }
    })
}

/// The listing of `service`'s backups: the store's container alone,
/// running [`list_script`].
pub fn list_job(cronjob: &Value, name: &str, service: &Service, backup: &Backup) -> Value {
    let script = list_script(service, backup);
    job_from(cronjob, name, |pod| {
        if let Some(fields) = pod.as_object_mut() {
            fields.remove("initContainers");
        }
        pod["containers"][0]["command"] = json!(["sh", "-c", script]);
    })
}

/// The restore of backup `backup_name` into the running server: the
/// store's container downloads it first (an init container), then the
/// server's image runs the blueprint's restore script with the dump's
/// environment.
pub fn restore_job(
    cronjob: &Value,
    name: &str,
    service: &Service,
    backup: &Backup,
    dump: &Dump,
    backup_name: &str,
) -> Value {
    let script = download_script(service, backup, backup_name);
    let restore = dump.restore.clone();
    job_from(cronjob, name, |pod| {
        let dump_step = pod["initContainers"][0].clone();
        let mut download = pod["containers"][0].clone();
        download["name"] = json!("download");
        download["command"] = json!(["sh", "-c", script]);
        let mut restore_step = dump_step;
        restore_step["name"] = json!("restore");
        restore_step["command"] = json!(["sh", "-c", restore]);
        pod["initContainers"] = json!([download]);
        pod["containers"] = json!([restore_step]);
    })
}

/// The volume of a stopped server's pod that an offline restore writes:
/// one member's claim, where the server mounts it, and the pod's `fsGroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVolume {
    /// The PersistentVolumeClaim (`data-cache-0`).
    pub claim: String,
    /// Where the server mounts it, the restore script's `$DATA_DIR`.
    pub mount_path: String,
    /// The server pod's `fsGroup`, so the restore writes files it can read.
    pub fs_group: Option<u64>,
}

/// The restore of backup `backup_name` into a stopped server's data
/// volume ([`Dump::offline`]): [`restore_job`]'s steps with the claim
/// mounted where the server mounts it, as `$DATA_DIR`.
pub fn offline_restore_job(
    cronjob: &Value,
    name: &str,
    service: &Service,
    backup: &Backup,
    dump: &Dump,
    backup_name: &str,
    data: &DataVolume,
) -> Value {
    let mut job = restore_job(cronjob, name, service, backup, dump, backup_name);
    let pod = &mut job["spec"]["template"]["spec"];
    if let Some(volumes) = pod["volumes"].as_array_mut() {
        volumes
            .push(json!({ "name": "data", "persistentVolumeClaim": { "claimName": data.claim } }));
    }
    if let Some(group) = data.fs_group {
        pod["securityContext"]["fsGroup"] = json!(group);
    }
    let restore = &mut pod["containers"][0];
    if let Some(mounts) = restore["volumeMounts"].as_array_mut() {
        mounts.push(json!({ "name": "data", "mountPath": data.mount_path }));
    }
    if let Some(env) = restore["env"].as_array_mut() {
        env.push(json!({ "name": "DATA_DIR", "value": data.mount_path }));
    }
    job
}

/// The restricted security context of both containers.
fn container_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "capabilities": { "drop": ["ALL"] },
    })
}

fn cronjob(platform: &Platform, service: &Service, backup: &Backup, dump: &Dump) -> Value {
    let target = &backup.target;
    let mounts = json!([
        { "name": "backup", "mountPath": BACKUP_DIR },
        { "name": "tmp", "mountPath": "/tmp" },
    ]);
    let mut dump_env = vec![
        json!({ "name": "BACKUP_DIR", "value": BACKUP_DIR }),
        json!({ "name": "BACKUP_HOST", "value": format!("{}.{}.svc.{}", service.front.name, service.namespace, crate::model::CLUSTER_DOMAIN) }),
        json!({ "name": "BACKUP_PORT", "value": dump.ports.first().map(ToString::to_string).unwrap_or_default() }),
        json!({ "name": "HOME", "value": "/tmp" }),
    ];
    dump_env.extend(dump.env.iter().cloned());
    let key = |k: &str| json!({ "secretKeyRef": { "name": target.secret, "key": k } });
    let size = json!({ "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "cpu": "1", "memory": "512Mi" } });
    let labels = pod_labels(platform, service);
    let mut template = json!({ "labels": labels });
    if platform.in_mesh(&service.namespace) {
        template["annotations"] = json!({ super::NATIVE_SIDECAR_ANNOTATION: "true" });
    }
    let mut pod = json!({
        "restartPolicy": "Never",
        "serviceAccountName": cronjob_name(&service.name),
        "automountServiceAccountToken": false,
        "securityContext": {
            "runAsNonRoot": true, "runAsUser": dump.user, "runAsGroup": dump.user,
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "initContainers": [{
            "name": DUMP_CONTAINER,
            "image": dump.image,
            "command": dump.command,
            "env": dump_env,
            "resources": size,
            "securityContext": container_security(),
            "volumeMounts": mounts,
        }],
        "containers": [{
            "name": "upload",
            "image": MC_IMAGE,
            "command": ["sh", "-c", upload_script(service, backup)],
            "env": [
                { "name": "ACCESS_KEY", "valueFrom": key(&target.access_key) },
                { "name": "SECRET_KEY", "valueFrom": key(&target.secret_key) },
                { "name": "MC_CONFIG_DIR", "value": "/tmp/.mc" },
            ],
            "resources": size,
            "securityContext": container_security(),
            "volumeMounts": mounts,
        }],
        "volumes": [
            { "name": "backup", "emptyDir": {} },
            { "name": "tmp", "emptyDir": {} },
        ],
    });
    super::add_pull_secrets(platform, &mut pod);
    let name = cronjob_name(&service.name);
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(platform, service, &name),
        "spec": {
            "schedule": backup.schedule,
            // One backup at a time; a missed one runs within the hour.
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": { "labels": labels },
                "spec": {
                    "backoffLimit": 2,
                    "template": { "metadata": template, "spec": pod },
                },
            },
        },
    })
}

/// NetworkPolicy ports of `ports`, TCP.
fn tcp(ports: &[u16]) -> Value {
    ports
        .iter()
        .map(|p| json!({ "protocol": "TCP", "port": p }))
        .collect()
}

/// The backup pods reach the service on the dump's ports, and the store;
/// the service admits them.
fn policies(platform: &Platform, service: &Service, backup: &Backup, dump: &Dump) -> Vec<Value> {
    let name = cronjob_name(&service.name);
    let own = json!({
        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": service.namespace } },
        "podSelector": { "matchLabels": pod_selector(platform, service) },
    });
    let mut out = vec![network::policy_object(
        metadata(platform, service, &format!("{}-from-backup", service.name)),
        network::pod_selector(platform, service),
        "Ingress",
        vec![json!({ "from": [own], "ports": tcp(&dump.ports) })],
    )];
    let mut egress = vec![json!({
        "to": [network::service_peer(platform, service)],
        "ports": tcp(&dump.ports),
    })];
    egress.extend(store_egress(platform, backup));
    out.push(network::policy_object(
        metadata(platform, service, &format!("{name}-egress")),
        pod_selector(platform, service),
        "Egress",
        egress,
    ));
    out.extend(store_ingress(
        platform,
        service,
        backup,
        &pod_selector(platform, service),
    ));
    out
}

/// The rule reaching the store: its pods on their first port, or, for
/// S3, any address on the endpoint's port.
fn store_egress(platform: &Platform, backup: &Backup) -> Vec<Value> {
    match backup.target.store {
        Some(id) => {
            let store = &platform.services[id.0];
            let ports: Vec<u16> = store.ports.first().map(|p| p.number).into_iter().collect();
            vec![json!({ "to": [network::service_peer(platform, store)], "ports": tcp(&ports) })]
        }
        None => vec![json!({
            "to": [{ "ipBlock": { "cidr": "0.0.0.0/0" } }],
            "ports": tcp(&[endpoint_port(&backup.target.endpoint)]),
        })],
    }
}

/// The store of the platform admitting `pods` of `service`'s namespace.
fn store_ingress(
    platform: &Platform,
    service: &Service,
    backup: &Backup,
    pods: &Value,
) -> Option<Value> {
    let store = &platform.services[backup.target.store?.0];
    let ports: Vec<u16> = store.ports.first().map(|p| p.number).into_iter().collect();
    Some(network::policy_object(
        metadata(
            platform,
            store,
            &format!("{}-from-{}-backup", store.name, service.name),
        ),
        network::pod_selector(platform, store),
        "Ingress",
        vec![json!({
            "from": [{
                "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": service.namespace } },
                "podSelector": { "matchLabels": pods },
            }],
            "ports": tcp(&ports),
        })],
    ))
}

/// The port of an endpoint URL: written, or its scheme's.
fn endpoint_port(endpoint: &str) -> u16 {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let host = rest.split('/').next().unwrap_or_default();
    host.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(if scheme == "http" { 80 } else { 443 })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::endpoint_port;
    use crate::render::{NoAssets, Object, render};
    use crate::source::SourceFile;
    use crate::spec;

    fn objects(text: &str) -> Vec<Object> {
        let file = SourceFile::new("platform.yaml", text);
        let doc = spec::parse(&file).expect("parses");
        let platform = crate::resolve(&doc, None).expect("resolves");
        render(&platform, &NoAssets).expect("renders").objects
    }

    fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> Option<&'a Value> {
        objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .map(|o| &o.value)
    }

    fn pod(cronjob: &Value) -> &Value {
        &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    }

    const PLATFORM: &str = "
platform: shop
defaults:
  backup: { to: store/nightly, keep: 10d }
tiers:
  - name: objects
    namespace: storage
    services:
      store: { blueprint: minio, backup: none }
  - name: data
    namespace: data
    services:
      db: { blueprint: postgresql, backup: { schedule: \"@hourly\" } }
      cache: { blueprint: redis, backup: none }
      sql: { blueprint: mysql, backup: { to: \"s3://acme/sql\", secret: aws, keep: 1w } }
      web: { image: nginx:1.27, ports: { http: 8080 } }
";

    #[test]
    fn defaults_back_up_every_stateful_service_unless_it_says_none() {
        let objects = objects(PLATFORM);
        assert!(find(&objects, "CronJob", "db-backup").is_some());
        assert!(find(&objects, "CronJob", "sql-backup").is_some());
        for none in ["cache-backup", "store-backup", "web-backup"] {
            assert!(find(&objects, "CronJob", none).is_none(), "{none}");
        }
    }

    #[test]
    fn a_service_s_fields_win_over_the_defaults_field_by_field() {
        let objects = objects(PLATFORM);
        let db = find(&objects, "CronJob", "db-backup").unwrap();
        assert_eq!(db["spec"]["schedule"], "@hourly");
        let upload = pod(db)["containers"][0]["command"][2].as_str().unwrap();
        // `to` and `keep` from the defaults.
        assert!(
            upload.contains("mc cp --recursive /backup/ \"store/nightly/db/$stamp/\""),
            "{upload}"
        );
        assert!(
            upload.contains("--older-than 10d \"store/nightly/db/\""),
            "{upload}"
        );
        assert!(
            upload.contains("http://store.storage.svc.cluster.local:9000"),
            "{upload}"
        );
        let sql = find(&objects, "CronJob", "sql-backup").unwrap();
        assert_eq!(sql["spec"]["schedule"], "0 3 * * *");
        let upload = pod(sql)["containers"][0]["command"][2].as_str().unwrap();
        assert!(
            upload.contains("--older-than 7d \"store/acme/sql/sql/\""),
            "{upload}"
        );
        assert!(upload.contains("https://s3.amazonaws.com"), "{upload}");
        // S3's bucket is the user's own: never created.
        assert!(!upload.contains("mc mb"), "{upload}");
        let env = &pod(sql)["containers"][0]["env"];
        assert_eq!(env[0]["valueFrom"]["secretKeyRef"]["name"], "aws");
        assert_eq!(
            env[0]["valueFrom"]["secretKeyRef"]["key"],
            "AWS_ACCESS_KEY_ID"
        );
    }

    #[test]
    fn backup_pods_are_restricted_and_not_the_service_s_pods() {
        let objects = objects(PLATFORM);
        let db = find(&objects, "CronJob", "db-backup").unwrap();
        let pod = pod(db);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        for container in [&pod["initContainers"][0], &pod["containers"][0]] {
            assert_eq!(
                container["securityContext"]["allowPrivilegeEscalation"],
                false
            );
            assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
            assert_eq!(
                container["securityContext"]["capabilities"]["drop"][0],
                "ALL"
            );
        }
        let labels = &db["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
        let service = find(&objects, "Service", "db").unwrap();
        let selected = service["spec"]["selector"]
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| &labels[k] == v);
        assert!(
            !selected,
            "the Service `db` would send clients to a backup pod"
        );
    }

    #[test]
    fn the_store_login_is_copied_into_the_backed_up_service_s_namespace() {
        let file = SourceFile::new("platform.yaml", PLATFORM);
        let doc = spec::parse(&file).unwrap();
        let platform = crate::resolve(&doc, None).unwrap();
        let login = platform
            .secrets
            .iter()
            .find(|s| s.name == "store-credentials")
            .unwrap();
        assert_eq!(login.namespaces, ["storage", "data"]);
    }

    #[test]
    fn policies_admit_the_job_at_the_service_and_the_store_and_reach_s3() {
        let objects = objects(&PLATFORM.replace(
            "platform: shop",
            "platform: shop\nnetwork: { policies: true }",
        ));
        let admitted = find(&objects, "NetworkPolicy", "db-from-backup").unwrap();
        assert_eq!(admitted["spec"]["ingress"][0]["ports"][0]["port"], 5432);
        assert_eq!(
            admitted["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
            "db-backup"
        );
        let store = find(&objects, "NetworkPolicy", "store-from-db-backup").unwrap();
        assert_eq!(store["metadata"]["namespace"], "storage");
        assert_eq!(
            store["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "data"
        );
        let egress = find(&objects, "NetworkPolicy", "sql-backup-egress").unwrap();
        assert_eq!(
            egress["spec"]["egress"][1]["to"][0]["ipBlock"]["cidr"],
            "0.0.0.0/0"
        );
        assert_eq!(egress["spec"]["egress"][1]["ports"][0]["port"], 443);
        // Without policies, none.
        let open = objects_without_policies();
        assert!(
            open.iter()
                .all(|o| !(o.kind() == "NetworkPolicy" && o.name().contains("backup")))
        );
    }

    #[test]
    fn in_a_mesh_the_service_and_the_store_admit_the_backup_s_identity() {
        let meshed = PLATFORM.replace("platform: shop", "platform: shop\nnetwork: { mesh: istio }");
        let objects = objects(&meshed);
        let principals = |name: &str| {
            find(&objects, "AuthorizationPolicy", name).unwrap()["spec"]["rules"][0]["from"][0]
                ["source"]["principals"]
                .to_string()
        };
        assert!(principals("db").contains("cluster.local/ns/data/sa/db-backup"));
        assert!(principals("store").contains("cluster.local/ns/data/sa/db-backup"));
        assert!(!principals("cache").contains("backup"));
    }

    fn objects_without_policies() -> Vec<Object> {
        objects(&PLATFORM.replace(
            "platform: shop",
            "platform: shop\nnetwork: { policies: false }",
        ))
    }

    /// A store in the same tier as what it saves: only the backups order them.
    const SAME_TIER: &str = "
platform: shop
network: { policies: true }
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    namespace: data
    services:
      pg: { blueprint: postgresql, mode: ha, backup: { to: store } }
      cache: { blueprint: redis, backup: { to: store/cache } }
      store: { blueprint: minio }
";

    fn pod_labels(object: &Value, template: &Value) -> crate::network_policy::Pod {
        let labels = template["metadata"]["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        crate::network_policy::Pod {
            namespace: object["metadata"]["namespace"].as_str().unwrap().into(),
            labels,
        }
    }

    #[test]
    fn a_store_of_the_platform_starts_before_what_it_saves_and_its_caller_alone_reaches_it() {
        use crate::model::{BackupCaller, DependencyOrigin, DependencyTarget};
        use crate::network_policy::allowed;
        let file = SourceFile::new("platform.yaml", SAME_TIER);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let id = |name: &str| platform.service_id(name).unwrap();
        let (pg, cache, store) = (id("pg"), id("cache"), id("store"));
        let wave = |id: crate::model::ServiceId| platform.services[id.0].wave;
        assert!(wave(store) < wave(pg), "the store starts first");
        assert!(wave(store) < wave(cache), "the store starts first");
        let backup_need = |id: crate::model::ServiceId| {
            platform.services[id.0]
                .needs
                .iter()
                .find(|n| matches!(n.origin, DependencyOrigin::Backup(_)))
                .map(|n| (n.target, n.origin.clone()))
        };
        assert_eq!(
            backup_need(pg),
            Some((
                DependencyTarget::Service(store),
                DependencyOrigin::Backup(BackupCaller::Pods)
            ))
        );
        assert_eq!(
            backup_need(cache),
            Some((
                DependencyTarget::Service(store),
                DependencyOrigin::Backup(BackupCaller::Job)
            ))
        );
        // CloudNativePG's pods call the store: an edge; Redis's job does.
        let edge = |from, to| {
            platform
                .edges
                .iter()
                .any(|e| e.from() == from && e.to() == to)
        };
        assert!(edge(pg, store));
        assert!(!edge(cache, store));

        let objects = render(&platform, &NoAssets).unwrap().objects;
        let policies: Vec<&Value> = objects
            .iter()
            .filter(|o| o.kind() == "NetworkPolicy")
            .map(|o| &o.value)
            .collect();
        let workload = |kind: &str, name: &str| find(&objects, kind, name).unwrap();
        let minio = workload("StatefulSet", "store");
        let minio = pod_labels(minio, &minio["spec"]["template"]);
        let redis = workload("StatefulSet", "cache");
        let redis = pod_labels(redis, &redis["spec"]["template"]);
        let job = workload("CronJob", "cache-backup");
        let job = pod_labels(job, &job["spec"]["jobTemplate"]["spec"]["template"]);
        let instance = crate::network_policy::Pod::new(
            "data",
            &[("cnpg.io/cluster", "pg"), ("cnpg.io/podRole", "instance")],
        );
        assert!(allowed(&policies, &instance, &minio, 9000, "TCP"));
        assert!(allowed(&policies, &job, &minio, 9000, "TCP"));
        assert!(allowed(&policies, &job, &redis, 6379, "TCP"));
        assert!(!allowed(&policies, &redis, &minio, 9000, "TCP"));
        // Redis's pods do not wait for a store they never call.
        let redis = workload("StatefulSet", "cache");
        let waits = redis["spec"]["template"]["spec"]["initContainers"].to_string();
        assert!(!waits.contains("store"), "{waits}");
    }

    #[test]
    fn the_backup_endpoint_option_is_deprecated_and_still_an_edge() {
        let text = SAME_TIER.replace(
            "backup: { to: store } }",
            "options: { backup: \"s3://backups/pg\", backupEndpoint: store } }",
        );
        let file = SourceFile::new("platform.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let (pg, store) = (
            platform.service_id("pg").unwrap(),
            platform.service_id("store").unwrap(),
        );
        assert!(
            platform
                .edges
                .iter()
                .any(|e| e.from() == pg && e.to() == store)
        );
        let warnings = platform.warnings();
        let deprecated: Vec<_> = warnings
            .iter()
            .filter(|w| w.code == "deprecated-option")
            .collect();
        assert_eq!(deprecated.len(), 1, "{warnings:?}");
        assert!(deprecated[0].message.contains("`backupEndpoint`"));
        assert!(
            deprecated[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("backup: { to: SERVICE/BUCKET/PREFIX"))
        );
    }

    #[test]
    fn an_endpoint_port_is_written_or_its_schemes() {
        assert_eq!(endpoint_port("https://s3.amazonaws.com"), 443);
        assert_eq!(endpoint_port("http://store.example:9000/x"), 9000);
        assert_eq!(endpoint_port("http://store.example"), 80);
    }
}
