//! `strata render` as a user runs it: output, layouts, atomic writes, and
//! validation of every example by a tool nobody here wrote.

use std::path::PathBuf;

mod support;

use support::{examples, strata, validate_strictly};

fn render(args: &[&str]) -> String {
    let output = strata().arg("render").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
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

/// A spec's files stay in its folder: links out of it, devices, FIFOs and
/// files larger than a ConfigMap are refused at the line that names them,
/// and their contents never reach the output.
#[cfg(unix)]
#[test]
fn files_a_spec_names_are_regular_files_inside_its_folder() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOKEN=hunter2\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let link = |name: &str, to: &std::path::Path| {
        std::os::unix::fs::symlink(to, dir.path().join(name)).unwrap();
    };
    link("escape.conf", &outside.path().join("secret.txt"));
    link("zero.conf", std::path::Path::new("/dev/zero"));
    assert!(
        std::process::Command::new("mkfifo")
            .arg(dir.path().join("fifo.conf"))
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(dir.path().join("huge.conf"), vec![b'x'; 1024 * 1024 + 1]).unwrap();
    std::fs::write(dir.path().join("fine.conf"), "ok = 1\n").unwrap();
    for (file, why) in [
        ("escape.conf", "outside the spec"),
        ("zero.conf", "outside the spec"),
        ("fifo.conf", "not a regular file"),
        ("huge.conf", "more than the 1"),
        ("fine.conf", ""),
    ] {
        let spec = dir.path().join("platform.yaml");
        std::fs::write(
            &spec,
            format!("platform: demo\ntiers:\n  - name: apps\n    services:\n      web:\n        image: demo/web:1.0\n        expose: []\n        config: {{ mountPath: /etc/web, files: {{ a.conf: {{ file: {file} }} }} }}\n"),
        )
        .unwrap();
        let output = strata().arg("render").arg(&spec).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stdout.contains("hunter2") && !stderr.contains("hunter2"),
            "{file}"
        );
        if why.is_empty() {
            assert!(output.status.success(), "{file}: {stderr}");
            assert!(stdout.contains("ok = 1"), "{file}");
        } else {
            assert_eq!(output.status.code(), Some(1), "{file}: {stderr}");
            assert!(stderr.contains("unreadable-file"), "{file}: {stderr}");
            assert!(stderr.contains(why), "{file}: {stderr}");
            assert!(stderr.contains("platform.yaml:8:"), "{file}: {stderr}");
        }
    }
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

#[cfg(unix)]
#[test]
fn secrets_are_written_for_their_owner_alone_and_a_linked_out_is_followed() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("manifests");
    std::fs::create_dir(&target).unwrap();
    let link = dir.path().join("out");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = strata()
        .args([
            "render",
            "examples/knowton/platform.yaml",
            "--layout",
            "per-object",
            "--out",
        ])
        .arg(&link)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let link_meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(link_meta.file_type().is_symlink(), "the link is kept");
    let written = std::fs::canonicalize(&target).unwrap();
    assert!(stderr.contains(&written.display().to_string()), "{stderr}");
    assert_eq!(mode(&written), 0o700, "a folder holding Secrets");
    let (mut secrets, mut others) = (0, 0);
    for entry in std::fs::read_dir(&written).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("-secret-") {
            secrets += 1;
            assert_eq!(mode(&path), 0o600, "{name}");
        } else if !name.starts_with('.') {
            others += 1;
            assert_ne!(mode(&path), 0o600, "{name} holds no Secret");
        }
    }
    assert!(
        secrets > 0 && others > 0,
        "{secrets} secrets, {others} others"
    );

    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere/deeper"), &dangling).unwrap();
    let output = strata()
        .args(["render", "examples/knowton/platform.yaml", "--out"])
        .arg(&dangling)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("symbolic link to nothing"));
}

/// `kubernetes-validate --strict` against the Kubernetes 1.33 schemas, on
/// every example in every environment. CI installs the tool; elsewhere the
/// test says why it skips.
#[test]
fn every_example_validates_strictly_against_kubernetes_1_33() {
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
    let paths: Vec<std::path::PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    if !validate_strictly(&paths) {
        return;
    }
    eprintln!(
        "validated {} renders strictly against Kubernetes 1.33",
        files.len()
    );
}

/// The escape hatches from Strata's defaults (a NodePort Service under its
/// own name, probes, security relaxed by the profile, sidecars classic and
/// native, no limits, scratch in memory, a kept selector…) render objects
/// the API server takes.
#[test]
fn every_escape_hatch_validates_strictly_against_kubernetes_1_33() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hatches.yaml");
    let yaml = render(&["crates/strata/tests/fixtures/escape-hatches/platform.yaml"]);
    for kept in ["restartPolicy: Always", "type: NodePort", "medium: Memory"] {
        assert!(yaml.contains(kept), "the fixture renders `{kept}`");
    }
    std::fs::write(&path, yaml).unwrap();
    validate_strictly(&[path]);
}

#[test]
fn render_and_plan_name_the_namespaces_that_need_each_pull_secret() {
    let expected = "note: pull secret `harbor-pull` (harbor.example.com) is not rendered: create it (type kubernetes.io/dockerconfigjson) in `one-data-agent`, `one-data-data`, `one-data-model` before `strata apply`";
    for command in ["render", "plan"] {
        let output = strata()
            .args([command, "examples/one-data-studio/platform.yaml"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{command}: {stderr}");
    }
    let yaml = render(&["examples/one-data-studio/platform.yaml"]);
    assert_eq!(
        yaml.matches("imagePullSecrets:\n").count(),
        yaml.matches("image: harbor.example.com/").count(),
        "one list per pod pulling from Harbor (each such pod runs one Harbor image)"
    );
    assert!(
        !yaml.contains("name: harbor-pull\n  namespace:"),
        "the Secret is not rendered"
    );
}
