//! `strata backup`, `backups` and `restore`: Jobs made from a service's
//! backup CronJob as it runs in the cluster (`kubectl create job
//! --from=cronjob/…` does the same), so they run with its account, labels,
//! NetworkPolicies, security and Secrets; CloudNativePG's own `Backup`
//! resources for its clusters. Each step is reported through `step`;
//! nothing here deletes a backup or any data but what a restore replaces.
//!
//! Listing reads the store from inside the cluster, with a Job running the
//! backup pod's own `mc`, whose output (one JSON line per object) is read
//! from its pod's log: the store's login never leaves the cluster, the
//! NetworkPolicies already admit those pods, and the binary needs no S3
//! client or route to a store that may only be reachable in the cluster.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use serde_json::{Value, json};
use strata_core::kind;
use strata_core::model::{BackupMethod, Dump, Platform, Service, WorkloadKind};
use strata_core::render::backup::{
    DataVolume, STORE_CONTAINER, backup_job, cronjob_name, list_job, offline_restore_job,
    restore_job,
};

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::readiness::Readiness;

/// How long and how often to wait for a Job or a backup.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Between two looks.
    pub interval: Duration,
    /// In all.
    pub timeout: Duration,
}

/// What a backup, a listing or a restore could not do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The spec has no such service.
    #[error("`{0}` is not a service of this platform")]
    UnknownService(String),
    /// The service has no `backup:`.
    #[error("`{0}` has no backups: give it `backup: {{ to: STORE }}` (docs/backup.md) and apply")]
    NoBackup(String),
    /// Its CronJob is not in the cluster.
    #[error("{0} is not in the cluster: run `strata apply` first")]
    NotApplied(ObjectId),
    /// A Job or a backup failed.
    #[error("{id} failed: {reason}; its logs: kubectl logs -n {} job/{} --all-containers", id.namespace, id.name)]
    Failed {
        /// The Job or backup.
        id: ObjectId,
        /// Why, as its status says.
        reason: String,
    },
    /// A Job or a backup did not finish in time.
    #[error("{0} did not finish within {1:?}; it may still: kubectl get -n {ns} {kind} {name}", ns = .0.namespace, kind = .0.kind.to_lowercase(), name = .0.name)]
    Timeout(ObjectId, Duration),
    /// Services that call the one restored are running.
    #[error(
        "`{service}` is called by running services ({callers}): a restore under their writes mixes old and new data; rerun with --stop-callers (scaled to zero, then back) or --force"
    )]
    CallersRunning {
        /// The service restored.
        service: String,
        /// Its running callers.
        callers: String,
    },
    /// The restore must write the stopped server's data directory, and the
    /// live workload does not say where it is (no StatefulSet, or no claim
    /// mounted by its server).
    #[error(
        "restoring `{0}` writes its data directory with the server stopped, and {1}: restore it by hand (docs/backup.md, \"Restoring by hand\")"
    )]
    Offline(String, String),
    /// The operator restores into a new cluster.
    #[error(
        "`{0}` is restored by its operator into a new cluster (CloudNativePG `bootstrap.recovery`): see docs/backup.md"
    )]
    ByOperator(String),
    /// The API server refused or did not answer.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// One backup as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name (the time it was taken, `20260105T030000Z`), as `restore` takes it.
    pub name: String,
    /// Bytes in the store; `None` where the operator does not say.
    pub size: Option<u64>,
    /// When it was last written (RFC 3339).
    pub modified: String,
}

/// What [`restore`] does about the services that call the one restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Refuses while any runs.
    Refuse,
    /// Scales them to zero first and back after.
    Stop,
    /// Restores under them.
    Force,
}

/// The service `name` and its backup method.
fn backed_up<'p>(
    platform: &'p Platform,
    name: &str,
) -> Result<(&'p Service, BackupMethod), BackupError> {
    let service = platform
        .service(name)
        .ok_or_else(|| BackupError::UnknownService(name.to_string()))?;
    let method = service
        .backup
        .as_ref()
        .and(service.tuning.as_ref())
        .and_then(|t| t.blueprint.backup(t))
        .ok_or_else(|| BackupError::NoBackup(name.to_string()))?;
    Ok((service, method))
}

