//! `strata render --format kustomize|helm` and `strata graph` as a user
//! runs them. The Kustomize tree is built by `kubectl kustomize`, the Helm
//! chart by a small evaluator of the template subset the chart uses and by
//! Helm's own SDK (no helm binary is packaged here); each must give exactly
//! the objects of `strata render --env E`, for every example and
//! environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

mod support;

use serde_json::{Map, Value};
use strata_core::source::SourceFile;
use support::{strata, workspace};

fn run_ok(args: &[&str]) -> String {
    let output = strata().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The specs exported in these tests: every example, and a spec whose
/// environments change a namespace, images, volumes and config text.
fn specs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(workspace().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path().join("platform.yaml"))
        .filter(|p| p.exists())
        .map(|p| p.strip_prefix(workspace()).unwrap().display().to_string())
        .collect();
    out.sort();
    out.push("crates/strata/tests/exports/shop.yaml".to_string());
    out
}

fn environments(spec: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join(spec)).unwrap();
    let file = SourceFile::new(spec, text);
    let doc = strata_core::spec::parse(&file).expect("the spec parses");
    strata_core::model::environment_names(&doc.spec)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Every object of a YAML stream.
fn objects(yaml: &str) -> Vec<Value> {
    let file = SourceFile::new("output", yaml.to_string());
    strata_core::spec::yaml::parse_all(&file)
        .unwrap_or_else(|d| panic!("not YAML: {}\n{yaml}", d.message))
        .iter()
        .filter(|d| !d.is_null())
        .map(strata_core::spec::yaml::Node::to_json)
        .collect()
}

/// `strata render SPEC [--env ENV]`, parsed.
fn rendered(spec: &str, env: Option<&str>) -> Vec<Value> {
    let mut args = vec!["render", spec];
    if let Some(env) = env {
        args.extend(["--env", env]);
    }
    objects(&run_ok(&args))
}

/// JSON text with keys sorted at every level.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

