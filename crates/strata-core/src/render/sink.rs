//! Where the objects of a render go as they are made. `render` hands each
//! object, with what made it, to a [`Sink`] and keeps none itself: the
//! [`Collect`] sink keeps them all (for exports that need the whole set,
//! and to report a collision or a refusal at its spec lines), the YAML
//! stream keeps only their text, and `check` keeps only their identities
//! ([`Guard`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::Object;
use super::admission;
use super::body::{Detail, Head};
use super::origin::{Origin, Origins};
use crate::pod_security;
use crate::spec::runtime::Profile;

/// What receives the objects of a render, in the order they are made.
pub(super) trait Sink<'p> {
    /// What the thread that made an object hands on of it: the object
    /// itself, or only what the sink keeps of it, so that an object the
    /// sink does not keep is dropped by the thread that made it (a free on
    /// another thread is reused later, so more fresh memory is zeroed).
    type Part: Send;

    /// The part of `object` this sink takes; called on the thread that
    /// made it, once it is final.
    fn part(object: Object) -> Self::Part;

    /// The part this sink takes of an object from its identity alone, its
    /// body never made; `None` (what every sink that reads bodies says)
    /// when the body must be made and handed to [`Sink::part`].
    fn part_of(head: &Head<'_>) -> Option<Self::Part> {
        let _ = head;
        None
    }

    /// How much of an object whose body is made [`Sink::part`] reads.
    const DETAIL: Detail = Detail::Whole;

    /// One object's part and what in the spec made the object.
    fn object(&mut self, part: Self::Part, origin: Origin<'p>);
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
    type Part = Object;

    fn part(object: Object) -> Object {
        object
    }

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
    hash_identity(
        object.api_version(),
        object.kind(),
        object.namespace(),
        object.name(),
    )
}

/// [`identity_hash`] of an object of these `apiVersion`, kind, namespace
/// and name: how it is taken of an object whose body is not made.
pub(super) fn hash_identity(api_version: &str, kind: &str, namespace: &str, name: &str) -> u64 {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    // `str` hashes with a terminator, so the four parts cannot run into
    // one another.
    let mut hasher = std::hash::DefaultHasher::new();
    (group, kind, namespace, name).hash(&mut hasher);
    hasher.finish()
}

/// The hashes of identities ([`identity_hash`]), as a set.
pub(super) type Identities = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// Hashes a value already a [`identity_hash`] as itself: a SipHash is
/// spread over all 64 bits already, so hashing it again (as `HashSet`
/// would) only costs time.
#[derive(Debug, Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64`s are hashed; any other input is still folded in.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// The kinds whose body [`Guard`] reads: a Namespace for the level it
/// enforces, and every kind holding a pod template (those
/// [`pod_security::pod_template`] finds) for the level its pods need. Of
/// any other kind it takes the identity alone.
const READ_BY_GUARD: [&str; 9] = [
    crate::kind::NAMESPACE,
    crate::kind::POD,
    crate::kind::DEPLOYMENT,
    crate::kind::STATEFUL_SET,
    crate::kind::DAEMON_SET,
    crate::kind::REPLICA_SET,
    crate::kind::JOB,
    crate::kind::CRON_JOB,
    "ReplicationController",
];

/// What [`Guard`] keeps of an object: the hash of its identity, the level
/// it enforces if it is a Namespace, and the level its pods need if it
/// holds a pod template. Small, so that the object itself is dropped where
/// it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seen {
    /// [`identity_hash`] of the object.
    hash: u64,
    /// The Namespace's name and the level it enforces.
    enforces: Option<(String, Profile)>,
    /// The object's namespace and the strictest level its pods allow.
    needs: Option<(String, Profile)>,
}

impl Seen {
    /// What [`Guard`] keeps of `object`.
    pub(super) fn of(object: &Object) -> Self {
        let enforces = (object.kind() == crate::kind::NAMESPACE)
            .then(|| admission::enforced(object))
            .flatten()
            .map(|level| (object.name().to_string(), level));
        let needs = pod_security::pod_template(&object.value)
            .and_then(|(pod, metadata)| {
                pod_security::evaluate(pod, metadata)
                    .iter()
                    .map(|v| v.needs)
                    .max()
            })
            .map(|needs| (object.namespace().to_string(), needs));
        Seen {
            hash: identity_hash(object),
            enforces,
            needs,
        }
    }
}

/// What a render must hold to know that it has no collision and no pod its
/// namespace refuses, without holding the objects: a hash of the identity
/// of each, each namespace's enforced level and the level each namespace's
/// pods need, taken from each object's [`Seen`]. When it finds either
/// problem (or two identities of one hash), the render is done again with
/// [`Collect`] to report it at its spec lines, so that a clean set costs no
/// origins and a report is always the one the whole set gives.
#[derive(Debug)]
pub(super) struct Guard {
    identities: Identities,
    /// What is kept of an identity's hash: the hash itself, but for tests
    /// that make hashes clash.
    hash: fn(u64) -> u64,
    repeated: bool,
    /// The level each Namespace of the set enforces.
    levels: HashMap<String, Profile>,
    /// The strictest level the pods of each namespace allow: a namespace
    /// enforcing a stricter one refuses one of them.
    needs: HashMap<String, Profile>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::hashing(|hash| hash)
    }
}

