//! Every custom resource Strata renders, for every example in every
//! environment and for the fixtures (blueprints, escape hatches, Strimzi's
//! older release), checked
//! against its operator's published CRD (`testdata/crds`): the version its
//! `apiVersion` names is served and not deprecated, and its structural
//! schema takes the object, unknown fields refused where the schema does not
//! preserve them.

mod support;

#[path = "../../strata-kube/tests/crds/mod.rs"]
mod crds;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crds::{Crds, Refusal};
use serde_json::Value;
use strata_core::{model::Platform, render, source::SourceFile, spec};
use support::{examples, workspace};

/// Kinds rendered without a CRD in `testdata/crds`, each with the reason.
const WITHOUT_CRD: &[(&str, &str, &str)] = &[(
    "elasticsearch.k8s.elastic.co",
    "Elasticsearch",
    "ECK's CRDs are not kept in testdata/crds (no example renders the `eck` mode)",
)];

/// The API groups of Kubernetes itself, which the Kubernetes schemas check
/// (`kubernetes-validate` in `render.rs`); anything else is a custom
/// resource.
const BUILT_IN: &[&str] = &[
    "",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
];

struct Dir(PathBuf);

impl render::Assets for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn platform(spec_path: &str, env: Option<&str>) -> (Platform, Vec<Value>) {
    let path = workspace().join(spec_path);
    let file = SourceFile::new(spec_path, std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), env)
        .unwrap_or_else(|e| panic!("{spec_path} {env:?}: {e:?}"));
    let set = render::render(&platform, &Dir(path.parent().unwrap().to_path_buf()))
        .unwrap_or_else(|e| panic!("{spec_path} {env:?}: {e:?}"));
    let objects = set.objects.iter().map(|o| o.value.clone()).collect();
    (platform, objects)
}

/// The release of `operator` the platform renders for, where it says.
fn release(platform: &Platform, operator: &str) -> Option<String> {
    platform.services.iter().find_map(|s| {
        let tuning = s.tuning.as_ref()?;
        (tuning.mode.operator == Some(operator))
            .then(|| tuning.operator.map(|o| o.release.to_string()))?
    })
}

fn group(object: &Value) -> &str {
    object["apiVersion"]
        .as_str()
        .and_then(|a| a.split_once('/'))
        .map_or("", |(group, _)| group)
}

#[test]
fn every_rendered_custom_resource_matches_its_crd() {
    let crds = Crds::load(&crds::testdata());
    let mut renders: Vec<(String, Option<String>)> = examples();
    for fixture in ["blueprints", "escape-hatches", "strimzi-0.51"] {
        let spec = format!("crates/strata/tests/fixtures/{fixture}/platform.yaml");
        renders.push((spec.clone(), None));
        if fixture == "blueprints" {
            renders.push((spec, Some("local".into())));
        }
    }
    let mut checked = 0;
    let mut kinds = BTreeSet::new();
    let mut excepted = BTreeSet::new();
    let mut problems = Vec::new();
    for (spec_path, env) in &renders {
        let (platform, objects) = platform(spec_path, env.as_deref());
        for object in objects.iter().filter(|o| !BUILT_IN.contains(&group(o))) {
            let kind = object["kind"].as_str().unwrap_or_default();
            let name = format!(
                "{spec_path} {}: {}/{} {}",
                env.as_deref().unwrap_or("(base)"),
                object["apiVersion"].as_str().unwrap_or_default(),
                kind,
                object["metadata"]["name"].as_str().unwrap_or_default()
            );
            let operator = crds
                .definitions(group(object), kind)
                .first()
                .map(|c| c.operator.clone());
            let chosen = operator.as_deref().and_then(|o| release(&platform, o));
            match crds.validate(object, chosen.as_deref()) {
                Ok(()) => {
                    checked += 1;
                    kinds.insert(format!("{}/{kind}", group(object)));
                }
                Err(Refusal::NoDefinition)
                    if WITHOUT_CRD
                        .iter()
                        .any(|(g, k, _)| *g == group(object) && *k == kind) =>
                {
                    excepted.insert(format!("{}/{kind}", group(object)));
                }
                Err(refusal) => problems.push(format!("{name}: {refusal:?}")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} custom resources refused:\n{}",
        problems.len(),
        problems.join("\n")
    );
    for (group, kind, _) in WITHOUT_CRD {
        assert!(
            excepted.contains(&format!("{group}/{kind}")),
            "{group}/{kind} is listed without a CRD but nothing renders it: remove it from WITHOUT_CRD"
        );
    }
    // The examples render the custom resources of every operator kept.
    for operator in crds.all().iter().map(|c| c.operator.as_str()) {
        let rendered = crds
            .all()
            .iter()
            .filter(|c| c.operator == operator)
            .any(|c| kinds.contains(&format!("{}/{}", c.group, c.kind)));
        assert!(rendered, "no render has a custom resource of {operator}");
    }
    eprintln!(
        "{checked} custom resources of {} kinds matched their CRDs",
        kinds.len()
    );
}
