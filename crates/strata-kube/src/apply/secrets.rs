//! The secrets an apply handles itself: generated secrets, created once
//! with random values and never overwritten, and registry pull secrets,
//! which it only checks for.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use strata_core::kind;
use strata_core::render::{GeneratedSecret, Object, PullSecret, RenderedSet};

use super::{Applied, ApplyOptions, Cause};
use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::inventory::PLATFORM_LABEL;
use crate::progress::{Event, Progress};

/// A registry pull secret missing from a namespace whose pods need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPullSecret {
    /// The Secret's name.
    pub name: String,
    /// The namespace it is missing from.
    pub namespace: String,
    /// The registries whose credentials it should hold.
    pub registries: Vec<String>,
}

/// One line naming every missing pull secret, then how to create each.
pub(super) fn missing_pull_secrets(missing: &[MissingPullSecret]) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|m| format!("`{}` in `{}`", m.name, m.namespace))
        .collect();
    let mut text = format!(
        "registry pull secrets are missing: {}; Strata does not create them, they hold registry credentials. Create each, then apply again:",
        names.join(", ")
    );
    for m in missing {
        let server = m.registries.first().map_or("REGISTRY", String::as_str);
        text.push_str(&format!(
            "\n  kubectl create secret docker-registry {} --docker-server={server} --docker-username=USER --docker-password=PASSWORD -n {}",
            m.name, m.namespace
        ));
    }
    text
}

/// The secrets one apply handles, each with the namespaces it handles it in.
pub(super) struct Secrets<'a> {
    /// The platform, whose label generated secrets carry.
    platform: &'a str,
    /// Generated secrets, in the namespaces the apply creates or uses.
    generated: Vec<(&'a GeneratedSecret, Vec<&'a str>)>,
    /// Pull secrets, in the namespaces whose applied objects name them.
    pull: Vec<(&'a PullSecret, Vec<&'a str>)>,
}

impl<'a> Secrets<'a> {
    /// The secrets of `set` that applying `objects` needs.
    pub(super) fn of(set: &'a RenderedSet, objects: &[&Object], options: &ApplyOptions) -> Self {
        // Generated secrets go to the namespaces this apply creates or uses.
        let used_namespaces: BTreeSet<&str> = objects
            .iter()
            .map(|o| {
                if o.kind() == kind::NAMESPACE {
                    o.name()
                } else {
                    o.namespace()
                }
            })
            .collect();
        let generated = where_needed(
            &set.generated_secrets,
            |s| &s.namespaces,
            |_, ns| options.selection.is_all() || used_namespaces.contains(ns),
        );
        // Pull secrets are checked where the selected pods name them; a dry run
        // creates no namespace, so it cannot tell a missing secret from a
        // namespace still to come.
        let pull = if options.dry_run {
            Vec::new()
        } else {
            where_needed(
                &set.pull_secrets,
                |s| &s.namespaces,
                |s, ns| {
                    objects
                        .iter()
                        .any(|o| o.namespace() == ns && names_pull_secret(&o.value, &s.name))
                },
            )
        };
        Secrets {
            platform: &set.platform,
            generated,
            pull,
        }
    }

    /// Checks that the pull secrets exist, then creates or completes the
    /// generated secrets into `done`.
    pub(super) async fn prepare(
        &self,
        cluster: &Cluster,
        options: &ApplyOptions,
        progress: &dyn Progress,
        done: &mut Applied,
    ) -> Result<(), Cause> {
        check_pull_secrets(cluster, &self.pull).await?;
        generate(
            cluster,
            self.platform,
            &self.generated,
            options,
            progress,
            done,
        )
        .await
        .map_err(Cause::Refused)
    }
}

/// Each of `secrets` with those of its namespaces `wanted` keeps; a secret
/// left with none is dropped.
fn where_needed<'a, S>(
    secrets: &'a [S],
    namespaces: impl Fn(&'a S) -> &'a [String],
    wanted: impl Fn(&'a S, &str) -> bool,
) -> Vec<(&'a S, Vec<&'a str>)> {
    secrets
        .iter()
        .map(|s| {
            let kept: Vec<&str> = namespaces(s)
                .iter()
                .map(String::as_str)
                .filter(|ns| wanted(s, ns))
                .collect();
            (s, kept)
        })
        .filter(|(_, kept)| !kept.is_empty())
        .collect()
}

/// Whether `value` (an object, or a part of one) lists `name` under an
/// `imagePullSecrets` field, wherever its kind keeps it.
fn names_pull_secret(value: &Value, name: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, child)| {
            (key == "imagePullSecrets"
                && child
                    .as_array()
                    .is_some_and(|list| list.iter().any(|r| r["name"] == name)))
                || names_pull_secret(child, name)
        }),
        Value::Array(items) => items.iter().any(|item| names_pull_secret(item, name)),
        _ => false,
    }
}

