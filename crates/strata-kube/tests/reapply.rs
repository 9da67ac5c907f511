//! Applying again what is already there: an object rendered as the latest
//! revision recorded it and untouched in the cluster since is not sent; one
//! rendered anew, edited or deleted by hand is; `--no-skip` sends all.

mod fake;
mod support;

use fake::{Call, Fake};
use serde_json::json;
use strata_kube::{ApplyOptions, apply};
use support::{apply_set, options, release, render, shop, upgraded_spec};

/// The objects sent (real applies), in order.
fn sent(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.verb == "apply" && !c.dry_run)
        .map(|c| c.id.clone())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_second_apply_of_the_same_render_sends_nothing() {
    let fake = Fake::new();
    let set = shop();
    let first = apply_set(&fake.cluster(), &set).await.unwrap();
    assert_eq!(first.skipped, [], "nothing to compare with the first time");
    assert_eq!(first.applied.len(), set.objects.len());
    fake.clear_calls();
    let second = apply_set(&fake.cluster(), &set).await.unwrap();
    let calls = fake.calls();
    assert_eq!(sent(&calls), Vec::<String>::new());
    assert_eq!(second.applied, []);
    assert_eq!(second.skipped.len(), set.objects.len());
    assert_eq!(second.revision, Some(2));
    // The cluster was read by lists, not object by object.
    assert!(
        calls
            .iter()
            .any(|c| c.verb == "list" && c.id == "Deployment/shop")
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.verb == "get" && c.id.starts_with("Deployment/")),
        "{calls:?}"
    );
    // The revision it recorded skips as well as the first did.
    fake.clear_calls();
    let third = apply_set(&fake.cluster(), &set).await.unwrap();
    assert_eq!(sent(&fake.calls()), Vec::<String>::new());
    assert_eq!(third.skipped.len(), set.objects.len());
}

#[tokio::test(start_paused = true)]
async fn what_was_rendered_anew_is_sent_and_only_that() {
    let fake = Fake::new();
    apply_set(&fake.cluster(), &shop()).await.unwrap();
    fake.clear_calls();
    let upgraded = render(&upgraded_spec());
    let done = apply_set(&fake.cluster(), &upgraded).await.unwrap();
    let changed: Vec<String> = upgraded
        .objects
        .iter()
        .filter(|o| !shop().objects.contains(o))
        .map(|o| o.key().replace("//", "/"))
        .collect();
    assert!(changed.contains(&"Deployment/shop/api".to_string()));
    assert_eq!(sent(&fake.calls()), changed);
    assert_eq!(done.skipped.len(), upgraded.objects.len() - changed.len());
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/shop/api:1.3.0"
    );
}

#[tokio::test(start_paused = true)]
async fn what_was_edited_or_deleted_by_hand_is_sent_again() {
    let fake = Fake::new();
    let set = shop();
    apply_set(&fake.cluster(), &set).await.unwrap();
    // `kubectl scale` on a Deployment (a new generation), `kubectl label`
    // on a Service (no generation: a new resourceVersion), and a
    // ConfigMap-like object deleted and left so.
    fake.edit("Deployment/shop/api", "kubectl-edit", |d| {
        d["spec"]["replicas"] = json!(5);
    });
    fake.edit("Service/shop/web", "kubectl-label", |s| {
        s["metadata"]["labels"]["team"] = json!("growth");
    });
    let gone = strata_kube::ObjectId::of(
        &set.objects
            .iter()
            .find(|o| o.key() == "ServiceAccount/shop/api")
            .unwrap()
            .value,
    );
    fake.cluster().delete(&gone).await.unwrap();
    fake.clear_calls();
    let opts = ApplyOptions {
        force_conflicts: true,
        ..options()
    };
    let done = apply(
        &fake.cluster(),
        &set,
        &release(&set),
        &opts,
        &strata_kube::Silent,
    )
    .await
    .unwrap();
    let mut resent = sent(&fake.calls());
    resent.sort();
    assert_eq!(
        resent,
        [
            "Deployment/shop/api",
            "Service/shop/web",
            "ServiceAccount/shop/api"
        ]
    );
    assert_eq!(done.skipped.len(), set.objects.len() - 3);
    let api = fake.get("Deployment/shop/api").unwrap();
    let rendered = &set
        .objects
        .iter()
        .find(|o| o.key() == "Deployment/shop/api")
        .unwrap()
        .value;
    assert_eq!(api["spec"]["replicas"], rendered["spec"]["replicas"]);
    assert!(fake.get("ServiceAccount/shop/api").is_some());
}

#[tokio::test(start_paused = true)]
async fn no_skip_sends_everything() {
    let fake = Fake::new();
    let set = shop();
    apply_set(&fake.cluster(), &set).await.unwrap();
    fake.clear_calls();
    let opts = ApplyOptions {
        skip_unchanged: false,
        ..options()
    };
    let done = apply(
        &fake.cluster(),
        &set,
        &release(&set),
        &opts,
        &strata_kube::Silent,
    )
    .await
    .unwrap();
    assert_eq!(done.skipped, []);
    assert_eq!(sent(&fake.calls()).len(), set.objects.len());
}
