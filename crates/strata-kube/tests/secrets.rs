//! Secrets around `apply`: generated ones are created once, with their
//! rendered type and the same values in every namespace that reads them;
//! missing image pull secrets stop an apply before its first wave. Time is
//! paused, so waits cost nothing.

mod fake;
mod support;

use fake::Fake;
use serde_json::json;
use strata_kube::apply::Cause;
use strata_kube::{ApplyOptions, ObjectId, Silent, apply};
use support::{
    SHOP, apply_set, failure, options, release, render, selecting, shop, shop_with_reports,
};

#[tokio::test(start_paused = true)]
async fn generated_secrets_are_created_once_and_never_overwritten() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let done = apply_set(&cluster, &set).await.unwrap();
    assert_eq!(done.secrets.len(), 1);
    let first = fake.get("Secret/shop/db-secret").unwrap()["data"]["password"].clone();
    assert!(first.as_str().is_some_and(|s| !s.is_empty()));
    let again = apply_set(&cluster, &set).await.unwrap();
    assert!(again.secrets.is_empty());
    assert_eq!(
        fake.get("Secret/shop/db-secret").unwrap()["data"]["password"],
        first
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| !(c.id == "Secret/shop/db-secret" && c.verb == "apply"))
    );
    // A key added to the spec later is added; the existing one is kept.
    let more = render(&SHOP.replace("generate: [password]", "generate: [password, replication]"));
    let done = apply_set(&cluster, &more).await.unwrap();
    assert_eq!(done.secrets.len(), 1);
    let secret = fake.get("Secret/shop/db-secret").unwrap();
    assert_eq!(secret["data"]["password"], first);
    assert!(secret["data"]["replication"].is_string());
}

#[tokio::test(start_paused = true)]
async fn a_generated_secret_read_in_several_namespaces_has_the_same_values_everywhere() {
    let set = shop_with_reports();
    assert_eq!(
        set.generated_secrets[0].namespaces.len(),
        2,
        "{:?}",
        set.generated_secrets
    );
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &set).await.unwrap();
    let password = |id: &str| fake.get(id).unwrap()["data"]["password"].clone();
    let shop = password("Secret/shop/db-secret");
    assert_eq!(password("Secret/reports-ns/db-secret"), shop);
    // A copy lost in one namespace comes back with the other's value.
    let copy = ObjectId {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: "reports-ns".into(),
        name: "db-secret".into(),
    };
    cluster.delete(&copy).await.unwrap();
    let done = apply_set(&cluster, &set).await.unwrap();
    assert_eq!(done.secrets, [copy]);
    assert_eq!(password("Secret/reports-ns/db-secret"), shop);
    assert_eq!(password("Secret/shop/db-secret"), shop);
}

/// A database owner's login is a `kubernetes.io/basic-auth` Secret with its
/// user name rendered and its password generated: it is created with that
/// type, because an API server refuses to change a Secret's type later.
#[tokio::test(start_paused = true)]
async fn a_generated_secret_is_created_with_its_rendered_type() {
    let spec = "platform: shop\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, databases: [orders] }\n";
    let set = render(spec);
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &set).await.unwrap();
    let owner = fake.get("Secret/shop/db-orders").unwrap();
    assert_eq!(owner["type"], "kubernetes.io/basic-auth");
    assert!(owner["data"]["password"].is_string(), "{owner}");
    let root = fake.get("Secret/shop/db-credentials").unwrap();
    assert_eq!(root["type"], "Opaque");
}

#[tokio::test(start_paused = true)]
async fn missing_pull_secrets_stop_apply_before_the_first_wave() {
    let text = SHOP.replace(
        "secrets:",
        "registries:\n  ghcr.io: { pullSecret: ghcr-pull }\nsecrets:",
    );
    let set = render(&text);
    assert_eq!(set.pull_secrets.len(), 1);
    let fake = Fake::new();
    let cluster = fake.cluster();
    let f = failure(apply_set(&cluster, &set).await);
    let Cause::PullSecretsMissing(missing) = &f.cause else {
        panic!("expected missing pull secrets, got {:?}", f.cause);
    };
    assert_eq!(missing.len(), 1);
    assert_eq!(
        (missing[0].name.as_str(), missing[0].namespace.as_str()),
        ("ghcr-pull", "shop")
    );
    let message = f.cause.to_string();
    assert!(
        message.contains("kubectl create secret docker-registry ghcr-pull --docker-server=ghcr.io")
            && message.contains("-n shop"),
        "{message}"
    );
    // The namespace was created first, nothing of the waves was applied.
    assert!(fake.get("Namespace/shop").is_some(), "{:?}", fake.ids());
    assert!(fake.get("Deployment/shop/api").is_none());
    assert!(fake.get("StatefulSet/shop/db").is_none());

    // Only the selected pods' secrets are checked: the data tier's postgres
    // comes from Docker Hub, so it applies without the secret.
    let data_only = selecting(&["data"], &[]);
    apply(&cluster, &set, &release(&set), &data_only, &Silent)
        .await
        .unwrap();
    assert!(fake.get("StatefulSet/shop/db").is_some());
    assert!(fake.get("Deployment/shop/api").is_none());
    // A dry run does not check: the namespace may not exist yet.
    let dry = ApplyOptions {
        dry_run: true,
        ..options()
    };
    apply(&cluster, &set, &release(&set), &dry, &Silent)
        .await
        .unwrap();
    // Once the secret exists, the apply goes through.
    fake.insert(
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": "ghcr-pull", "namespace": "shop" },
            "type": "kubernetes.io/dockerconfigjson",
            "data": { ".dockerconfigjson": "e30=" },
        }),
        "kubectl",
    );
    apply_set(&cluster, &set).await.unwrap();
    let api = fake.get("Deployment/shop/api").unwrap();
    assert_eq!(
        api["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{ "name": "ghcr-pull" }])
    );
    let db = fake.get("StatefulSet/shop/db").unwrap();
    assert!(
        db["spec"]["template"]["spec"]
            .get("imagePullSecrets")
            .is_none(),
        "postgres comes from Docker Hub"
    );
}
