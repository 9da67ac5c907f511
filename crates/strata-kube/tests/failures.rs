//! `apply` when a wave does not get ready: a timeout or a failing workload
//! stops it, says what was and was not applied and what the pods say, and
//! a rerun resumes. Time is paused, so waits and timeouts cost nothing.

mod fake;
mod support;

use std::time::Duration;

use fake::{Behavior, Fake};
use serde_json::json;
use strata_kube::apply::Cause;
use strata_kube::inventory;
use support::{apply_set, failure, insert_shop_namespace, release, shop, shop_pod};

#[tokio::test(start_paused = true)]
async fn a_wave_that_never_becomes_ready_times_out_and_later_waves_are_untouched() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::Never);
    let set = shop();
    let f = failure(apply_set(&fake.cluster(), &set).await);
    assert_eq!(f.step, "wave 1");
    assert!(matches!(f.cause, Cause::Timeout(d) if d == Duration::from_mins(1)));
    assert_eq!(
        f.not_ready
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>(),
        ["StatefulSet/shop/db"]
    );
    assert_eq!(f.not_ready[0].1, "0 of 1 replicas ready");
    let applied: Vec<String> = f.applied.iter().map(ToString::to_string).collect();
    let not_applied: Vec<String> = f.not_applied.iter().map(ToString::to_string).collect();
    assert!(applied.contains(&"StatefulSet/shop/db".to_string()));
    assert!(not_applied.contains(&"Deployment/shop/api".to_string()));
    assert!(not_applied.contains(&"Deployment/shop/web".to_string()));
    assert_eq!(applied.len() + not_applied.len(), set.objects.len());
    assert!(fake.get("Deployment/shop/api").is_none());
    // No revision: a failed apply is not recorded.
    let history = inventory::list(&fake.cluster(), &release(&set))
        .await
        .unwrap();
    assert!(history.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failing_workload_stops_its_wave_with_its_pods_and_events() {
    let fake = Fake::new();
    fake.behave("Deployment/shop/api", Behavior::Fail);
    insert_shop_namespace(&fake);
    let mut pod = shop_pod("api-7d9-x2", "api");
    pod["spec"] = json!({"containers": [{"name": "api"}]});
    pod["status"] = json!({"phase": "Pending", "containerStatuses": [{"name": "api", "restartCount": 0,
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/shop/api:1.2.0\""}}}]});
    fake.insert(pod, "kubelet");
    fake.insert(
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "api-7d9-x2.1", "namespace": "shop"},
            "regarding": {"kind": "Pod", "name": "api-7d9-x2"}, "reason": "Failed", "note": "Failed to pull image: not found"}),
        "kubelet",
    );
    let set = shop();
    let f = failure(apply_set(&fake.cluster(), &set).await);
    assert_eq!(f.step, "wave 2");
    assert!(
        matches!(&f.cause, Cause::Failed { id, reason } if id.to_string() == "Deployment/shop/api" && reason.contains("deadline"))
    );
    assert_eq!(f.pods.len(), 1);
    assert_eq!(f.pods[0].pod, "shop/api-7d9-x2");
    assert!(
        f.pods[0].problems[0].contains("ImagePullBackOff"),
        "{:?}",
        f.pods[0]
    );
    assert_eq!(
        f.pods[0].events,
        ["Failed: Failed to pull image: not found"]
    );
    assert!(
        fake.get("Deployment/shop/web").is_none(),
        "wave 3 must not start"
    );
    // Nothing pruned, nothing deleted.
    assert!(fake.calls().iter().all(|c| c.verb != "delete"));
}

#[tokio::test(start_paused = true)]
async fn rerunning_after_a_failure_resumes_and_records_the_first_revision() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::Never);
    let set = shop();
    let cluster = fake.cluster();
    failure(apply_set(&cluster, &set).await);
    fake.behave("StatefulSet/shop/db", Behavior::Ready);
    let done = apply_set(&cluster, &set).await.unwrap();
    assert_eq!(done.revision, Some(1));
    assert!(fake.get("Deployment/shop/web").is_some());
}

/// A wave that times out on a pod waiting for its claim reports the
/// claim's events too: why it does not bind.
#[tokio::test(start_paused = true)]
async fn a_timeout_reports_the_events_of_the_claims_its_pods_wait_for() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::Never);
    insert_shop_namespace(&fake);
    let mut pod = shop_pod("db-0", "db");
    pod["spec"] = json!({"containers": [{"name": "db"}], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]});
    pod["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
        "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."}]});
    fake.insert(pod, "kubelet");
    fake.insert(
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "data-db-0.1", "namespace": "shop"},
            "regarding": {"kind": "PersistentVolumeClaim", "name": "data-db-0"}, "reason": "ProvisioningFailed",
            "note": "storageclass.storage.k8s.io \"local-path\" not found"}),
        "persistentvolume-controller",
    );
    let f = failure(apply_set(&fake.cluster(), &shop()).await);
    assert!(matches!(f.cause, Cause::Timeout(_)), "{}", f.cause);
    let report = f
        .pods
        .iter()
        .find(|p| p.pod == "shop/db-0")
        .expect("db-0 reported");
    assert!(
        report.events.contains(
            &"claim data-db-0: ProvisioningFailed: storageclass.storage.k8s.io \"local-path\" not found"
                .to_string()
        ),
        "{:?}",
        report.events
    );
}
