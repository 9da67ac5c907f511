//! The order of an apply: which objects `--only` / `--skip` keep, and the
//! steps they are applied in (namespaces and CRDs first, then one step per
//! wave). Pure functions over a rendered set.

use std::collections::{BTreeMap, BTreeSet};

use strata_core::kind;
use strata_core::render::{Object, RenderedSet, kind_rank};

/// `--only` and `--skip`: tiers or services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Keep only these tiers or services (all when empty).
    pub only: Vec<String>,
    /// Leave out these tiers or services.
    pub skip: Vec<String>,
}

/// A name in `--only` or `--skip` that is neither a tier nor a service.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("`{name}` in --{flag} is neither a tier nor a service of this platform; known: {known}")]
pub struct UnknownName {
    /// The flag (`only` or `skip`).
    pub flag: &'static str,
    /// The name given.
    pub name: String,
    /// The tiers and services, comma-separated.
    pub known: String,
}

impl Selection {
    /// True when every object is kept.
    pub fn is_all(&self) -> bool {
        self.only.is_empty() && self.skip.is_empty()
    }

    /// Checks that each name is a tier or a service of `set`.
    pub fn check(&self, set: &RenderedSet) -> Result<(), UnknownName> {
        let mut known = BTreeSet::new();
        for object in &set.objects {
            known.extend(object.tier.iter().cloned());
            known.extend(object.service.iter().cloned());
        }
        for (flag, names) in [("only", &self.only), ("skip", &self.skip)] {
            if let Some(name) = names.iter().find(|n| !known.contains(*n)) {
                return Err(UnknownName {
                    flag,
                    name: name.clone(),
                    known: known.iter().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
        Ok(())
    }

    fn names(object: &Object, names: &[String]) -> bool {
        names
            .iter()
            .any(|n| object.tier.as_ref() == Some(n) || object.service.as_ref() == Some(n))
    }

    /// The objects of `set` this selection applies, in apply order.
    ///
    /// Objects of no tier (namespaces, quotas, secrets, network policies,
    /// gateways) are never skipped; with `--only` they are kept in the
    /// namespaces the chosen objects use, and cluster-scoped ones are kept.
    /// A CRD defining the kind of a kept object is always kept.
    pub fn select<'a>(&self, set: &'a RenderedSet) -> Vec<&'a Object> {
        let chosen = |o: &Object| {
            let in_only = self.only.is_empty() || Self::names(o, &self.only);
            in_only && !Self::names(o, &self.skip)
        };
        let tiered = |o: &Object| o.tier.is_some() || o.service.is_some();
        let namespaces: BTreeSet<&str> = set
            .objects
            .iter()
            .filter(|o| tiered(o) && chosen(o))
            .map(Object::namespace)
            .collect();
        let keep_untiered = |o: &Object| {
            if self.only.is_empty() {
                return true;
            }
            match o.kind() {
                kind::NAMESPACE => namespaces.contains(o.name()),
                kind::CUSTOM_RESOURCE_DEFINITION => false,
                _ => o.namespace().is_empty() || namespaces.contains(o.namespace()),
            }
        };
        let kept = |o: &Object| {
            if tiered(o) {
                chosen(o)
            } else {
                keep_untiered(o)
            }
        };
        let used: BTreeSet<(&str, &str)> = set
            .objects
            .iter()
            .filter(|o| o.kind() != kind::CUSTOM_RESOURCE_DEFINITION && kept(o))
            .map(|o| (group_of(o.api_version()), o.kind()))
            .collect();
        let kept_crd = |crd: &Object| {
            let defined = (
                crd.value["spec"]["group"].as_str().unwrap_or(""),
                crd.value["spec"]["names"]["kind"].as_str().unwrap_or(""),
            );
            let own = tiered(crd) && chosen(crd);
            let untiered = !tiered(crd) && self.only.is_empty();
            own || untiered || used.contains(&defined)
        };
        // In the order of the set.
        set.objects
            .iter()
            .filter(|o| {
                if o.kind() == kind::CUSTOM_RESOURCE_DEFINITION {
                    kept_crd(o)
                } else {
                    kept(o)
                }
            })
            .collect()
    }
}

/// The group of an `apiVersion` (`""` for the core group).
pub fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

/// What a step holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Namespaces and CRDs, before anything else.
    Setup,
    /// The objects of one wave.
    Wave(usize),
}

/// One step of an apply: objects applied together, then waited for.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// Setup or a wave.
    pub kind: StepKind,
    /// The objects, in apply order.
    pub objects: Vec<&'a Object>,
}