/// The backup CronJob of `service` as it runs in the cluster.
async fn cronjob(cluster: &Cluster, service: &Service) -> Result<Value, BackupError> {
    let id = ObjectId {
        api_version: "batch/v1".into(),
        kind: kind::CRON_JOB.into(),
        namespace: service.namespace.clone(),
        name: cronjob_name(&service.name),
    };
    cluster.get(&id).await?.ok_or(BackupError::NotApplied(id))
}

/// A Job name of `service`'s backups for `what`, at `stamp`, within the
/// 63 characters of a label value (Jobs label their pods with it).
fn job_name(service: &str, what: &str, stamp: &str) -> String {
    let mut name = format!("{service}-{what}-{}", stamp.to_lowercase());
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// Creates `job` and waits for it to succeed.
async fn run_job(
    cluster: &Cluster,
    job: &Value,
    wait: Wait,
    step: &mut dyn FnMut(&str),
) -> Result<ObjectId, BackupError> {
    let id = ObjectId::of(job);
    if !cluster.create(job, false).await? {
        return Err(BackupError::Failed {
            id,
            reason: "a Job of this name exists already".into(),
        });
    }
    step(&format!("created {id}, waiting for it to finish"));
    let start = Instant::now();
    loop {
        let status = cluster
            .get(&id)
            .await?
            .map(|j| j["status"].clone())
            .unwrap_or_default();
        if status["succeeded"].as_u64().unwrap_or(0) > 0 {
            step(&format!("{id} succeeded"));
            return Ok(id);
        }
        let failed = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "Failed" && c["status"] == "True");
        if let Some(condition) = failed {
            let reason = condition["message"]
                .as_str()
                .or(condition["reason"].as_str())
                .unwrap_or("failed")
                .to_string();
            return Err(BackupError::Failed { id, reason });
        }
        if start.elapsed() >= wait.timeout {
            return Err(BackupError::Timeout(id, wait.timeout));
        }
        tokio::time::sleep(wait.interval).await;
    }
}

/// Takes a backup of each of `services` now (every service with backups
/// when empty), named `stamp`, one after the other; returns each service
/// with where its backup went.
///
/// # Errors
/// The first service that is unknown, has no backups, is not applied, or
/// whose backup fails or does not finish in time.
pub async fn backup(
    cluster: &Cluster,
    platform: &Platform,
    services: &[String],
    stamp: &str,
    wait: Wait,
    step: &mut dyn FnMut(&str),
) -> Result<Vec<(String, String)>, BackupError> {
    let names: Vec<String> = if services.is_empty() {
        platform
            .services
            .iter()
            .filter(|s| s.backup.is_some())
            .map(|s| s.name.clone())
            .collect()
    } else {
        services.to_vec()
    };
    let mut taken = Vec::new();
    for name in &names {
        let (service, method) = backed_up(platform, name)?;
        let target = service.backup.as_ref().map(|b| &b.target);
        let url = target.map(|t| t.url(name)).unwrap_or_default();
        let place = match method {
            BackupMethod::Dump(_) => {
                let cronjob = cronjob(cluster, service).await?;
                let job = backup_job(&cronjob, &job_name(name, "backup", stamp), stamp);
                run_job(cluster, &job, wait, step).await?;
                format!("{url}/{stamp}")
            }
            BackupMethod::Operator => {
                let backup = json!({
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Backup",
                    "metadata": { "name": job_name(name, "backup", stamp), "namespace": service.namespace },
                    "spec": { "cluster": { "name": name }, "method": "barmanObjectStore" },
                });
                let id = ObjectId::of(&backup);
                cluster.create(&backup, false).await?;
                step(&format!(
                    "created {id}, waiting for CloudNativePG to take it"
                ));
                wait_for_phase(cluster, &id, wait).await?;
                step(&format!("{id} completed"));
                format!("{url} (CloudNativePG base backup {})", id.name)
            }
        };
        step(&format!("`{name}` backed up to {place}"));
        taken.push((name.clone(), place));
    }
    Ok(taken)
}

