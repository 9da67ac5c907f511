//! The three ways a platform is rendered agree: `render::render` (every
//! object held, for exports and the cluster), `render::yaml_stream` (each
//! object written as text when it is made, for `strata render`) and
//! `render::check` (a hash of each identity, for `strata check`). Checked on every
//! example in every environment and on a synthetic platform, and on specs
//! that render refuses.

mod support;

use std::collections::HashSet;

use strata_core::export::{self, Format};
use strata_core::model::{Platform, environment_names};
use strata_core::render::{self, Assets, Identity, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;
use support::Directory;

/// Renders `platform` the three ways and compares them.
fn agree(platform: &Platform, assets: &dyn Assets, what: &str) {
    let set = render::render(platform, assets).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    let stream = render::yaml_stream(platform, assets).unwrap();
    let checked = render::check(platform, assets).unwrap();

    let rendered: HashSet<Identity> = set.objects.iter().map(Identity::of).collect();
    assert_eq!(
        rendered.len(),
        set.objects.len(),
        "{what}: a collision passed"
    );
    // As many objects, each of them among check's: the same identities.
    assert_eq!(checked.len(), set.objects.len(), "{what}");
    let missing: Vec<String> = set
        .objects
        .iter()
        .filter(|o| !checked.holds(o))
        .map(|o| Identity::of(o).as_path())
        .collect();
    assert!(
        missing.is_empty(),
        "{what}: check and render disagree on {missing:?}"
    );
    assert_eq!(checked.generated_secrets, set.generated_secrets, "{what}");
    assert_eq!(checked.pull_secrets, set.pull_secrets, "{what}");

    assert_eq!(stream.len(), set.objects.len(), "{what}");
    let mut written = Vec::new();
    stream.write_to(&mut written).unwrap();
    let all: Vec<_> = set.objects.iter().collect();
    assert!(
        String::from_utf8(written).unwrap() == export::stream(&all, Format::Yaml),
        "{what}: the streamed YAML differs from the set's"
    );
    assert_eq!(stream.generated_secrets, set.generated_secrets, "{what}");
    assert_eq!(stream.pull_secrets, set.pull_secrets, "{what}");
}

#[test]
fn every_example_in_every_environment_renders_alike_three_ways() {
    let examples = support::examples();
    assert_eq!(examples.len(), 5);
    for path in examples {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = SourceFile::new(path.display().to_string(), text);
        let doc = spec::parse(&file).unwrap();
        let assets = Directory(path.parent().unwrap().to_path_buf());
        let environments =
            std::iter::once(None).chain(environment_names(&doc.spec).into_iter().map(Some));
        for env in environments {
            let platform = strata_core::resolve(&doc, env).unwrap();
            agree(&platform, &assets, &format!("{} {env:?}", path.display()));
        }
    }
}

#[test]
fn a_synthetic_platform_renders_alike_three_ways() {
    let file = SourceFile::new(
        "synthetic.yaml",
        strata_core::synthetic::platform_yaml(300, 6, 2024),
    );
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    agree(&platform, &NoAssets, "synthetic");
}

/// What each way reports for `text`, which render refuses.
fn refusals(text: &str) -> [Vec<String>; 3] {
    let file = SourceFile::new("p.yaml", text);
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let said = |diagnostics: Vec<strata_core::diag::Diagnostic>| {
        diagnostics
            .iter()
            .map(|d| format!("{} {:?} {}", d.code, d.location(), d.message))
            .collect::<Vec<_>>()
    };
    [
        said(render::render(&platform, &NoAssets).unwrap_err()),
        said(render::yaml_stream(&platform, &NoAssets).unwrap_err()),
        said(render::check(&platform, &NoAssets).unwrap_err()),
    ]
}

#[test]
fn a_collision_is_refused_alike_three_ways_at_both_origins() {
    let [render, stream, check] = refusals(
        "platform: demo\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, expose: [] }\n      db-headless: { image: demo/db-proxy:1.0, ports: { http: 8080 }, expose: [] }\n",
    );
    assert_eq!(render.len(), 1, "{render:?}");
    assert!(
        render[0].starts_with("duplicate-object Some(\"p.yaml:6:7\")"),
        "{render:?}"
    );
    assert!(
        render[0].contains("which the service `db` makes too"),
        "{render:?}"
    );
    assert_eq!(stream, render);
    assert_eq!(check, render);
}

#[test]
fn a_pod_its_namespace_refuses_is_refused_alike_three_ways() {
    let [render, stream, check] = refusals(
        "platform: demo\nnamespaces:\n  demo: { podSecurity: { enforce: baseline } }\ntiers:\n  - name: apps\n    services:\n      agent:\n        image: demo/agent:1.0\n        ports: { http: 8080 }\n        patches:\n          - target: Deployment\n            json:\n              - { op: add, path: /spec/template/spec/volumes/-, value: { name: logs, hostPath: { path: /var/log } } }\n",
    );
    assert_eq!(render.len(), 1, "{render:?}");
    assert!(
        render[0].starts_with("pod-security-violation Some(\"p.yaml:11:13\")"),
        "{render:?}"
    );
    assert_eq!(stream, render);
    assert_eq!(check, render);
}
