//! The checks of the other NetworkPolicy tests can fail: the evaluator
//! denies what no rule allows, and each policy on the way of an allowed
//! call is needed for it.

mod support;

use serde_json::Value;
use support::evaluator::{Pod, allowed};
use support::pods::pod_of;
use support::{example, network_policies};

#[test]
fn the_evaluator_denies_what_no_rule_allows() {
    let deny: Value = serde_json::json!({
        "metadata": { "namespace": "a" },
        "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] },
    });
    let pod = Pod::new("a", &[]);
    assert!(!allowed(&[&deny], &pod, &pod, 80, "TCP"));
    assert!(
        allowed(&[], &pod, &pod, 80, "TCP"),
        "no policy, no isolation"
    );
}

#[test]
fn each_allow_is_needed() {
    let (platform, set) = example("isa-cloud");
    let all = network_policies(&set);
    let client = pod_of(&set.objects, &platform, "redis-grpc");
    let redis = pod_of(&set.objects, &platform, "redis");
    assert!(allowed(&all, &client, &redis, 6379, "TCP"));
    for dropped in ["redis-ingress", "redis-grpc-egress"] {
        let fewer: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|p| p["metadata"]["name"] != dropped)
            .collect();
        assert!(
            !allowed(&fewer, &client, &redis, 6379, "TCP"),
            "without {dropped} the call is denied"
        );
    }
    let dns_less: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|p| p["metadata"]["name"] != "allow-dns")
        .collect();
    let dns = Pod::new("kube-system", &[("k8s-app", "kube-dns")]);
    assert!(allowed(&all, &client, &dns, 53, "UDP"));
    assert!(!allowed(&dns_less, &client, &dns, 53, "UDP"));
}
