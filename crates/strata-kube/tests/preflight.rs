//! What `apply` checks before the first wave: each thing the platform
//! needs from the cluster and does not find is one error, and nothing is
//! applied; with everything there, the apply goes on.

mod fake;
mod support;

use fake::Fake;
use serde_json::{Value, json};
use strata_core::render::RenderedSet;
use strata_kube::apply::Cause;
use support::{apply_set, failure, shop};

/// `shop` naming a StorageClass, a Secret and a PriorityClass it does not
/// render.
fn needy() -> RenderedSet {
    let mut set = shop();
    for object in &mut set.objects {
        match object.key().as_str() {
            "StatefulSet/shop/db" => {
                object.value["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] =
                    json!("local-path");
            }
            "Deployment/shop/api" => {
                object.value["spec"]["template"]["spec"]["containers"][0]["env"] = json!([
                    {"name": "CATALOG_DB", "valueFrom": {"secretKeyRef": {"name": "catalog-20-db", "key": "url"}}}
                ]);
            }
            "Deployment/shop/web" => {
                object.value["spec"]["template"]["spec"]["priorityClassName"] = json!("high");
            }
            _ => {}
        }
    }
    set
}

fn missing(cause: &Cause) -> Vec<String> {
    match cause {
        Cause::Missing(missing) => missing.iter().map(ToString::to_string).collect(),
        other => panic!("a preflight failure: {other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn each_missing_thing_is_one_error_and_nothing_is_applied() {
    let fake = Fake::new();
    fake.insert(
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"}, "provisioner": "rancher.io/local-path"}),
        "kubectl",
    );
    let f = failure(apply_set(&fake.cluster(), &needy()).await);
    assert_eq!(f.step, "preflight");
    let lines = missing(&f.cause);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "StorageClass `local-path` does not exist (needed by StatefulSet/shop/db)"
        ) && l.contains("the cluster has standard")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("PriorityClass `high` does not exist (needed by Deployment/shop/web)")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Secret `catalog-20-db` does not exist in namespace `shop` (needed by Deployment/shop/api)")),
        "{lines:#?}"
    );
    assert!(
        !fake.calls().iter().any(|c| c.verb == "apply"),
        "nothing applied"
    );
}

#[tokio::test(start_paused = true)]
async fn with_everything_there_the_apply_goes_on() {
    let fake = Fake::new();
    fake.insert(
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path"}, "provisioner": "rancher.io/local-path"}),
        "kubectl",
    );
    fake.insert(
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000}),
        "kubectl",
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "kubectl",
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "catalog-20-db", "namespace": "shop"}, "data": {"url": "eA=="}}),
        "kubectl",
    );
    apply_set(&fake.cluster(), &needy()).await.unwrap();
}

fn node(name: &str, cpu: &str, memory: &str, taint: Option<&str>) -> Value {
    let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
        "spec": {}, "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}});
    if let Some(effect) = taint {
        node["spec"]["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": effect}]);
    }
    node
}

/// The schedulable nodes' free CPU and memory against what the pods
/// request: a tainted node does not count, other tenants' pods take room,
/// the platform's own running pods do not.
#[tokio::test(start_paused = true)]
async fn room_on_the_nodes_is_checked_against_the_requests() {
    let fake = Fake::new();
    fake.insert(
        node("control", "64", "256Gi", Some("NoSchedule")),
        "kubelet",
    );
    fake.insert(node("worker-1", "1", "1Gi", None), "kubelet");
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "other"},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "big", "resources": {"requests": {"cpu": "900m", "memory": "900Mi"}}}]},
            "status": {"phase": "Running"}}),
        "kubelet",
    );
    let f = failure(apply_set(&fake.cluster(), &shop()).await);
    let lines = missing(&f.cause);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("free CPU: the platform's pods request")
                && l.contains("1 schedulable node(s) have 100m free")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("free memory: ")),
        "{lines:#?}"
    );
    // More room: the apply goes on.
    fake.insert(node("worker-2", "8", "32Gi", None), "kubelet");
    apply_set(&fake.cluster(), &shop()).await.unwrap();
}

/// A caller whose role does not reach a StorageClass: preflight notes what
/// it could not check and the apply goes on.
#[tokio::test(start_paused = true)]
async fn what_the_caller_may_not_read_is_noted_not_fatal() {
    let fake = Fake::new();
    fake.forbid_get("StorageClass/local-path");
    let mut set = shop();
    for object in &mut set.objects {
        if object.key() == "StatefulSet/shop/db" {
            object.value["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] =
                json!("local-path");
        }
    }
    let done = apply_set(&fake.cluster(), &set).await.unwrap();
    assert!(
        done.notes.iter().any(|n| n
            .starts_with("preflight could not check StorageClass `local-path`: ")
            && n.contains("forbidden")),
        "{:?}",
        done.notes
    );
}

/// Every example, against a cluster serving its operators' kinds and the
/// classes its spec names: what preflight asks for is only the Secrets the
/// spec says come from outside (a TLS certificate, a push-notification
/// key), never one the platform, `apply` or its operators make.
#[tokio::test(start_paused = true)]
async fn the_examples_need_only_what_they_say_comes_from_outside() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut found = Vec::new();
    for example in [
        "isa-cloud",
        "knowton",
        "nova",
        "one-data-studio",
        "voice-assistant",
    ] {
        let text = std::fs::read_to_string(root.join(example).join("platform.yaml")).unwrap();
        let set = support::render(&text);
        let fake = Fake::new();
        fake.insert(
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path"}, "provisioner": "rancher.io/local-path"}),
            "kubectl",
        );
        fake.insert(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
            "kubectl",
        );
        for object in &set.objects {
            let (api_version, kind) = (object.api_version(), object.kind());
            if !fake.serves(api_version, kind) {
                fake.serve_kind(api_version, kind, !object.namespace().is_empty());
            }
        }
        let options = strata_kube::ApplyOptions {
            dry_run: true,
            ..support::options()
        };
        let result = strata_kube::apply(
            &fake.cluster(),
            &set,
            &support::release(&set),
            &options,
            &strata_kube::Silent,
        )
        .await;
        if let Err(strata_kube::ApplyError::Failed(f)) = result
            && let Cause::Missing(missing) = &f.cause
        {
            found.extend(missing.iter().map(|m| format!("{example}: {m}")));
        }
    }
    assert_eq!(
        found,
        [
            "knowton: Secret `knowton-tls` does not exist in namespace `knowton-prod` (needed by Deployment/knowton-prod/kong-gateway): the platform neither renders nor generates it: create it (`kubectl create secret generic knowton-tls -n knowton-prod --from-literal=KEY=VALUE`), or let apply generate it (`secrets: { knowton-tls: { generate: [KEY] } }`)",
            "nova: Secret `nova-apns` does not exist in namespace `nova-services` (needed by Deployment/nova-services/messaging-service): the platform neither renders nor generates it: create it (`kubectl create secret generic nova-apns -n nova-services --from-literal=KEY=VALUE`), or let apply generate it (`secrets: { nova-apns: { generate: [KEY] } }`)",
        ]
    );
}
