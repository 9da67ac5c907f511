//! Pull secrets of private registries (`registries:`): every pod Strata
//! renders whose images come from a declared registry pulls them with its
//! secret. One pass over the rendered objects, after patches, so that every
//! kind (services, blueprint setup Jobs, sidecars, gateway controllers) is
//! covered alike; raw manifests are applied as they are and left alone.
//!
//! The secrets themselves hold registry credentials and are made outside
//! Strata; the namespaces that need each one are returned for `render`'s
//! note and `apply`'s pre-flight check.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Object;
use crate::model::{Platform, Registry};

/// A pull secret the rendered pods name, which must exist before they start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullSecret {
    /// The Secret's name.
    pub name: String,
    /// The registries whose credentials it holds, for the hint of a missing one.
    pub registries: Vec<String>,
    /// The namespaces of the pods that pull with it, sorted.
    pub namespaces: Vec<String>,
}

/// Custom resources whose operator takes the pods' image and pull secrets
/// as fields of their own rather than a pod template: the image's path and
/// the pull secrets' path, per `apiVersion` group and kind.
const OPERATED: [(&str, &str, &[&str], &[&str]); 3] = [
    // CloudNativePG: `Cluster.spec.imagePullSecrets` pulls `spec.imageName`.
    (
        "postgresql.cnpg.io",
        "Cluster",
        &["spec", "imageName"],
        &["spec", "imagePullSecrets"],
    ),
    // The opstree Redis Operator: `kubernetesConfig` holds both.
    (
        "redis.redis.opstreelabs.in",
        "RedisCluster",
        &["spec", "kubernetesConfig", "image"],
        &["spec", "kubernetesConfig", "imagePullSecrets"],
    ),
    // The Milvus Operator: every component inherits `components`' settings.
    (
        "milvus.io",
        "Milvus",
        &["spec", "components", "image"],
        &["spec", "components", "imagePullSecrets"],
    ),
];

/// Adds `imagePullSecrets` to every pod spec of `objects` that pulls from a
/// registry of `platform`, and returns the secrets with their namespaces.
pub fn add(platform: &Platform, objects: &mut [Object]) -> Vec<PullSecret> {
    if platform.registries.is_empty() {
        return Vec::new();
    }
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for object in objects.iter_mut() {
        let namespace = object.namespace().to_string();
        let mut secrets = BTreeSet::new();
        let group = object
            .api_version()
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let kind = object.kind().to_string();
        for (g, k, image, field) in OPERATED {
            if (group.as_str(), kind.as_str()) != (g, k) {
                continue;
            }
            let Some(image) = lookup(&object.value, image).and_then(Value::as_str) else {
                continue;
            };
            let names = secrets_for(&platform.registries, [image]);
            if let Some(parent) = lookup_mut(&mut object.value, &field[..field.len() - 1]) {
                merge(parent, field[field.len() - 1], &names);
            }
            secrets.extend(names);
        }
        visit_pod_specs(&mut object.value, &mut |pod| {
            let images: Vec<String> = ["initContainers", "containers"]
                .iter()
                .flat_map(|key| pod[*key].as_array().into_iter().flatten())
                .filter_map(|c| c["image"].as_str().map(str::to_string))
                .collect();
            let names = secrets_for(&platform.registries, images.iter().map(String::as_str));
            merge(pod, "imagePullSecrets", &names);
            secrets.extend(names);
        });
        for secret in secrets {
            needed.entry(secret).or_default().insert(namespace.clone());
        }
    }
    needed
        .into_iter()
        .map(|(name, namespaces)| PullSecret {
            registries: platform
                .registries
                .iter()
                .filter(|r| r.pull_secret == name)
                .map(|r| r.host.clone())
                .collect(),
            namespaces: namespaces.into_iter().collect(),
            name,
        })
        .collect()
}

/// The distinct pull secrets of the registries `images` come from, sorted.
fn secrets_for<'i>(
    registries: &[Registry],
    images: impl IntoIterator<Item = &'i str>,
) -> BTreeSet<String> {
    images
        .into_iter()
        .flat_map(|image| registries.iter().filter(move |r| r.serves(image)))
        .map(|r| r.pull_secret.clone())
        .collect()
}

