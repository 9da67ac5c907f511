//! Pull secrets of private registries (`registries:`): every pod Strata
//! renders whose images come from a declared registry pulls them with its
//! secret. Each builder of a pod spec (a service's pod template, a setup
//! Job, an operator's custom resource) names them as it builds it, from
//! [`pull_secret_refs`]; raw manifests are applied as they are.
//!
//! The secrets themselves hold registry credentials and are made outside
//! Strata; the namespaces that need each one are returned for `render`'s
//! note and `apply`'s pre-flight check.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Object;
use crate::model::Platform;

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

/// `{ name }` references to the pull secrets `images` need, sorted, or
/// `None` when they come from no declared registry.
pub fn pull_secret_refs<'i>(
    platform: &Platform,
    images: impl IntoIterator<Item = &'i str>,
) -> Option<Value> {
    let names = platform.pull_secrets(images);
    (!names.is_empty()).then(|| {
        json!(
            names
                .iter()
                .map(|n| json!({ "name": n }))
                .collect::<Vec<_>>()
        )
    })
}

/// Sets a pod spec's `imagePullSecrets` (as its last key) to the pull
/// secrets the images of its init containers and containers need: what
/// every builder of a pod spec calls once it has built it.
pub fn add_pull_secrets(platform: &Platform, pod: &mut Value) {
    let images: Vec<&str> = ["initContainers", "containers"]
        .iter()
        .flat_map(|key| pod[*key].as_array().into_iter().flatten())
        .filter_map(|c| c["image"].as_str())
        .collect();
    if let Some(refs) = pull_secret_refs(platform, images) {
        pod["imagePullSecrets"] = refs;
    }
}

/// The pull secrets of declared registries that objects name, each with
/// the namespaces of the objects naming it, gathered object by object.
pub(super) struct Needed<'p> {
    platform: &'p Platform,
    found: BTreeMap<String, BTreeSet<String>>,
}

impl<'p> Needed<'p> {
    /// None found yet.
    pub(super) fn new(platform: &'p Platform) -> Self {
        Needed {
            platform,
            found: BTreeMap::new(),
        }
    }

    /// Notes the pull secrets `object` names.
    pub(super) fn add(&mut self, object: &Object) {
        if self.platform.registries.is_empty() {
            return;
        }
        let mut names = BTreeSet::new();
        named_pull_secrets(&object.value, &mut names);
        for name in names {
            if self
                .platform
                .registries
                .iter()
                .any(|r| r.pull_secret == name)
            {
                self.found
                    .entry(name)
                    .or_default()
                    .insert(object.namespace().to_string());
            }
        }
    }

    /// Adds what `other` found: how the objects made on several threads
    /// are gathered (the namespaces are sets, so the order is no matter).
    pub(super) fn merge(&mut self, other: Needed<'p>) {
        for (name, namespaces) in other.found {
            self.found.entry(name).or_default().extend(namespaces);
        }
    }

    /// The pull secrets found, by name.
    pub(super) fn into_secrets(self) -> Vec<PullSecret> {
        let registries = &self.platform.registries;
        self.found
            .into_iter()
            .map(|(name, namespaces)| PullSecret {
                registries: registries
                    .iter()
                    .filter(|r| r.pull_secret == name)
                    .map(|r| r.host.clone())
                    .collect(),
                namespaces: namespaces.into_iter().collect(),
                name,
            })
            .collect()
    }
}

