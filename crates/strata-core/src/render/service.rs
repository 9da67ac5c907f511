//! What a service's pods rely on: its ServiceAccount, Services, ConfigMap,
//! and the platform's Secrets.

use std::borrow::Cow;
use std::rc::Rc;

use serde_json::{Value, json};

use super::body::{Body, Head};
use super::{Assets, GeneratedSecret, Object};
use super::{labels, object};
use crate::diag::Diagnostic;
use crate::kind;
use crate::model::{
    Config, FileContent, FileRef, Platform, Protocol, Service, Spawned, WorkloadKind,
};

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
pub(super) fn env_config_map<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Option<Body<'a>> {
    if !service.env_config_map {
        return None;
    }
    let name = env_config_name(service);
    let head = Head::new("v1", kind::CONFIG_MAP, &service.namespace, name.clone());
    let own = Rc::clone(own);
    Some(Body::deferred(head, move || {
        let data: serde_json::Map<String, Value> = service
            .env
            .iter()
            .filter_map(|var| match &var.value {
                crate::model::EnvValue::Literal(value) => Some((var.name.clone(), json!(value))),
                _ => None,
            })
            .collect();
        config_map_object(own.metadata(&name), data)
    }))
}

/// A ConfigMap of `metadata` holding `data`.
fn config_map_object(metadata: Value, data: serde_json::Map<String, Value>) -> Value {
    object([
        ("apiVersion", Value::from("v1")),
        ("kind", Value::from("ConfigMap")),
        ("metadata", metadata),
        ("data", Value::Object(data)),
    ])
}

/// A ServiceAccount of `metadata`, mounting its API token or not.
fn account_object(metadata: Value, token: bool) -> Value {
    object([
        ("apiVersion", Value::from("v1")),
        ("kind", Value::from("ServiceAccount")),
        ("metadata", metadata),
        ("automountServiceAccountToken", Value::Bool(token)),
    ])
}

/// A ServiceAccount `name` of the service that `own` labels.
fn account<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
    name: String,
    token: bool,
) -> Body<'a> {
    let head = Head::new(
        "v1",
        kind::SERVICE_ACCOUNT,
        &service.namespace,
        name.clone(),
    );
    let own = Rc::clone(own);
    Body::deferred(head, move || account_object(own.metadata(&name), token))
}

/// A ServiceAccount of its own, so permissions never leak between services.
pub(super) fn service_account<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Body<'a> {
    account(
        service,
        own,
        service.name.clone(),
        service.runtime.service_account_token,
    )
}

/// The ServiceAccount of the pods a service spawns (`NAME-spawned`), for
/// the spawner to run them as: an identity of their own in the mesh, no
/// API token.
pub(super) fn spawned_account<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Option<Body<'a>> {
    service.spawns.as_ref()?;
    Some(account(service, own, Spawned::account(service), false))
}

/// The Role and RoleBinding granting a service's ServiceAccount its
/// `access:` in its namespace; none without `access:`.
pub(super) fn access<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Vec<Body<'a>> {
    const RBAC: &str = "rbac.authorization.k8s.io/v1";
    if service.rare.access.is_empty() {
        return Vec::new();
    }
    let head = |kind| Head::new(RBAC, kind, &service.namespace, service.name.as_str());
    let role_labels = Rc::clone(own);
    let binding_labels = Rc::clone(own);
    vec![
        Body::deferred(head(kind::ROLE), move || {
            let rules: Vec<Value> = service
                .rare.access
                .iter()
                .map(|a| json!({ "apiGroups": a.api_groups, "resources": a.resources, "verbs": a.verbs }))
                .collect();
            json!({
                "apiVersion": RBAC,
                "kind": "Role",
                "metadata": role_labels.metadata(&service.name),
                "rules": rules,
            })
        }),
        Body::deferred(head(kind::ROLE_BINDING), move || {
            json!({
                "apiVersion": RBAC,
                "kind": "RoleBinding",
                "metadata": binding_labels.metadata(&service.name),
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": service.name },
                "subjects": [{ "kind": "ServiceAccount", "name": service.name, "namespace": service.namespace }],
            })
        }),
    ]
}

