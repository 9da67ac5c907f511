//! Where the objects of a render go as they are made. `render` hands each
//! object, with what made it, to a [`Sink`] and keeps none itself: the
//! [`Collect`] sink keeps them all (for exports that need the whole set,
//! and to report a collision or a refusal at its spec lines), the YAML
//! stream keeps only their text, and `check` keeps only their identities
//! ([`Guard`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Object;
use super::admission;
use super::origin::{Origin, Origins};
use crate::pod_security;
use crate::spec::runtime::Profile;

/// What receives the objects of a render, in the order they are made.
pub(super) trait Sink<'p> {
    /// One object and what in the spec made it.
    fn object(&mut self, object: Object, origin: Origin<'p>);
}

/// Every object, with its origin: what the exact checks and the exports
/// read.
#[derive(Default)]
pub(super) struct Collect<'p> {
    /// The objects, in the order they were made.
    pub(super) objects: Vec<Object>,
    /// What made each.
    pub(super) origins: Origins<'p>,
}

impl<'p> Sink<'p> for Collect<'p> {
    fn object(&mut self, object: Object, origin: Origin<'p>) {
        self.origins.mark(self.objects.len(), origin);
        self.objects.push(object);
    }
}

/// The identity of an object in a set (API group, kind, namespace and
/// name): two objects of one identity collide, `kubectl apply` keeping
/// only the last.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity(Box<str>);

impl Identity {
    /// The identity of `object`.
    pub fn of(object: &Object) -> Self {
        let group = object
            .api_version()
            .rsplit_once('/')
            .map_or("", |(group, _)| group);
        // A field separator no name holds: names are DNS labels or paths.
        Identity(
            [group, object.kind(), object.namespace(), object.name()]
                .join("\u{0}")
                .into_boxed_str(),
        )
    }

    /// `group/Kind/namespace/name`, for messages.
    pub fn as_path(&self) -> String {
        self.0.replace('\u{0}', "/")
    }
}

/// What a render must hold to know that it has no collision and no pod its
/// namespace refuses, without holding the objects: the identity of each,
/// each namespace's enforced level and the level each namespace's pods
/// need. When it finds either problem, the render is done again with
/// [`Collect`] to report it at its spec lines, so that a clean set costs
/// no origins and a report is always the one the whole set gives.
#[derive(Debug, Default)]
pub(super) struct Guard {
    identities: HashSet<Identity>,
    repeated: bool,
    /// The level each Namespace of the set enforces.
    levels: HashMap<String, Profile>,
    /// The strictest level the pods of each namespace allow: a namespace
    /// enforcing a stricter one refuses one of them.
    needs: HashMap<String, Profile>,
}

impl<'p> Sink<'p> for Guard {
    fn object(&mut self, object: Object, _: Origin<'p>) {
        self.see(&object);
    }
}

impl Guard {
    /// Records `object`.
    pub(super) fn see(&mut self, object: &Object) {
        if !self.identities.insert(Identity::of(object)) {
            self.repeated = true;
        }
        if object.kind() == crate::kind::NAMESPACE
            && let Some(level) = admission::enforced(object)
        {
            self.levels.insert(object.name().to_string(), level);
        }
        if let Some((pod, metadata)) = pod_security::pod_template(&object.value)
            && let Some(needs) = pod_security::evaluate(pod, metadata)
                .iter()
                .map(|v| v.needs)
                .max()
        {
            let namespace = object.namespace();
            match self.needs.get_mut(namespace) {
                Some(most) => *most = (*most).max(needs),
                None => {
                    self.needs.insert(namespace.to_string(), needs);
                }
            }
        }
    }

    /// Whether every identity is unique and every namespace allows the
    /// pods in it.
    pub(super) fn clean(&self) -> bool {
        !self.repeated
            && self.needs.iter().all(|(namespace, needs)| {
                self.levels
                    .get(namespace)
                    .is_none_or(|level| *level >= *needs)
            })
    }

    /// The identities seen.
    pub(super) fn into_identities(self) -> HashSet<Identity> {
        self.identities
    }
}

/// Where an object goes in apply order: by wave, then kind (in
/// [`super::kind_rank`] order), then namespace and name.
pub(super) struct Slot {
    group: (usize, usize, String),
    place: (String, String),
}

impl Slot {
    /// The slot of `object`.
    pub(super) fn of(object: &Object) -> Self {
        let kind = object.kind();
        Slot {
            group: (object.wave, super::kind_rank(kind), kind.to_string()),
            place: (object.namespace().to_string(), object.name().to_string()),
        }
    }
}

/// Items kept in apply order as they come: one group per wave and kind,
/// each sorted by namespace and name when taken out. Objects are made
/// service after service, so within a wave the kinds interleave; only the
/// members of one group need sorting.
pub(super) struct Ordered<T> {
    groups: BTreeMap<(usize, usize, String), Vec<Placed<T>>>,
}

/// An item and its namespace and name.
type Placed<T> = ((String, String), T);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered {
            groups: BTreeMap::new(),
        }
    }
}

impl<T> Ordered<T> {
    /// Adds `item` at `slot`.
    pub(super) fn push(&mut self, slot: Slot, item: T) {
        self.groups
            .entry(slot.group)
            .or_default()
            .push((slot.place, item));
    }

    /// The items in apply order; of one slot, in the order they came.
    pub(super) fn into_items(self) -> impl Iterator<Item = T> {
        self.groups.into_values().flat_map(|mut group| {
            // Stable: a collision keeps the order it came in.
            group.sort_by(|a, b| a.0.cmp(&b.0));
            group.into_iter().map(|(_, item)| item)
        })
    }
}
