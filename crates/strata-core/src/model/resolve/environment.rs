//! Choosing an environment and overlaying its per-service overrides on the
//! spec's YAML tree, so an override may change any service field and is
//! checked exactly like the base spec.

use std::collections::{BTreeMap, HashMap};

use super::Resolver;
use crate::diag::{Diagnostic, suggestion};
use crate::source::Span;
use crate::spec::decode::Decoder;
use crate::spec::platform::{EnvironmentSpec, TierSpec};
use crate::spec::yaml::{Node, NodeKind};
use crate::spec::{Document, PlatformSpec, Spanned};

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
    if let Some(env) = found {
        Ok(&env.value)
    } else {
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

/// The spec of environment `name`: the decoded base spec with its service
/// overrides merged in, its node pools, storage classes, externals and
/// registries merged over the base ones, and the services and tiers it
/// leaves out (`without:`) removed.
///
/// Only what the environment writes is decoded again: each overridden
/// service, and each top-level mapping it merges into, from the base's YAML
/// node with the environment's merged over it, so an override may change
/// any field and is checked (at the environment's lines) exactly like the
/// base spec. Everything else is the base's decoded records.
///
/// # Errors
/// An override or a `without:` entry naming a service or tier the spec does
/// not have; else every problem of the merged services and mappings.
pub(crate) fn overlay(doc: &Document, name: &str) -> Result<PlatformSpec, Vec<Diagnostic>> {
    let mut spec = doc.spec.clone();
    let Some(environment) = doc.root.get("environments").and_then(|e| e.get(name)) else {
        return Ok(spec);
    };
    let mut errors = Vec::new();
    // Each overridden service's YAML with the override merged in, by the
    // span of the service's name (which tells apart two services of one name).
    let mut merged: HashMap<Span, Node> = HashMap::new();
    if let Some(NodeKind::Map(entries)) = environment.get("services").map(|s| &s.kind) {
        for (key, value) in entries {
            let Some(service) = key.as_scalar() else {
                continue;
            };
            if let Some((base_key, base)) = service_node(&doc.root, service) {
                let mut node = base.clone();
                node.merge(value);
                merged.insert(base_key.span, node);
            } else {
                let known = service_names(&doc.spec);
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
    if let Some(NodeKind::Seq(items)) = environment.get("without").map(|w| &w.kind) {
        for item in items {
            let Some(entry) = item.as_scalar() else {
                continue;
            };
            if let Err(diagnostic) = leave_out(&mut spec, entry) {
                errors.push(diagnostic.at(&doc.file, item.span, "not in this platform"));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Decoded in the order of `PlatformSpec`'s fields, as a whole spec is,
    // so that problems at one place are listed in the same order.
    let mut decoder = Decoder::new(&doc.file);
    let top = |key: &str| {
        let NodeKind::Map(entries) = &environment.kind else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, over)| merged_over(doc.root.get(key), over))
    };
    let node_pools = top("nodePools");
    let storage_classes = top("storageClasses");
    let externals = top("externals");
    let registries = top("registries");
    if let Some(node) = node_pools {
        spec.node_pools = decoder.spanned(node);
    }
    for tier in &mut spec.tiers.value {
        let Some(services) = &mut tier.value.services else {
            continue;
        };
        services.value.0.retain_mut(|(key, service)| {
            let Some(node) = merged.remove(&key.span) else {
                return true;
            };
            match decoder.spanned(node) {
                Some(decoded) => {
                    *service = decoded;
                    true
                }
                None => false,
            }
        });
    }
    if let Some(node) = storage_classes {
        spec.storage_classes = decoder.spanned(node);
    }
    if let Some(node) = externals {
        spec.externals = decoder.spanned(node);
    }
    if let Some(node) = registries {
        spec.registries = decoder.spanned(node);
    }
    if decoder.is_clean() {
        Ok(spec)
    } else {
        let mut diagnostics = decoder.into_diagnostics();
        diagnostics.sort_by_key(|d| d.labels.first().map(|l| l.span.start()));
        Err(diagnostics)
    }
}

/// The environment's mapping `over` merged over the base's, or `over` alone
/// when the base has none.
fn merged_over(base: Option<&Node>, over: &Node) -> Node {
    match base {
        Some(base) => {
            let mut node = base.clone();
            node.merge(over);
            node
        }
        None => over.clone(),
    }
}

/// Removes a service, or a whole tier (`tier/NAME`), from the spec.
fn leave_out(spec: &mut PlatformSpec, entry: &str) -> Result<(), Diagnostic> {
    let tiers = &mut spec.tiers.value;
    if let Some(tier) = entry.strip_prefix("tier/") {
        let before = tiers.len();
        let known = tier_names(tiers);
        tiers.retain(|t| t.value.name.value.0 != tier);
        if tiers.len() == before {
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(Diagnostic::error(
                "unknown-tier",
                format!("`without:` names `{tier}`, which is not a tier of this platform"),
            )
            .help(suggestion(tier, &known, "tier")));
        }
        return Ok(());
    }
    for tier in tiers.iter_mut() {
        let Some(services) = &mut tier.value.services else {
            continue;
        };
        if let Some(at) = services
            .value
            .0
            .iter()
            .position(|(k, _)| k.value.0 == entry)
        {
            services.value.0.remove(at);
            return Ok(());
        }
    }
    let known = service_names(spec);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let help = if tier_names(&spec.tiers.value).iter().any(|t| t == entry) {
        format!("`{entry}` is a tier: write `tier/{entry}` to leave out all of it")
    } else {
        suggestion(entry, &known, "service")
    };
    Err(Diagnostic::error(
        "unknown-service",
        format!("`without:` names `{entry}`, which is not a service of this platform"),
    )
    .help(help))
}

fn tier_names(tiers: &[Spanned<TierSpec>]) -> Vec<String> {
    tiers.iter().map(|t| t.value.name.value.0.clone()).collect()
}

impl Resolver<'_> {
    /// Reports a reference to a service (or a tier, when `tier`) that the
    /// environment leaves out with `without:`; whether it did.
    pub(super) fn left_out(&mut self, name: &str, tier: bool, span: Span) -> bool {
        let Some(why) = self.left_out_by(name, tier) else {
            return false;
        };
        let env = self.env_name.unwrap_or_default();
        let what = if tier { "tier" } else { "service" };
        self.error(
            "left-out",
            format!("the {what} `{name}` is left out of environment `{env}` (`without: [{why}]`)"),
            span,
            "left out in this environment",
            format!(
                "leave out what refers to it too (add it to `environments.{env}.without`), or change the reference in `environments.{env}.services`"
            ),
        );
        true
    }

    /// The `without:` entry that leaves out a service (or a tier, when
    /// `tier`) in this environment, if any.
    pub(super) fn left_out_by(&self, name: &str, tier: bool) -> Option<String> {
        let environment = self.environment?;
        let entries: Vec<&str> = environment
            .without
            .iter()
            .flat_map(|w| &w.value)
            .map(|e| e.value.as_str())
            .collect();
        let removed_tier = |t: &str| entries.iter().any(|e| e.strip_prefix("tier/") == Some(t));
        if tier {
            removed_tier(name).then(|| format!("tier/{name}"))
        } else if entries.contains(&name) {
            Some(name.to_string())
        } else {
            // A service of a tier left out as a whole.
            self.doc
                .spec
                .tiers
                .value
                .iter()
                .find(|t| {
                    t.value
                        .services
                        .as_ref()
                        .is_some_and(|s| s.value.get(name).is_some())
                })
                .filter(|t| removed_tier(&t.value.name.value.0))
                .map(|t| format!("tier/{}", t.value.name.value.0))
        }
    }

    /// The environment's namespace renames, base name to new name, checked:
    /// each renamed namespace must be one of the platform's, and no two
    /// namespaces may end up with one name.
    pub(super) fn namespace_renames(&mut self, base_shared: &str) -> BTreeMap<String, String> {
        let mut renames = BTreeMap::new();
        let Some(environment) = self.environment else {
            return renames;
        };
        let base = base_namespaces(&self.doc.spec, base_shared);
        if let Some(shared) = &environment.namespace {
            renames.insert(base_shared.to_string(), shared.value.0.clone());
        }
        let mut spans: BTreeMap<String, Span> = BTreeMap::new();
        for (from, to) in environment.namespaces.iter().flat_map(|n| n.value.iter()) {
            if !base.contains(&from.value.0) {
                let known: Vec<&str> = base.iter().map(String::as_str).collect();
                self.error(
                    "unknown-namespace",
                    format!(
                        "no tier or tenant uses the namespace `{}`, so it cannot be renamed",
                        from.value.0
                    ),
                    from.span,
                    "unused namespace",
                    suggestion(&from.value.0, &known, "namespace"),
                );
                continue;
            }
            if from.value.0 == base_shared && environment.namespace.is_some() {
                self.error(
                    "namespace-conflict",
                    format!("the shared namespace `{base_shared}` is renamed twice: by `namespace` and here"),
                    from.span,
                    "renamed twice",
                    "keep one of the two".into(),
                );
                continue;
            }
            renames.insert(from.value.0.clone(), to.value.0.clone());
            spans.insert(from.value.0.clone(), to.span);
        }
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for name in &base {
            let new = renames.get(name).unwrap_or(name);
            match seen.get(new) {
                Some(other) => {
                    let span = spans
                        .get(name)
                        .or_else(|| spans.get(*other))
                        .copied()
                        .or(environment.namespace.as_ref().map(|n| n.span));
                    if let Some(span) = span {
                        self.error(
                            "namespace-conflict",
                            format!(
                                "the namespaces `{other}` and `{name}` would both be named `{new}`"
                            ),
                            span,
                            "namespace already used",
                            "give each namespace a name of its own in this environment".into(),
                        );
                    }
                }
                None => {
                    seen.insert(new.clone(), name);
                }
            }
        }
        renames
    }
}

/// Every namespace the base spec uses: the shared one, the tiers' and the
/// tenants'.
fn base_namespaces(spec: &PlatformSpec, shared: &str) -> Vec<String> {
    let mut names = vec![shared.to_string()];
    let tiers = spec
        .tiers
        .value
        .iter()
        .filter_map(|t| t.value.namespace.as_ref())
        .map(|n| n.value.0.clone());
    let tenants = spec
        .tenants
        .iter()
        .flat_map(|t| t.value.iter())
        .map(|(name, t)| {
            t.value
                .namespace
                .as_ref()
                .map_or_else(|| format!("tenant-{}", name.value.0), |n| n.value.0.clone())
        });
    for name in tiers.chain(tenants) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Every name a namespace has in some environment, besides its base name.
pub(super) fn renamed_namespaces(spec: &PlatformSpec) -> Vec<String> {
    spec.environments
        .iter()
        .flat_map(|e| e.value.iter())
        .flat_map(|(_, env)| {
            env.value
                .namespace
                .iter()
                .map(|n| n.value.0.clone())
                .chain(
                    env.value
                        .namespaces
                        .iter()
                        .flat_map(|n| n.value.iter())
                        .map(|(_, to)| to.value.0.clone()),
                )
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The YAML of the first service called `service`, with its name's node.
fn service_node<'n>(root: &'n Node, service: &str) -> Option<(&'n Node, &'n Node)> {
    let Some(NodeKind::Seq(tiers)) = root.get("tiers").map(|t| &t.kind) else {
        return None;
    };
    tiers
        .iter()
        .filter_map(|t| match &t.get("services")?.kind {
            NodeKind::Map(services) => Some(services),
            _ => None,
        })
        .find_map(|services| {
            services
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(service))
        })
        .map(|(key, node)| (key, node))
}

/// The names of the spec's services, in spec order.
fn service_names(spec: &PlatformSpec) -> Vec<String> {
    spec.tiers
        .value
        .iter()
        .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
        .map(|(k, _)| k.value.0.clone())
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
        let prod = crate::resolve(&doc, Some("prod")).unwrap();
        let autoscale = prod
            .service("api")
            .unwrap()
            .runtime
            .autoscale
            .as_deref()
            .unwrap();
        assert_eq!((autoscale.min, autoscale.max), (3, 10));
        // Without a base to merge over, the override must be complete.
        let errors = crate::resolve(&doc, Some("broken")).unwrap_err();
        assert_eq!(errors[0].code, "missing-key", "{errors:?}");
        assert!(errors[0].message.contains("`max`"), "{errors:?}");
    }

    fn codes(text: &str, env: &str) -> Vec<(&'static str, String)> {
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        match crate::resolve(&doc, Some(env)) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| (e.code, file.slice(e.labels[0].span).to_string()))
                .collect(),
        }
    }

    /// The environment's spec as it was made before: the whole YAML tree
    /// with the environment merged in, decoded again.
    fn decoded_tree(doc: &spec::Document, env: &str) -> spec::PlatformSpec {
        use crate::spec::yaml::NodeKind;
        // The whole tree: a parsed spec keeps only what overlays read.
        let mut root = spec::yaml::parse(&doc.file).unwrap();
        let environment = doc.root.get("environments").unwrap().get(env).unwrap();
        let NodeKind::Map(keys) = &environment.kind else {
            panic!("an environment is a mapping");
        };
        let NodeKind::Map(top) = &mut root.kind else {
            panic!("a spec is a mapping");
        };
        for (key, over) in keys {
            let name = key.as_scalar().unwrap();
            if let ("services", NodeKind::Map(services)) = (name, &over.kind) {
                for (service, over) in services {
                    let (_, tiers) = top
                        .iter_mut()
                        .find(|(k, _)| k.as_scalar() == Some("tiers"))
                        .unwrap();
                    let NodeKind::Seq(tiers) = &mut tiers.kind else {
                        panic!("tiers are a list");
                    };
                    let base = tiers
                        .iter_mut()
                        .filter_map(|t| t.get_mut("services"))
                        .find_map(|s| match &mut s.kind {
                            NodeKind::Map(s) => s
                                .iter_mut()
                                .find(|(k, _)| k.as_scalar() == service.as_scalar()),
                            _ => None,
                        })
                        .unwrap();
                    base.1.merge(over);
                }
            } else if matches!(
                name,
                "nodePools" | "storageClasses" | "externals" | "registries"
            ) {
                match top.iter_mut().find(|(k, _)| k.as_scalar() == Some(name)) {
                    Some((_, base)) => base.merge(over),
                    None => top.push((key.clone(), over.clone())),
                }
            }
        }
        spec::decode_root(&doc.file, root).unwrap()
    }

    #[test]
    fn an_environment_is_what_decoding_the_merged_tree_gave() {
        let text = "
platform: t
nodePools: { general: { selector: { pool: general }, nodes: 1 } }
externals:
  kafka: { hosts: [kafka.dev.internal], ports: { kafka: 9092 }, cidr: 10.1.0.0/16 }
environments:
  prod:
    nodePools: { general: { nodes: 3 }, gpu: { selector: { pool: gpu }, nodes: 2 } }
    storageClasses: { ssd: { provisioner: ebs.csi.aws.com } }
    externals: { kafka: { hosts: [kafka-0.prod.internal] } }
    registries: { registry.example.com: { pullSecret: prodcred } }
    services:
      api: { autoscale: { min: 3 }, env: { MODE: prod }, probes: ~ }
      db: { storage: 20Gi }
tiers:
  - name: data
    services:
      db: { image: postgres:16.4, ports: { pg: 5432 }, storage: 10Gi }
  - name: apps
    services:
      api: { image: t/api:1.0.0, autoscale: { min: 2, max: 10 }, env: { LOG: info } }
      web: { image: t/web:1.0.0, pool: general }
";
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        let overlaid = super::overlay(&doc, "prod").unwrap();
        assert_eq!(overlaid, decoded_tree(&doc, "prod"));
        assert_ne!(overlaid, doc.spec, "the environment changes the spec");
        // And so for the environments of the examples.
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut compared = 0;
        for entry in std::fs::read_dir(examples).unwrap() {
            let path = entry.unwrap().path().join("platform.yaml");
            let text = std::fs::read_to_string(&path).unwrap();
            let file = SourceFile::new(path.display().to_string(), text.as_str());
            let doc = spec::parse(&file).unwrap();
            for env in super::environment_names(&doc.spec) {
                if doc
                    .root
                    .get("environments")
                    .unwrap()
                    .get(env)
                    .unwrap()
                    .get("without")
                    .is_none()
                {
                    assert_eq!(
                        super::overlay(&doc, env).unwrap(),
                        decoded_tree(&doc, env),
                        "{env}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared >= 5, "compared {compared} environments");
    }

    #[test]
    fn problems_of_what_an_environment_merges_are_at_its_lines_in_spec_order() {
        let text = "
platform: t
nodePools: { general: { selector: { pool: general } } }
environments:
  broken:
    storageClasses: { ssd: { reclaimPolicy: Retain } }
    services: { web: { autoscale: { min: 3 } } }
    nodePools: { extra: { nodes: 2 } }
tiers:
  - name: apps
    services:
      web: { image: t/web:1.0.0, ports: { http: 8080 } }
";
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        let errors = crate::resolve(&doc, Some("broken")).unwrap_err();
        let found: Vec<(&str, String)> = errors
            .iter()
            .map(|e| (e.code, e.location().unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                ("missing-key", "t.yaml:6:28".to_string()),
                ("missing-key", "t.yaml:7:35".to_string()),
                ("missing-key", "t.yaml:8:25".to_string()),
            ]
        );
    }

    #[test]
    fn renames_must_name_a_namespace_and_keep_namespaces_apart() {
        let text = "
platform: t
environments:
  typo: { namespaces: { dta: t-data } }
  clash: { namespaces: { data: t } }
  twice: { namespace: t-staging, namespaces: { t: t-other } }
tiers:
  - { name: data, namespace: data, services: { db: { image: postgres:16.4 } } }
  - { name: apps, services: { api: { image: t/api:1.0.0 } } }
";
        assert_eq!(codes(text, "typo"), [("unknown-namespace", "dta".into())]);
        assert_eq!(codes(text, "clash"), [("namespace-conflict", "t".into())]);
        assert_eq!(codes(text, "twice"), [("namespace-conflict", "t".into())]);
    }

    #[test]
    fn an_environment_moves_an_external_and_references_follow() {
        let text = "
platform: t
externals:
  kafka: { hosts: [kafka.dev.internal], ports: { kafka: 9092 }, cidr: 10.1.0.0/16 }
environments:
  prod:
    externals:
      kafka: { hosts: [kafka-0.prod.internal, kafka-1.prod.internal], cidr: 10.2.0.0/16 }
      smtp: { hosts: [smtp.example.com], ports: { smtp: 587 }, cidr: 0.0.0.0/0 }
tiers:
  - { name: apps, services: { api: { image: t/api:1.0.0, env: { BROKERS: \"${kafka.address}\" } } } }
";
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        let brokers = |platform: &model::Platform| {
            platform.services[0]
                .env
                .iter()
                .find(|v| v.name == "BROKERS")
                .map(|v| v.value.clone())
        };
        let base = crate::resolve(&doc, None).unwrap();
        assert_eq!(
            brokers(&base),
            Some(model::EnvValue::Literal("kafka.dev.internal:9092".into()))
        );
        let prod = crate::resolve(&doc, Some("prod")).unwrap();
        assert_eq!(
            brokers(&prod),
            Some(model::EnvValue::Literal(
                "kafka-0.prod.internal:9092,kafka-1.prod.internal:9092".into()
            ))
        );
        let kafka = &prod.externals[0];
        assert_eq!(kafka.hosts.len(), 2);
        assert_eq!(kafka.ports, [("kafka".to_string(), 9092)]);
        assert_eq!(kafka.reach, model::Reach::Block("10.2.0.0/16".into()));
        assert_eq!(prod.externals[1].name, "smtp");
    }

    #[test]
    fn an_environment_adds_and_changes_pools_and_classes() {
        let text = "
platform: t
nodePools: { general: { selector: { pool: general }, nodes: 1 } }
storageClasses: { local: { provisioner: rancher.io/local-path } }
environments:
  prod:
    nodePools: { general: { nodes: 3 }, gpu: { selector: { pool: gpu }, nodes: 2 } }
    storageClasses: { ssd: { provisioner: ebs.csi.aws.com } }
  broken:
    nodePools: { extra: { nodes: 2 } }
tiers:
  - { name: apps, services: { api: { image: t/api:1.0.0, pool: general } } }
";
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        let base = crate::resolve(&doc, None).unwrap();
        assert_eq!(base.node_pools.len(), 1);
        assert_eq!(base.storage_classes.len(), 1);
        let prod = crate::resolve(&doc, Some("prod")).unwrap();
        let pools: Vec<(&str, Option<u32>)> = prod
            .node_pools
            .iter()
            .map(|p| (p.name.as_str(), p.nodes.map(|n| n.max)))
            .collect();
        assert_eq!(pools, [("general", Some(3)), ("gpu", Some(2))]);
        assert_eq!(prod.node_pools[0].selector["pool"], "general");
        let classes: Vec<&str> = prod
            .storage_classes
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(classes, ["local", "ssd"]);
        // A new pool must be complete.
        let errors = crate::resolve(&doc, Some("broken")).unwrap_err();
        assert_eq!(errors[0].code, "missing-key", "{errors:?}");
    }

    #[test]
    fn an_environment_leaves_out_services_and_tiers() {
        let text = "
platform: t
environments:
  minimal: { without: [tier/search, cache] }
  dangling: { without: [db] }
  typo: { without: [tier/serch, search] }
tiers:
  - { name: data, services: { db: { image: postgres:16.4, ports: { pg: 5432 } }, cache: { image: redis:7.4 } } }
  - { name: search, services: { es: { image: elasticsearch:8.15.0 } } }
  - name: apps
    services:
      api: { image: t/api:1.0.0, needs: [cache], env: { DB: '${db.host}' } }
";
        let file = SourceFile::new("t.yaml", text);
        let doc = spec::parse(&file).unwrap();
        // `api` needs `cache`: leaving it out is refused at the need.
        assert_eq!(codes(text, "minimal"), [("left-out", "cache".into())]);
        assert_eq!(codes(text, "dangling"), [("left-out", "${db.host}".into())]);
        let errors = crate::resolve(&doc, Some("dangling")).unwrap_err();
        assert!(
            errors[0].message.contains("environment `dangling`"),
            "{errors:?}"
        );
        assert_eq!(
            codes(text, "typo"),
            [
                ("unknown-tier", "tier/serch".into()),
                ("unknown-service", "search".into())
            ]
        );
        let fixed = text.replace("needs: [cache], ", "");
        let file = SourceFile::new("t.yaml", &fixed);
        let doc = spec::parse(&file).unwrap();
        let minimal = crate::resolve(&doc, Some("minimal")).unwrap();
        let names: Vec<&str> = minimal.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "api"]);
        assert!(minimal.tiers.iter().all(|t| t.name != "search"));
    }
}