/// Waits for a CloudNativePG `Backup` to complete.
async fn wait_for_phase(cluster: &Cluster, id: &ObjectId, wait: Wait) -> Result<(), BackupError> {
    let start = Instant::now();
    loop {
        let status = cluster
            .get(id)
            .await?
            .map(|b| b["status"].clone())
            .unwrap_or_default();
        match status["phase"].as_str() {
            Some("completed") => return Ok(()),
            Some("failed") => {
                return Err(BackupError::Failed {
                    id: id.clone(),
                    reason: status["error"].as_str().unwrap_or("failed").to_string(),
                });
            }
            _ if start.elapsed() >= wait.timeout => {
                return Err(BackupError::Timeout(id.clone(), wait.timeout));
            }
            _ => tokio::time::sleep(wait.interval).await,
        }
    }
}

/// The backups of `service`, oldest first: read from the store by a Job
/// (see the module's documentation), or CloudNativePG's `Backup`s.
///
/// # Errors
/// As [`backup`]; and a log that cannot be read.
pub async fn list(
    cluster: &Cluster,
    platform: &Platform,
    name: &str,
    stamp: &str,
    wait: Wait,
    step: &mut dyn FnMut(&str),
) -> Result<Vec<Listed>, BackupError> {
    let (service, method) = backed_up(platform, name)?;
    let backup = service
        .backup
        .as_ref()
        .ok_or_else(|| BackupError::NoBackup(name.into()))?;
    if method == BackupMethod::Operator {
        let found = cluster
            .list(
                "postgresql.cnpg.io/v1",
                "Backup",
                &service.namespace,
                &format!("cnpg.io/cluster={name}"),
            )
            .await?;
        let mut listed: Vec<Listed> = found
            .iter()
            .map(|b| Listed {
                name: b["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                size: None,
                modified: b["status"]["stoppedAt"]
                    .as_str()
                    .or(b["metadata"]["creationTimestamp"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        listed.sort_by(|a, b| a.modified.cmp(&b.modified));
        return Ok(listed);
    }
    let cronjob = cronjob(cluster, service).await?;
    let mut job = list_job(&cronjob, &job_name(name, "backups", stamp), service, backup);
    // A listing is of no use once read.
    job["spec"]["ttlSecondsAfterFinished"] = json!(600);
    let id = run_job(cluster, &job, wait, step).await?;
    let pods = cluster
        .list(
            "v1",
            kind::POD,
            &id.namespace,
            &format!("job-name={}", id.name),
        )
        .await?;
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), &id.namespace);
    let mut text = String::new();
    for pod in &pods {
        let pod = pod["metadata"]["name"].as_str().unwrap_or_default();
        let params = LogParams {
            container: Some(STORE_CONTAINER.into()),
            ..LogParams::default()
        };
        text = api
            .logs(pod, &params)
            .await
            .map_err(|e| BackupError::Failed {
                id: id.clone(),
                reason: format!("its log cannot be read: {e}"),
            })?;
    }
    Ok(listing(&text))
}

/// Backups from `mc ls --recursive --json` lines: objects grouped by the
/// first part of their key (the backup's name), their sizes added, the
/// latest time kept.
pub fn listing(text: &str) -> Vec<Listed> {
    let mut listed: Vec<Listed> = Vec::new();
    for line in text.lines() {
        let Ok(object) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(key), Some(size)) = (object["key"].as_str(), object["size"].as_u64()) else {
            continue;
        };
        let Some((name, _)) = key.split_once('/') else {
            continue;
        };
        let modified = object["lastModified"].as_str().unwrap_or_default();
        match listed.iter_mut().find(|l| l.name == name) {
            Some(known) => {
                known.size = Some(known.size.unwrap_or(0) + size);
                if modified > known.modified.as_str() {
                    known.modified = modified.to_string();
                }
            }
            None => listed.push(Listed {
                name: name.to_string(),
                size: Some(size),
                modified: modified.to_string(),
            }),
        }
    }
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    listed
}

/// The workload of a long-running service, as Strata renders it.
fn workload(service: &Service) -> Option<ObjectId> {
    let kind = match service.kind {
        WorkloadKind::Stateless => kind::DEPLOYMENT,
        WorkloadKind::Stateful => kind::STATEFUL_SET,
        _ => return None,
    };
    Some(ObjectId {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: service.namespace.clone(),
        name: service.name.clone(),
    })
}

/// Restores the backup `backup_name` of `name`, deciding about its
/// callers by `callers`: into its running server, or, for a blueprint
/// whose restore writes the data directory (Redis), into each member's
/// volume with the server's StatefulSet scaled to zero and back (what was
/// there is moved aside, never deleted).
///
/// # Errors
/// As [`backup`]; a restore that must be made by hand or by the operator;
/// running callers when refused; a restore Job that fails (the callers
/// stopped are scaled back all the same; a stopped server stays stopped);
/// a server not ready again in time.
#[allow(clippy::too_many_arguments, reason = "each is one choice of the verb")]
pub async fn restore(
    cluster: &Cluster,
    platform: &Platform,
    name: &str,
    backup_name: &str,
    callers: Callers,
    stamp: &str,
    wait: Wait,
    step: &mut dyn FnMut(&str),
) -> Result<(), BackupError> {
    let (service, method) = backed_up(platform, name)?;
    let dump: Dump = match method {
        BackupMethod::Operator => return Err(BackupError::ByOperator(name.into())),
        BackupMethod::Dump(dump) => dump,
    };
    let backup = service
        .backup
        .as_ref()
        .ok_or_else(|| BackupError::NoBackup(name.into()))?;
    let cronjob = cronjob(cluster, service).await?;
    // An offline restore needs the server's StatefulSet and data claims,
    // read before anything is stopped.
    let server = if dump.offline {
        // The Job runs the restore script with the image's shell; an image
        // without one (etcd's, whose dump runs etcdctl alone) is restored
        // by hand, member by member.
        if dump.command.first().map(String::as_str) != Some("sh") {
            return Err(BackupError::Offline(
                name.into(),
                "its image has no shell to run the restore script in".into(),
            ));
        }
        Some(data_volumes(cluster, service).await?)
    } else {
        None
    };
    // The running callers, with their replicas.
    let id = platform
        .services
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_default();
    let mut running: Vec<(ObjectId, u64)> = Vec::new();
    for edge in platform.edges.iter().filter(|e| e.to().0 == id) {
        let Some(workload) = workload(&platform.services[edge.from().0]) else {
            continue;
        };
        let replicas = cluster
            .get(&workload)
            .await?
            .and_then(|w| w["spec"]["replicas"].as_u64())
            .unwrap_or(0);
        if replicas > 0 && !running.iter().any(|(w, _)| *w == workload) {
            running.push((workload, replicas));
        }
    }
    let listed = running
        .iter()
        .map(|(w, _)| w.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match callers {
        Callers::Refuse if !running.is_empty() => {
            return Err(BackupError::CallersRunning {
                service: name.into(),
                callers: listed,
            });
        }
        Callers::Force if !running.is_empty() => {
            step(&format!(
                "restoring under running callers ({listed}): --force"
            ));
        }
        Callers::Stop => {
            for (workload, replicas) in &running {
                scale(cluster, workload, 0).await?;
                step(&format!("scaled {workload} from {replicas} to 0"));
            }
            for (workload, _) in &running {
                wait_for_replicas(cluster, workload, wait).await?;
                step(&format!("{workload} has no pods"));
            }
        }
        _ => {}
    }
    step(&format!(
        "restoring `{name}` from {}/{backup_name}",
        backup.target.url(name)
    ));
    let restored = match &server {
        None => {
            let mut job = restore_job(
                &cronjob,
                &job_name(name, "restore", stamp),
                service,
                backup,
                &dump,
                backup_name,
            );
            // A restore half done is not retried blindly.
            job["spec"]["backoffLimit"] = json!(0);
            run_job(cluster, &job, wait, step).await.map(|_| ())
        }
        Some(server) => {
            let restore = Offline {
                cronjob: &cronjob,
                service,
                dump: &dump,
                backup_name,
                stamp,
            };
            restore.run(cluster, server, wait, step).await
        }
    };
    if callers == Callers::Stop {
        for (workload, replicas) in &running {
            scale(cluster, workload, *replicas).await?;
            step(&format!("scaled {workload} back to {replicas}"));
        }
    }
    restored?;
    step(&format!("`{name}` restored from {backup_name}"));
    Ok(())
}

/// A stopped server's StatefulSet, as the cluster runs it: its replicas
/// and each member's data volume.
struct Server {
    /// The StatefulSet.
    id: ObjectId,
    /// Its replicas before the restore.
    replicas: u64,
    /// The data volume of each member, by ordinal.
    volumes: Vec<DataVolume>,
}

/// The StatefulSet of `service` and the data volume of each of its
/// members: the claim template its first container mounts, where, and the
/// pod's `fsGroup`.
async fn data_volumes(cluster: &Cluster, service: &Service) -> Result<Server, BackupError> {
    let offline = |why: &str| BackupError::Offline(service.name.clone(), why.to_string());
    let id = match workload(service) {
        Some(id) if id.kind == kind::STATEFUL_SET => id,
        _ => return Err(offline("it does not run as a StatefulSet")),
    };
    let live = cluster
        .get(&id)
        .await?
        .ok_or_else(|| BackupError::NotApplied(id.clone()))?;
    let pod = &live["spec"]["template"]["spec"];
    let mounts = pod["containers"][0]["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (template, mount_path) = live["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["metadata"]["name"].as_str())
        .find_map(|claim| {
            let mount = mounts.iter().find(|m| m["name"] == claim)?;
            Some((claim.to_string(), mount["mountPath"].as_str()?.to_string()))
        })
        .ok_or_else(|| offline("its server mounts no volume claim of its StatefulSet"))?;
    let replicas = live["spec"]["replicas"].as_u64().unwrap_or(1);
    let volumes = (0..replicas.max(1))
        .map(|ordinal| DataVolume {
            claim: format!("{template}-{}-{ordinal}", id.name),
            mount_path: mount_path.clone(),
            fs_group: pod["securityContext"]["fsGroup"].as_u64(),
        })
        .collect();
    Ok(Server {
        id,
        replicas,
        volumes,
    })
}

/// A restore into the data volumes of a stopped server.
struct Offline<'a> {
    cronjob: &'a Value,
    service: &'a Service,
    dump: &'a Dump,
    backup_name: &'a str,
    stamp: &'a str,
}

impl Offline<'_> {
    /// Scales the server to zero, writes the backup into each member's
    /// volume with a Job of its own, one after the other, then scales the
    /// server back and waits for it to be ready. After a failed Job the
    /// server stays stopped: its data may be half written.
    async fn run(
        &self,
        cluster: &Cluster,
        server: &Server,
        wait: Wait,
        step: &mut dyn FnMut(&str),
    ) -> Result<(), BackupError> {
        let name = &self.service.name;
        let Some(backup) = &self.service.backup else {
            return Err(BackupError::NoBackup(name.clone()));
        };
        scale(cluster, &server.id, 0).await?;
        step(&format!(
            "scaled {} from {} to 0: the restore writes its data with the server stopped",
            server.id, server.replicas
        ));
        wait_for_replicas(cluster, &server.id, wait).await?;
        step(&format!("{} has no pods", server.id));
        for (ordinal, volume) in server.volumes.iter().enumerate() {
            let mut job = offline_restore_job(
                self.cronjob,
                &job_name(name, &format!("restore-{ordinal}"), self.stamp),
                self.service,
                backup,
                self.dump,
                self.backup_name,
                volume,
            );
            job["spec"]["backoffLimit"] = json!(0);
            step(&format!(
                "writing the backup into {} at {} (what was there is kept beside it)",
                volume.claim, volume.mount_path
            ));
            if let Err(error) = run_job(cluster, &job, wait, step).await {
                step(&format!(
                    "left {} at 0 replicas, its data perhaps half restored; once fixed: kubectl -n {} scale statefulset/{} --replicas={}",
                    server.id, server.id.namespace, server.id.name, server.replicas
                ));
                return Err(error);
            }
        }
        scale(cluster, &server.id, server.replicas).await?;
        step(&format!(
            "scaled {} back to {}, waiting for it to be ready",
            server.id, server.replicas
        ));
        wait_until_ready(cluster, &server.id, wait).await?;
        step(&format!("{} is ready", server.id));
        Ok(())
    }
}

/// Waits until a workload is ready, as `apply` judges it.
async fn wait_until_ready(cluster: &Cluster, id: &ObjectId, wait: Wait) -> Result<(), BackupError> {
    let start = Instant::now();
    loop {
        if let Some(live) = cluster.get(id).await? {
            match crate::readiness::judge(&live) {
                Readiness::Ready => return Ok(()),
                Readiness::Failed(reason) => {
                    return Err(BackupError::Failed {
                        id: id.clone(),
                        reason,
                    });
                }
                Readiness::Progressing(_) => {}
            }
        }
        if start.elapsed() >= wait.timeout {
            return Err(BackupError::Timeout(id.clone(), wait.timeout));
        }
        tokio::time::sleep(wait.interval).await;
    }
}

/// Sets a workload's `spec.replicas`.
async fn scale(cluster: &Cluster, workload: &ObjectId, replicas: u64) -> Result<(), BackupError> {
    cluster
        .merge(workload, &json!({ "spec": { "replicas": replicas } }))
        .await?;
    Ok(())
}

/// Waits until a scaled-down workload reports no replicas.
async fn wait_for_replicas(
    cluster: &Cluster,
    id: &ObjectId,
    wait: Wait,
) -> Result<(), BackupError> {
    let start = Instant::now();
    loop {
        let replicas = cluster
            .get(id)
            .await?
            .and_then(|w| w["status"]["replicas"].as_u64())
            .unwrap_or(0);
        if replicas == 0 {
            return Ok(());
        }
        if start.elapsed() >= wait.timeout {
            return Err(BackupError::Timeout(id.clone(), wait.timeout));
        }
        tokio::time::sleep(wait.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{Listed, job_name, listing};

    #[test]
    fn a_listing_groups_objects_by_backup() {
        let text = concat!(
            r#"{"status":"success","type":"file","lastModified":"2026-01-05T03:00:02Z","size":100,"key":"20260105T030000Z/all.sql.gz"}"#,
            "\n",
            r#"{"status":"success","type":"file","lastModified":"2026-01-06T03:00:01Z","size":7,"key":"20260106T030000Z/a"}"#,
            "\n",
            r#"{"status":"success","type":"file","lastModified":"2026-01-06T03:00:09Z","size":5,"key":"20260106T030000Z/b/c"}"#,
            "\n",
            "not json\n",
        );
        assert_eq!(
            listing(text),
            [
                Listed {
                    name: "20260105T030000Z".into(),
                    size: Some(100),
                    modified: "2026-01-05T03:00:02Z".into()
                },
                Listed {
                    name: "20260106T030000Z".into(),
                    size: Some(12),
                    modified: "2026-01-06T03:00:09Z".into()
                },
            ]
        );
    }

    #[test]
    fn job_names_are_lowercase_label_values() {
        assert_eq!(
            job_name("db", "backup", "20260105T030000Z"),
            "db-backup-20260105t030000z"
        );
        assert!(job_name(&"x".repeat(60), "restore", "20260105T030000Z").len() <= 63);
    }
}
