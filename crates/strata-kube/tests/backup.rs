//! `backup`, `backups` and `restore` against the fake API server: the
//! Jobs made from the backup CronJob, their order, the waiting, and the
//! refusals.

mod fake;
mod support;

use std::time::Duration;

use fake::{Behavior, Fake};
use serde_json::{Value, json};
use strata_core::model::Platform;
use strata_core::render::{self, NoAssets};
use strata_core::{source::SourceFile, spec};
use strata_kube::backup::{BackupError, Callers, Listed, Wait, backup, list, restore};
use support::{insert_shop_namespace, last_position, position, shop_pod};

const SPEC: &str = r"
platform: shop
tiers:
  - name: data
    services:
      store: { blueprint: minio, backup: none }
      db: { blueprint: postgresql, databases: [orders], backup: { to: store } }
      cache: { blueprint: redis, backup: { to: store } }
      queue: { blueprint: nats, backup: none }
  - name: apps
    services:
      api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 }, needs: [db, cache], replicas: 3 }
      worker: { image: ghcr.io/shop/worker:1.0.0, needs: [db] }
";

const STAMP: &str = "20260105T030000Z";
const JOB: &str = "Job/shop/db-backup-20260105t030000z";
const RESTORE: &str = "Job/shop/db-restore-20260105t030000z";

const WAIT: Wait = Wait {
    interval: Duration::from_secs(1),
    timeout: Duration::from_secs(10),
};

fn platform() -> Platform {
    let file = SourceFile::new("shop.yaml", SPEC);
    let doc = spec::parse(&file).unwrap();
    strata_core::resolve(&doc, None).unwrap()
}

/// The cluster after `strata apply`: the namespace, the backup CronJobs,
/// the callers' Deployments.
fn applied(platform: &Platform) -> Fake {
    let fake = Fake::new();
    insert_shop_namespace(&fake);
    let set = render::render(platform, &NoAssets).unwrap();
    for object in &set.objects {
        if matches!(object.kind(), "CronJob" | "Deployment") {
            fake.insert(object.value.clone(), "strata");
        }
    }
    fake.clear_calls();
    fake
}

