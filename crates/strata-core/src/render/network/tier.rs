//! Egress to a whole tier (`needs: [tier/NAME]`): one peer per namespace
//! selecting the tier's pods by label, and the label that marks the pods
//! needing a tier, so that a policy grows with the tiers a service needs,
//! not with their services.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Lookup, Rules, namespace_selector, port, protocol};
use crate::model::{DependencyTarget, Platform, Service, ServiceId, TierId};
use crate::render::{labels, object};

/// A caller's egress to each tier it waits for as a whole (`needs:
/// [tier/NAME]`): one rule per namespace of the tier, its peer selecting
/// the tier's pods by the tier label, on the ports of the tier's services;
/// so a policy grows with the tiers a service needs, not with their
/// services. Adds the rules and returns the services they reach, sorted; a
/// service whose pods may not carry the label (run by an operator,
/// relabelled by `podLabels`) keeps a rule of its own.
pub(super) fn tier_rules(
    platform: &Platform,
    lookup: &Lookup<'_>,
    id: ServiceId,
    service: &Service,
    rules: &mut impl Rules,
) -> Vec<ServiceId> {
    let mut covered = Vec::new();
    let mut tiers: Vec<TierId> = Vec::new();
    for need in &service.needs {
        if let DependencyTarget::Tier(tier) = need.target
            && !tiers.contains(&tier)
        {
            tiers.push(tier);
        }
    }
    for tier in tiers {
        let members = &platform.tiers[tier.0].services;
        match lookup.tiers.get(tier.0).and_then(Option::as_ref) {
            // A caller outside the tier: the rules every such caller gets.
            Some(reach) if !members.contains(&id) => {
                for rule in &reach.rules {
                    rules.add(|| rule.clone());
                }
                covered.extend_from_slice(&reach.covered);
            }
            _ => {
                let reach = TierReach::new(platform, tier, Some(id));
                for rule in reach.rules {
                    rules.add(|| rule);
                }
                covered.extend(reach.covered);
            }
        }
    }
    covered.sort_unstable();
    covered.dedup();
    covered
}

/// What a caller's egress to a whole tier holds: one rule per namespace of
/// the tier's services that carry the tier label (see [`tier_rules`]), and
/// those services.
pub(super) struct TierReach {
    pub(super) rules: Vec<Value>,
    pub(super) covered: Vec<ServiceId>,
}

impl TierReach {
    /// The reach of `tier` for a caller that is not `except` (the caller
    /// itself, when it belongs to the tier).
    pub(super) fn new(platform: &Platform, tier: TierId, except: Option<ServiceId>) -> Self {
        let mut covered = Vec::new();
        let mut namespaces: BTreeMap<&str, BTreeSet<(&str, u16)>> = BTreeMap::new();
        for &member in &platform.tiers[tier.0].services {
            let callee = &platform.services[member.0];
            if Some(member) == except || callee.ports.is_empty() || !carries_tier_label(callee) {
                continue;
            }
            covered.push(member);
            let ports = namespaces.entry(callee.namespace.as_str()).or_default();
            for port in &callee.ports {
                ports.insert((protocol(port.protocol), port.number));
            }
        }
        let rules = namespaces
            .into_iter()
            .map(|(namespace, ports)| {
                let ports: Vec<Value> = ports
                    .into_iter()
                    .map(|(protocol, number)| port(protocol, number))
                    .collect();
                object([
                    (
                        "to",
                        Value::Array(vec![tier_peer(platform, tier, namespace)]),
                    ),
                    ("ports", Value::Array(ports)),
                ])
            })
            .collect();
        TierReach { rules, covered }
    }
}

/// A peer naming the pods of a tier in `namespace`, by the tier label and
/// the platform's instance label that every pod Strata renders carries.
fn tier_peer(platform: &Platform, tier: TierId, namespace: &str) -> Value {
    object([
        ("namespaceSelector", namespace_selector(namespace)),
        (
            "podSelector",
            object([(
                "matchLabels",
                object([
                    (labels::INSTANCE_LABEL, Value::String(platform.name.clone())),
                    (
                        labels::TIER_LABEL,
                        Value::String(platform.tiers[tier.0].name.clone()),
                    ),
                ]),
            )]),
        ),
    ])
}

/// Whether the pods of `service` carry the labels of [`tier_peer`]: pods
/// Strata renders do, unless `podLabels` or a selector taken over sets
/// those keys; an operator's pods need not.
fn carries_tier_label(service: &Service) -> bool {
    !service.tuning.as_ref().is_some_and(|t| t.mode.operated)
        && !service
            .rare
            .selector
            .as_ref()
            .is_some_and(|own| own.contains_key(labels::INSTANCE_LABEL))
        && !service.rare.pod_labels.contains_key(labels::TIER_LABEL)
        && !service.rare.pod_labels.contains_key(labels::INSTANCE_LABEL)
}

/// The tiers whose label `needs.strata.dev/TIER: "true"` the pods of
/// `service` carry: each tier it needs as a whole, when policies are on and
/// its pods are Strata's (see [`carries_tier_label`]).
pub(in crate::render) fn needs_label(platform: &Platform, service: &Service) -> Vec<TierId> {
    if !platform.network.policies || !carries_tier_label(service) {
        return Vec::new();
    }
    let mut tiers = Vec::new();
    for need in &service.needs {
        if let DependencyTarget::Tier(tier) = need.target
            && !tiers.contains(&tier)
            && !service
                .rare
                .pod_labels
                .contains_key(&needs_key(&platform.tiers[tier.0].name))
        {
            tiers.push(tier);
        }
    }
    tiers
}

/// The pod label saying its pods need all of tier `tier`.
pub(in crate::render) fn needs_key(tier: &str) -> String {
    format!("needs.strata.dev/{tier}")
}

/// A peer naming the pods in `namespace` of the services that need all of
/// `tier`, by the label of [`needs_label`].
pub(super) fn needing_peer(platform: &Platform, tier: TierId, namespace: &str) -> Value {
    let mut labels = serde_json::Map::with_capacity(2);
    labels.insert(
        labels::INSTANCE_LABEL.into(),
        Value::String(platform.name.clone()),
    );
    labels.insert(needs_key(&platform.tiers[tier.0].name), Value::from("true"));
    object([
        ("namespaceSelector", namespace_selector(namespace)),
        (
            "podSelector",
            object([("matchLabels", Value::Object(labels))]),
        ),
    ])
}
