//! Choosing an environment and overlaying its per-service overrides on the
//! spec's YAML tree, so an override may change any service field and is
//! checked exactly like the base spec.

use crate::diag::{Diagnostic, suggestion};
use crate::spec::yaml::{Node, NodeKind};
use crate::spec::{Document, PlatformSpec};

use super::super::spec::platform::EnvironmentSpec;

/// The environments a spec defines, in spec order.
pub fn environment_names(spec: &PlatformSpec) -> Vec<&str> {
    spec.environments
        .as_ref()
        .map(|envs| envs.value.iter().map(|(k, _)| k.value.0.as_str()).collect())
        .unwrap_or_default()
}

/// The environment called `name`.
///
/// # Errors
/// When the spec defines no such environment.
pub(crate) fn select<'d>(doc: &'d Document, name: &str) -> Result<&'d EnvironmentSpec, Diagnostic> {
    let found = doc
        .spec
        .environments
        .as_ref()
        .and_then(|envs| envs.value.get(name));
    match found {
        Some(env) => Ok(&env.value),
        None => {
            let names = environment_names(&doc.spec);
            let mut diagnostic = Diagnostic::error(
                "unknown-environment",
                format!(
                    "the environment `{name}` is not defined in {}",
                    doc.file.name()
                ),
            );
            diagnostic.file = Some(doc.file.clone());
            Err(diagnostic.help(if names.is_empty() {
                "this spec defines no environments; add them under `environments:` or drop `--env`"
                    .to_string()
            } else {
                suggestion(name, &names, "environment")
            }))
        }
    }
}

/// The YAML tree with environment `name`'s service overrides merged in.
///
/// # Errors
/// An override naming a service the spec does not have.
pub(crate) fn overlay(doc: &Document, name: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut root = doc.root.clone();
    let Some(overrides) = doc
        .root
        .get("environments")
        .and_then(|e| e.get(name))
        .and_then(|e| e.get("services"))
    else {
        return Ok(root);
    };
    let NodeKind::Map(entries) = &overrides.kind else {
        return Ok(root);
    };
    let mut errors = Vec::new();
    for (key, value) in entries {
        let Some(service) = key.as_scalar() else {
            continue;
        };
        match service_node(&mut root, service) {
            Some(target) => target.merge(value),
            None => {
                let known = service_names(&doc.root);
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                errors.push(
                    Diagnostic::error(
                        "unknown-service",
                        format!("environment `{name}` overrides `{service}`, which is not a service of this platform"),
                    )
                    .at(&doc.file, key.span, "no such service")
                    .help(suggestion(service, &known, "service")),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(root)
    } else {
        Err(errors)
    }
}

fn tiers_mut(root: &mut Node) -> Option<&mut Vec<Node>> {
    let NodeKind::Map(entries) = &mut root.kind else {
        return None;
    };
    let (_, tiers) = entries
        .iter_mut()
        .find(|(k, _)| k.as_scalar() == Some("tiers"))?;
    match &mut tiers.kind {
        NodeKind::Seq(items) => Some(items),
        _ => None,
    }
}

fn service_node<'n>(root: &'n mut Node, service: &str) -> Option<&'n mut Node> {
    for tier in tiers_mut(root)? {
        let NodeKind::Map(entries) = &mut tier.kind else {
            continue;
        };
        let Some((_, services)) = entries
            .iter_mut()
            .find(|(k, _)| k.as_scalar() == Some("services"))
        else {
            continue;
        };
        let NodeKind::Map(services) = &mut services.kind else {
            continue;
        };
        if let Some((_, node)) = services
            .iter_mut()
            .find(|(k, _)| k.as_scalar() == Some(service))
        {
            return Some(node);
        }
    }
    None
}

fn service_names(root: &Node) -> Vec<String> {
    let Some(NodeKind::Seq(tiers)) = root.get("tiers").map(|t| &t.kind) else {
        return Vec::new();
    };
    tiers
        .iter()
        .filter_map(|t| t.get("services"))
        .filter_map(|s| match &s.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        })
        .flatten()
        .filter_map(|(k, _)| k.as_scalar().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::source::SourceFile;
    use crate::{model, spec};

    const SPEC: &str = "
platform: t
environments:
  prod: { services: { api: { autoscale: { min: 3 } } } }
  broken: { services: { web: { autoscale: { min: 3 } } } }
tiers:
  - name: apps
    services:
      api: { image: t/api:1.0.0, ports: { http: 8080 }, autoscale: { min: 2, max: 10 } }
      web: { image: t/web:1.0.0, ports: { http: 8080 } }
";

    #[test]
    fn an_override_of_part_of_a_mapping_merges_before_it_is_checked() {
        let file = SourceFile::new("t.yaml", SPEC);
        let doc = spec::parse(&file).unwrap();
        let prod = model::resolve(&doc, Some("prod")).unwrap();
        let autoscale = prod.service("api").unwrap().runtime.autoscale.unwrap();
        assert_eq!((autoscale.min, autoscale.max), (3, 10));
        // Without a base to merge over, the override must be complete.
        let errors = model::resolve(&doc, Some("broken")).unwrap_err();
        assert_eq!(errors[0].code, "missing-key", "{errors:?}");
        assert!(errors[0].message.contains("`max`"), "{errors:?}");
    }
}
