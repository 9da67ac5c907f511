//! The cluster verbs' handling of bad input and missing clusters: clear
//! one-line errors, the documented exit codes, nothing contacted when the
//! input is wrong. No cluster is needed: the unreachable one is a closed
//! loopback port.

use std::path::Path;

mod support;

use assert_cmd::Command;

const SPEC: &str = "platform: shop
tiers:
  - name: apps
    services:
      api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 } }
";

/// The binary, with no kubeconfig from the environment.
fn strata() -> Command {
    let mut cmd = support::strata();
    cmd.env_remove("KUBECONFIG");
    cmd
}

/// A spec and a kubeconfig whose only cluster is a closed port on loopback.
fn setup(dir: &Path) -> (String, String) {
    let spec = dir.join("platform.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1
kind: Config
clusters:
- name: closed
  cluster: { server: \"https://127.0.0.1:1\" }
users:
- name: me
  user: { token: not-a-secret }
contexts:
- name: closed
  context: { cluster: closed, user: me, namespace: default }
current-context: closed
",
    )
    .unwrap();
    (spec.display().to_string(), kubeconfig.display().to_string())
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, kubeconfig) = setup(dir.path());
    for verb in ["apply", "status", "verify", "history", "destroy"] {
        let output = strata()
            .args([verb, &spec, "--kubeconfig", &kubeconfig])
            .output()
            .unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{verb}: {err}");
        assert!(
            err.contains("error: no cluster is reachable at https://127.0.0.1:1"),
            "{verb}: {err}"
        );
        assert!(err.contains("kubectl cluster-info"), "{verb}: {err}");
        assert!(!err.contains("panicked"), "{verb}: {err}");
    }
}

#[test]
fn diff_exits_2_on_errors_because_1_means_differences() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, kubeconfig) = setup(dir.path());
    let output = strata()
        .args(["diff", &spec, "--kubeconfig", &kubeconfig])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no cluster is reachable"));
}

#[test]
fn a_missing_kubeconfig_or_context_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, kubeconfig) = setup(dir.path());
    let missing = dir.path().join("nope").display().to_string();
    let output = strata()
        .args(["status", &spec, "--kubeconfig", &missing])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("cannot read the kubeconfig"), "{err}");
    assert!(err.contains("--kubeconfig FILE or set KUBECONFIG"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let output = strata()
        .args([
            "status",
            &spec,
            "--kubeconfig",
            &kubeconfig,
            "--context",
            "prod",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("with context `prod`"), "{err}");
    assert!(err.contains("kubectl config get-contexts"), "{err}");
}

#[test]
fn kubeconfig_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, kubeconfig) = setup(dir.path());
    let output = strata()
        .args(["history", &spec])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("https://127.0.0.1:1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_input_is_refused_before_the_cluster_is_contacted() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, kubeconfig) = setup(dir.path());
    let output = strata()
        .args([
            "apply",
            &spec,
            "--kubeconfig",
            &kubeconfig,
            "--only",
            "infra",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("`infra` in --only is neither a tier nor a service"),
        "{err}"
    );
    assert!(err.contains("known: api, apps"), "{err}");
    assert!(!err.contains("reachable"), "{err}");

    let output = strata()
        .args([
            "apply",
            &spec,
            "--kubeconfig",
            &kubeconfig,
            "--timeout",
            "soon",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("write e.g. 90s, 5m or 1h"),
        "{}",
        stderr(&output)
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "platform: shop\ntiers: []\n").unwrap();
    let output = strata()
        .args([
            "apply",
            &bad.display().to_string(),
            "--kubeconfig",
            &kubeconfig,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !stderr(&output).contains("reachable"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn every_cluster_verb_has_examples_in_its_help() {
    for verb in [
        "apply", "status", "diff", "logs", "history", "rollback", "destroy", "backup", "backups",
        "restore",
    ] {
        let output = strata().args([verb, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{verb}");
        assert!(text.contains("Examples:"), "{verb}: {text}");
        assert!(text.contains(&format!("strata {verb} ")), "{verb}: {text}");
        assert!(text.contains("--kubeconfig"), "{verb}: {text}");
    }
}