/// The ConfigMap of a service's configuration files: made at once when
/// one is read from a file (what cannot be read is reported whoever reads
/// the ConfigMap), deferred when all are inline.
pub(super) fn config_map<'a>(
    platform: &Platform,
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
    assets: &dyn Assets,
    errors: &mut Vec<Diagnostic>,
) -> Option<Body<'a>> {
    let config = service.config.as_ref()?;
    let name = config_name(service);
    if config
        .files
        .iter()
        .all(|file| matches!(file.content, FileContent::Inline(_)))
    {
        let head = Head::new("v1", kind::CONFIG_MAP, &service.namespace, name.clone());
        let own = Rc::clone(own);
        return Some(Body::deferred(head, move || {
            config_map_object(own.metadata(&name), config_files(config, |_| None))
        }));
    }
    let data = config_files(config, |reference| {
        super::read_named(platform, assets, reference, errors)
    });
    Some(Body::Made(config_map_object(own.metadata(&name), data)))
}

/// The data of a ConfigMap of `config`'s files, each file's text inline or
/// as `read` reads it (none when it cannot be read).
fn config_files(
    config: &Config,
    mut read: impl FnMut(&FileRef) -> Option<String>,
) -> serde_json::Map<String, Value> {
    let mut data = serde_json::Map::new();
    for file in &config.files {
        let content = match &file.content {
            FileContent::Inline(text) => text.clone(),
            FileContent::File(reference) => match read(reference) {
                Some(text) => text,
                None => continue,
            },
        };
        data.insert(file.name.clone(), json!(content));
    }
    data
}

fn port_entries(service: &Service) -> Vec<Value> {
    service
        .ports
        .iter()
        .map(|p| {
            let mut port = serde_json::Map::with_capacity(6);
            for (key, value) in [
                ("name", Value::String(p.name.clone())),
                ("port", Value::from(p.service_port())),
                ("targetPort", Value::String(p.name.clone())),
                (
                    "protocol",
                    Value::from(if p.protocol == Protocol::Udp {
                        "UDP"
                    } else {
                        "TCP"
                    }),
                ),
            ] {
                port.insert(key.into(), value);
            }
            if matches!(p.protocol, Protocol::Http | Protocol::Grpc) {
                port.insert("appProtocol".into(), Value::from(p.protocol.as_str()));
            }
            if let Some(node_port) = p.node_port {
                port.insert("nodePort".into(), Value::from(node_port));
            }
            Value::Object(port)
        })
        .collect()
}

/// A ClusterIP Service for a service with ports, and a headless one for a
/// StatefulSet's stable pod names.
pub(super) fn services<'a>(
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Vec<Body<'a>> {
    if service.ports.is_empty() || !service.kind.is_long_running() {
        return Vec::new();
    }
    let front = &service.front;
    let head = |name: Cow<'a, str>| Head::new("v1", kind::SERVICE, &service.namespace, name);
    let service_object = |metadata: Value, spec: Value| {
        object([
            ("apiVersion", Value::from("v1")),
            ("kind", Value::from("Service")),
            ("metadata", metadata),
            ("spec", spec),
        ])
    };
    let labels = Rc::clone(own);
    let mut out = vec![Body::deferred(
        head(front.name.as_str().into()),
        move || {
            let mut spec = object([
                ("type", Value::from(front.service_type.as_str())),
                ("selector", Value::Object(labels.selector())),
                ("ports", Value::Array(port_entries(service))),
            ]);
            if let Some(policy) = front.external_traffic_policy {
                spec["externalTrafficPolicy"] = json!(policy.as_str());
            }
            if let Some(seconds) = service.rare.serve.session_affinity_seconds {
                spec["sessionAffinity"] = json!("ClientIP");
                spec["sessionAffinityConfig"] =
                    json!({ "clientIP": { "timeoutSeconds": seconds } });
            }
            let mut metadata = labels.metadata(&front.name);
            if !front.annotations.is_empty() {
                metadata["annotations"] = json!(front.annotations);
            }
            service_object(metadata, spec)
        },
    )];
    if service.kind == WorkloadKind::Stateful {
        let name = headless_name(service);
        let labels = Rc::clone(own);
        out.push(Body::deferred(head(name.clone().into()), move || {
            service_object(
                labels.metadata(&name),
                object([
                    ("clusterIP", Value::from("None")),
                    // Peers find each other before they are ready (cluster bootstrap).
                    ("publishNotReadyAddresses", Value::Bool(true)),
                    ("selector", Value::Object(labels.selector())),
                    ("ports", Value::Array(port_entries(service))),
                ]),
            )
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
