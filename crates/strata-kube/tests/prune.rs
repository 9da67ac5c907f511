//! Pruning after a successful apply: what a platform no longer renders is
//! deleted, except claims and namespaces that hold what is not its own; a
//! failed prune records no revision. Time is paused, so waits cost nothing.

mod fake;
mod support;

use fake::Fake;
use serde_json::json;
use strata_kube::{ApplyError, Silent, apply, inventory};
use support::{apply_set, options, release, shop, shop_with_extras};

#[tokio::test(start_paused = true)]
async fn prune_after_success_spares_claims_and_namespaces_with_foreign_objects() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = shop_with_extras();
    apply_set(&cluster, &before).await.unwrap();
    assert!(
        fake.get("PersistentVolumeClaim/batch-ns/worker-data")
            .is_some()
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "notes", "namespace": "tools-ns"}}),
        "kubectl-create",
    );
    let after = shop();
    let done = apply_set(&cluster, &after).await.unwrap();
    assert_eq!(done.revision, Some(2));
    let deleted: Vec<String> = done
        .pruned
        .deleted
        .iter()
        .map(ToString::to_string)
        .collect();
    for gone in [
        "Deployment/batch-ns/worker",
        "Deployment/tools-ns/admin",
        "Deployment/cron-ns/cleaner",
        "Namespace/cron-ns",
    ] {
        assert!(
            deleted.contains(&gone.to_string()),
            "{gone} not pruned: {deleted:?}"
        );
        assert!(fake.get(gone).is_none());
    }
    let kept: Vec<String> = done
        .pruned
        .kept
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(kept, ["Namespace/batch-ns", "Namespace/tools-ns"]);
    assert!(done.pruned.kept[0].1.contains("PersistentVolumeClaim"));
    assert!(done.pruned.kept[1].1.contains("ConfigMap/notes"));
    assert!(
        fake.get("PersistentVolumeClaim/batch-ns/worker-data")
            .is_some(),
        "claims are never pruned"
    );
    assert!(fake.get("ConfigMap/tools-ns/notes").is_some());
    assert!(fake.get("Deployment/shop/api").is_some());
}

/// Strata applied it, but for another platform: a namespace two platforms
/// share is not this one's to delete.
#[tokio::test(start_paused = true)]
async fn prune_keeps_a_namespace_another_platform_shares() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = shop_with_extras();
    apply_set(&cluster, &before).await.unwrap();
    fake.insert(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "blog", "namespace": "cron-ns",
            "labels": {"app.kubernetes.io/managed-by": "strata", "app.kubernetes.io/part-of": "blog"}}}),
        "strata",
    );
    let after = shop();
    let done = apply_set(&cluster, &after).await.unwrap();
    assert!(fake.get("Deployment/cron-ns/cleaner").is_none());
    let kept = done
        .pruned
        .kept
        .iter()
        .find(|(id, _)| id.to_string() == "Namespace/cron-ns")
        .expect("cron-ns kept");
    assert!(kept.1.contains("Ingress/blog"), "{}", kept.1);
    assert!(fake.get("Ingress/cron-ns/blog").is_some());
    assert!(fake.get("Namespace/cron-ns").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_failed_prune_records_nothing_so_the_next_run_prunes_again() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = shop_with_extras();
    let rel = release(&before);
    apply(&cluster, &before, &rel, &options(), &Silent)
        .await
        .unwrap();
    fake.refuse_delete("Deployment/cron-ns/cleaner", true);
    let after = shop();
    let err = apply(&cluster, &after, &rel, &options(), &Silent)
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::Prune(_)), "{err}");
    assert!(
        err.to_string().contains("Deployment/cron-ns/cleaner"),
        "{err}"
    );
    assert!(
        err.to_string().contains("no revision was recorded"),
        "{err}"
    );
    assert_eq!(inventory::list(&cluster, &rel).await.unwrap().len(), 1);
    fake.refuse_delete("Deployment/cron-ns/cleaner", false);
    let done = apply(&cluster, &after, &rel, &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(2));
    assert!(fake.get("Deployment/cron-ns/cleaner").is_none());
}