impl Step<'_> {
    /// `setup` or `wave N`.
    pub fn label(&self) -> String {
        match self.kind {
            StepKind::Setup => "setup".to_string(),
            StepKind::Wave(n) => format!("wave {n}"),
        }
    }

    /// The objects in batches applied one after the other: what workloads
    /// use (accounts, secrets, config, services…) before the workloads and
    /// what refers to them, so pods do not start without their config.
    pub fn batches(&self) -> Vec<Vec<&Object>> {
        let workloads = kind_rank(kind::DEPLOYMENT);
        let (before, after): (Vec<&Object>, Vec<&Object>) = self
            .objects
            .iter()
            .partition(|o| kind_rank(o.kind()) < workloads);
        [before, after]
            .into_iter()
            .filter(|b| !b.is_empty())
            .collect()
    }
}

/// The kinds applied in the setup step, before any wave, and removed after
/// every wave, in the order of removal: a CRD defines other objects' kind, a
/// namespace holds them.
pub const SETUP_KINDS: [&str; 2] = [kind::CUSTOM_RESOURCE_DEFINITION, kind::NAMESPACE];

/// True for the objects applied in the setup step.
pub fn is_setup(object: &Object) -> bool {
    SETUP_KINDS.contains(&object.kind())
}

/// The steps of applying `objects`: one setup step with every Namespace and
/// CRD (whatever its wave), then one step per wave in ascending order.
pub fn steps<'a>(objects: &[&'a Object]) -> Vec<Step<'a>> {
    // One pass: each object to the setup step or to its wave's, in order.
    let mut setup = Vec::new();
    let mut waves: BTreeMap<usize, Vec<&Object>> = BTreeMap::new();
    for object in objects {
        if is_setup(object) {
            setup.push(*object);
        } else {
            waves.entry(object.wave).or_default().push(*object);
        }
    }
    let mut out = Vec::new();
    if !setup.is_empty() {
        out.push(Step {
            kind: StepKind::Setup,
            objects: setup,
        });
    }
    out.extend(waves.into_iter().map(|(wave, objects)| Step {
        kind: StepKind::Wave(wave),
        objects,
    }));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn object(
        wave: usize,
        tier: Option<&str>,
        kind: &str,
        ns: &str,
        name: &str,
    ) -> Object {
        let api = match kind {
            kind::DEPLOYMENT | kind::STATEFUL_SET => "apps/v1",
            kind::CUSTOM_RESOURCE_DEFINITION => "apiextensions.k8s.io/v1",
            kind::CNPG_CLUSTER => "postgresql.cnpg.io/v1",
            _ => "v1",
        };
        let mut value = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
        if !ns.is_empty() {
            value["metadata"]["namespace"] = json!(ns);
        }
        if kind == kind::CUSTOM_RESOURCE_DEFINITION {
            value["spec"] =
                json!({"group": "postgresql.cnpg.io", "names": {"kind": kind::CNPG_CLUSTER}});
        }
        Object {
            wave,
            tier: tier.map(str::to_string),
            service: (tier.is_some() && !matches!(kind, kind::CUSTOM_RESOURCE_DEFINITION))
                .then(|| name.to_string()),
            value,
        }
    }

    pub(crate) fn shop() -> RenderedSet {
        RenderedSet {
            platform: "shop".into(),
            environment: Some("dev".into()),
            objects: vec![
                object(0, None, kind::NAMESPACE, "", "data"),
                object(0, None, kind::NAMESPACE, "", "apps"),
                object(0, None, kind::SECRET, "apps", "shared"),
                object(0, None, kind::SECRET, "data", "creds"),
                object(
                    1,
                    Some("operators"),
                    kind::CUSTOM_RESOURCE_DEFINITION,
                    "",
                    "clusters.postgresql.cnpg.io",
                ),
                object(1, Some("operators"), kind::DEPLOYMENT, "data", "cnpg"),
                object(2, Some("data"), kind::CNPG_CLUSTER, "data", "pg"),
                object(2, Some("data"), kind::SERVICE_ACCOUNT, "data", "db"),
                object(2, Some("data"), kind::STATEFUL_SET, "data", "db"),
                object(3, Some("apps"), kind::SERVICE_ACCOUNT, "apps", "api"),
                object(3, Some("apps"), kind::DEPLOYMENT, "apps", "api"),
            ],
            generated_secrets: vec![],
            pull_secrets: Vec::new(),
        }
    }

    fn names(objects: &[&Object]) -> Vec<String> {
        objects.iter().map(|o| o.key()).collect()
    }

    #[test]
    fn setup_holds_namespaces_and_crds_of_any_wave_then_waves_ascend() {
        let set = shop();
        let all = Selection::default().select(&set);
        let steps = steps(&all);
        let labels: Vec<String> = steps.iter().map(Step::label).collect();
        assert_eq!(labels, ["setup", "wave 0", "wave 1", "wave 2", "wave 3"]);
        assert_eq!(
            names(&steps[0].objects),
            [
                "Namespace//data",
                "Namespace//apps",
                "CustomResourceDefinition//clusters.postgresql.cnpg.io"
            ]
        );
        assert_eq!(
            names(&steps[2].objects),
            ["Deployment/data/cnpg"],
            "the CRD left wave 1 for setup"
        );
    }

    #[test]
    fn batches_put_what_workloads_use_first() {
        let set = shop();
        let all = Selection::default().select(&set);
        let steps = steps(&all);
        let wave2: Vec<Vec<String>> = steps[3]
            .batches()
            .iter()
            .map(|b| b.iter().map(|o| o.key()).collect())
            .collect();
        assert_eq!(
            wave2,
            [
                vec!["ServiceAccount/data/db".to_string()],
                vec![
                    "Cluster/data/pg".to_string(),
                    "StatefulSet/data/db".to_string()
                ]
            ]
        );
    }

    #[test]
    fn skip_leaves_out_a_tier_but_keeps_setup_and_needed_crds() {
        let set = shop();
        let selection = Selection {
            skip: vec!["operators".into()],
            ..Selection::default()
        };
        let kept = names(&selection.select(&set));
        assert!(!kept.contains(&"Deployment/data/cnpg".to_string()));
        assert!(
            kept.contains(&"CustomResourceDefinition//clusters.postgresql.cnpg.io".to_string()),
            "the data tier's Cluster needs the CRD"
        );
        assert!(kept.contains(&"Secret/data/creds".to_string()));
        assert_eq!(kept.len(), set.objects.len() - 1);
    }

    #[test]
    fn only_keeps_a_tier_with_its_namespaces_and_their_setup_objects() {
        let set = shop();
        let selection = Selection {
            only: vec!["apps".into()],
            ..Selection::default()
        };
        assert_eq!(
            names(&selection.select(&set)),
            [
                "Namespace//apps",
                "Secret/apps/shared",
                "ServiceAccount/apps/api",
                "Deployment/apps/api"
            ]
        );
    }

    #[test]
    fn only_a_service_and_skip_a_service() {
        let set = shop();
        let only_pg = Selection {
            only: vec!["pg".into()],
            ..Selection::default()
        };
        assert_eq!(
            names(&only_pg.select(&set)),
            [
                "Namespace//data",
                "Secret/data/creds",
                "CustomResourceDefinition//clusters.postgresql.cnpg.io",
                "Cluster/data/pg"
            ]
        );
        let skip_api = Selection {
            skip: vec!["api".into()],
            ..Selection::default()
        };
        assert!(!names(&skip_api.select(&set)).contains(&"Deployment/apps/api".to_string()));
    }

    #[test]
    fn unknown_names_are_reported_with_the_known_ones() {
        let set = shop();
        let selection = Selection {
            only: vec!["infra".into()],
            ..Selection::default()
        };
        let err = selection.check(&set).unwrap_err();
        assert_eq!(err.name, "infra");
        assert!(err.known.contains("apps") && err.known.contains("pg"));
        assert!(Selection::default().check(&set).is_ok());
    }
}
