//! Kinds the cluster learns while applying: CRDs are established before
//! the first wave, their resources wait for discovery and for their Ready
//! condition, and a kind no one serves is refused with a hint. Time is
//! paused, so waits cost nothing.

mod fake;
mod support;

use fake::{Behavior, Fake};
use serde_json::json;
use strata_core::render::{Object, RenderedSet};
use support::{apply_set, failure, gets, last_position, position, shop};

/// `shop` with an operator's CRD in wave 1 and one of its resources in
/// wave 2, as raw manifests of tiers would be.
fn with_custom_resource() -> RenderedSet {
    let mut set = shop();
    set.objects.push(Object {
        wave: 1,
        tier: Some("data".into()),
        service: None,
        value: json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "caches.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Cache", "plural": "caches"},
                "versions": [{"name": "v1", "served": true, "storage": true}]}}),
    });
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: None,
        value: json!({"apiVersion": "example.com/v1", "kind": "Cache", "metadata": {"name": "sessions", "namespace": "shop"}, "spec": {"size": 3}}),
    });
    set
}

#[tokio::test(start_paused = true)]
async fn crds_are_established_first_and_custom_resources_waited_for_until_ready() {
    let fake = Fake::new();
    fake.behave(
        "CustomResourceDefinition/caches.example.com",
        Behavior::ReadyAfter(2),
    );
    fake.behave("Cache/shop/sessions", Behavior::ReadyAfter(3));
    let set = with_custom_resource();
    apply_set(&fake.cluster(), &set).await.unwrap();
    let calls = fake.calls();
    let established =
        last_position(&calls, "get", "CustomResourceDefinition/caches.example.com").unwrap();
    let first_wave = position(&calls, "apply", "NetworkPolicy/shop/default-deny").unwrap();
    assert!(
        established < first_wave,
        "the CRD is established before wave 0"
    );
    let cache_ready = last_position(&calls, "get", "Cache/shop/sessions").unwrap();
    assert_eq!(
        gets(&calls, "Cache/shop/sessions"),
        3,
        "waited for its Ready condition"
    );
    assert!(cache_ready < position(&calls, "apply", "Deployment/shop/web").unwrap());
}

/// Discovery lists a new CRD's kind a moment after the CRD is Established:
/// its resources are applied once the kind shows, not refused as unknown.
#[tokio::test(start_paused = true)]
async fn a_custom_resource_waits_for_discovery_to_list_its_new_kind() {
    let fake = Fake::new();
    fake.discovery_lag(3);
    let set = with_custom_resource();
    apply_set(&fake.cluster(), &set).await.unwrap();
    assert!(fake.get("Cache/shop/sessions").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_kind_the_cluster_does_not_serve_is_refused_with_a_hint() {
    let fake = Fake::new();
    let mut set = shop();
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: Some("api".into()),
        value: json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "api", "namespace": "shop"}}),
    });
    let f = failure(apply_set(&fake.cluster(), &set).await);
    assert_eq!(f.step, "wave 2");
    let message = f.cause.to_string();
    assert!(message.contains("ServiceMonitor/shop/api"), "{message}");
    assert!(
        message.contains("install its CRD or operator first"),
        "{message}"
    );
    assert!(fake.get("Deployment/shop/web").is_none());
}