impl<'p> Sink<'p> for Guard {
    type Part = Seen;

    /// [`Seen::of`] reads an object's identity and, of a pod template, what
    /// admission reads.
    const DETAIL: Detail = Detail::Admission;

    fn part(object: Object) -> Seen {
        Seen::of(&object)
    }

    fn part_of(head: &Head<'_>) -> Option<Seen> {
        (!READ_BY_GUARD.contains(&head.kind)).then(|| Seen {
            hash: head.identity_hash(),
            enforces: None,
            needs: None,
        })
    }

    fn object(&mut self, seen: Seen, _: Origin<'p>) {
        self.see(seen);
    }
}

impl Guard {
    /// A guard keeping `hash` of each identity's hash.
    pub(super) fn hashing(hash: fn(u64) -> u64) -> Self {
        Guard {
            identities: Identities::default(),
            hash,
            repeated: false,
            levels: HashMap::new(),
            needs: HashMap::new(),
        }
    }

    /// Records what is kept of one object.
    pub(super) fn see(&mut self, seen: Seen) {
        if !self.identities.insert((self.hash)(seen.hash)) {
            self.repeated = true;
        }
        if let Some((namespace, level)) = seen.enforces {
            self.levels.insert(namespace, level);
        }
        if let Some((namespace, needs)) = seen.needs {
            match self.needs.get_mut(&namespace) {
                Some(most) => *most = (*most).max(needs),
                None => {
                    self.needs.insert(namespace, needs);
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
    pub(super) fn into_identities(self) -> Identities {
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
    use crate::render::{NoAssets, check_through, produce, render};
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

    /// Every part a sink of [`Seen`] is handed, in order: what [`Guard`]
    /// is handed.
    #[derive(Default)]
    struct Parts(Vec<Seen>);

    impl<'p> Sink<'p> for Parts {
        type Part = Seen;

        const DETAIL: Detail = Guard::DETAIL;

        fn part(object: Object) -> Seen {
            Guard::part(object)
        }

        fn part_of(head: &Head<'_>) -> Option<Seen> {
            Guard::part_of(head)
        }

        fn object(&mut self, seen: Seen, _: Origin<'p>) {
            self.0.push(seen);
        }
    }

    /// Reads the files of an example's directory.
    struct Directory(std::path::PathBuf);

    impl crate::render::Assets for Directory {
        fn read(&self, path: &str) -> Result<String, String> {
            std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
        }
    }

    /// Every example in every environment, and a synthetic platform.
    fn platforms() -> Vec<(String, crate::model::Platform, Directory)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut specs: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path().join("platform.yaml"))
            .filter(|p| p.exists())
            .collect();
        specs.sort();
        assert_eq!(specs.len(), 5);
        let mut platforms = Vec::new();
        for path in specs {
            let file = SourceFile::new(
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            );
            let doc = spec::parse(&file).unwrap();
            let environments = std::iter::once(None).chain(
                crate::model::environment_names(&doc.spec)
                    .into_iter()
                    .map(Some),
            );
            for env in environments {
                let platform = crate::resolve(&doc, env).unwrap();
                let assets = Directory(path.parent().unwrap().to_path_buf());
                platforms.push((format!("{} {env:?}", path.display()), platform, assets));
            }
        }
        let file = SourceFile::new(
            "synthetic.yaml",
            crate::synthetic::platform_yaml(300, 6, 2024),
        );
        let synthetic = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        platforms.push(("synthetic".into(), synthetic, Directory(".".into())));
        platforms
    }

    #[test]
    fn the_guard_reads_the_body_of_every_kind_that_holds_pods() {
        use crate::kind as k;
        let kinds = [
            k::NAMESPACE,
            k::POD,
            k::SERVICE,
            k::SERVICE_ACCOUNT,
            k::SECRET,
            k::CONFIG_MAP,
            k::PERSISTENT_VOLUME_CLAIM,
            k::RESOURCE_QUOTA,
            k::LIMIT_RANGE,
            k::DEPLOYMENT,
            k::STATEFUL_SET,
            k::DAEMON_SET,
            k::REPLICA_SET,
            k::JOB,
            k::CRON_JOB,
            k::CUSTOM_RESOURCE_DEFINITION,
            k::ROLE,
            k::ROLE_BINDING,
            k::NETWORK_POLICY,
            k::HORIZONTAL_POD_AUTOSCALER,
            k::POD_DISRUPTION_BUDGET,
            k::CNPG_CLUSTER,
            "ReplicationController",
            "ServiceMonitor",
        ];
        for kind in kinds {
            let holds_pods =
                pod_security::pod_template(&serde_json::json!({ "kind": kind })).is_some();
            let head = Head::new("v1", kind, "ns", "name");
            assert_eq!(
                Guard::part_of(&head).is_none(),
                holds_pods || kind == k::NAMESPACE,
                "{kind}"
            );
        }
    }

    #[test]
    fn what_the_guard_is_handed_is_what_it_took_from_whole_objects() {
        let (mut namespaces, mut pods) = (0, 0);
        for (what, platform, assets) in platforms() {
            let mut errors = Vec::new();
            let mut whole = Collect::default();
            let whole_secrets = produce(&platform, &assets, &mut whole, &mut errors);
            let mut parts = Parts::default();
            let secrets = produce(&platform, &assets, &mut parts, &mut errors);
            assert!(errors.is_empty(), "{what}: {errors:?}");
            assert_eq!(secrets, whole_secrets, "{what}");
            assert_eq!(parts.0.len(), whole.objects.len(), "{what}");
            for (seen, object) in parts.0.iter().zip(&whole.objects) {
                // What the guard took from each whole object before it was
                // handed only a part.
                assert_eq!(seen.hash, identity_hash(object), "{what}");
                let enforces = (object.kind() == crate::kind::NAMESPACE)
                    .then(|| admission::enforced(object))
                    .flatten();
                assert_eq!(
                    seen.enforces,
                    enforces.map(|level| (object.name().to_string(), level)),
                    "{what}: {}",
                    object.key()
                );
                let needs = pod_security::pod_template(&object.value).and_then(|(pod, meta)| {
                    pod_security::evaluate(pod, meta)
                        .iter()
                        .map(|v| v.needs)
                        .max()
                });
                assert_eq!(
                    seen.needs,
                    needs.map(|level| (object.namespace().to_string(), level)),
                    "{what}: {}",
                    object.key()
                );
                namespaces += usize::from(seen.enforces.is_some());
                pods += usize::from(seen.needs.is_some());
            }
            // And the guard judges the parts as the whole set does.
            let mut guard = Guard::default();
            for seen in parts.0 {
                guard.see(seen);
            }
            assert!(guard.clean(), "{what}");
            assert_eq!(
                guard.into_identities(),
                whole.objects.iter().map(identity_hash).collect(),
                "{what}"
            );
        }
        // Namespaces enforcing a level, and pods needing one, were compared.
        assert!(namespaces > 0 && pods > 0, "{namespaces} {pods}");
    }

    /// Every object as it is made for a sink reading
    /// [`Detail::Admission`].
    #[derive(Default)]
    struct Admitted(Vec<Object>);

    impl<'p> Sink<'p> for Admitted {
        type Part = Object;

        const DETAIL: Detail = Detail::Admission;

        fn part(object: Object) -> Object {
            object
        }

        fn object(&mut self, object: Object, _: Origin<'p>) {
            self.0.push(object);
        }
    }

    #[test]
    fn objects_made_for_admission_evaluate_as_the_whole_ones() {
        let (mut pods, mut refused) = (0, 0);
        for (what, platform, assets) in platforms() {
            let mut errors = Vec::new();
            let mut whole = Collect::default();
            let whole_secrets = produce(&platform, &assets, &mut whole, &mut errors);
            let mut admitted = Admitted::default();
            let secrets = produce(&platform, &assets, &mut admitted, &mut errors);
            assert!(errors.is_empty(), "{what}: {errors:?}");
            // The pull secrets their images name, too.
            assert_eq!(secrets, whole_secrets, "{what}");
            assert_eq!(admitted.0.len(), whole.objects.len(), "{what}");
            for (made, object) in admitted.0.iter().zip(&whole.objects) {
                assert_eq!(made.key(), object.key(), "{what}");
                let violations = |o: &Object| {
                    pod_security::pod_template(&o.value)
                        .map(|(pod, metadata)| pod_security::evaluate(pod, metadata))
                };
                let found = violations(made);
                assert_eq!(found, violations(object), "{what}: {}", object.key());
                pods += usize::from(found.is_some());
                refused += usize::from(found.is_some_and(|v| !v.is_empty()));
            }
        }
        // Pods every level allows, and pods some level refuses.
        assert!(pods > refused && refused > 0, "{pods} {refused}");
    }

    #[test]
    fn a_set_of_identities_holds_each_hash_put_in() {
        let hashes = [0, 1, 2, u64::MAX, 1 << 63, 0xdead_beef];
        let set: Identities = hashes[1..].iter().copied().collect();
        assert_eq!(set.len(), hashes.len() - 1);
        assert!(hashes[1..].iter().all(|h| set.contains(h)));
        assert!(!set.contains(&hashes[0]));
        let mut hasher = Prehashed::default();
        hasher.write_u64(0xdead_beef);
        assert_eq!(hasher.finish(), 0xdead_beef);
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
