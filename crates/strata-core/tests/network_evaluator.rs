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

/// `needs: [tier/NAME]` is one egress peer selecting the tier's pods by
/// label: the caller reaches every service of the tier on each of its
/// ports, the rule is the same size whatever the tier holds, and a tier
/// it does not need stays closed.
#[test]
fn a_tier_needed_as_a_whole_is_one_peer_that_admits_each_of_its_services() {
    let (platform, set) = example("isa-cloud");
    let all = network_policies(&set);
    let gateway = platform.service("gateway").unwrap();
    let gateway_pod = pod_of(&set.objects, &platform, "gateway");
    let tier = platform
        .tiers
        .iter()
        .find(|t| t.name == "grpc-services")
        .unwrap();
    assert!(
        tier.services.len() > 1,
        "the example's tier has several services"
    );
    for &member in &tier.services {
        let callee = &platform.services[member.0];
        let pod = pod_of(&set.objects, &platform, &callee.name);
        for port in &callee.ports {
            assert!(
                allowed(&all, &gateway_pod, &pod, port.number, "TCP"),
                "gateway → {}:{}",
                callee.name,
                port.number
            );
        }
    }
    let egress = all
        .iter()
        .find(|p| {
            p["metadata"]["name"] == "gateway-egress"
                && p["metadata"]["namespace"] == gateway.namespace.as_str()
        })
        .unwrap();
    let tier_peers: Vec<&Value> = egress["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["to"].as_array().into_iter().flatten())
        .filter(|peer| peer["podSelector"]["matchLabels"]["strata.dev/tier"] == "grpc-services")
        .collect();
    assert_eq!(
        tier_peers.len(),
        1,
        "one peer for the whole tier: {egress:#}"
    );
    // On the callee side, the gateway is found by the label its pods carry
    // for the tier it needs, not by its own selector.
    let member = &platform.services[tier.services[0].0];
    let ingress = all
        .iter()
        .find(|p| p["metadata"]["name"] == format!("{}-ingress", member.name).as_str())
        .unwrap();
    let needing = ingress["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["from"].as_array().into_iter().flatten())
        .filter(|peer| {
            peer["podSelector"]["matchLabels"]["needs.strata.dev/grpc-services"] == "true"
        })
        .count();
    assert_eq!(needing, 1, "{ingress:#}");
    // A service outside the tier, that the gateway does not call, stays
    // out of reach.
    let outsider = platform
        .services
        .iter()
        .find(|s| {
            s.tier
                != tier
                    .services
                    .first()
                    .map(|&m| platform.services[m.0].tier)
                    .unwrap()
                && !s.ports.is_empty()
                && s.name != gateway.name
                && !platform.edges.iter().any(|e| {
                    platform.services[e.from().0].name == gateway.name
                        && platform.services[e.to().0].name == s.name
                })
        })
        .unwrap();
    let pod = pod_of(&set.objects, &platform, &outsider.name);
    assert!(
        !allowed(&all, &gateway_pod, &pod, outsider.ports[0].number, "TCP"),
        "gateway ↛ {}",
        outsider.name
    );
}