fn identity(value: &Value) -> String {
    format!(
        "{} {}/{}",
        value["kind"].as_str().unwrap_or("?"),
        value["metadata"]["namespace"].as_str().unwrap_or(""),
        value["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Asserts that two sets of objects are equal, ignoring order; names the
/// objects that differ.
fn assert_same_objects(what: &str, actual: &[Value], expected: &[Value]) {
    let mut a: Vec<String> = actual.iter().map(canonical).collect();
    let mut e: Vec<String> = expected.iter().map(canonical).collect();
    a.sort();
    e.sort();
    if a == e {
        return;
    }
    let only_actual: Vec<String> = actual
        .iter()
        .filter(|v| !e.contains(&canonical(v)))
        .map(identity)
        .collect();
    let only_expected: Vec<String> = expected
        .iter()
        .filter(|v| !a.contains(&canonical(v)))
        .map(identity)
        .collect();
    let detail = only_actual
        .first()
        .map(|name| {
            let got = actual.iter().find(|v| identity(v) == *name);
            let want = expected.iter().find(|v| identity(v) == *name);
            format!(
                "\nfirst difference, {name}:\n got: {}\nwant: {}",
                got.map(canonical).unwrap_or_default(),
                want.map(canonical).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    panic!(
        "{what}: {} objects vs {} expected\nonly in the export: {only_actual:?}\nonly in `strata render`: {only_expected:?}{detail}",
        actual.len(),
        expected.len()
    );
}

fn export(spec: &str, format: &str, dir: &Path) {
    let output = strata()
        .args(["render", spec, "--format", format, "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn kubectl_available() -> bool {
    let available = Process::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have kubectl on the PATH"
        );
        eprintln!("skipped: kubectl is not installed");
    }
    available
}

fn kustomize(dir: &Path) -> Vec<Value> {
    let output = Process::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    objects(&String::from_utf8(output.stdout).unwrap())
}

#[test]
fn every_kustomize_overlay_builds_exactly_what_render_gives() {
    if !kubectl_available() {
        return;
    }
    let mut checked = 0;
    for spec in specs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tree");
        export(&spec, "kustomize", &out);
        assert_same_objects(
            &format!("{spec} base"),
            &kustomize(&out.join("base")),
            &rendered(&spec, None),
        );
        for env in environments(&spec) {
            let overlay = out.join("overlays").join(&env);
            assert_same_objects(
                &format!("{spec} overlay {env}"),
                &kustomize(&overlay),
                &rendered(&spec, Some(&env)),
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "checked {checked} overlays");
}

#[test]
fn overlays_hold_only_what_the_environment_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tree");
    export("crates/strata/tests/exports/shop.yaml", "kustomize", &out);
    let local = std::fs::read_to_string(out.join("overlays/local/kustomization.yaml")).unwrap();
    assert!(local.contains("- ../../base/apps"), "{local}");
    assert!(
        local.contains("images:\n- name: ghcr.io/example/shop-web\n  newTag: 2.1.0-rc1"),
        "{local}"
    );
    assert!(
        local.contains("replicas:\n- name: web\n  count: 1"),
        "{local}"
    );
    assert!(
        !out.join("overlays/local/resources").exists(),
        "local adds no object"
    );
    let patch =
        std::fs::read_to_string(out.join("overlays/local/patches/deployment-web.yaml")).unwrap();
    assert!(
        !patch.contains("image"),
        "images are set by `images:`: {patch}"
    );
    assert!(patch.contains("value: 125m"), "scaled limits: {patch}");
    let deletion =
        std::fs::read_to_string(out.join("overlays/local/patches/poddisruptionbudget-web.yaml"))
            .unwrap();
    assert!(deletion.starts_with("$patch: delete"), "{deletion}");
    // prod moves every tier to `shop-prod`: the overlay carries them in full.
    let prod = std::fs::read_to_string(out.join("overlays/prod/kustomization.yaml")).unwrap();
    assert!(!prod.contains("../../base/apps"), "{prod}");
    assert!(
        prod.contains("- resources/namespace-shop-prod.yaml"),
        "{prod}"
    );
}

#[test]
fn exports_need_a_directory_and_a_valid_spec() {
    let output = strata()
        .args([
            "render",
            "examples/isa-cloud/platform.yaml",
            "--format",
            "kustomize",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("add `--out DIR`"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chart");
    let output = strata()
        .args([
            "render",
            "examples/isa-cloud/platform.yaml",
            "--env",
            "nowhere",
            "--format",
            "helm",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown-environment"));
    assert!(!out.exists(), "nothing is written on error");
}

// ---------------------------------------------------------------------------
// Helm: an evaluator of exactly the subset docs/export.md lists.

/// Helm's merge of `over` into `base`: maps merge key by key, `null`
/// removes a key, anything else replaces.
fn coalesce(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                if value.is_null() {
                    base.remove(key);
                } else if let Some(existing) = base.get_mut(key)
                    && existing.is_object()
                    && value.is_object()
                {
                    coalesce(existing, value);
                } else {
                    base.insert(key.clone(), value.clone());
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

fn lookup<'v>(values: &'v Value, path: &str) -> &'v Value {
    let path = path
        .strip_prefix(".Values.")
        .unwrap_or_else(|| panic!("only .Values paths are used, found `{path}`"));
    let mut node = values;
    for step in path.split('.') {
        node = node
            .get(step)
            .unwrap_or_else(|| panic!("no value at `.Values.{path}`"));
    }
    node
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Expands `{{ .Values.p }}`, `{{ .Values.p | quote }}`,
/// `{{ .Values.p | toJson }}`, `{{ "{{" }}`, `{{- if .Values.p }}` and
/// `{{- end }}`, with `{{-` / `-}}` trimming; anything else fails the test.
fn expand(template: &str, values: &Value) -> String {
    let mut out = String::new();
    let mut active: Vec<bool> = Vec::new();
    let mut rest = template;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let end = rest[start..].find("}}").expect("an action is closed") + start;
        let mut action = &rest[start + 2..end];
        if let Some(a) = action.strip_prefix('-') {
            text = text.trim_end();
            action = a;
        }
        trim_next = false;
        if let Some(a) = action.strip_suffix('-') {
            trim_next = true;
            action = a;
        }
        if active.iter().all(|a| *a) {
            out.push_str(text);
        }
        let action = action.trim();
        let shown = active.iter().all(|a| *a);
        if action == "\"{{\"" {
            if shown {
                out.push_str("{{");
            }
        } else if let Some(condition) = action.strip_prefix("if ") {
            active.push(truthy(lookup(values, condition.trim())));
        } else if action == "end" {
            active.pop().expect("`end` closes an `if`");
        } else if shown {
            let (path, function) = match action.split_once('|') {
                Some((path, function)) => (path.trim(), Some(function.trim())),
                None => (action, None),
            };
            let value = lookup(values, path);
            match function {
                None => match value {
                    Value::String(s) => out.push_str(s),
                    Value::Number(_) | Value::Bool(_) => out.push_str(&value.to_string()),
                    other => panic!("`{action}` prints {other} without a function"),
                },
                Some("quote") => {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    out.push_str(&serde_json::to_string(&text).unwrap());
                }
                Some("toJson") => out.push_str(&value.to_string()),
                Some(other) => {
                    panic!("the chart uses `{other}`, which docs/export.md does not list")
                }
            }
        }
        rest = &rest[end + 2..];
    }
    let mut text = rest;
    if trim_next {
        text = text.trim_start();
    }
    assert!(active.is_empty(), "every `if` is closed");
    out.push_str(text);
    out
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let file = SourceFile::new(path.display().to_string(), text);
    strata_core::spec::yaml::parse(&file)
        .unwrap_or_else(|d| panic!("{}: {}", path.display(), d.message))
        .to_json()
}

fn templates(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("templates")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    out.sort();
    out
}

/// What `helm template CHART [-f values-ENV.yaml]` gives, per Helm's rules
/// for values: the subchart's defaults, then the umbrella's values under
/// the subchart's name, with `global` shared.
fn helm_template(chart: &Path, env: Option<&str>) -> Vec<Value> {
    let mut values = read_yaml(&chart.join("values.yaml"));
    if let Some(env) = env {
        coalesce(
            &mut values,
            &read_yaml(&chart.join(format!("values-{env}.yaml"))),
        );
    }
    let mut out = Vec::new();
    for template in templates(chart) {
        out.extend(objects(&expand(
            &std::fs::read_to_string(&template).unwrap(),
            &values,
        )));
    }
    let chart_file = read_yaml(&chart.join("Chart.yaml"));
    for dependency in chart_file["dependencies"].as_array().unwrap() {
        let name = dependency["name"].as_str().unwrap();
        let sub = chart.join("charts").join(name);
        let mut sub_values = read_yaml(&sub.join("values.yaml"));
        let mut from_parent = values
            .get(name)
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        from_parent["global"] = values["global"].clone();
        coalesce(&mut sub_values, &from_parent);
        for template in templates(&sub) {
            out.extend(objects(&expand(
                &std::fs::read_to_string(&template).unwrap(),
                &sub_values,
            )));
        }
    }
    out
}

#[test]
fn the_helm_evaluator_follows_go_template_rules() {
    let values = serde_json::json!({ "a": { "n": 3, "s": "1", "on": false, "m": { "k": [1] } } });
    let template = "x: {{ .Values.a.n }}\n{{- if .Values.a.on }}\nhidden: 1\n{{- end }}\ns: {{ .Values.a.s | quote }}\nm: {{ .Values.a.m | toJson }}\nb: '{{ \"{{\" }}'\n";
    assert_eq!(
        expand(template, &values),
        "x: 3\ns: \"1\"\nm: {\"k\":[1]}\nb: '{{'\n"
    );
    let mut base = serde_json::json!({ "a": { "b": 1, "c": 2 } });
    coalesce(
        &mut base,
        &serde_json::json!({ "a": { "c": null, "d": 3 } }),
    );
    assert_eq!(base, serde_json::json!({ "a": { "b": 1, "d": 3 } }));
}

#[test]
fn the_helm_chart_gives_exactly_what_render_gives_in_every_environment() {
    let mut checked = 0;
    for spec in specs() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        export(&spec, "helm", &chart);
        assert_same_objects(
            &format!("{spec} chart with values.yaml"),
            &helm_template(&chart, None),
            &rendered(&spec, None),
        );
        for env in environments(&spec) {
            assert_same_objects(
                &format!("{spec} chart with values-{env}.yaml"),
                &helm_template(&chart, Some(&env)),
                &rendered(&spec, Some(&env)),
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "checked {checked} environments");
}

/// Renders `chart` with Helm itself (Helm's Go SDK, from the PyPI package
/// `helm-python-sdk`), as `helm template` with `values-ENV.yaml`; `None`
/// when the package is missing (CI installs it, and fails here if not).
fn real_helm_template(chart: &Path, env: Option<&str>) -> Option<Vec<Value>> {
    const SCRIPT: &str = r#"
import json, sys, yaml
import helm_python as helm
values = {}
if len(sys.argv) > 2:
    with open(sys.argv[2]) as f:
        values = yaml.safe_load(f) or {}
with helm.Chart.load(sys.argv[1]) as chart:
    out = chart.render(values, name="release", namespace="default")
docs = [d for text in out.values() for d in yaml.safe_load_all(text) if d]
json.dump(docs, sys.stdout)
"#;
    let available = Process::new("python3")
        .args(["-c", "import helm_python"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install helm-python-sdk (pip install helm-python-sdk)"
        );
        eprintln!("skipped: Helm's SDK is not installed (pip install helm-python-sdk)");
        return None;
    }
    let mut command = Process::new("python3");
    command.args(["-c", SCRIPT]).arg(chart);
    if let Some(env) = env {
        command.arg(chart.join(format!("values-{env}.yaml")));
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "helm: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// The evaluator above is checked against Helm itself wherever Helm's SDK
/// is installed: real Helm gives exactly `strata render` too.
#[test]
fn helm_itself_gives_exactly_what_render_gives_in_every_environment() {
    for spec in specs() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        export(&spec, "helm", &chart);
        let envs = std::iter::once(None).chain(environments(&spec).into_iter().map(Some));
        for env in envs {
            let Some(objects) = real_helm_template(&chart, env.as_deref()) else {
                return;
            };
            assert_same_objects(
                &format!("{spec} chart rendered by Helm, {env:?}"),
                &objects,
                &rendered(&spec, env.as_deref()),
            );
        }
    }
}

#[test]
fn the_helm_chart_takes_its_tunables_from_values() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    export("examples/isa-cloud/platform.yaml", "helm", &chart);
    let chart_file = read_yaml(&chart.join("Chart.yaml"));
    assert_eq!(chart_file["apiVersion"], "v2");
    assert_eq!(chart_file["version"], "0.1.0");
    let tiers: Vec<&str> = chart_file["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tiers,
        ["infrastructure", "grpc-services", "gateway", "applications"]
    );
    let consul = std::fs::read_to_string(
        chart.join("charts/infrastructure/templates/statefulset-consul.yaml"),
    )
    .unwrap();
    for expected in [
        "replicas: {{ .Values.consul.replicas }}",
        "image: \"{{ .Values.consul.image.repository }}:{{ .Values.consul.image.tag }}\"",
        "resources: {{ .Values.consul.resources | toJson }}",
        "storage: {{ .Values.consul.storage | quote }}",
        "storageClassName: {{ .Values.consul.storageClass | quote }}",
    ] {
        assert!(consul.contains(expected), "{expected} in\n{consul}");
    }
    let values = read_yaml(&chart.join("values.yaml"));
    assert_eq!(values["infrastructure"]["consul"]["replicas"], 3);
    assert_eq!(values["infrastructure"]["consul"]["image"]["tag"], "1.20.1");
    let local = read_yaml(&chart.join("values-local.yaml"));
    assert_eq!(local["infrastructure"]["consul"]["replicas"], 1);
    assert!(
        local["infrastructure"]["consul"].get("image").is_none(),
        "unchanged values are not repeated"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart.join("values.schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        schema["properties"]["infrastructure"]["properties"]["consul"]["properties"]["replicas"]["type"],
        "integer"
    );
}

// ---------------------------------------------------------------------------
// Graph.

/// `x`, `y`, `width`, `height` of every `<rect class="node…">` of an SVG.
fn node_boxes(svg: &str) -> Vec<[i64; 4]> {
    let attribute = |tag: &str, name: &str| -> i64 {
        let start = tag
            .find(&format!(" {name}=\""))
            .expect("the attribute is there")
            + name.len()
            + 3;
        let end = tag[start..].find('"').unwrap() + start;
        tag[start..end].parse().unwrap()
    };
    svg.split("<rect class=\"node")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            [
                attribute(tag, "x"),
                attribute(tag, "y"),
                attribute(tag, "width"),
                attribute(tag, "height"),
            ]
        })
        .collect()
}

/// The corners of every `<polyline class="link…">`.
fn link_paths(svg: &str) -> Vec<Vec<(i64, i64)>> {
    svg.split("<polyline class=\"link")
        .skip(1)
        .map(|rest| {
            let start = rest.find("points=\"").unwrap() + 8;
            let end = rest[start..].find('"').unwrap() + start;
            rest[start..end]
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn graph(spec: &str, format: &str) -> String {
    run_ok(&["graph", spec, "-o", format])
}

#[test]
fn every_example_graph_has_no_overlapping_boxes_and_no_hidden_arrows() {
    for spec in specs() {
        let svg = graph(&spec, "svg");
        let boxes = node_boxes(&svg);
        assert!(boxes.len() >= 4, "{spec}: {} boxes", boxes.len());
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let overlap = a[0] < b[0] + b[2]
                    && b[0] < a[0] + a[2]
                    && a[1] < b[1] + b[3]
                    && b[1] < a[1] + a[3];
                assert!(!overlap, "{spec}: boxes {a:?} and {b:?} overlap");
            }
        }
        let paths = link_paths(&svg);
        for path in &paths {
            for pair in path.windows(2) {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                assert!(x0 == x1 || y0 == y1, "{spec}: arrows are orthogonal");
                let (left, right) = (x0.min(x1), x0.max(x1));
                let (top, bottom) = (y0.min(y1), y0.max(y1));
                for b in &boxes {
                    // Strictly inside a box, beyond its border.
                    let inside_x = left.max(b[0] + 1) <= right.min(b[0] + b[2] - 1);
                    let inside_y = top.max(b[1] + 1) <= bottom.min(b[1] + b[3] - 1);
                    assert!(
                        !(inside_x && inside_y),
                        "{spec}: an arrow {path:?} passes behind the box {b:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_isa_cloud_graph_shows_every_service_with_replicas_and_ports() {
    let svg = graph("examples/isa-cloud/platform.yaml", "svg");
    let services = svg.matches("<rect class=\"node").count()
        - svg.matches("<rect class=\"node gateway").count();
    assert_eq!(services, 49);
    assert!(svg.contains("<title>consul: ×3 · http 8500 · server 8300 · +2</title>"));
    assert!(svg.matches("<rect class=\"node stateful\"").count() >= 9);
    assert!(svg.contains("<title>agent waits for auth-service</title>"));
}

#[test]
fn isa_cloud_mermaid_and_dot_match_their_snapshots() {
    insta::assert_snapshot!(
        "graph-isa-cloud-mermaid",
        graph("examples/isa-cloud/platform.yaml", "mermaid")
    );
    insta::assert_snapshot!(
        "graph-isa-cloud-dot",
        graph("examples/isa-cloud/platform.yaml", "dot")
    );
}

#[test]
fn committed_pictures_are_current() {
    for spec in specs().iter().filter(|s| s.starts_with("examples/")) {
        let name = Path::new(spec)
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let committed = std::fs::read_to_string(workspace().join(format!("docs/img/{name}.svg")))
            .unwrap_or_default();
        assert!(
            committed == graph(spec, "svg"),
            "docs/img/{name}.svg is stale: run `cargo run -- graph {spec} --out docs/img/{name}.svg`"
        );
    }
}

#[test]
fn graph_writes_a_file_and_rejects_a_bad_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pictures/shop.dot");
    let output = strata()
        .args([
            "graph",
            "crates/strata/tests/exports/shop.yaml",
            "-o",
            "dot",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("digraph \"shop\"")
    );
    let output = strata()
        .args([
            "graph",
            "crates/strata/tests/bad-specs/dependency-cycle.yaml",
            "--out",
        ])
        .arg(dir.path().join("bad.svg"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !dir.path().join("bad.svg").exists(),
        "nothing is written for a bad spec"
    );
}
