//! Cluster-scoped objects two platforms render: kept by `destroy` and
//! prune while another platform's latest revision holds them, and a
//! different definition reported by name and holder before anything is
//! applied.

mod fake;
mod support;

use std::time::Duration;

use fake::Fake;
use serde_json::json;
use strata_core::render::{Object, RenderedSet};
use strata_kube::Silent;
use strata_kube::destroy::{DestroyOptions, destroy};
use support::{apply_set, failure, release, render, shop};

const BLOG: &str = r"
platform: blog
tiers:
  - name: web
    services:
      blog: { image: ghcr.io/blog/blog:1.0.0, ports: { http: 8080 } }
";

/// `set` with StorageClass `fast-ssd` of file system `fs`.
fn with_class(mut set: RenderedSet, fs: &str) -> RenderedSet {
    set.objects.push(Object {
        wave: 0,
        tier: None,
        service: None,
        value: json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast-ssd"},
            "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "fsType": fs}}),
    });
    set
}

fn destroy_options() -> DestroyOptions {
    DestroyOptions {
        delete_data: false,
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
        concurrency: 4,
    }
}

#[tokio::test(start_paused = true)]
async fn a_different_definition_is_reported_by_name_and_holder_before_anything_changes() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply_set(&cluster, &with_class(shop(), "ext4"))
        .await
        .unwrap();
    fake.clear_calls();
    let f = failure(apply_set(&cluster, &with_class(render(BLOG), "xfs")).await);
    assert_eq!(f.step, "preflight");
    let message = f.cause.to_string();
    assert!(
        message.contains("StorageClass/fast-ssd is also rendered by platform `shop` (revision 1), defined differently")
            && message.contains("parameters differ"),
        "{message}"
    );
    assert!(
        !fake.calls().iter().any(|c| c.verb == "apply"),
        "nothing applied"
    );
    assert_eq!(
        fake.get("StorageClass/fast-ssd").unwrap()["parameters"]["fsType"],
        "ext4"
    );
}

#[tokio::test(start_paused = true)]
async fn destroy_and_prune_keep_what_another_platform_holds() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let shop_set = with_class(shop(), "ext4");
    let blog_set = with_class(render(BLOG), "ext4");
    apply_set(&cluster, &shop_set).await.unwrap();
    apply_set(&cluster, &blog_set).await.unwrap();

    // shop stops rendering the class: prune keeps it for blog.
    let done = apply_set(&cluster, &shop()).await.unwrap();
    let kept: Vec<String> = done
        .pruned
        .kept
        .iter()
        .map(|(id, why)| format!("{id}: {why}"))
        .collect();
    assert!(
        kept.contains(
            &"StorageClass/fast-ssd: shared: platform `blog` (revision 1) still holds it"
                .to_string()
        ),
        "{kept:?}"
    );
    assert!(fake.get("StorageClass/fast-ssd").is_some());

    // blog is destroyed: shop's latest revision no longer holds it, so it goes.
    let removed = destroy(
        &cluster,
        &blog_set,
        &release(&blog_set),
        destroy_options(),
        &Silent,
    )
    .await
    .unwrap();
    assert!(
        removed
            .deleted
            .iter()
            .any(|id| id.to_string() == "StorageClass/fast-ssd"),
        "{removed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn destroy_keeps_a_class_the_other_platform_still_holds() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let shop_set = with_class(shop(), "ext4");
    let blog_set = with_class(render(BLOG), "ext4");
    apply_set(&cluster, &shop_set).await.unwrap();
    apply_set(&cluster, &blog_set).await.unwrap();
    let removed = destroy(
        &cluster,
        &shop_set,
        &release(&shop_set),
        destroy_options(),
        &Silent,
    )
    .await
    .unwrap();
    assert!(fake.get("StorageClass/fast-ssd").is_some());
    assert!(
        removed
            .kept
            .iter()
            .any(|(id, why)| id.to_string() == "StorageClass/fast-ssd"
                && why.contains("platform `blog`")),
        "{:?}",
        removed.kept
    );
}
