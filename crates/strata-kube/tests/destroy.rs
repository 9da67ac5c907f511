//! `destroy`: waves in reverse order, each waited for until gone; data,
//! generated secrets and the namespaces holding them kept unless asked;
//! objects stuck in deletion reported. Time is paused, so waits cost
//! nothing.

mod fake;
mod support;

use std::time::Duration;

use fake::Fake;
use serde_json::json;
use strata_kube::destroy::{DestroyOptions, destroy};
use strata_kube::{Silent, inventory};
use support::{apply_set, gets, last_position, position, release, shop, shop_with_reports};

/// A one-minute timeout polled each second, four deletes at a time.
fn destroy_options(delete_data: bool) -> DestroyOptions {
    DestroyOptions {
        delete_data,
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
        concurrency: 4,
    }
}

#[tokio::test(start_paused = true)]
async fn destroy_goes_in_reverse_wave_order_waits_and_keeps_the_data() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let rel = release(&set);
    apply_set(&cluster, &set).await.unwrap();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-db-0", "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "shop"}}, "status": {"phase": "Bound"}}),
        "kube-controller-manager",
    );
    fake.delete_after("Deployment/shop/web", 3);
    fake.clear_calls();
    let removed = destroy(&cluster, &set, &rel, destroy_options(false), &Silent)
        .await
        .unwrap();
    let calls = fake.calls();
    let web = position(&calls, "delete", "Deployment/shop/web").unwrap();
    let web_gone = last_position(&calls, "get", "Deployment/shop/web").unwrap();
    let api = position(&calls, "delete", "Deployment/shop/api").unwrap();
    let db = position(&calls, "delete", "StatefulSet/shop/db").unwrap();
    assert!(
        web < web_gone && web_gone < api && api < db,
        "web, then api, then db"
    );
    assert_eq!(
        gets(&calls, "Deployment/shop/web"),
        4,
        "waited until web was gone"
    );
    assert!(fake.get("PersistentVolumeClaim/shop/data-db-0").is_some());
    assert!(
        fake.get("Secret/shop/db-secret").is_some(),
        "the generated password stays with the data"
    );
    assert!(
        fake.get("Namespace/shop").is_some(),
        "the namespace holds a claim"
    );
    let kept: Vec<String> = removed.kept.iter().map(|(id, _)| id.to_string()).collect();
    assert!(kept.contains(&"Namespace/shop".to_string()), "{kept:?}");
    assert!(
        inventory::list(&cluster, &rel).await.unwrap().is_empty(),
        "revisions are forgotten"
    );

    let removed = destroy(&cluster, &set, &rel, destroy_options(true), &Silent)
        .await
        .unwrap();
    assert!(removed.kept.is_empty(), "{:?}", removed.kept);
    assert!(fake.ids().is_empty(), "{:?}", fake.ids());
}

#[tokio::test(start_paused = true)]
async fn destroy_reports_objects_stuck_in_deletion() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    apply_set(&cluster, &set).await.unwrap();
    fake.delete_after("Deployment/shop/web", 1_000_000);
    let err = destroy(
        &cluster,
        &set,
        &release(&set),
        destroy_options(false),
        &Silent,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Deployment/shop/web"), "{err}");
    assert!(err.to_string().contains("finalizers"), "{err}");
    assert!(
        fake.get("Deployment/shop/api").is_some(),
        "an earlier wave is not touched"
    );
}

/// A reader's namespace holds only a copy of a generated secret: destroy
/// keeps the secret, so it keeps the namespace too (deleting a namespace
/// deletes what is in it).
#[tokio::test(start_paused = true)]
async fn destroy_keeps_a_namespace_that_holds_a_kept_secret() {
    let set = shop_with_reports();
    let fake = Fake::new();
    let cluster = fake.cluster();
    let rel = release(&set);
    apply_set(&cluster, &set).await.unwrap();
    let removed = destroy(&cluster, &set, &rel, destroy_options(false), &Silent)
        .await
        .unwrap();
    assert!(
        fake.get("Secret/reports-ns/db-secret").is_some(),
        "the copy is kept"
    );
    assert!(fake.get("Deployment/reports-ns/report").is_none());
    let kept: Vec<String> = removed.kept.iter().map(|(id, _)| id.to_string()).collect();
    assert!(
        kept.contains(&"Namespace/reports-ns".to_string()),
        "{kept:?}"
    );
}

/// What the cluster itself puts in every namespace (`kube-root-ca.crt`,
/// the `default` ServiceAccount, and on OpenShift `openshift-service-ca.crt`
/// and the image pullers' RoleBinding) does not keep a namespace; an
/// object someone made with one of those names does.
#[tokio::test(start_paused = true)]
async fn what_the_cluster_puts_in_every_namespace_does_not_keep_it() {
    let set = support::shop_with_extras();
    let fake = Fake::new();
    fake.openshift();
    let cluster = fake.cluster();
    let rel = release(&set);
    apply_set(&cluster, &set).await.unwrap();
    for made in [
        "ConfigMap/tools-ns/kube-root-ca.crt",
        "ConfigMap/tools-ns/openshift-service-ca.crt",
        "ServiceAccount/tools-ns/default",
        "RoleBinding/tools-ns/system:image-pullers",
    ] {
        assert!(fake.get(made).is_some(), "the fake made {made}");
    }
    // Someone's own ConfigMap with the cluster's name, in another namespace.
    fake.insert(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "openshift-service-ca.crt", "namespace": "cron-ns"}, "data": {"x": "y"}}),
        "kubectl-create",
    );
    let removed = destroy(&cluster, &set, &rel, destroy_options(false), &Silent)
        .await
        .unwrap();
    assert!(
        fake.get("Namespace/tools-ns").is_none(),
        "{:?}",
        removed.kept
    );
    let kept: Vec<String> = removed
        .kept
        .iter()
        .map(|(id, why)| format!("{id}: {why}"))
        .collect();
    assert!(
        kept.iter()
            .any(|k| k.starts_with("Namespace/cron-ns") && k.contains("openshift-service-ca.crt")),
        "{kept:?}"
    );
    assert!(
        !kept.iter().any(|k| k.starts_with("Namespace/tools-ns")),
        "{kept:?}"
    );
}
