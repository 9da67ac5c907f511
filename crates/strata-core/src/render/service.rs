//! What a service's pods rely on: its ServiceAccount, Services, ConfigMap,
//! and the platform's Secrets.

use serde_json::{Value, json};

use super::labels;
use super::{Assets, GeneratedSecret, Object};
use crate::diag::Diagnostic;
use crate::model::{FileContent, Platform, Protocol, Service, Spawned, WorkloadKind};

/// The name of a service's headless Service (StatefulSet identity).
pub(super) fn headless_name(service: &Service) -> String {
    format!("{}-headless", service.name)
}

/// The name of a service's ConfigMap of files.
pub(super) fn config_name(service: &Service) -> String {
    format!("{}-config", service.name)
}

/// The name of the ConfigMap holding a service's literal variables.
pub(super) fn env_config_name(service: &Service) -> String {
    format!("{}-env", service.name)
}

/// The ConfigMap of a service's literal variables (references resolved), for
/// a service with `envFrom: configMap`; Secret and ConfigMap references stay
/// in the pod spec.
pub(super) fn env_config_map(platform: &Platform, service: &Service) -> Option<Value> {
    if !service.env_config_map {
        return None;
    }
    let data: serde_json::Map<String, Value> = service
        .env
        .iter()
        .filter_map(|var| match &var.value {
            crate::model::EnvValue::Literal(value) => Some((var.name.clone(), json!(value))),
            _ => None,
        })
        .collect();
    Some(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": labels::metadata(platform, service, &env_config_name(service)),
        "data": data,
    }))
}

/// A ServiceAccount of its own, so permissions never leak between services.
pub(super) fn service_account(platform: &Platform, service: &Service) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": labels::metadata(platform, service, &service.name),
        "automountServiceAccountToken": service.runtime.service_account_token,
    })
}

/// The ServiceAccount of the pods a service spawns (`NAME-spawned`), for
/// the spawner to run them as: an identity of their own in the mesh, no
/// API token.
pub(super) fn spawned_account(platform: &Platform, service: &Service) -> Option<Value> {
    service.spawns.as_ref()?;
    Some(json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": labels::metadata(platform, service, &Spawned::account(service)),
        "automountServiceAccountToken": false,
    }))
}

/// The Role and RoleBinding granting a service's ServiceAccount its
/// `access:` in its namespace; none without `access:`.
pub(super) fn access(platform: &Platform, service: &Service) -> Vec<Value> {
    if service.access.is_empty() {
        return Vec::new();
    }
    let rules: Vec<Value> = service
        .access
        .iter()
        .map(|a| json!({ "apiGroups": a.api_groups, "resources": a.resources, "verbs": a.verbs }))
        .collect();
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": labels::metadata(platform, service, &service.name),
            "rules": rules,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": labels::metadata(platform, service, &service.name),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": service.name },
            "subjects": [{ "kind": "ServiceAccount", "name": service.name, "namespace": service.namespace }],
        }),
    ]
}

/// The ConfigMap of a service's configuration files.
pub(super) fn config_map(
    platform: &Platform,
    service: &Service,
    assets: &dyn Assets,
    errors: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let config = service.config.as_ref()?;
    let mut data = serde_json::Map::new();
    for file in &config.files {
        let content = match &file.content {
            FileContent::Inline(text) => text.clone(),
            FileContent::File(reference) => match assets.read(&reference.path) {
                Ok(text) => text,
                Err(why) => {
                    errors.push(
                        Diagnostic::error(
                            "unreadable-file",
                            format!("cannot read `{}`: {why}", reference.path),
                        )
                        .at(&platform.file, reference.span, "named here")
                        .help("paths are relative to the spec file"),
                    );
                    continue;
                }
            },
        };
        data.insert(file.name.clone(), json!(content));
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": labels::metadata(platform, service, &config_name(service)),
        "data": data,
    }))
}

fn port_entries(service: &Service) -> Vec<Value> {
    service
        .ports
        .iter()
        .map(|p| {
            let mut port = json!({
                "name": p.name,
                "port": p.service_port(),
                "targetPort": p.name,
                "protocol": if p.protocol == Protocol::Udp { "UDP" } else { "TCP" },
            });
            if matches!(p.protocol, Protocol::Http | Protocol::Grpc) {
                port["appProtocol"] = json!(p.protocol.as_str());
            }
            if let Some(node_port) = p.node_port {
                port["nodePort"] = json!(node_port);
            }
            port
        })
        .collect()
}

/// A ClusterIP Service for a service with ports, and a headless one for a
/// StatefulSet's stable pod names.
pub(super) fn services(platform: &Platform, service: &Service) -> Vec<Value> {
    if service.ports.is_empty() || !service.kind.is_long_running() {
        return Vec::new();
    }
    let selector = labels::selector(platform, service);
    let front = &service.front;
    let mut spec = json!({ "type": front.service_type.as_str(), "selector": selector, "ports": port_entries(service) });
    if let Some(policy) = front.external_traffic_policy {
        spec["externalTrafficPolicy"] = json!(policy.as_str());
    }
    if let Some(seconds) = service.serve.session_affinity_seconds {
        spec["sessionAffinity"] = json!("ClientIP");
        spec["sessionAffinityConfig"] = json!({ "clientIP": { "timeoutSeconds": seconds } });
    }
    let mut metadata = labels::metadata(platform, service, &front.name);
    if !front.annotations.is_empty() {
        metadata["annotations"] = json!(front.annotations);
    }
    let mut out = vec![json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": spec,
    })];
    if service.kind == WorkloadKind::Stateful {
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": labels::metadata(platform, service, &headless_name(service)),
            "spec": {
                "clusterIP": "None",
                // Peers find each other before they are ready (cluster bootstrap).
                "publishNotReadyAddresses": true,
                "selector": selector,
                "ports": port_entries(service),
            },
        }));
    }
    out
}

/// The Secrets whose values the spec gives, and those left for `apply` to
/// generate.
pub(super) fn secrets(platform: &Platform) -> (Vec<Object>, Vec<GeneratedSecret>) {
    let mut objects = Vec::new();
    let mut generated = Vec::new();
    for secret in &platform.secrets {
        if !secret.generate.is_empty() {
            generated.push(GeneratedSecret {
                name: secret.name.clone(),
                namespaces: secret.namespaces.clone(),
                secret_type: secret
                    .secret_type
                    .clone()
                    .unwrap_or_else(|| "Opaque".into()),
                keys: secret.generate.clone(),
            });
        }
        for namespace in &secret.namespaces {
            if !secret.data.is_empty() {
                let mut metadata = json!({ "name": secret.name, "namespace": namespace, "labels": labels::platform(platform) });
                if !secret.generate.is_empty() {
                    metadata["annotations"] =
                        json!({ "strata.dev/generate": secret.generate.join(",") });
                }
                objects.push(Object::new(
                    0,
                    None,
                    None,
                    json!({ "apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": secret.secret_type.as_deref().unwrap_or("Opaque"), "stringData": secret.data }),
                ));
            }
        }
    }
    (objects, generated)
}
