//! What of a manifest the cross-object checks ([`super::checks::Run::Set`])
//! read, so that a long stream is held only as that: names, labels,
//! selectors, ports, container resources. Everything else (environment,
//! probes, volumes, policy rules, ConfigMap data) is dropped once the
//! checks of the manifest alone have run on it.

use super::value::{Key, Map, Value};

use crate::finding::IGNORE_ANNOTATION;

/// The part of a value to keep.
enum Shape {
    /// All of it.
    All,
    /// Of a mapping, these keys, each with its own shape; of a list, each
    /// item so. Anything else is kept whole.
    Fields(&'static [(&'static str, Shape)]),
}

use Shape::{All, Fields};

/// A container: its name, port names and resources.
const CONTAINER: Shape = Fields(&[
    ("name", All),
    ("ports", Fields(&[("name", All)])),
    ("resources", All),
]);

/// A pod spec: its containers.
const POD_SPEC: Shape = Fields(&[("containers", CONTAINER), ("initContainers", CONTAINER)]);

/// A pod template: its labels and containers.
const POD_TEMPLATE: Shape = Fields(&[("metadata", Fields(&[("labels", All)])), ("spec", POD_SPEC)]);

/// Whatever the kind: what [`super::Manifest`]'s accessors, the ignore
/// annotation, the index and the cross-object checks read.
const MANIFEST: Shape = Fields(&[
    ("apiVersion", All),
    ("kind", All),
    (
        "metadata",
        Fields(&[
            ("name", All),
            ("namespace", All),
            ("labels", All),
            ("annotations", Fields(&[(IGNORE_ANNOTATION, All)])),
        ]),
    ),
    (
        "spec",
        Fields(&[
            // Workloads, Services, budgets, policies, autoscalers.
            ("replicas", All),
            ("selector", All),
            ("podSelector", All),
            ("serviceName", All),
            ("clusterIP", All),
            ("ports", Fields(&[("targetPort", All)])),
            ("scaleTargetRef", All),
            // LimitRanges, Ingresses and routes.
            ("limits", All),
            ("rules", All),
            ("defaultBackend", All),
            // Pods, controllers and CronJobs.
            ("containers", CONTAINER),
            ("initContainers", CONTAINER),
            ("template", POD_TEMPLATE),
            (
                "jobTemplate",
                Fields(&[("spec", Fields(&[("template", POD_TEMPLATE)]))]),
            ),
        ]),
    ),
]);

/// What the cross-object checks read of `value`, in as little memory as
/// it takes: the keys of [`MANIFEST`] are its own names, not strings read,
/// and strings, lists and mappings hold no spare room.
pub(super) fn kept(value: Value) -> Value {
    keep(value, &MANIFEST)
}

fn keep(value: Value, shape: &Shape) -> Value {
    let Fields(fields) = shape else {
        return value.shrunk();
    };
    match value {
        Value::Object(map) => {
            let mut kept: Map = map
                .into_iter()
                .filter_map(|(key, value)| {
                    let (name, inner) = fields.iter().find(|(name, _)| *name == key)?;
                    Some((Key::Borrowed(*name), keep(value, inner)))
                })
                .collect();
            kept.shrink_to_fit();
            Value::Object(kept)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(|item| keep(item, shape)).collect();
            items.shrink_to_fit();
            Value::Array(items)
        }
        other => other.shrunk(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::kept;
    use crate::lint::Value;

    #[test]
    fn keeps_what_the_set_checks_read_and_drops_the_rest() {
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "api",
                "labels": { "app": "api" },
                "annotations": { "strata.dev/ignore": "no-spread", "note": "long text" },
            },
            "spec": {
                "replicas": 2,
                "selector": { "matchLabels": { "app": "api" } },
                "template": {
                    "metadata": { "labels": { "app": "api" }, "annotations": { "a": "b" } },
                    "spec": {
                        "volumes": [{ "name": "tmp", "emptyDir": {} }],
                        "containers": [{
                            "name": "api",
                            "image": "api:1",
                            "env": [{ "name": "A", "value": "1" }],
                            "ports": [{ "name": "http", "containerPort": 80 }],
                            "resources": { "requests": { "cpu": "100m" } },
                        }],
                    },
                },
            },
        });
        assert_eq!(
            kept(Value::from(deployment)),
            Value::from(json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "api",
                    "labels": { "app": "api" },
                    "annotations": { "strata.dev/ignore": "no-spread" },
                },
                "spec": {
                    "replicas": 2,
                    "selector": { "matchLabels": { "app": "api" } },
                    "template": {
                        "metadata": { "labels": { "app": "api" } },
                        "spec": {
                            "containers": [{
                                "name": "api",
                                "ports": [{ "name": "http" }],
                                "resources": { "requests": { "cpu": "100m" } },
                            }],
                        },
                    },
                },
            }))
        );
        // A value of another shape than expected is kept as it is.
        let odd = json!({ "apiVersion": "v1", "kind": "Pod", "spec": { "containers": "none" } });
        let odd = Value::from(odd);
        assert_eq!(kept(odd.clone()), odd);
    }
}
