//! `apply` when it goes through: waves in order, each after the previous is
//! ready, bounded concurrency, field conflicts, dry runs, `--only` and
//! `--skip`, Jobs replaced, claims that bind late. Time is paused, so waits
//! cost nothing.

mod fake;
mod support;

use std::time::Duration;

use fake::{Behavior, Call, Fake};
use serde_json::json;
use strata_kube::{ApplyError, ApplyOptions, Silent, apply};
use support::{
    apply_set, failure, gets, insert_api_edited_by_hand, last_position, options, position, release,
    render, selecting, shop, shop_with_extras,
};

#[tokio::test(start_paused = true)]
async fn the_spec_renders_the_waves_these_tests_rely_on() {
    let set = shop();
    let wave = |key: &str| set.objects.iter().find(|o| o.key() == key).map(|o| o.wave);
    assert_eq!(wave("Namespace//shop"), Some(0));
    assert_eq!(wave("StatefulSet/shop/db"), Some(1));
    assert_eq!(wave("Deployment/shop/api"), Some(2));
    assert_eq!(wave("Deployment/shop/web"), Some(3));
    assert_eq!(set.generated_secrets.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn namespaces_first_then_each_wave_after_the_previous_is_ready() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::ReadyAfter(3));
    fake.behave("Deployment/shop/api", Behavior::ReadyAfter(2));
    let set = shop();
    let done = apply_set(&fake.cluster(), &set).await.unwrap();
    assert_eq!(done.revision, Some(1));
    let calls = fake.calls();
    let applies: Vec<&Call> = calls.iter().filter(|c| c.verb == "apply").collect();
    assert_eq!(applies[0].id, "Namespace/shop", "the namespace goes first");
    // The db became ready (three readiness steps after it was applied),
    // which a watch saw: nothing of wave 2 was applied before, and no GET
    // polled it.
    let db_ready = position(&calls, "ready", "StatefulSet/shop/db").unwrap();
    assert!(position(&calls, "watch", "StatefulSet/shop").unwrap() < db_ready);
    assert_eq!(gets(&calls, "StatefulSet/shop/db"), 0);
    let api_applied = position(&calls, "apply", "Deployment/shop/api").unwrap();
    assert!(
        db_ready < api_applied,
        "wave 2 started before wave 1 was ready"
    );
    let api_ready = position(&calls, "ready", "Deployment/shop/api").unwrap();
    let web_applied = position(&calls, "apply", "Deployment/shop/web").unwrap();
    assert!(
        api_ready < web_applied,
        "wave 3 started before wave 2 was ready"
    );
    // The generated secret exists before the workload that reads it.
    let secret = position(&calls, "create", "Secret/shop/db-secret").unwrap();
    assert!(secret < position(&calls, "apply", "StatefulSet/shop/db").unwrap());
    // Every rendered object is in the cluster.
    for object in &set.objects {
        assert!(
            fake.get(&fake_id(&object.key())).is_some(),
            "{} missing",
            object.key()
        );
    }
}

/// `Kind/ns/name` from a render key `Kind/ns/name` or `Kind//name`.
fn fake_id(key: &str) -> String {
    key.replace("//", "/")
}

#[tokio::test(start_paused = true)]
async fn applies_within_a_wave_run_concurrently_within_the_bound() {
    let fake = Fake::new();
    fake.apply_delay(Duration::from_millis(50));
    let set = shop();
    let opts = ApplyOptions {
        concurrency: 2,
        ..options()
    };
    apply(&fake.cluster(), &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    assert_eq!(fake.max_in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_conflict_names_the_field_and_manager_and_force_takes_over() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    insert_api_edited_by_hand(&fake, &set);
    let f = failure(apply_set(&cluster, &set).await);
    let message = f.cause.to_string();
    assert!(message.contains("Deployment/shop/api"), "{message}");
    assert!(
        message.contains(".spec.replicas by `kubectl-edit`"),
        "{message}"
    );
    assert!(message.contains("--force-conflicts"), "{message}");
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["replicas"],
        5
    );
    let forced = ApplyOptions {
        force_conflicts: true,
        ..options()
    };
    apply(&cluster, &set, &release(&set), &forced, &Silent)
        .await
        .unwrap();
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["replicas"],
        1
    );
    assert_eq!(
        fake.manager("Deployment/shop/api").as_deref(),
        Some("strata")
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_writes_nothing() {
    let fake = Fake::new();
    let set = shop();
    let opts = ApplyOptions {
        dry_run: true,
        ..options()
    };
    let done = apply(&fake.cluster(), &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, None);
    assert!(fake.ids().is_empty(), "{:?}", fake.ids());
    assert!(
        fake.calls()
            .iter()
            .filter(|c| c.verb == "apply")
            .all(|c| c.dry_run)
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.verb != "create" && c.verb != "delete")
    );
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("namespace `shop` does not exist yet")),
        "{:?}",
        done.notes
    );
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("Secret/shop/db-secret: would be created")),
        "{:?}",
        done.notes
    );
}