#[tokio::test(start_paused = true)]
async fn a_backup_now_is_a_job_from_the_cronjob_named_for_its_time() {
    let platform = platform();
    let fake = applied(&platform);
    let mut said = Vec::new();
    let taken = backup(
        &fake.cluster(),
        &platform,
        &["db".into()],
        STAMP,
        WAIT,
        &mut |s| {
            said.push(s.to_string());
        },
    )
    .await
    .unwrap();
    assert_eq!(
        taken,
        [("db".to_string(), format!("s3://backups/db/{STAMP}"))]
    );
    let job = fake.get(JOB).expect("the Job");
    let cronjob = fake.get("CronJob/shop/db-backup").unwrap();
    let template = &cronjob["spec"]["jobTemplate"]["spec"]["template"];
    // The CronJob's pod: its labels (so its policies admit it), account,
    // steps; the upload told the backup's name.
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"],
        template["metadata"]["labels"]
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        "db-backup"
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["initContainers"],
        template["spec"]["initContainers"]
    );
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert!(env.contains(&json!({ "name": "STAMP", "value": STAMP })));
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    // Read, created, then waited for; every step said.
    let calls = fake.calls();
    let read = position(&calls, "get", "CronJob/shop/db-backup").unwrap();
    let created = position(&calls, "create", JOB).unwrap();
    assert!(read < created);
    assert!(
        calls[created..]
            .iter()
            .any(|c| c.verb == "get" && c.id == JOB)
    );
    assert_eq!(
        said,
        [
            format!("created {JOB}, waiting for it to finish"),
            format!("{JOB} succeeded"),
            format!("`db` backed up to s3://backups/db/{STAMP}"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_backup_of_every_service_waits_for_each_and_stops_at_a_failure() {
    let platform = platform();
    let fake = applied(&platform);
    fake.behave(
        "Job/shop/db-backup-20260105t030000z",
        Behavior::ReadyAfter(3),
    );
    fake.behave("Job/shop/cache-backup-20260105t030000z", Behavior::Fail);
    let mut said: Vec<String> = Vec::new();
    let err = backup(&fake.cluster(), &platform, &[], STAMP, WAIT, &mut |s| {
        said.push(s.to_string());
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, BackupError::Failed { id, .. } if id.name == "cache-backup-20260105t030000z"),
        "{err}"
    );
    assert!(err.to_string().contains("backoff limit"), "{err}");
    // db first, finished before cache began.
    let calls = fake.calls();
    let db_polls = calls
        .iter()
        .filter(|c| c.verb == "get" && c.id == JOB)
        .count();
    assert!(db_polls >= 3, "{db_polls}");
    assert!(
        position(&calls, "create", JOB).unwrap()
            < position(&calls, "create", "Job/shop/cache-backup-20260105t030000z").unwrap()
    );
    assert!(said.contains(&format!("`db` backed up to s3://backups/db/{STAMP}")));
}

#[tokio::test(start_paused = true)]
async fn a_backup_that_never_finishes_times_out() {
    let platform = platform();
    let fake = applied(&platform);
    fake.behave(JOB, Behavior::Never);
    let wait = Wait {
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(1),
    };
    let err = backup(
        &fake.cluster(),
        &platform,
        &["db".into()],
        STAMP,
        wait,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BackupError::Timeout(ref id, _) if id.name == "db-backup-20260105t030000z"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn backups_are_refused_for_what_cannot_be_backed_up() {
    let platform = platform();
    let fake = applied(&platform);
    let cluster = fake.cluster();
    let run = |name: &str| {
        let names = vec![name.to_string()];
        let cluster = &cluster;
        let platform = &platform;
        async move {
            backup(cluster, platform, &names, STAMP, WAIT, &mut |_| {})
                .await
                .unwrap_err()
        }
    };
    assert!(matches!(run("queue").await, BackupError::NoBackup(_)));
    assert!(matches!(run("nope").await, BackupError::UnknownService(_)));
    // Not applied yet.
    let empty = Fake::new();
    let err = backup(
        &empty.cluster(),
        &platform,
        &["db".into()],
        STAMP,
        WAIT,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("run `strata apply` first"),
        "{err}"
    );
    assert!(fake.calls().iter().all(|c| c.verb != "create"));
}

#[tokio::test(start_paused = true)]
async fn backups_are_listed_from_the_listing_job_s_log() {
    let platform = platform();
    let fake = applied(&platform);
    let job = "db-backups-20260105t030000z";
    let mut pod = shop_pod(&format!("{job}-x7k2p"), "db-backup");
    pod["metadata"]["labels"]["job-name"] = json!(job);
    pod["spec"] = json!({ "containers": [{ "name": "upload" }] });
    fake.insert(pod, "kubelet");
    fake.set_logs(
        &format!("{job}-x7k2p"),
        concat!(
            r#"{"status":"success","type":"file","lastModified":"2026-01-04T03:00:05Z","size":2048,"key":"20260104T030000Z/all.sql.gz"}"#,
            "\n",
            r#"{"status":"success","type":"file","lastModified":"2026-01-05T03:00:04Z","size":4096,"key":"20260105T030000Z/all.sql.gz"}"#,
            "\n",
        ),
    );
    let listed = list(&fake.cluster(), &platform, "db", STAMP, WAIT, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        listed,
        [
            Listed {
                name: "20260104T030000Z".into(),
                size: Some(2048),
                modified: "2026-01-04T03:00:05Z".into()
            },
            Listed {
                name: "20260105T030000Z".into(),
                size: Some(4096),
                modified: "2026-01-05T03:00:04Z".into()
            },
        ]
    );
    let listing = fake.get(&format!("Job/shop/{job}")).unwrap();
    let pod = &listing["spec"]["template"]["spec"];
    assert!(
        pod.get("initContainers").is_none(),
        "a listing dumps nothing"
    );
    let script = pod["containers"][0]["command"][2].as_str().unwrap();
    assert!(
        script.contains("mc ls --recursive --json \"store/backups/db/\""),
        "{script}"
    );
    assert!(listing["spec"]["ttlSecondsAfterFinished"].is_number());
}

fn replicas(fake: &Fake, id: &str) -> Value {
    fake.get(id).unwrap()["spec"]["replicas"].clone()
}

/// Restores `service`'s backup of 2026-01-04 with `callers`: the outcome
/// and the steps said.
async fn restore_backup(
    fake: &Fake,
    platform: &Platform,
    service: &str,
    callers: Callers,
) -> (Result<(), BackupError>, Vec<String>) {
    let mut said = Vec::new();
    let outcome = restore(
        &fake.cluster(),
        platform,
        service,
        "20260104T030000Z",
        callers,
        STAMP,
        WAIT,
        &mut |s| said.push(s.to_string()),
    )
    .await;
    (outcome, said)
}

#[tokio::test(start_paused = true)]
async fn a_restore_is_refused_while_callers_run() {
    let platform = platform();
    let fake = applied(&platform);
    let err = restore_backup(&fake, &platform, "db", Callers::Refuse)
        .await
        .0
        .unwrap_err();
    let BackupError::CallersRunning { callers, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(callers, "api, worker");
    assert!(err.to_string().contains("--stop-callers"), "{err}");
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.verb != "create" && c.verb != "merge")
    );
}

#[tokio::test(start_paused = true)]
async fn a_restore_stops_the_callers_restores_and_starts_them_again() {
    let platform = platform();
    let fake = applied(&platform);
    let (outcome, said) = restore_backup(&fake, &platform, "db", Callers::Stop).await;
    outcome.unwrap();
    let calls = fake.calls();
    let merges: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verb == "merge")
        .map(|(i, _)| i)
        .collect();
    let created = position(&calls, "create", RESTORE).unwrap();
    assert_eq!(merges.len(), 4, "{calls:?}");
    assert!(merges[..2].iter().all(|&i| i < created) && merges[2..].iter().all(|&i| i > created));
    assert_eq!(replicas(&fake, "Deployment/shop/api"), 3);
    assert_eq!(replicas(&fake, "Deployment/shop/worker"), 1);
    assert_eq!(said[0], "scaled Deployment/shop/api from 3 to 0");
    assert_eq!(said.last().unwrap(), "`db` restored from 20260104T030000Z");
    assert!(said.contains(&"scaled Deployment/shop/api back to 3".to_string()));
    // Downloaded by the store's container, restored by the server's image
    // with the blueprint's script, never retried.
    let job = fake.get(RESTORE).unwrap();
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(pod["initContainers"][0]["name"], "download");
    let download = pod["initContainers"][0]["command"][2].as_str().unwrap();
    assert!(
        download.contains("mc cp --recursive \"store/backups/db/20260104T030000Z/\" /backup/"),
        "{download}"
    );
    assert_eq!(pod["containers"][0]["name"], "restore");
    assert_eq!(pod["containers"][0]["image"], "postgres:16.4");
    assert!(
        pod["containers"][0]["command"][2]
            .as_str()
            .unwrap()
            .contains("psql")
    );
}

#[tokio::test(start_paused = true)]
async fn callers_are_started_again_when_the_restore_fails() {
    let platform = platform();
    let fake = applied(&platform);
    fake.behave(RESTORE, Behavior::Fail);
    let err = restore_backup(&fake, &platform, "db", Callers::Stop)
        .await
        .0
        .unwrap_err();
    assert!(matches!(err, BackupError::Failed { .. }), "{err}");
    assert_eq!(replicas(&fake, "Deployment/shop/api"), 3);
    assert_eq!(replicas(&fake, "Deployment/shop/worker"), 1);
}

/// A Sentinel group of three whose restore writes each member's volume,
/// applied with its StatefulSet, ready 5 s after each change.
fn sentinel_group() -> (Platform, Fake) {
    let text = SPEC.replace(
        "cache: { blueprint: redis, backup: { to: store } }",
        "cache: { blueprint: redis, mode: sentinel, replicas: 3, backup: { to: store } }\n      coord: { blueprint: etcd, backup: { to: store } }",
    );
    let doc = spec::parse(&SourceFile::new("shop.yaml", text)).unwrap();
    let platform = strata_core::resolve(&doc, None).unwrap();
    let fake = applied(&platform);
    let set = render::render(&platform, &NoAssets).unwrap();
    for object in set.objects.iter().filter(|o| o.kind() == "StatefulSet") {
        fake.insert(object.value.clone(), "strata");
    }
    fake.readiness(Duration::from_secs(5), Duration::from_secs(1));
    fake.clear_calls();
    (platform, fake)
}

const CACHE: &str = "StatefulSet/shop/cache";

fn member_job(ordinal: usize) -> String {
    format!("Job/shop/cache-restore-{ordinal}-20260105t030000z")
}

#[tokio::test(start_paused = true)]
async fn a_redis_restore_stops_the_server_writes_each_member_s_volume_and_starts_it_again() {
    let (platform, fake) = sentinel_group();
    let (outcome, said) = restore_backup(&fake, &platform, "cache", Callers::Stop).await;
    outcome.unwrap();
    let calls = fake.calls();
    let merges: Vec<(usize, &str)> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verb == "merge")
        .map(|(i, c)| (i, c.id.as_str()))
        .collect();
    // The caller stopped, then the server; the members' volumes written one
    // after the other; the server started again and waited for; the caller
    // last.
    let ids: Vec<&str> = merges.iter().map(|(_, id)| *id).collect();
    assert_eq!(
        ids,
        ["Deployment/shop/api", CACHE, CACHE, "Deployment/shop/api"],
        "{calls:?}"
    );
    let created: Vec<usize> = (0..3)
        .map(|n| position(&calls, "create", &member_job(n)).expect("a Job per member"))
        .collect();
    assert!(merges[1].0 < created[0] && created[0] < created[1] && created[1] < created[2]);
    assert!(created[2] < merges[2].0);
    let ready = last_position(&calls, "ready", CACHE).expect("the server ready again");
    assert!(merges[2].0 < ready && ready < merges[3].0, "{calls:?}");
    assert_eq!(replicas(&fake, CACHE), 3);
    assert_eq!(replicas(&fake, "Deployment/shop/api"), 3);
    // Nothing deleted.
    assert!(calls.iter().all(|c| c.verb != "delete"));
    // Each Job: the download, then the server's image writing the claim of
    // its member where the server mounts it, as the server's group.
    for n in 0..3 {
        let job = fake.get(&member_job(n)).unwrap();
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(job["spec"]["backoffLimit"], 0);
        assert_eq!(pod["initContainers"][0]["name"], "download");
        assert!(
            pod["volumes"]
                .as_array()
                .unwrap()
                .contains(&json!({ "name": "data", "persistentVolumeClaim": { "claimName": format!("data-cache-{n}") } }))
        );
        assert_eq!(pod["securityContext"]["fsGroup"], 999);
        let restore = &pod["containers"][0];
        assert_eq!(restore["image"], "redis:7.4.5");
        assert!(
            restore["volumeMounts"]
                .as_array()
                .unwrap()
                .contains(&json!({ "name": "data", "mountPath": "/data" }))
        );
        assert!(
            restore["env"]
                .as_array()
                .unwrap()
                .contains(&json!({ "name": "DATA_DIR", "value": "/data" }))
        );
        let script = restore["command"][2].as_str().unwrap();
        assert!(
            script.contains("before-restore") && !script.contains("rm "),
            "{script}"
        );
    }
    assert_eq!(
        said,
        [
            "scaled Deployment/shop/api from 3 to 0".to_string(),
            "Deployment/shop/api has no pods".into(),
            "restoring `cache` from s3://backups/cache/20260104T030000Z".into(),
            format!(
                "scaled {CACHE} from 3 to 0: the restore writes its data with the server stopped"
            ),
            format!("{CACHE} has no pods"),
            "writing the backup into data-cache-0 at /data (what was there is kept beside it)"
                .into(),
            format!("created {}, waiting for it to finish", member_job(0)),
            format!("{} succeeded", member_job(0)),
            "writing the backup into data-cache-1 at /data (what was there is kept beside it)"
                .into(),
            format!("created {}, waiting for it to finish", member_job(1)),
            format!("{} succeeded", member_job(1)),
            "writing the backup into data-cache-2 at /data (what was there is kept beside it)"
                .into(),
            format!("created {}, waiting for it to finish", member_job(2)),
            format!("{} succeeded", member_job(2)),
            format!("scaled {CACHE} back to 3, waiting for it to be ready"),
            format!("{CACHE} is ready"),
            "scaled Deployment/shop/api back to 3".into(),
            "`cache` restored from 20260104T030000Z".into(),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_redis_restore_is_refused_while_callers_run_and_stops_at_a_failed_member() {
    let (platform, fake) = sentinel_group();
    let err = restore_backup(&fake, &platform, "cache", Callers::Refuse)
        .await
        .0
        .unwrap_err();
    assert!(matches!(err, BackupError::CallersRunning { .. }), "{err}");
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.verb != "create" && c.verb != "merge")
    );
    assert_eq!(replicas(&fake, CACHE), 3);

    // The second member's Job fails: the third is never written, the server
    // stays stopped (its data may be half restored), the caller comes back.
    fake.behave(&member_job(1), Behavior::Fail);
    let (outcome, said) = restore_backup(&fake, &platform, "cache", Callers::Stop).await;
    assert!(
        matches!(outcome, Err(BackupError::Failed { .. })),
        "{outcome:?}"
    );
    let calls = fake.calls();
    assert!(position(&calls, "create", &member_job(0)).is_some());
    assert!(position(&calls, "create", &member_job(2)).is_none());
    assert_eq!(replicas(&fake, CACHE), 0);
    assert_eq!(replicas(&fake, "Deployment/shop/api"), 3);
    assert!(
        said.iter()
            .any(|s| s.contains("left StatefulSet/shop/cache at 0 replicas")
                && s.contains("kubectl -n shop scale statefulset/cache --replicas=3")),
        "{said:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_redis_server_not_ready_again_in_time_is_a_timeout() {
    let (platform, fake) = sentinel_group();
    fake.behave(CACHE, Behavior::Never);
    let err = restore_backup(&fake, &platform, "cache", Callers::Force)
        .await
        .0
        .unwrap_err();
    assert!(
        matches!(&err, BackupError::Timeout(id, _) if id.name == "cache"),
        "{err}"
    );
    // The server was started again all the same.
    assert_eq!(replicas(&fake, CACHE), 3);
}

#[tokio::test(start_paused = true)]
async fn an_etcd_restore_is_by_hand_and_touches_nothing() {
    let (platform, fake) = sentinel_group();
    let err = restore_backup(&fake, &platform, "coord", Callers::Force)
        .await
        .0
        .unwrap_err();
    assert!(matches!(err, BackupError::Offline(..)), "{err}");
    assert!(err.to_string().contains("by hand"), "{err}");
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.verb != "create" && c.verb != "merge")
    );
}

#[tokio::test(start_paused = true)]
async fn force_restores_under_running_callers() {
    let platform = platform();
    let fake = applied(&platform);
    let (outcome, said) = restore_backup(&fake, &platform, "db", Callers::Force).await;
    outcome.unwrap();
    assert!(fake.calls().iter().all(|c| c.verb != "merge"));
    assert_eq!(
        said[0],
        "restoring under running callers (api, worker): --force"
    );
    // Without its StatefulSet in the cluster, Redis cannot be restored.
    let err = restore_backup(&fake, &platform, "cache", Callers::Force)
        .await
        .0
        .unwrap_err();
    assert!(matches!(err, BackupError::NotApplied(_)), "{err}");
}
