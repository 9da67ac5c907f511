//! Changes the API server refuses once an object exists: the field is
//! named, a StatefulSet whose claim templates change is recreated over its
//! pods and claims with `recreate`, and other kinds get the command to run.

mod fake;
mod support;

use fake::Fake;
use serde_json::json;
use strata_core::render::{Object, RenderedSet};
use strata_kube::apply::Cause;
use strata_kube::immutable::Remedy;
use strata_kube::{ApplyOptions, Silent, apply};
use support::{SHOP, apply_set, failure, options, position, release, render, shop};

/// `db`'s pod and claim, as its controller makes them.
fn insert_db_pod_and_claim(fake: &Fake) {
    let db = fake.get("StatefulSet/shop/db").unwrap();
    let owner = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": db["metadata"]["uid"], "controller": true}]);
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "shop", "ownerReferences": owner,
            "labels": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "shop"}}}),
        "kube-controller-manager",
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-db-0", "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "shop"}}, "status": {"phase": "Bound"}}),
        "kube-controller-manager",
    );
}

fn bigger_disk() -> RenderedSet {
    render(&SHOP.replace("storage: 1Gi", "storage: 5Gi"))
}

#[tokio::test(start_paused = true)]
async fn a_changed_claim_template_is_named_with_the_safe_way_out() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &shop()).await.unwrap();
    insert_db_pod_and_claim(&fake);
    let set = bigger_disk();
    let f = failure(apply_set(&cluster, &set).await);
    let Cause::Immutable { id, fields, remedy } = &f.cause else {
        panic!("an immutable change: {}", f.cause);
    };
    assert_eq!(id.to_string(), "StatefulSet/shop/db");
    assert_eq!(fields, &["spec.volumeClaimTemplates"]);
    assert_eq!(remedy, &Remedy::RecreateKeepingPods);
    let message = f.cause.to_string();
    assert!(
        message.contains("--recreate") && message.contains("--cascade=orphan"),
        "{message}"
    );
    assert!(
        fake.get("Pod/shop/db-0").is_some(),
        "nothing deleted without asking"
    );
    assert!(
        !fake.calls().iter().any(|c| c.verb == "delete"),
        "nothing deleted without asking"
    );
}

#[tokio::test(start_paused = true)]
async fn recreate_keeps_the_pods_and_claims_of_a_stateful_set() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &shop()).await.unwrap();
    insert_db_pod_and_claim(&fake);
    fake.clear_calls();
    let set = bigger_disk();
    let opts = ApplyOptions {
        recreate: true,
        ..options()
    };
    apply(&cluster, &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    let calls = fake.calls();
    let deleted = position(&calls, "delete", "StatefulSet/shop/db").expect("deleted");
    assert!(deleted < support::last_position(&calls, "apply", "StatefulSet/shop/db").unwrap());
    let db = fake.get("StatefulSet/shop/db").unwrap();
    assert_eq!(
        db["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "5Gi"
    );
    let pod = fake
        .get("Pod/shop/db-0")
        .expect("the pod is kept (orphaned)");
    assert!(
        pod["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{pod}"
    );
    assert!(fake.get("PersistentVolumeClaim/shop/data-db-0").is_some());
}

/// Without the orphan cascade a real server's garbage collector takes the
/// pods along: the fake does too, so the test above proves something.
#[tokio::test(start_paused = true)]
async fn a_plain_delete_takes_the_pods_along() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &shop()).await.unwrap();
    insert_db_pod_and_claim(&fake);
    let id = strata_kube::ObjectId::of(&fake.get("StatefulSet/shop/db").unwrap());
    cluster.delete(&id).await.unwrap();
    assert!(fake.get("Pod/shop/db-0").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_changed_storage_class_gets_the_command_to_run() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let class = |fs: &str| {
        let mut set = shop();
        set.objects.push(Object {
            wave: 0,
            tier: None,
            service: None,
            value: json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast-ssd"},
                "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "fsType": fs}}),
        });
        set
    };
    apply_set(&cluster, &class("ext4")).await.unwrap();
    let f = failure(apply_set(&cluster, &class("xfs")).await);
    let message = f.cause.to_string();
    assert!(
        matches!(&f.cause, Cause::Immutable { fields, .. } if fields == &["parameters"]),
        "{message}"
    );
    assert!(
        message.contains("run `kubectl delete storageclass fast-ssd`"),
        "{message}"
    );
}