/// Adds `names` to the list of `{ name }` references under `key` of
/// `parent`, keeping it sorted and free of duplicates (a patch may have
/// listed one already); leaves `parent` alone when there is none to add.
fn merge(parent: &mut Value, key: &str, names: &BTreeSet<String>) {
    let Some(parent) = parent.as_object_mut() else {
        return;
    };
    if names.is_empty() {
        return;
    }
    let mut all: BTreeSet<String> = parent
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    all.extend(names.iter().cloned());
    parent.insert(
        key.to_string(),
        json!(all.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>()),
    );
}

/// Calls `f` on every pod spec in `value`: any mapping with a `containers`
/// list, which is how a pod spec nests in workloads (`spec.template.spec`,
/// `spec.jobTemplate.spec.template.spec`) and in custom resources that
/// embed one (a ClickHouse pod template, an Elasticsearch node set's).
fn visit_pod_specs(value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::Object(map) => {
            if map.get("containers").is_some_and(Value::is_array) {
                f(value);
                return;
            }
            for child in map.values_mut() {
                visit_pod_specs(child, f);
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_pod_specs(item, f);
            }
        }
        _ => {}
    }
}

fn lookup<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn lookup_mut<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(key))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::render::{NoAssets, Object, RenderedSet, render};
    use crate::source::SourceFile;
    use crate::spec;

    const SPEC: &str = "
platform: shop
registries:
  harbor.example.com: { pullSecret: harbor-pull }
  ghcr.io: { pullSecret: ghcr-pull }
  registry.local:5000: { pullSecret: harbor-pull }
operators: { cloudnative-pg: { installed: true }, strimzi: { installed: true }, redis-operator: { installed: true } }
environments:
  prod:
    registries:
      ghcr.io: { pullSecret: ghcr-prod }
tiers:
  - name: data
    namespace: data
    services:
      pg: { blueprint: postgresql, mode: ha, image: 'harbor.example.com/mirror/postgresql:16.4' }
      kafka: { blueprint: kafka, image: 'harbor.example.com/mirror/kafka:0.45.0-kafka-3.9.0', topics: [orders] }
      cache: { blueprint: redis, mode: cluster, image: 'ghcr.io/mirror/redis:v7.0.15' }
  - name: apps
    services:
      api:
        image: harbor.example.com/shop/api:1.2.0
        ports: { http: 8080 }
        needs: [pg]
      web: { image: nginx:1.27, ports: { http: 8080 } }
      lookalike: { image: harbor.example.com.evil.io/shop/x:1, ports: { http: 8080 } }
      other-port: { image: 'harbor.example.com:8443/shop/x:1', ports: { http: 8080 } }
      local: { image: 'registry.local:5000/tools/agent:2', kind: daemon }
      report: { image: ghcr.io/shop/report:1.0.0, kind: cron, schedule: '0 3 * * *' }
