//! A Kustomize tree of a platform: `base/<tier>/` with the objects of the
//! base spec, and `overlays/<env>/` with only what each environment changes.
//!
//! Overlays are computed by comparing the base render with the
//! environment's render object by object (identity = apiVersion, kind,
//! namespace, name):
//!
//! - an object in both whose replicas or images changed gets a `replicas:`
//!   or `images:` entry when Kustomize's transformer would change exactly
//!   that object and nothing else; every other change becomes an RFC 6902
//!   JSON patch holding only the changed fields;
//! - an object only in the environment is a resource of the overlay;
//! - an object only in the base gets a `$patch: delete` patch;
//! - a base directory none of whose objects keeps its identity (a tier the
//!   environment moves to another namespace) is not used at all: the
//!   overlay carries that tier's objects in full instead of deleting and
//!   re-adding each one.
//!
//! Pure: returns relative paths and contents; the binary writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::yaml;
use crate::image::ImageRef;
use crate::render::{Object, RenderedSet};

/// `apiVersion` of every `kustomization.yaml`.
const KUSTOMIZATION_API: &str = "kustomize.config.k8s.io/v1beta1";

/// Kinds whose `spec.replicas` Kustomize's `replicas:` field sets.
const REPLICATED_KINDS: [&str; 4] = [
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// The Kustomize tree of `base` with one overlay per environment render.
///
/// `environments` are renders of the same spec with `--env`; each must name
/// its environment. Files: `base/kustomization.yaml` (the whole base),
/// `base/<dir>/kustomization.yaml` and one file per object, where `<dir>` is
/// `setup` for objects of no tier and the tier's name otherwise, and
/// `overlays/<env>/kustomization.yaml` with its patches and resources.
pub fn files(base: &RenderedSet, environments: &[RenderedSet]) -> Vec<(PathBuf, String)> {
    let tree = BaseTree::new(base);
    let mut out = tree.files();
    for set in environments {
        let env = set.environment.as_deref().unwrap_or("default");
        out.extend(overlay(&tree, env, set));
    }
    out
}

/// The identity Kustomize gives an object: apiVersion, kind, namespace, name.
fn identity(value: &Value) -> (String, String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (
        text(&value["apiVersion"]),
        text(&value["kind"]),
        text(&value["metadata"]["namespace"]),
        text(&value["metadata"]["name"]),
    )
}

/// The base directories and the file of each base object.
struct BaseTree<'s> {
    /// Directory names in apply order (`setup` first).
    dirs: Vec<String>,
    /// Each base object, its directory (index into `dirs`) and file name.
    entries: Vec<(&'s Object, usize, String)>,
}

impl<'s> BaseTree<'s> {
    fn new(set: &'s RenderedSet) -> Self {
        let tiers: BTreeSet<&str> = set
            .objects
            .iter()
            .filter_map(|o| o.tier.as_deref())
            .collect();
        let setup = ["setup", "platform-setup", "strata-setup"]
            .into_iter()
            .find(|name| !tiers.contains(name))
            .unwrap_or("strata-platform-setup")
            .to_string();
        let mut dirs: Vec<String> = Vec::new();
        if set.objects.iter().any(|o| o.tier.is_none()) {
            dirs.push(setup.clone());
        }
        let mut entries = Vec::new();
        let mut names: Vec<FileNames> = Vec::new();
        for object in &set.objects {
            let dir = object.tier.clone().unwrap_or_else(|| setup.clone());
            let index = if let Some(i) = dirs.iter().position(|d| *d == dir) {
                i
            } else {
                dirs.push(dir);
                dirs.len() - 1
            };
            names.resize_with(dirs.len(), FileNames::default);
            let file = names[index].name_for(object);
            entries.push((object, index, file));
        }
        BaseTree { dirs, entries }
    }

    fn files(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for (index, dir) in self.dirs.iter().enumerate() {
            let resources: Vec<&str> = self
                .entries
                .iter()
                .filter(|(_, d, _)| *d == index)
                .map(|(_, _, file)| file.as_str())
                .collect();
            out.push((
                PathBuf::from(format!("base/{dir}/kustomization.yaml")),
                kustomization(json!({ "resources": resources })),
            ));
            for (object, _, file) in self.entries.iter().filter(|(_, d, _)| *d == index) {
                out.push((
                    PathBuf::from(format!("base/{dir}/{file}")),
                    yaml(&object.value),
                ));
            }
        }
        out.push((
            PathBuf::from("base/kustomization.yaml"),
            kustomization(json!({ "resources": self.dirs })),
        ));
        out
    }
}

/// File names unique within one directory: `<kind>-<name>.yaml`, with the
/// namespace or a number added when two objects would share a name.
#[derive(Debug, Default)]
pub(super) struct FileNames(BTreeSet<String>);

impl FileNames {
    /// A file name for `object` not given before.
    pub(super) fn name_for(&mut self, object: &Object) -> String {
        let kind = object.kind().to_ascii_lowercase();
        let mut candidates = vec![
            format!("{kind}-{}.yaml", object.name()),
            format!("{kind}-{}-{}.yaml", object.namespace(), object.name()),
        ];
        candidates.extend(
            (2..)
                .take(1000)
                .map(|n| format!("{kind}-{}-{}-{n}.yaml", object.namespace(), object.name())),
        );
        let chosen = candidates
            .into_iter()
            .find(|c| !self.0.contains(c))
            .unwrap_or_else(|| format!("{kind}-{}.yaml", self.0.len()));
        self.0.insert(chosen.clone());
        chosen
    }
}

/// The files of `overlays/<env>/`.
fn overlay(tree: &BaseTree, env: &str, set: &RenderedSet) -> Vec<(PathBuf, String)> {
    let root = format!("overlays/{env}");
    let in_env: BTreeMap<_, &Object> = set
        .objects
        .iter()
        .map(|o| (identity(&o.value), o))
        .collect();
    // A base directory is used when at least one of its objects keeps its identity.
    let used: Vec<bool> = (0..tree.dirs.len())
        .map(|index| {
            tree.entries
                .iter()
                .any(|(o, d, _)| *d == index && in_env.contains_key(&identity(&o.value)))
        })
        .collect();
    let kept: Vec<(&Object, &Object)> = tree
        .entries
        .iter()
        .filter(|(_, d, _)| used[*d])
        .filter_map(|(o, _, _)| in_env.get(&identity(&o.value)).map(|e| (*o, *e)))
        .collect();

    let mut resources: Vec<String> = tree
        .dirs
        .iter()
        .zip(&used)
        .filter(|(_, used)| **used)
        .map(|(dir, _)| format!("../../base/{dir}"))
        .collect();
    let mut out = Vec::new();
    let mut resource_names = FileNames::default();
    let kept_ids: BTreeSet<_> = kept.iter().map(|(o, _)| identity(&o.value)).collect();
    for object in &set.objects {
        if !kept_ids.contains(&identity(&object.value)) {
            let file = format!("resources/{}", resource_names.name_for(object));
            out.push((PathBuf::from(format!("{root}/{file}")), yaml(&object.value)));
            resources.push(file);
        }
    }

    let images = image_overrides(&kept);
    let replicas = replica_overrides(&kept);
    let mut patches = Vec::new();
    let mut patch_names = FileNames::default();
    for (base, env_object) in &kept {
        let mut expected = base.value.clone();
        for (from, to) in &images {
            let name = ImageRef::parse(from).name();
            set_images(&mut expected, |image| {
                (ImageRef::parse(image).name() == name).then(|| to.clone())
            });
        }
        if let Some((_, count)) = replicas.iter().find(|(name, _)| name == base.name())
            && REPLICATED_KINDS.contains(&base.kind())
        {
            expected["spec"]["replicas"] = json!(count);
        }
        let mut ops = Vec::new();
        json_patch_ops("", &expected, &env_object.value, &mut ops);
        if ops.is_empty() {
            continue;
        }
        let file = format!("patches/{}", patch_names.name_for(base));
        out.push((
            PathBuf::from(format!("{root}/{file}")),
            yaml(&Value::Array(ops)),
        ));
        patches.push(json!({ "path": file, "target": target(base) }));
    }
    for (object, d, _) in &tree.entries {
        if used[*d] && !in_env.contains_key(&identity(&object.value)) {
            let file = format!("patches/{}", patch_names.name_for(object));
            let mut metadata = Map::new();
            metadata.insert("name".into(), json!(object.name()));
            if !object.namespace().is_empty() {
                metadata.insert("namespace".into(), json!(object.namespace()));
            }
            let delete = json!({
                "$patch": "delete",
                "apiVersion": object.api_version(),
                "kind": object.kind(),
                "metadata": metadata,
            });
            out.push((PathBuf::from(format!("{root}/{file}")), yaml(&delete)));
            patches.push(json!({ "path": file }));
        }
    }

    let mut body = Map::new();
    body.insert("resources".into(), json!(resources));
    if !replicas.is_empty() {
        let entries: Vec<Value> = replicas
            .iter()
            .map(|(name, count)| json!({ "name": name, "count": count }))
            .collect();
        body.insert("replicas".into(), Value::Array(entries));
    }
    if !images.is_empty() {
        let entries: Vec<Value> = images
            .iter()
            .map(|(from, to)| {
                let (from, to) = (ImageRef::parse(from), ImageRef::parse(to));
                let mut entry = Map::new();
                entry.insert("name".into(), json!(from.name()));
                if from.name() != to.name() {
                    entry.insert("newName".into(), json!(to.name()));
                }
                if let Some(tag) = to.tag
                    && from.tag != Some(tag)
                {
                    entry.insert("newTag".into(), json!(tag));
                }
                Value::Object(entry)
            })
            .collect();
        body.insert("images".into(), Value::Array(entries));
    }
    if !patches.is_empty() {
        body.insert("patches".into(), Value::Array(patches));
    }
    out.insert(
        0,
        (
            PathBuf::from(format!("{root}/kustomization.yaml")),
            kustomization(Value::Object(body)),
        ),
    );
    out
}

/// A `kustomization.yaml` with `body`'s fields.
fn kustomization(body: Value) -> String {
    let mut value = json!({ "apiVersion": KUSTOMIZATION_API, "kind": "Kustomization" });
    if let (Some(map), Value::Object(fields)) = (value.as_object_mut(), body) {
        map.extend(fields);
    }
    yaml(&value)
}

/// The `target:` of a patch to `object`.
fn target(object: &Object) -> Value {
    let (group, version) = match object.api_version().split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", object.api_version()),
    };
    let mut target = Map::new();
    if !group.is_empty() {
        target.insert("group".into(), json!(group));
    }
    target.insert("version".into(), json!(version));
    target.insert("kind".into(), json!(object.kind()));
    target.insert("name".into(), json!(object.name()));
    if !object.namespace().is_empty() {
        target.insert("namespace".into(), json!(object.namespace()));
    }
    Value::Object(target)
}

