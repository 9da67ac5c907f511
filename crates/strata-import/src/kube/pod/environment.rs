//! A container's environment: values, ConfigMap and Secret keys, `envFrom`.

use super::patch;
use crate::Fate;
use crate::draft::{Draft, DraftEnv, DraftService, EnvValue, Loc};
use crate::kube::{Index, Object, config_map, secret_keys};
use k8s_openapi::api::core::v1 as core;
use serde_json::json;

pub(super) fn env(
    object: &Object,
    loc: &Loc,
    main: &core::Container,
    index: &mut Index<'_>,
    draft: &mut Draft,
    service: &mut DraftService,
) {
    let mut out: Vec<DraftEnv> = Vec::new();
    let mut push = |var: DraftEnv| {
        out.retain(|v| v.name != var.name);
        out.push(var);
    };
    let pod_spec = service.kind.pod_spec();
    let mut patched_env = Vec::new();
    for source in main.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(reference) = &source.config_map_ref {
            match config_map(index, &object.namespace, &reference.name) {
                Some((i, data)) => {
                    index.used.insert(i);
                    for (key, value) in data {
                        push(DraftEnv {
                            name: format!("{prefix}{key}"),
                            value: EnvValue::Literal(value),
                            comment: Some(format!("from ConfigMap {} (envFrom)", reference.name)),
                        });
                    }
                }
                None => patched_env.push(json!({ "configMapRef": reference })),
            }
        }
        if let Some(reference) = &source.secret_ref {
            match index.find("Secret", &object.namespace, &reference.name) {
                Some((i, secret)) => {
                    index.used.insert(i);
                    let keys = secret_keys(secret);
                    draft
                        .secrets
                        .entry(reference.name.clone())
                        .or_default()
                        .extend(keys.clone());
                    draft.note(
                        &secret.loc(&[]),
                        Fate::Dropped,
                        secret.id(),
                        "its values are not imported: each key is read with `{ secret, key }`; the Secret must exist in the cluster, or be declared under `secrets:`",
                    );
                    for key in keys {
                        push(DraftEnv {
                            name: format!("{prefix}{key}"),
                            value: EnvValue::Secret {
                                name: reference.name.clone(),
                                key,
                            },
                            comment: None,
                        });
                    }
                }
                None => patched_env.push(json!({ "secretRef": reference })),
            }
        }
    }
    if !patched_env.is_empty() {
        patch(
            draft,
            service,
            loc,
            &object.id(),
            json!({ "op": "add", "path": format!("{pod_spec}/containers/0/envFrom"), "value": patched_env }),
            "`envFrom` of an object the input does not hold",
        );
    }
    let mut field_refs = Vec::new();
    for var in main.env.iter().flatten() {
        if let Some(from) = &var.value_from {
            if let Some(secret) = &from.secret_key_ref {
                // The Secret object itself, if the input has it, is listed
                // with the leftovers: its values are never imported.
                draft
                    .secrets
                    .entry(secret.name.clone())
                    .or_default()
                    .insert(secret.key.clone());
                push(DraftEnv {
                    name: var.name.clone(),
                    value: EnvValue::Secret {
                        name: secret.name.clone(),
                        key: secret.key.clone(),
                    },
                    comment: None,
                });
            } else if let Some(config) = &from.config_map_key_ref {
                let inline = config_map(index, &object.namespace, &config.name)
                    .and_then(|(i, data)| Some((i, data.get(&config.key)?.clone())));
                match inline {
                    Some((i, value)) => {
                        index.used.insert(i);
                        push(DraftEnv {
                            name: var.name.clone(),
                            value: EnvValue::Literal(value),
                            comment: Some(format!(
                                "from ConfigMap {}, key {}",
                                config.name, config.key
                            )),
                        });
                    }
                    None => push(DraftEnv {
                        name: var.name.clone(),
                        value: EnvValue::Config {
                            name: config.name.clone(),
                            key: config.key.clone(),
                        },
                        comment: None,
                    }),
                }
            } else {
                field_refs.push(json!(var));
            }
        } else {
            push(DraftEnv {
                name: var.name.clone(),
                value: EnvValue::Literal(var.value.clone().unwrap_or_default()),
                comment: None,
            });
        }
    }
    service.env = out;
    if !field_refs.is_empty() {
        // Appended to Strata's own list when there is one.
        let what = "an env variable read from the pod's fields (`fieldRef`/`resourceFieldRef`)";
        if service.env.is_empty() {
            patch(
                draft,
                service,
                loc,
                &object.id(),
                json!({ "op": "add", "path": format!("{pod_spec}/containers/0/env"), "value": field_refs }),
                what,
            );
        } else {
            for var in field_refs {
                patch(
                    draft,
                    service,
                    loc,
                    &object.id(),
                    json!({ "op": "add", "path": format!("{pod_spec}/containers/0/env/-"), "value": var }),
                    what,
                );
            }
        }
    }
}
