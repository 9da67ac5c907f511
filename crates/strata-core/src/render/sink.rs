//! Where the objects of a render go as they are made. `render` hands each
//! object, with what made it, to a [`Sink`] and keeps none itself: the
//! [`Collect`] sink keeps them all (for exports that need the whole set,
//! and to report a collision or a refusal at its spec lines), the YAML
//! stream keeps only their text, and `check` keeps only their identities
//! ([`Guard`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

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

/// A 64-bit hash of the identity of `object` (see [`Identity`]), with
/// fixed keys: what [`Guard`] keeps instead of the identity itself. Two
/// identities of one hash are taken for a collision, which the render done
/// again with [`Collect`] then decides exactly: a clash costs time, never a
/// false report.
pub(super) fn identity_hash(object: &Object) -> u64 {
    let group = object
        .api_version()
        .rsplit_once('/')
        .map_or("", |(group, _)| group);
    // `str` hashes with a terminator, so the four parts cannot run into
    // one another.
    let mut hasher = std::hash::DefaultHasher::new();
    (group, object.kind(), object.namespace(), object.name()).hash(&mut hasher);
    hasher.finish()
}

/// What a render must hold to know that it has no collision and no pod its
/// namespace refuses, without holding the objects: a hash of the identity
/// of each, each namespace's enforced level and the level each namespace's
/// pods need. When it finds either problem (or two identities of one
/// hash), the render is done again with [`Collect`] to report it at its
/// spec lines, so that a clean set costs no origins and a report is always
/// the one the whole set gives.
#[derive(Debug)]
pub(super) struct Guard {
    identities: HashSet<u64>,
    /// How an identity is hashed: [`identity_hash`], but for tests that
    /// make hashes clash.
    hash: fn(&Object) -> u64,
    repeated: bool,
    /// The level each Namespace of the set enforces.
    levels: HashMap<String, Profile>,
    /// The strictest level the pods of each namespace allow: a namespace
    /// enforcing a stricter one refuses one of them.
    needs: HashMap<String, Profile>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::hashing(identity_hash)
    }
}

impl<'p> Sink<'p> for Guard {
    fn object(&mut self, object: Object, _: Origin<'p>) {
        self.see(&object);
    }
}

impl Guard {
    /// A guard hashing identities with `hash`.
    pub(super) fn hashing(hash: fn(&Object) -> u64) -> Self {
        Guard {
            identities: HashSet::new(),
            hash,
            repeated: false,
            levels: HashMap::new(),
            needs: HashMap::new(),
        }
    }

    /// Records `object`.
    pub(super) fn see(&mut self, object: &Object) {
        if !self.identities.insert((self.hash)(object)) {
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

    /// Whether every identity is unique (no two of one hash) and every
    /// namespace allows the pods in it.
    pub(super) fn clean(&self) -> bool {
        !self.repeated
            && self.needs.iter().all(|(namespace, needs)| {
                self.levels
                    .get(namespace)
                    .is_none_or(|level| *level >= *needs)
            })
    }

    /// The hashes of the identities seen.
    pub(super) fn into_identities(self) -> HashSet<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{NoAssets, check_through, render};
    use crate::source::SourceFile;
    use crate::spec;

    fn platform(text: &str) -> crate::model::Platform {
        let file = SourceFile::new("p.yaml", text);
        crate::resolve(&spec::parse(&file).expect("parses"), None).expect("resolves")
    }

    const CLEAN: &str = "platform: demo\ngateways: { edge: { kind: ingress, hosts: [app.example.com] } }\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, expose: [] }\n  - name: apps\n    services:\n      web: { image: demo/web:1.0, ports: { http: 8080 }, needs: [db], expose: { path: / } }\n";

    #[test]
    fn identities_of_one_hash_are_decided_by_the_whole_set() {
        let platform = platform(CLEAN);
        let set = render(&platform, &NoAssets).expect("renders");
        assert!(set.objects.len() > 5);
        // Every identity of one hash: the guard sees a collision on the
        // second object, and the whole set finds none.
        let clashing = check_through(&platform, &NoAssets, Guard::hashing(|_| 0))
            .expect("a clash of hashes is no collision");
        let checked = check_through(&platform, &NoAssets, Guard::default()).expect("clean");
        assert_eq!(clashing.len(), set.objects.len());
        assert_eq!(checked.len(), set.objects.len());
        assert!(set.objects.iter().all(|o| checked.holds(o)));
        assert_eq!(clashing.pull_secrets, checked.pull_secrets);
        assert_eq!(clashing.generated_secrets, checked.generated_secrets);
    }

    #[test]
    fn a_real_collision_is_reported_whatever_the_hashes() {
        let platform = platform(
            "platform: demo\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, expose: [] }\n      db-headless: { image: demo/db-proxy:1.0, ports: { http: 8080 }, expose: [] }\n",
        );
        let expected = render(&platform, &NoAssets).expect_err("a collision");
        for guard in [Guard::default(), Guard::hashing(|_| 0)] {
            let found = check_through(&platform, &NoAssets, guard).expect_err("a collision");
            assert_eq!(
                found
                    .iter()
                    .map(|d| (d.code, d.location()))
                    .collect::<Vec<_>>(),
                expected
                    .iter()
                    .map(|d| (d.code, d.location()))
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn identities_differing_in_any_part_hash_apart() {
        let object = |api: &str, kind: &str, namespace: &str, name: &str| {
            Object::new(
                0,
                None,
                None,
                serde_json::json!({ "apiVersion": api, "kind": kind, "metadata": { "namespace": namespace, "name": name } }),
            )
        };
        let base = object("apps/v1", "Deployment", "a", "b");
        for other in [
            object("v1", "Deployment", "a", "b"),
            object("apps/v1", "StatefulSet", "a", "b"),
            object("apps/v1", "Deployment", "ab", ""),
            object("apps/v1", "Deployment", "", "ab"),
        ] {
            assert_ne!(identity_hash(&base), identity_hash(&other));
        }
        // The version is no part of the identity.
        assert_eq!(
            identity_hash(&base),
            identity_hash(&object("apps/v2", "Deployment", "a", "b"))
        );
    }
}
