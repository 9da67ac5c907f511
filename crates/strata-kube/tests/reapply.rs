//! Applying again what is already there: an object rendered as the latest
//! revision recorded it and untouched in the cluster since is not sent; one
//! rendered anew, edited or deleted by hand is; `--no-skip` sends all. An
//! apply that changed nothing records no revision, and while nothing is
//! sent, what was ready when read is not waited for again.

mod fake;
mod support;

use std::time::Duration;

use fake::{Behavior, Call, Fake};
use serde_json::json;
use strata_core::render::RenderedSet;
use strata_kube::inventory;
use strata_kube::{Applied, ApplyOptions, apply};
use support::{Recorder, apply_set, failure, options, release, render, shop, upgraded_spec};

/// The objects sent (real applies), in order.
fn sent(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.verb == "apply" && !c.dry_run)
        .map(|c| c.id.clone())
        .collect()
}

/// `set` applied again with `opts`, quietly, as the release it makes.
async fn apply_again(fake: &Fake, set: &RenderedSet, opts: &ApplyOptions) -> Applied {
    apply(
        &fake.cluster(),
        set,
        &release(set),
        opts,
        &strata_kube::Silent,
    )
    .await
    .unwrap()
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
    // Nothing changed: revision 1 stays the latest, and no other is made.
    assert_eq!((second.revision, second.recorded), (Some(1), false));
    assert!(!calls.iter().any(|c| c.verb == "create"), "{calls:?}");
    // The cluster was read by lists, not object by object: whole for what
    // is waited for (its readiness), metadata only for the rest.
    let lists = |verb: &str, id: &str| {
        calls
            .iter()
            .filter(|c| c.verb == verb && c.id == id)
            .count()
    };
    assert_eq!(lists("list", "Deployment/shop"), 1, "{calls:?}");
    assert_eq!(lists("list-metadata", "Service/shop"), 1, "{calls:?}");
    assert_eq!(lists("list", "Service/shop"), 0, "{calls:?}");
    assert!(
        !calls
            .iter()
            .any(|c| c.verb == "get" && c.id.starts_with("Deployment/")),
        "{calls:?}"
    );
    // Everything was ready when read and nothing was sent: no wave
    // watched again.
    assert!(!calls.iter().any(|c| c.verb == "watch"), "{calls:?}");
    // The latest revision found by its labels, then only it read.
    assert_eq!(lists("list-metadata", "Secret/shop"), 1, "{calls:?}");
    assert_eq!(lists("list", "Secret/shop"), 0, "{calls:?}");
    assert_eq!(
        lists("get", "Secret/shop/strata.shop.base.v1"),
        1,
        "{calls:?}"
    );
    // And again: still nothing sent, nothing recorded.
    fake.clear_calls();
    let third = apply_set(&fake.cluster(), &set).await.unwrap();
    assert_eq!(sent(&fake.calls()), Vec::<String>::new());
    assert_eq!(third.skipped.len(), set.objects.len());
    assert_eq!((third.revision, third.recorded), (Some(1), false));
    let history = inventory::list(&fake.cluster(), &release(&set))
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn skipped_objects_still_count_as_ready_as_the_wave_reports_them() {
    let fake = Fake::new();
    let set = shop();
    apply_set(&fake.cluster(), &set).await.unwrap();
    let recorder = Recorder::default();
    let again = apply(&fake.cluster(), &set, &release(&set), &options(), &recorder)
        .await
        .unwrap();
    assert_eq!(again.applied, []);
    // Each workload is reported ready, in its step, as a wait would.
    for id in [
        "StatefulSet/shop/db",
        "Deployment/shop/api",
        "Deployment/shop/web",
    ] {
        assert_eq!(recorder.of(id), ["ready"], "{id}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_skipped_workload_not_ready_is_still_waited_for() {
    let fake = Fake::new();
    let set = shop();
    apply_set(&fake.cluster(), &set).await.unwrap();
    // Its pods stop being ready; nobody changed its spec.
    fake.behave("Deployment/shop/api", Behavior::Never);
    fake.clear_calls();
    let opts = ApplyOptions {
        timeout: Duration::from_secs(30),
        ..options()
    };
    let failed = failure(
        apply(
            &fake.cluster(),
            &set,
            &release(&set),
            &opts,
            &strata_kube::Silent,
        )
        .await,
    );
    assert_eq!(
        sent(&fake.calls()),
        Vec::<String>::new(),
        "nothing needed sending"
    );
    assert!(failed.applied.is_empty());
    assert_eq!(
        failed
            .not_ready
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>(),
        ["Deployment/shop/api"]
    );
}

#[tokio::test(start_paused = true)]
async fn once_something_is_sent_later_waves_are_waited_for_again() {
    let fake = Fake::new();
    let set = shop();
    apply_set(&fake.cluster(), &set).await.unwrap();
    // db (the first wave) is scaled by hand; api and web, later, are not.
    fake.edit("StatefulSet/shop/db", "kubectl-scale", |d| {
        d["spec"]["replicas"] = json!(3);
    });
    fake.clear_calls();
    let opts = ApplyOptions {
        force_conflicts: true,
        ..options()
    };
    let done = apply_again(&fake, &set, &opts).await;
    assert_eq!(sent(&fake.calls()), ["StatefulSet/shop/db"]);
    assert_eq!(done.skipped.len(), set.objects.len() - 1);
    // db changed, so what comes after it is read again before it counts
    // as ready: api's and web's step watch the Deployments.
    let watched = fake
        .calls()
        .iter()
        .filter(|c| c.verb == "watch" && c.id == "Deployment/shop")
        .count()
        + fake
            .calls()
            .iter()
            .filter(|c| c.verb == "list" && c.id == "Deployment/shop")
            .count();
    assert!(
        watched >= 3,
        "one list to compare, then one per step waiting: {:?}",
        fake.calls()
    );
    // The cluster changed: a revision is recorded.
    assert_eq!((done.revision, done.recorded), (Some(2), true));
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
    let done = apply_again(&fake, &set, &opts).await;
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
    // The cluster changed back to the render: a revision says so.
    assert_eq!((done.revision, done.recorded), (Some(2), true));
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
    let done = apply_again(&fake, &set, &opts).await;
    assert_eq!(done.skipped, []);
    assert_eq!(sent(&fake.calls()).len(), set.objects.len());
}

#[tokio::test]
async fn the_fake_answers_metadata_only_as_an_api_server_does() {
    use kube::api::{GetParams, ListParams};
    use kube::core::Request;
    let fake = Fake::new();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
            "data": {"password": "c2VjcmV0"}}),
        "admin",
    );
    let client = fake.cluster().client().clone();
    let secrets = Request::new("/api/v1/namespaces/shop/secrets");
    let read = |request: http::Request<Vec<u8>>| {
        let client = client.clone();
        async move {
            client
                .request_text(request)
                .await
                .map(|text| serde_json::from_str::<serde_json::Value>(&text).unwrap())
        }
    };
    // The only keys of an item, which holds the object's whole metadata.
    let only_metadata = |item: &serde_json::Value| {
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata"], "{item}");
        assert_eq!(item["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(item["kind"], "PartialObjectMetadata");
        assert_eq!(item["metadata"]["name"], "db");
        assert_eq!(item["metadata"]["labels"]["app"], "db");
        assert!(item["metadata"]["uid"].is_string(), "{item}");
        assert!(item["metadata"]["resourceVersion"].is_string(), "{item}");
    };
    let list = read(secrets.list_metadata(&ListParams::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert!(list["metadata"]["resourceVersion"].is_string(), "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    only_metadata(&list["items"][0]);
    let one = read(secrets.get_metadata("db", &GetParams::default()).unwrap())
        .await
        .unwrap();
    only_metadata(&one);
    // Whole objects still come whole.
    let whole = read(secrets.get("db", &GetParams::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(whole["data"]["password"], "c2VjcmV0");
    // Metadata of one object is not a list, nor the reverse: 406.
    let mut wrong = secrets.list(&ListParams::default()).unwrap();
    wrong.headers_mut().insert(
        http::header::ACCEPT,
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
            .parse()
            .unwrap(),
    );
    let refused = read(wrong).await.unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 406),
        "{refused:?}"
    );
    // What the engine reads: typed as the kind listed, metadata only.
    let listed = fake
        .cluster()
        .list_metadata("v1", "Secret", "shop", "app=db")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["apiVersion"], "v1");
    assert_eq!(listed[0]["kind"], "Secret");
    assert_eq!(listed[0]["metadata"]["name"], "db");
    assert!(listed[0].get("data").is_none(), "{}", listed[0]);
    assert!(listed[0].get("type").is_none(), "{}", listed[0]);
    assert!(inventory::stamp(&listed[0]).is_some());
    let none = fake
        .cluster()
        .list_metadata("v1", "Secret", "shop", "app=web")
        .await
        .unwrap();
    assert_eq!(none, Vec::<serde_json::Value>::new());
}
