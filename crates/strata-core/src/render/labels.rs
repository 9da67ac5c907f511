//! The labels every object carries, and the selectors that find a
//! service's pods.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::{Platform, Service};

/// `app.kubernetes.io/managed-by` on everything Strata renders.
pub const MANAGED_BY: &str = "strata";
/// The label carrying an object's tier (`kubectl wait -l strata.dev/tier=…`).
pub const TIER_LABEL: &str = "strata.dev/tier";

/// The label naming the platform on every object of a service, pods
/// included (part of Strata's own selector).
pub(super) const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Labels of objects that belong to the platform but to no service.
pub(super) fn platform(platform: &Platform) -> Map<String, Value> {
    let mut labels = Map::with_capacity(platform.labels.len() + 2);
    insert_platform(&mut labels, platform);
    labels
}

/// The platform's labels, its name and Strata as manager, into `labels`.
fn insert_platform(labels: &mut Map<String, Value>, platform: &Platform) {
    for (k, v) in &platform.labels {
        labels.insert(k.clone(), Value::String(v.clone()));
    }
    labels.insert(
        "app.kubernetes.io/part-of".into(),
        Value::String(platform.name.clone()),
    );
    labels.insert(
        "app.kubernetes.io/managed-by".into(),
        Value::from(MANAGED_BY),
    );
}

/// The recommended labels of every object of a service, and its tier.
///
/// Built in one map of the size it ends at, with no intermediate map: a
/// render makes it for every object of every service.
pub(super) fn service(platform: &Platform, service: &Service) -> Map<String, Value> {
    let own = service.rare.selector.as_ref();
    let mut labels = Map::with_capacity(
        platform.labels.len() + service.labels.len() + own.map_or(0, BTreeMap::len) + 6,
    );
    insert_platform(&mut labels, platform);
    for (k, v) in &service.labels {
        labels.insert(k.clone(), Value::String(v.clone()));
    }
    insert_strata_selector(&mut labels, platform, service);
    // The selector's labels, last: a selector taken over from a running
    // workload wins over the labels above.
    if let Some(own) = own {
        for (k, v) in own {
            labels.insert(k.clone(), Value::String(v.clone()));
        }
    }
    let component = service
        .rare
        .blueprint
        .as_deref()
        .unwrap_or(service.kind.as_str());
    // A selector taken over from a running workload may name the
    // component (`primary`): its value stays, or the pods would not match.
    labels
        .entry("app.kubernetes.io/component")
        .or_insert_with(|| Value::from(component));
    labels.insert(
        TIER_LABEL.into(),
        Value::String(platform.tier_of(service).name.clone()),
    );
    labels
}

/// The labels that select a service's pods, never changed after creation:
/// Strata's own, or those the spec gives to take over a workload that
/// already runs (`selector:`).
pub(super) fn selector(platform: &Platform, service: &Service) -> Map<String, Value> {
    if let Some(own) = &service.rare.selector {
        let mut labels = Map::with_capacity(own.len());
        for (k, v) in own {
            labels.insert(k.clone(), Value::String(v.clone()));
        }
        labels
    } else {
        let mut labels = Map::with_capacity(2);
        insert_strata_selector(&mut labels, platform, service);
        labels
    }
}

/// Strata's own selector labels of a service, into `labels`.
fn insert_strata_selector(labels: &mut Map<String, Value>, platform: &Platform, service: &Service) {
    labels.insert(
        "app.kubernetes.io/name".into(),
        Value::String(service.name.clone()),
    );
    labels.insert(INSTANCE_LABEL.into(), Value::String(platform.name.clone()));
}

/// The labels and the pod selector of one service, made once for all the
/// objects of a render of it and cloned into each: a clone copies the
/// entries, where building the map again hashes every key and grows it.
/// Made when first read: `check` makes few of a service's bodies whole,
/// often none that carries them.
pub(super) struct ServiceLabels<'s> {
    platform: &'s Platform,
    service: &'s Service,
    /// [`service`] and [`selector`] of the service, once read.
    made: OnceCell<(Map<String, Value>, Map<String, Value>)>,
}

impl<'s> ServiceLabels<'s> {
    /// Those of `service`, as [`service`] and [`selector`] make them.
    pub(super) fn new(platform: &'s Platform, service: &'s Service) -> Self {
        ServiceLabels {
            platform,
            service,
            made: OnceCell::new(),
        }
    }

    /// The labels and the selector, made on the first call.
    fn made(&self) -> &(Map<String, Value>, Map<String, Value>) {
        self.made.get_or_init(|| {
            (
                self::service(self.platform, self.service),
                selector(self.platform, self.service),
            )
        })
    }

    /// The labels of every object of the service ([`service`]).
    pub(super) fn labels(&self) -> Map<String, Value> {
        self.made().0.clone()
    }

    /// The labels that select its pods ([`selector`]).
    pub(super) fn selector(&self) -> Map<String, Value> {
        self.made().1.clone()
    }

    /// [`metadata`] of an object `name` of the service.
    pub(super) fn metadata(&self, name: &str) -> Value {
        super::object([
            ("name", Value::from(name)),
            ("namespace", Value::from(self.service.namespace.as_str())),
            ("labels", Value::Object(self.labels())),
        ])
    }
}

/// Standard metadata for a namespaced object of a service.
pub fn metadata(platform: &Platform, service: &Service, name: &str) -> Value {
    super::object([
        ("name", Value::from(name)),
        ("namespace", Value::String(service.namespace.clone())),
        ("labels", Value::Object(self::service(platform, service))),
    ])
}