/// RFC 6902 operations turning `from` into `to`, appended to `ops`: maps
/// are compared key by key, lists of equal length item by item, anything
/// else is replaced whole.
pub fn json_patch_ops(path: &str, from: &Value, to: &Value, ops: &mut Vec<Value>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                ops.push(json!({ "op": "remove", "path": pointer(path, key) }));
            }
            for (key, value) in b {
                match a.get(key) {
                    Some(old) => json_patch_ops(&pointer(path, key), old, value, ops),
                    None => {
                        ops.push(
                            json!({ "op": "add", "path": pointer(path, key), "value": value }),
                        );
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (old, new)) in a.iter().zip(b).enumerate() {
                json_patch_ops(&format!("{path}/{i}"), old, new, ops);
            }
        }
        _ => ops.push(json!({ "op": "replace", "path": path, "value": to })),
    }
}

/// `path` extended by `key`, escaped as RFC 6901 asks.
fn pointer(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Replica counts to set through `replicas:`: objects of a replicated kind
/// whose count changed and whose name no other replicated object shares
/// (the transformer matches by name alone).
fn replica_overrides(kept: &[(&Object, &Object)]) -> Vec<(String, u64)> {
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (base, _) in kept {
        if REPLICATED_KINDS.contains(&base.kind()) {
            *by_name.entry(base.name()).or_default() += 1;
        }
    }
    kept.iter()
        .filter(|(base, _)| REPLICATED_KINDS.contains(&base.kind()) && by_name[base.name()] == 1)
        .filter_map(|(base, env)| {
            let from = base.value["spec"]["replicas"].as_u64()?;
            let to = env.value["spec"]["replicas"].as_u64()?;
            (from != to).then(|| (base.name().to_string(), to))
        })
        .collect()
}

/// Image changes to make through `images:`, as (base image, new image):
/// only when every container of the kept objects whose image has that
/// name changes to the same new image, and neither uses a digest.
fn image_overrides(kept: &[(&Object, &Object)]) -> Vec<(String, String)> {
    // For each image name, every (old, new) pair seen; `None` when a
    // container's counterpart cannot be found.
    let mut seen: BTreeMap<String, BTreeSet<(String, Option<String>)>> = BTreeMap::new();
    for (base, env) in kept {
        let old = images(&base.value);
        let new = images(&env.value);
        for (i, (path, image)) in old.iter().enumerate() {
            let counterpart = new
                .get(i)
                .filter(|(p, _)| *p == *path && old.len() == new.len())
                .map(|(_, image)| image.clone());
            seen.entry(ImageRef::parse(image).name().to_string())
                .or_default()
                .insert((image.clone(), counterpart));
        }
    }
    seen.into_values()
        .filter_map(|pairs| {
            let mut pairs = pairs.into_iter();
            let (from, to) = pairs.next()?;
            let to = to?;
            let single = pairs.next().is_none();
            let (old, new) = (ImageRef::parse(&from), ImageRef::parse(&to));
            let plain = old.digest.is_none() && new.digest.is_none();
            let tag_kept = new.tag.is_some() || old.tag.is_none();
            (single && plain && tag_kept && from != to).then_some((from, to))
        })
        .collect()
}

/// Every container image in `value`, with the JSON path of its list.
fn images(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut walk = |image: &str, path: &str| {
        out.push((path.to_string(), image.to_string()));
        None
    };
    let mut copy = value.clone();
    visit_images(&mut copy, "", &mut walk);
    out
}

/// Sets every container image in `value` for which `change` gives one.
fn set_images(value: &mut Value, change: impl Fn(&str) -> Option<String>) {
    visit_images(value, "", &mut |image, _| change(image));
}

/// Calls `visit` on every image of a `containers` or `initContainers` list,
/// anywhere in `value` (as Kustomize's image transformer looks), replacing
/// it when `visit` returns a new one.
fn visit_images(
    value: &mut Value,
    path: &str,
    visit: &mut dyn FnMut(&str, &str) -> Option<String>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let here = format!("{path}/{key}");
                if matches!(key.as_str(), "containers" | "initContainers")
                    && let Value::Array(items) = child
                {
                    for (i, item) in items.iter_mut().enumerate() {
                        if let Some(image) = item.get("image").and_then(Value::as_str)
                            && let Some(new) = visit(image, &format!("{here}/{i}"))
                        {
                            item["image"] = json!(new);
                        }
                    }
                    continue;
                }
                visit_images(child, &here, visit);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit_images(item, &format!("{path}/{i}"), visit);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(tier: Option<&str>, value: Value) -> Object {
        Object {
            wave: 1,
            tier: tier.map(str::to_string),
            service: None,
            value,
        }
    }

    fn deployment(name: &str, namespace: &str, replicas: u64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": name, "namespace": namespace },
            "spec": { "replicas": replicas, "template": { "spec": { "containers": [{ "name": name, "image": image }] } } }
        })
    }

    fn set(env: Option<&str>, objects: Vec<Object>) -> RenderedSet {
        RenderedSet {
            platform: "demo".into(),
            environment: env.map(str::to_string),
            objects,
            generated_secrets: Vec::new(),
            pull_secrets: Vec::new(),
        }
    }

    fn file<'f>(files: &'f [(PathBuf, String)], path: &str) -> &'f str {
        files
            .iter()
            .find(|(p, _)| p == &PathBuf::from(path))
            .map_or_else(
                || {
                    panic!(
                        "no {path} in {:?}",
                        files.iter().map(|f| &f.0).collect::<Vec<_>>()
                    )
                },
                |(_, c)| c.as_str(),
            )
    }

    #[test]
    fn image_names_and_tags_split_at_the_last_colon_after_the_last_slash() {
        let name = |image| ImageRef::parse(image).name();
        let tag = |image| ImageRef::parse(image).tag;
        assert_eq!(name("registry:5000/a/b:1.0"), "registry:5000/a/b");
        assert_eq!(tag("registry:5000/a/b:1.0"), Some("1.0"));
        assert_eq!(name("registry:5000/a/b"), "registry:5000/a/b");
        assert_eq!(tag("nginx"), None);
        assert_eq!(name("nginx@sha256:abc"), "nginx");
        assert_eq!(tag("nginx:1.0@sha256:abc"), Some("1.0"));
        assert_eq!(tag("nginx@sha256:abc"), None);
        assert_eq!(name("localhost:5000/a/b:1.0"), "localhost:5000/a/b");
        assert_eq!(tag("registry:5000"), Some("5000"));
        assert_eq!(tag("a/b:"), Some(""));
    }

    #[test]
    fn json_patch_ops_hold_only_the_changed_fields() {
        let mut ops = Vec::new();
        json_patch_ops(
            "",
            &json!({ "a": 1, "b": { "c/d": 2, "gone": true }, "l": [1, 2] }),
            &json!({ "a": 1, "b": { "c/d": 3, "new": "x" }, "l": [1] }),
            &mut ops,
        );
        assert_eq!(
            ops,
            vec![
                json!({ "op": "remove", "path": "/b/gone" }),
                json!({ "op": "replace", "path": "/b/c~1d", "value": 3 }),
                json!({ "op": "add", "path": "/b/new", "value": "x" }),
                json!({ "op": "replace", "path": "/l", "value": [1] }),
            ]
        );
    }

    #[test]
    fn an_overlay_holds_replicas_images_patches_additions_and_deletions() {
        let base = set(
            None,
            vec![
                object(
                    None,
                    json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } }),
                ),
                object(Some("apps"), deployment("web", "shop", 2, "shop/web:1.0")),
                object(Some("apps"), deployment("api", "shop", 2, "shop/api:1.0")),
                object(
                    Some("apps"),
                    json!({ "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": { "name": "web", "namespace": "shop" } }),
                ),
            ],
        );
        let mut api = deployment("api", "shop", 2, "shop/api:1.0");
        api["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--debug"]);
        let env = set(
            Some("dev"),
            vec![
                object(
                    None,
                    json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } }),
                ),
                object(Some("apps"), deployment("web", "shop", 1, "shop/web:2.0")),
                object(Some("apps"), api),
                object(
                    Some("apps"),
                    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "extra", "namespace": "shop" } }),
                ),
            ],
        );
        let files = files(&base, &[env]);
        let kustomization = file(&files, "overlays/dev/kustomization.yaml");
        assert!(
            kustomization.contains(
                "- ../../base/setup\n- ../../base/apps\n- resources/configmap-extra.yaml"
            ),
            "{kustomization}"
        );
        assert!(
            kustomization.contains("replicas:\n- name: web\n  count: 1"),
            "{kustomization}"
        );
        assert!(
            kustomization.contains("images:\n- name: shop/web\n  newTag: '2.0'")
                || kustomization.contains("images:\n- name: shop/web\n  newTag: \"2.0\""),
            "{kustomization}"
        );
        let patch = file(&files, "overlays/dev/patches/deployment-api.yaml");
        assert!(
            patch.contains("path: /spec/template/spec/containers/0/args"),
            "{patch}"
        );
        assert!(
            !files
                .iter()
                .any(|(p, _)| p.ends_with("patches/deployment-web.yaml")),
            "replicas and images need no patch"
        );
        let delete = file(&files, "overlays/dev/patches/poddisruptionbudget-web.yaml");
        assert!(delete.contains("$patch: delete"), "{delete}");
        assert!(file(&files, "base/kustomization.yaml").contains("- setup\n- apps"));
    }

    #[test]
    fn a_tier_moved_to_another_namespace_is_carried_in_full() {
        let base = set(
            None,
            vec![object(
                Some("apps"),
                deployment("web", "shop", 2, "shop/web:1.0"),
            )],
        );
        let env = set(
            Some("prod"),
            vec![object(
                Some("apps"),
                deployment("web", "shop-prod", 2, "shop/web:1.0"),
            )],
        );
        let files = files(&base, &[env]);
        let kustomization = file(&files, "overlays/prod/kustomization.yaml");
        assert!(
            !kustomization.contains("../../base/apps"),
            "{kustomization}"
        );
        assert!(
            kustomization.contains("resources/deployment-web.yaml"),
            "{kustomization}"
        );
        assert!(
            file(&files, "overlays/prod/resources/deployment-web.yaml")
                .contains("namespace: shop-prod")
        );
        assert!(!kustomization.contains("patches"), "{kustomization}");
    }

    #[test]
    fn a_shared_image_changed_in_one_place_only_is_patched() {
        let base = set(
            None,
            vec![
                object(Some("apps"), deployment("a", "shop", 1, "shop/x:1.0")),
                object(Some("apps"), deployment("b", "shop", 1, "shop/x:1.0")),
            ],
        );
        let env = set(
            Some("dev"),
            vec![
                object(Some("apps"), deployment("a", "shop", 1, "shop/x:2.0")),
                object(Some("apps"), deployment("b", "shop", 1, "shop/x:1.0")),
            ],
        );
        let files = files(&base, &[env]);
        assert!(!file(&files, "overlays/dev/kustomization.yaml").contains("images:"));
        assert!(file(&files, "overlays/dev/patches/deployment-a.yaml").contains("shop/x:2.0"));
    }
}
