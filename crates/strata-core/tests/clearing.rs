//! What `~` and `none` do under each key that can clear a default: each
//! test renders a service with and without the cleared key and checks the
//! default, a blueprint's included, is gone.

use serde_json::Value;
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;

/// The rendered objects of a one-tier platform of `services`, with the
/// text of `extra` top-level keys before the tiers.
fn objects(extra: &str, services: &str) -> Vec<Value> {
    let text = format!("platform: p\n{extra}tiers:\n  - name: data\n    services:\n{services}");
    let file = SourceFile::new("p.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:#?}"));
    let platform = strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:#?}"));
    render::render(&platform, &NoAssets)
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .objects
        .into_iter()
        .map(|o| o.value)
        .collect()
}

/// The first container of the workload called `name`.
fn container(objects: &[Value], name: &str) -> Value {
    let workload = objects
        .iter()
        .find(|o| {
            matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet"))
                && o["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no workload {name}"));
    workload["spec"]["template"]["spec"]["containers"][0].clone()
}

fn problems(services: &str) -> Vec<String> {
    let text = format!("platform: p\ntiers:\n  - name: data\n    services:\n{services}");
    let file = SourceFile::new("p.yaml", text);
    let errors = match spec::parse(&file) {
        Err(errors) => errors,
        Ok(doc) => strata_core::resolve(&doc, None).err().unwrap_or_default(),
    };
    errors
        .iter()
        .map(|d| format!("{} {}", d.code, d.location().unwrap_or_default()))
        .collect()
}

#[test]
fn storage_none_gives_a_blueprint_no_volume() {
    for cleared in ["storage: none", "storage: ~"] {
        let with = objects("", "      cache: { blueprint: redis }\n");
        let without = objects(
            "",
            &format!("      cache: {{ blueprint: redis, {cleared} }}\n"),
        );
        let claims = |objects: &[Value]| {
            objects
                .iter()
                .filter(|o| o["kind"] == "StatefulSet" || o["kind"] == "PersistentVolumeClaim")
                .filter(|o| {
                    o["kind"] == "PersistentVolumeClaim"
                        || o["spec"].get("volumeClaimTemplates").is_some()
                })
                .count()
        };
        assert_eq!(claims(&with), 1, "the blueprint's volume");
        assert_eq!(claims(&without), 0, "{cleared}");
    }
}

#[test]
fn limits_none_runs_pods_without_limits() {
    let with = container(&objects("", "      api: { image: a/api:1.0 }\n"), "api");
    assert!(with["resources"].get("limits").is_some());
    for cleared in ["none", "~"] {
        let api = container(
            &objects(
                "",
                &format!("      api: {{ image: a/api:1.0, resources: {{ limits: {cleared} }} }}\n"),
            ),
            "api",
        );
        assert!(api["resources"].get("limits").is_none(), "{cleared}: {api}");
        assert!(api["resources"]["requests"]["cpu"].is_string());
    }
    // A blueprint's limits too, and defaults' for every service.
    let redis = container(
        &objects(
            "",
            "      cache: { blueprint: redis, resources: { limits: none } }\n",
        ),
        "cache",
    );
    assert!(redis["resources"].get("limits").is_none());
    let defaulted = container(
        &objects(
            "defaults: { resources: { limits: none } }\n",
            "      api: { image: a/api:1.0 }\n",
        ),
        "api",
    );
    assert!(defaulted["resources"].get("limits").is_none());
    // GPUs stay limited: Kubernetes requires it of extended resources.
    let gpu = container(
        &objects(
            "",
            "      ml: { image: a/ml:1.0, gpu: 1, resources: { limits: none } }\n",
        ),
        "ml",
    );
    assert_eq!(
        gpu["resources"]["limits"],
        serde_json::json!({ "nvidia.com/gpu": "1" })
    );
}

#[test]
fn limits_none_is_refused_where_the_namespace_would_not_run_it() {
    let spec = "namespaces:\n  p: { budget: { cpu: 4, limits: { cpu: 8 } } }\n";
    let text = format!(
        "platform: p\n{spec}tiers:\n  - name: data\n    services:\n      api: {{ image: a/api:1.0, resources: {{ limits: none }} }}\n"
    );
    let file = SourceFile::new("p.yaml", text);
    let errors = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
    let codes: Vec<String> = errors
        .iter()
        .map(|d| format!("{} {}", d.code, d.location().unwrap_or_default()))
        .collect();
    assert!(
        codes.contains(&"conflicting-limits p.yaml:7:53".to_string()),
        "{codes:?}"
    );
}

#[test]
fn command_and_args_cleared_run_the_image_s_own() {
    let with = container(&objects("", "      cache: { blueprint: redis }\n"), "cache");
    assert!(with.get("args").is_some() || with.get("command").is_some());
    let cleared = container(
        &objects(
            "",
            "      cache: { blueprint: redis, command: ~, args: ~ }\n",
        ),
        "cache",
    );
    assert!(cleared.get("command").is_none(), "{cleared}");
    assert!(cleared.get("args").is_none(), "{cleared}");
}

#[test]
fn env_cleared_drops_the_blueprint_s_variables() {
    let with = container(&objects("", "      cache: { blueprint: redis }\n"), "cache");
    let names = |c: &Value| -> Vec<String> {
        c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .collect()
    };
    assert!(names(&with).contains(&"REDIS_PASSWORD".to_string()));
    let cleared = container(
        &objects("", "      cache: { blueprint: redis, env: ~ }\n"),
        "cache",
    );
    assert!(!names(&cleared).contains(&"REDIS_PASSWORD".to_string()));
}

#[test]
fn probes_and_metrics_cleared_are_off() {
    let base = "      api: { image: a/api:1.0, ports: { http: 8080, metrics: 9100 }";
    let with = objects("", &format!("{base} }}\n"));
    let api = container(&with, "api");
    assert!(api.get("readinessProbe").is_some());
    let annotations = |objects: &[Value]| {
        objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .map(|o| o["spec"]["template"]["metadata"]["annotations"].clone())
            .unwrap_or_default()
    };
    assert_eq!(annotations(&with)["prometheus.io/scrape"], "true");
    let cleared = objects("", &format!("{base}, probes: ~, metrics: none }}\n"));
    assert!(container(&cleared, "api").get("readinessProbe").is_none());
    assert!(annotations(&cleared).get("prometheus.io/scrape").is_none());
    let by_defaults = objects("defaults: { probes: ~ }\n", &format!("{base} }}\n"));
    assert!(
        container(&by_defaults, "api")
            .get("readinessProbe")
            .is_none()
    );
}

#[test]
fn null_under_a_key_that_cannot_be_cleared_is_refused_at_its_line() {
    assert_eq!(
        problems("      api: { image: a/api:1.0, replicas: ~ }\n"),
        ["null-value p.yaml:5:42"]
    );
    assert_eq!(
        problems("      api:\n        image: a/api:1.0\n        security: ~\n"),
        ["null-value p.yaml:7:19"]
    );
}

#[test]
fn an_environment_clears_like_the_base() {
    let text = "platform: p\nenvironments:\n  dev:\n    services:\n      cache: { storage: ~ }\ntiers:\n  - name: data\n    services:\n      cache: { blueprint: redis }\n";
    let file = SourceFile::new("p.yaml", text);
    let doc = spec::parse(&file).unwrap();
    let dev = strata_core::resolve(&doc, Some("dev")).unwrap();
    assert!(dev.service("cache").unwrap().storage.is_none());
    let base = strata_core::resolve(&doc, None).unwrap();
    assert!(base.service("cache").unwrap().storage.is_some());
}