/// Fails when a pull secret is missing from a namespace that needs it:
/// before the first wave, after the namespaces are created, rather than
/// pods waiting in `ImagePullBackOff` until the step times out.
async fn check_pull_secrets(
    cluster: &Cluster,
    secrets: &[(&PullSecret, Vec<&str>)],
) -> Result<(), Cause> {
    let mut missing = Vec::new();
    for (secret, namespaces) in secrets {
        for namespace in namespaces {
            let id = ObjectId::secret(namespace, &secret.name);
            match cluster.get(&id).await {
                Ok(Some(_)) => {}
                Ok(None) => missing.push(MissingPullSecret {
                    name: secret.name.clone(),
                    namespace: (*namespace).to_string(),
                    registries: secret.registries.clone(),
                }),
                Err(e) => return Err(Cause::Refused(e)),
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Cause::PullSecretsMissing(missing))
    }
}

/// Creates each generated secret where it is missing and adds keys a copy
/// lacks; existing values are never changed. A secret written to several
/// namespaces gets the same values in each: a value that already exists in
/// one namespace is copied to the others, and only keys that exist nowhere
/// get new random values.
async fn generate(
    cluster: &Cluster,
    platform: &str,
    secrets: &[(&GeneratedSecret, Vec<&str>)],
    options: &ApplyOptions,
    progress: &dyn Progress,
    done: &mut Applied,
) -> Result<(), ClusterError> {
    for (secret, namespaces) in secrets {
        let mut copies = Vec::new();
        for namespace in namespaces {
            let id = ObjectId::secret(namespace, &secret.name);
            let live = match cluster.get(&id).await {
                Ok(found) => found,
                // In a dry run the namespace may not exist yet.
                Err(e) if options.dry_run && e.is_not_found() => None,
                Err(e) => return Err(e),
            };
            copies.push((id, live));
        }
        let existing = |key: &str| {
            copies.iter().find_map(|(_, live)| {
                let encoded = live.as_ref()?["data"][key].as_str()?;
                String::from_utf8(STANDARD.decode(encoded).ok()?).ok()
            })
        };
        let values: BTreeMap<&str, String> = secret
            .keys
            .iter()
            .map(|k| (k.as_str(), existing(k).unwrap_or_else(random_value)))
            .collect();
        for (id, live) in &copies {
            let missing: Vec<String> = secret
                .keys
                .iter()
                .filter(|k| {
                    live.as_ref()
                        .is_none_or(|l| l["data"].get(k.as_str()).is_none())
                })
                .cloned()
                .collect();
            if missing.is_empty() {
                continue;
            }
            if options.dry_run {
                done.notes.push(match live {
                    None => format!("{id}: would be created with {}", missing.join(", ")),
                    Some(_) => format!("{id}: would get {}", missing.join(", ")),
                });
                continue;
            }
            let data: serde_json::Map<String, Value> = missing
                .iter()
                .filter_map(|k| Some((k.clone(), Value::from(values.get(k.as_str())?.clone()))))
                .collect();
            let written = if live.is_none() {
                let value = json!({
                    "apiVersion": "v1",
                    "kind": kind::SECRET,
                    "metadata": {
                        "name": id.name,
                        "namespace": id.namespace,
                        // The platform label tells prune and destroy whose it is.
                        "labels": { "app.kubernetes.io/managed-by": "strata", PLATFORM_LABEL: platform },
                        "annotations": { "strata.dev/generated": secret.keys.join(",") },
                    },
                    "type": secret.secret_type,
                    "stringData": data,
                });
                cluster.create(&value, false).await?
            } else {
                cluster.merge(id, &json!({ "stringData": data })).await?;
                true
            };
            if written {
                progress.event(Event::SecretCreated {
                    id: id.clone(),
                    keys: missing,
                });
                done.secrets.push(id.clone());
            }
        }
    }
    Ok(())
}

/// 32 random letters and digits from the operating system's generator.
fn random_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut bytes = [0u8; 64];
        if getrandom::fill(&mut bytes).is_err() {
            continue;
        }
        // Rejection keeps every character equally likely.
        for b in bytes {
            if (b as usize) < 248 && out.len() < 32 {
                out.push(ALPHABET[b as usize % 62] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_are_long_alphanumeric_and_differ() {
        let a = random_value();
        let b = random_value();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