/// Every name under an `imagePullSecrets` key anywhere in `value`: in pod
/// specs and in the fields operators take them in.
fn named_pull_secrets(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "imagePullSecrets" {
                    names.extend(
                        child
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|r| r["name"].as_str().map(str::to_string)),
                    );
                } else {
                    named_pull_secrets(child, names);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| named_pull_secrets(i, names)),
        _ => {}
    }
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
      kafka: { blueprint: kafka, image: 'harbor.example.com/mirror/kafka:3.8.1', topics: [orders] }
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
        let mut pod = json!({
            "initContainers": [{ "name": "a", "image": "ghcr.io/a/b:1" }],
            "containers": [
                { "name": "b", "image": "registry.local:5000/c:1" },
                { "name": "c", "image": "harbor.example.com/d:1" },
            ],
        });
        super::add_pull_secrets(&platform, &mut pod);
        assert_eq!(
            pod["imagePullSecrets"],
            json!([{ "name": "ghcr-pull" }, { "name": "harbor-pull" }])
        );
        let object = Object::new(
            1,
            None,
            None,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": { "name": "x", "namespace": "shop" },
                "spec": { "template": { "spec": pod } },
            }),
        );
        let mut needed = super::Needed::new(&platform);
        needed.add(&object);
        let names: Vec<(String, Vec<String>)> = needed
            .into_secrets()
            .into_iter()
            .map(|s| (s.name, s.registries))
            .collect();
        assert_eq!(
            names,
            [
                ("ghcr-pull".to_string(), vec!["ghcr.io".to_string()]),
                (
                    "harbor-pull".to_string(),
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
        let milvus = |image: &str| {
            let text = format!(
                "platform: shop\nregistries:\n  harbor.example.com: {{ pullSecret: harbor-pull }}\noperators: {{ milvus-operator: {{ installed: true }} }}\ntiers:\n  - name: data\n    services:\n      vectors: {{ blueprint: milvus, mode: cluster, image: '{image}', options: {{ objectStore: s3, messageStream: kafka }} }}\n      s3: {{ blueprint: minio, options: {{ buckets: vectors }}, users: {{ vectors: [vectors] }} }}\n      kafka: {{ blueprint: kafka }}\n"
            );
            let file = SourceFile::new("platform.yaml", text);
            let platform = crate::resolve(&spec::parse(&file).expect("parses"), None)
                .unwrap_or_else(|e| panic!("{e:?}"));
            let set = render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"));
            set.objects
                .into_iter()
                .find(|o| o.kind() == "Milvus")
                .expect("a Milvus")
                .value
        };
        assert_eq!(
            milvus("harbor.example.com/mirror/milvus:v2.4.6")["spec"]["components"]["imagePullSecrets"],
            json!([{ "name": "harbor-pull" }])
        );
        assert!(
            milvus("milvusdb/milvus:v2.4.6")["spec"]["components"]
                .get("imagePullSecrets")
                .is_none()
        );
    }

    #[test]
    fn operators_pod_templates_pull_their_images_with_the_secret() {
        let text = "platform: shop\nregistries:\n  harbor.example.com: { pullSecret: harbor-pull }\noperators: { clickhouse-operator: { installed: true }, kuberay-operator: { installed: true } }\ntiers:\n  - name: data\n    services:\n      ch: { blueprint: clickhouse, mode: altinity, image: 'harbor.example.com/mirror/clickhouse-server:24.8' }\n      ray: { blueprint: ray, image: 'harbor.example.com/mirror/ray:2.40.0' }\n";
        let file = SourceFile::new("platform.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).expect("parses"), None)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let set = render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"));
        let find = |kind: &str| {
            &set.objects
                .iter()
                .find(|o| o.kind() == kind)
                .expect(kind)
                .value
        };
        let harbor = json!([{ "name": "harbor-pull" }]);
        let installation = find("ClickHouseInstallation");
        assert_eq!(
            installation["spec"]["templates"]["podTemplates"][0]["spec"]["imagePullSecrets"],
            harbor
        );
        // The Keeper runs the public image: nothing to pull with.
        let keeper = find("ClickHouseKeeperInstallation");
        assert!(
            keeper["spec"]["templates"]["podTemplates"][0]["spec"]
                .get("imagePullSecrets")
                .is_none()
        );
        let ray = &find("RayCluster")["spec"];
        assert_eq!(
            ray["headGroupSpec"]["template"]["spec"]["imagePullSecrets"],
            harbor
        );
        assert_eq!(
            ray["workerGroupSpecs"][0]["template"]["spec"]["imagePullSecrets"],
            harbor
        );
        assert_eq!(set.pull_secrets.len(), 1);
        assert_eq!(set.pull_secrets[0].namespaces, ["shop"]);
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
