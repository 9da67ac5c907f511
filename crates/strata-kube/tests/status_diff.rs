//! `status` and `diff` against the cluster: each workload's state and
//! restarts; what would change, with no write, and the conflicts an apply
//! would meet. Time is paused, so waits cost nothing.

mod fake;
mod support;

use fake::{Behavior, Fake};
use serde_json::json;
use strata_kube::diff::{ChangeKind, diff};
use strata_kube::status::{State, status};
use support::{apply_set, insert_api_edited_by_hand, render, shop, shop_pod, upgraded_spec};

#[tokio::test(start_paused = true)]
async fn status_shows_each_workload() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let objects: Vec<_> = set.objects.iter().collect();
    let rows = status(&cluster, &objects, 4).await.unwrap();
    assert!(rows.iter().all(|r| r.state == State::Missing));
    apply_set(&cluster, &set).await.unwrap();
    fake.behave("Deployment/shop/web", Behavior::Never);
    let mut pod = shop_pod("web-1", "web");
    pod["status"] = json!({"containerStatuses": [{"name": "web", "restartCount": 7}]});
    fake.insert(pod, "kubelet");
    let rows = status(&cluster, &objects, 4).await.unwrap();
    let web = rows
        .iter()
        .find(|r| r.id.to_string() == "Deployment/shop/web")
        .unwrap();
    assert_eq!(
        (web.desired, web.ready, web.restarts),
        (Some(1), Some(0), 7)
    );
    assert!(matches!(&web.state, State::Progressing(r) if r.contains("0 of 1")));
    let db = rows
        .iter()
        .find(|r| r.id.to_string() == "StatefulSet/shop/db")
        .unwrap();
    assert_eq!(db.state, State::Ready);
    assert_eq!(db.tier.as_deref(), Some("data"));
}

#[tokio::test(start_paused = true)]
async fn diff_is_empty_after_apply_and_shows_a_change() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let objects: Vec<_> = set.objects.iter().collect();
    let before = diff(&cluster, &objects, &[], 4).await.unwrap();
    assert_eq!(before.len(), set.objects.len(), "everything is new");
    assert!(before.iter().all(|c| c.kind == ChangeKind::Added));
    apply_set(&cluster, &set).await.unwrap();
    fake.clear_calls();
    let same = diff(&cluster, &objects, &[], 4).await.unwrap();
    assert!(same.is_empty(), "{same:#?}");
    assert!(
        fake.calls()
            .iter()
            .filter(|c| c.verb == "apply")
            .all(|c| c.dry_run),
        "diff writes nothing"
    );
    let v2 = render(&upgraded_spec());
    let objects: Vec<_> = v2.objects.iter().collect();
    let changed = diff(&cluster, &objects, &[], 4).await.unwrap();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].id.to_string(), "Deployment/shop/api");
    assert!(
        changed[0]
            .diff
            .contains("-        image: ghcr.io/shop/api:1.2.0"),
        "{}",
        changed[0].diff
    );
    assert!(
        changed[0]
            .diff
            .contains("+        image: ghcr.io/shop/api:1.3.0"),
        "{}",
        changed[0].diff
    );
}

/// `diff` says what `apply` would refuse: fields another manager owns are
/// named with their manager, and the diff shows them taken.
#[tokio::test(start_paused = true)]
async fn diff_names_the_conflicts_apply_would_meet() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    insert_api_edited_by_hand(&fake, &set);
    let objects: Vec<_> = set.objects.iter().collect();
    let changes = diff(&cluster, &objects, &[], 4).await.unwrap();
    let api = changes
        .iter()
        .find(|c| c.id.to_string() == "Deployment/shop/api")
        .unwrap();
    assert!(
        api.conflicts
            .iter()
            .any(|c| c.field == ".spec.replicas" && c.manager == "kubectl-edit"),
        "{:?}",
        api.conflicts
    );
    assert!(api.diff.contains("-  replicas: 5"), "{}", api.diff);
    assert!(
        changes
            .iter()
            .filter(|c| c.id.to_string() != "Deployment/shop/api")
            .all(|c| c.conflicts.is_empty())
    );
}
