//! `strata render` as a user runs it: output, layouts, atomic writes, and
//! validation of every example by a tool nobody here wrote.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn strata() -> Command {
    let mut cmd = Command::cargo_bin("strata").expect("the strata binary is built");
    cmd.env("NO_COLOR", "1").current_dir(workspace());
    cmd
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn render(args: &[&str]) -> String {
    let output = strata().arg("render").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Every example with each of its environments (and the base spec).
fn examples() -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(workspace().join("examples")).unwrap() {
        let spec = entry.unwrap().path().join("platform.yaml");
        if !spec.exists() {
            continue;
        }
        let relative = spec
            .strip_prefix(workspace())
            .unwrap()
            .display()
            .to_string();
        let text = std::fs::read_to_string(&spec).unwrap();
        let file = strata_core::source::SourceFile::new(&relative, text);
        let doc = strata_core::spec::parse(&file).expect("examples parse");
        out.push((relative.clone(), None));
        for env in strata_core::model::environment_names(&doc.spec) {
            out.push((relative.clone(), Some(env.to_string())));
        }
    }
    out.sort();
    out
}

#[test]
fn isa_cloud_staging_render_matches_its_snapshot() {
    let yaml = render(&["examples/isa-cloud/platform.yaml", "--env", "staging"]);
    insta::assert_snapshot!("isa-cloud-staging", yaml);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let a = render(&["examples/isa-cloud/platform.yaml", "--env", "local"]);
    let b = render(&["examples/isa-cloud/platform.yaml", "--env", "local"]);
    assert_eq!(a, b);
    assert!(
        a.starts_with("---\napiVersion: v1\nkind: Namespace\n"),
        "namespaces come first"
    );
}

#[test]
fn json_output_is_a_list() {
    let json = render(&["examples/isa-cloud/platform.yaml", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["kind"], "List");
    let yaml = render(&["examples/isa-cloud/platform.yaml"]);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        yaml.matches("\n---\n").count() + 1
    );
}

#[test]
fn layouts_split_the_same_objects() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for layout in ["single", "per-tier", "per-object"] {
        let out = dir.path().join(layout);
        let output = strata()
            .args(["render", "examples/isa-cloud/platform.yaml", "--out"])
            .arg(&out)
            .args(["--layout", layout])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let documents: usize = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
            .map(|f| std::fs::read_to_string(f).unwrap().matches("---\n").count())
            .sum();
        counts.push(documents);
        if layout == "per-tier" {
            let names: Vec<String> = files
                .iter()
                .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert!(names.contains(&"00-setup.yaml".to_string()), "{names:?}");
            assert!(
                names.contains(&"04-applications.yaml".to_string()),
                "{names:?}"
            );
        }
    }
    assert_eq!(counts[0], counts[1]);
    assert_eq!(counts[1], counts[2]);
}

#[test]
fn a_failed_render_writes_nothing_and_a_foreign_directory_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "platform: demo\ntiers:\n  - name: apps\n    services:\n      web:\n        image: demo/web:1.0\n        config: { mountPath: /etc/web, files: { a.conf: { file: missing.conf } } }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = strata()
        .arg("render")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unreadable-file"));
    assert!(!out.exists(), "nothing is written on error");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging directory is left behind"
    );

    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
    let output = strata()
        .args(["render", "examples/isa-cloud/platform.yaml", "--out"])
        .arg(&foreign)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to replace"));
    assert_eq!(
        std::fs::read_to_string(foreign.join("keep.txt")).unwrap(),
        "mine"
    );

    let ours = dir.path().join("ours");
    for layout in ["per-object", "single"] {
        let output = strata()
            .args([
                "render",
                "examples/isa-cloud/platform.yaml",
                "--layout",
                layout,
                "--out",
            ])
            .arg(&ours)
            .output()
            .unwrap();
        assert!(output.status.success());
    }
    let files: Vec<_> = std::fs::read_dir(&ours)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "a re-render replaces the previous files: {files:?}"
    );
}

/// `kubernetes-validate --strict` against the Kubernetes 1.33 schemas, on
/// every example in every environment. CI installs the tool; elsewhere the
/// test says why it skips.
#[test]
fn every_example_validates_strictly_against_kubernetes_1_33() {
    let available = Process::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install kubernetes-validate (pip install kubernetes-validate)"
        );
        eprintln!(
            "skipped: kubernetes-validate is not installed (pip install kubernetes-validate)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (spec, env)) in examples().iter().enumerate() {
        let mut args = vec![spec.as_str()];
        if let Some(env) = env {
            args.extend(["--env", env]);
        }
        let path = dir.path().join(format!("{i}.yaml"));
        std::fs::write(&path, render(&args)).unwrap();
        files.push((
            path,
            format!("{spec} {}", env.as_deref().unwrap_or("(base)")),
        ));
    }
    let output = Process::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.33", "--quiet"])
        .args(files.iter().map(|(p, _)| p))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert!(
        errors.is_empty() && output.status.success(),
        "{} errors:\n{report}",
        errors.len()
    );
    // Custom resources have no upstream schema: they are the only warnings allowed.
    for warning in report.lines().filter(|l| l.starts_with("WARN")) {
        assert!(
            warning.contains("Couldn't find schema for kind"),
            "{warning}"
        );
        assert!(
            !warning.contains("api version v1 ") && !warning.contains("apps/v1"),
            "core kinds always validate: {warning}"
        );
    }
    eprintln!(
        "validated {} renders strictly against Kubernetes 1.33",
        files.len()
    );
}
