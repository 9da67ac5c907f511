//! `strata audit` and `strata lint` as CI uses them: exit codes, formats,
//! stdin, disabling checks, and rendered examples that lint clean.

mod support;

use support::{strata, workspace};

fn json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let output = strata().args(args).output().unwrap();
    let value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), value)
}

#[test]
fn audit_reports_the_isa_cloud_single_points_of_failure_at_their_lines() {
    let (code, findings) = json(&[
        "audit",
        "examples/isa-cloud/platform.yaml",
        "--env",
        "staging",
        "-o",
        "json",
    ]);
    assert_eq!(code, Some(1), "a P0 fails the default --fail-on P1");
    let redis = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "redis-single-point")
        .expect("Redis is a single point of failure");
    assert_eq!(redis["priority"], "P0");
    let location = redis["location"].as_str().unwrap();
    let line: usize = location.split(':').nth(1).unwrap().parse().unwrap();
    let spec =
        std::fs::read_to_string(workspace().join("examples/isa-cloud/platform.yaml")).unwrap();
    assert!(
        spec.lines()
            .nth(line - 1)
            .unwrap()
            .trim_start()
            .starts_with("redis:"),
        "{location}"
    );
    let (local_code, local) = json(&[
        "audit",
        "examples/isa-cloud/platform.yaml",
        "--env",
        "local",
        "-o",
        "json",
    ]);
    assert!(
        !local
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "redis-single-point"),
        "one replica is fine on a laptop"
    );
    assert_eq!(
        local_code,
        Some(i32::from(
            local
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["priority"] != "P2")
        ))
    );
}

#[test]
fn fail_on_and_disable_set_the_exit_code() {
    let args = [
        "audit",
        "examples/isa-cloud/platform.yaml",
        "--env",
        "staging",
    ];
    let code = |extra: &[&str]| {
        strata()
            .args(args)
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&["--fail-on", "none"]), Some(0));
    assert_eq!(code(&["--fail-on", "P0"]), Some(1));
    assert_eq!(
        code(&["--fail-on", "P0", "--disable", "redis-single-point"]),
        Some(0)
    );
    let output = strata()
        .args(args)
        .args(["--disable", "redis-singel-point"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `redis-single-point`?"));
}

const BAD: &str = "apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      hostNetwork: true
      containers: [{ name: web, image: nginx }]
";

#[test]
fn lint_reads_stdin_and_writes_sarif() {
    let output = strata()
        .args(["lint", "-", "-o", "sarif"])
        .write_stdin(BAD)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() >= 30);
    let host = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "host-network")
        .unwrap();
    assert_eq!(host["level"], "error");
    assert_eq!(
        host["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    let text = strata()
        .args(["lint", "-"])
        .write_stdin(BAD)
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("Deployment/shop/web  (<stdin>:1:1)\n"),
        "{text}"
    );
    assert!(text.contains("P0 host-network"), "{text}");
}

#[test]
fn lint_walks_directories_and_reports_bad_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("nested/web.yaml"), BAD).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
    let (code, findings) = json(&[
        "lint",
        dir.path().to_str().unwrap(),
        "-o",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(code, Some(0));
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["location"].as_str().unwrap().contains("nested/web.yaml"))
    );
    std::fs::write(dir.path().join("broken.yaml"), "a: [").unwrap();
    let output = strata().args(["lint"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("yaml-syntax"));
}

#[cfg(unix)]
#[test]
fn lint_reads_each_file_once_through_symlink_loops() {
    let dir = tempfile::tempdir().unwrap();
    let apps = dir.path().join("apps");
    std::fs::create_dir(&apps).unwrap();
    std::fs::write(apps.join("web.yaml"), BAD).unwrap();
    // Two loops: a link to the directory itself and one to its parent.
    std::os::unix::fs::symlink(&apps, apps.join("again")).unwrap();
    std::os::unix::fs::symlink(dir.path(), apps.join("up")).unwrap();
    std::os::unix::fs::symlink(apps.join("web.yaml"), dir.path().join("copy.yaml")).unwrap();
    let (code, findings) = json(&[
        "lint",
        dir.path().to_str().unwrap(),
        "-o",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(code, Some(0));
    let findings = findings.as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["check"] != "duplicate-object"),
        "{findings:#?}"
    );
    let host_network = findings
        .iter()
        .filter(|f| f["check"] == "host-network")
        .count();
    assert_eq!(host_network, 1, "the file is linted once");
}

#[test]
fn lint_says_what_it_skipped_and_fails_when_nothing_was_an_object() {
    for input in [
        "just a string\n",
        "[1, 2, 3]\n",
        "name: x\nreplicas: 3\n",
        "kind: Pod\nmetadata: { name: p }\n",
    ] {
        let output = strata()
            .args(["lint", "-"])
            .write_stdin(input)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input}: {stderr}");
        assert!(stderr.contains("not-an-object"), "{input}: {stderr}");
        assert!(stderr.contains("<stdin>:1:1"), "{input}: {stderr}");
        assert!(stderr.contains("nothing to lint"), "{input}: {stderr}");
    }
    let mixed = format!("{BAD}\n---\nhello\n");
    let output = strata()
        .args(["lint", "-", "--fail-on", "none"])
        .write_stdin(mixed)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped a string, not an object"),
        "{stderr}"
    );
}

#[test]
fn every_rendered_example_lints_clean() {
    for entry in std::fs::read_dir(workspace().join("examples")).unwrap() {
        let spec = entry.unwrap().path().join("platform.yaml");
        if !spec.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&spec).unwrap();
        let file = strata_core::source::SourceFile::new(spec.display().to_string(), text);
        let doc = strata_core::spec::parse(&file).unwrap();
        let mut envs: Vec<Option<String>> = vec![None];
        envs.extend(
            strata_core::model::environment_names(&doc.spec)
                .into_iter()
                .map(|e| Some(e.to_string())),
        );
        for env in envs {
            let mut render = strata();
            render.arg("render").arg(&spec);
            if let Some(env) = &env {
                render.args(["--env", env]);
            }
            let rendered = render.output().unwrap();
            assert!(rendered.status.success());
            let lint = strata()
                .args(["lint", "-", "--fail-on", "P2"])
                .write_stdin(rendered.stdout)
                .output()
                .unwrap();
            assert!(
                lint.status.success(),
                "{} {env:?}:\n{}",
                spec.display(),
                String::from_utf8_lossy(&lint.stdout)
            );
        }
    }
}

#[test]
fn every_check_is_documented() {
    for (verb, doc) in [("audit", "docs/audit.md"), ("lint", "docs/lint.md")] {
        let text = std::fs::read_to_string(workspace().join(doc)).unwrap();
        let output = strata().args([verb, "--list-checks"]).output().unwrap();
        let listing = String::from_utf8(output.stdout).unwrap();
        let ids: Vec<&str> = listing
            .lines()
            .filter(|l| l.starts_with('P'))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        assert!(
            ids.len() >= if verb == "lint" { 30 } else { 10 },
            "{verb}: {ids:?}"
        );
        for id in ids {
            assert!(
                text.contains(&format!("`{id}`")),
                "{doc} does not document `{id}`"
            );
        }
    }
}