#[tokio::test(start_paused = true)]
async fn only_and_skip_apply_a_part_and_unknown_names_are_refused() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    apply(
        &cluster,
        &set,
        &release(&set),
        &selecting(&[], &["data"]),
        &Silent,
    )
    .await
    .unwrap();
    assert!(fake.get("StatefulSet/shop/db").is_none());
    assert!(fake.get("Deployment/shop/api").is_some());
    let err = apply(
        &cluster,
        &set,
        &release(&set),
        &selecting(&["infra"], &[]),
        &Silent,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApplyError::Selection(_)));
    assert!(err.to_string().contains("`infra`"));
}

#[tokio::test(start_paused = true)]
async fn only_a_tier_elsewhere_still_creates_the_namespace_holding_revisions() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let set = shop_with_extras();
    let rel = release(&set);
    assert_eq!(rel.namespace, "shop");
    let opts = selecting(&["tools"], &[]);
    let done = apply(&cluster, &set, &rel, &opts, &Silent).await.unwrap();
    assert_eq!(done.revision, Some(1));
    assert!(fake.get("Namespace/shop").is_some());
    assert!(fake.get("Deployment/tools-ns/admin").is_some());
    assert!(fake.get("Deployment/shop/api").is_none());
}

/// A claim whose class binds on first use stays `Pending` until a pod is
/// scheduled on it: the wave does not wait for it to bind, while a claim of
/// an immediately binding class is waited for.
#[tokio::test(start_paused = true)]
async fn a_claim_bound_on_first_use_is_not_waited_for() {
    let spec = "platform: shop\ntiers:\n  - name: data\n    services:\n      files: { image: ghcr.io/shop/files:1.0.0, kind: stateless, storage: 1Gi }\n";
    let set = render(spec);
    for (mode, binds_later) in [("WaitForFirstConsumer", true), ("Immediate", false)] {
        let fake = Fake::new();
        fake.insert(
            json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": { "name": "standard", "annotations": { "storageclass.kubernetes.io/is-default-class": "true" } },
                "provisioner": "example.com/disk",
                "volumeBindingMode": mode,
            }),
            "cluster-admin",
        );
        fake.behave("PersistentVolumeClaim/shop/files-data", Behavior::Never);
        let result = apply_set(&fake.cluster(), &set).await;
        assert_eq!(result.is_ok(), binds_later, "{mode}: {result:?}");
    }
}

/// A Job's pod template cannot change in place: a Job rendered anew
/// replaces the old one.
#[tokio::test(start_paused = true)]
async fn a_changed_job_replaces_the_old_one() {
    let spec = |tag: &str| {
        format!(
            "platform: shop\ntiers:\n  - name: apps\n    services:\n      migrate: {{ image: ghcr.io/shop/migrate:{tag}, kind: job }}\n"
        )
    };
    let fake = Fake::new();
    let cluster = fake.cluster();
    let first = render(&spec("1.0.0"));
    apply_set(&cluster, &first).await.unwrap();
    let second = render(&spec("1.1.0"));
    apply_set(&cluster, &second).await.unwrap();
    let job = fake.get("Job/shop/migrate").unwrap();
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/shop/migrate:1.1.0"
    );
    let calls = fake.calls();
    let deleted = position(&calls, "delete", "Job/shop/migrate").expect("the old Job is deleted");
    assert!(deleted < last_position(&calls, "apply", "Job/shop/migrate").unwrap());
}