";

    fn rendered(env: Option<&str>) -> RenderedSet {
        let file = SourceFile::new("platform.yaml", SPEC);
        let doc = spec::parse(&file).expect("parses");
        let platform = crate::resolve(&doc, env).unwrap_or_else(|e| panic!("{e:?}"));
        render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn pod<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Value {
        let object = &objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
            .value;
        match kind {
            "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => &object["spec"]["template"]["spec"],
        }
    }

    #[test]
    fn pods_pulling_from_a_declared_registry_name_its_secret() {
        let set = rendered(None);
        let o = &set.objects;
        let harbor = json!([{ "name": "harbor-pull" }]);
        assert_eq!(pod(o, "Deployment", "api")["imagePullSecrets"], harbor);
        assert_eq!(pod(o, "DaemonSet", "local")["imagePullSecrets"], harbor);
        assert_eq!(
            pod(o, "CronJob", "report")["imagePullSecrets"],
            json!([{ "name": "ghcr-pull" }])
        );
        // Another registry's image, a host that only starts alike, another port.
        for name in ["web", "lookalike", "other-port"] {
            assert!(
                pod(o, "Deployment", name).get("imagePullSecrets").is_none(),
                "{name}"
            );
        }
        // A blueprint's setup Job runs the service's image.
        assert_eq!(pod(o, "Job", "kafka-topics")["imagePullSecrets"], harbor);
        // CloudNativePG pulls `imageName` with the Cluster's own field.
        let cluster = o
            .iter()
            .find(|o| o.kind() == "Cluster" && o.name() == "pg")
            .expect("a Cluster");
        assert_eq!(cluster.value["spec"]["imagePullSecrets"], harbor);
        // The opstree Redis Operator pulls `kubernetesConfig.image` likewise.
        let redis = o
            .iter()
            .find(|o| o.kind() == "RedisCluster")
            .expect("a RedisCluster");
        assert_eq!(
            redis.value["spec"]["kubernetesConfig"]["imagePullSecrets"],
            json!([{ "name": "ghcr-pull" }])
        );
    }

    #[test]
    fn a_pod_lists_each_secret_of_its_images_once_sorted() {
        let file = SourceFile::new("platform.yaml", SPEC);
        let doc = spec::parse(&file).expect("parses");
        let platform = crate::resolve(&doc, None).expect("resolves");
        let mut objects = vec![Object::new(
            1,
            None,
            None,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": { "name": "x", "namespace": "shop" },
                "spec": { "template": { "spec": {
                    "initContainers": [{ "name": "a", "image": "ghcr.io/a/b:1" }],
                    "containers": [
                        { "name": "b", "image": "registry.local:5000/c:1" },
                        { "name": "c", "image": "harbor.example.com/d:1" },
                    ],
                    "imagePullSecrets": [{ "name": "harbor-pull" }],
                } } },
            }),
        )];
        let secrets = super::add(&platform, &mut objects);
        assert_eq!(
            objects[0].value["spec"]["template"]["spec"]["imagePullSecrets"],
            json!([{ "name": "ghcr-pull" }, { "name": "harbor-pull" }])
        );
        let names: Vec<(&str, Vec<String>)> = secrets
            .iter()
            .map(|s| (s.name.as_str(), s.registries.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("ghcr-pull", vec!["ghcr.io".to_string()]),
                (
                    "harbor-pull",
                    vec![
                        "harbor.example.com".to_string(),
                        "registry.local:5000".to_string()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn a_milvus_pulls_its_components_image_with_the_secret() {
        let file = SourceFile::new("platform.yaml", SPEC);
        let doc = spec::parse(&file).expect("parses");
        let platform = crate::resolve(&doc, None).expect("resolves");
        let milvus = |image: &str| {
            Object::new(
                1,
                None,
                None,
                json!({
                    "apiVersion": "milvus.io/v1beta1", "kind": "Milvus",
                    "metadata": { "name": "m", "namespace": "data" },
                    "spec": { "mode": "cluster", "components": { "image": image } },
                }),
            )
        };
        let mut objects = vec![
            milvus("harbor.example.com/mirror/milvus:v2.4.6"),
            milvus("milvusdb/milvus:v2.4.6"),
        ];
        super::add(&platform, &mut objects);
        assert_eq!(
            objects[0].value["spec"]["components"]["imagePullSecrets"],
            json!([{ "name": "harbor-pull" }])
        );
        assert!(
            objects[1].value["spec"]["components"]
                .get("imagePullSecrets")
                .is_none()
        );
    }

    #[test]
    fn the_secrets_are_listed_with_the_namespaces_that_need_them() {
        let set = rendered(None);
        let list: Vec<(&str, Vec<&str>)> = set
            .pull_secrets
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.namespaces.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            list,
            [
                ("ghcr-pull", vec!["data", "shop"]),
                ("harbor-pull", vec!["data", "shop"])
            ]
        );
        assert!(
            set.objects
                .iter()
                .all(|o| !(o.kind() == "Secret" && o.name().ends_with("-pull"))),
            "pull secrets are never rendered"
        );
    }

    #[test]
    fn an_environment_changes_a_registry_s_secret() {
        let set = rendered(Some("prod"));
        assert_eq!(
            pod(&set.objects, "CronJob", "report")["imagePullSecrets"],
            json!([{ "name": "ghcr-prod" }])
        );
        assert_eq!(
            pod(&set.objects, "Deployment", "api")["imagePullSecrets"],
            json!([{ "name": "harbor-pull" }])
        );
    }
}
