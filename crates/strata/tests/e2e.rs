//! End to end against a real cluster: every cluster verb of the real
//! binary. Runs only when `STRATA_E2E_KUBECONFIG` names a kubeconfig (its
//! current context is used); otherwise it prints why and passes.
//!
//! It assumes nothing of the cluster: its spec lives in a temporary
//! directory and uses a namespace with a random suffix; pods may or may not
//! start (no registry access, no default StorageClass), so the steps that
//! need running pods accept a readiness timeout, while the steps that must
//! succeed use an environment with zero replicas. Everything it creates is
//! destroyed at the end, also when an assertion fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;

mod loopback;

/// The platform: `files` (a claim, in its own tier) before `web`; the
/// `idle` environment runs no pods, so applying it never waits for a pod.
fn spec(suffix: &str, web_tag: &str) -> String {
    format!(
        "platform: e2e-{suffix}
namespace: strata-e2e-{suffix}
environments:
  idle: {{ replicas: 0 }}
secrets:
  web-token: {{ generate: [token] }}
tiers:
  - name: store
    services:
      files:
        kind: stateless
        image: busybox:1.36
        command: [sleep, \"3600\"]
        storage: 64Mi
        resources: {{ requests: {{ cpu: 10m, memory: 16Mi }} }}
  - name: apps
    after: [store]
    services:
      web:
        image: nginxinc/nginx-unprivileged:{web_tag}
        ports: {{ http: 8080 }}
        resources: {{ requests: {{ cpu: 10m, memory: 32Mi }} }}
        env: {{ TOKEN: {{ secret: web-token, key: token }} }}
"
    )
}

struct Suite {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    spec: PathBuf,
}

impl Suite {
    fn strata(&self, args: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("strata").expect("the strata binary is built");
        let output = cmd
            .env("NO_COLOR", "1")
            .arg(args[0])
            .arg(&self.spec)
            .args(&args[1..])
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .output()
            .expect("strata runs");
        eprintln!(
            "$ strata {}\n--- exit {:?}\n{}{}",
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn write_spec(&self, text: &str) {
        std::fs::write(&self.spec, text).expect("the spec is written");
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        // Whatever happened, leave nothing behind: both environments, data too.
        for env in [None, Some("idle")] {
            let mut args = vec!["destroy", "--delete-data", "--timeout", "3m"];
            if let Some(env) = env {
                args.extend(["--env", env]);
            }
            let _ = self.strata(&args);
        }
        let _ = &self.dir;
    }
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}", (nanos ^ u128::from(std::process::id())) & 0xff_ffff)
}

/// A readiness timeout or a failed wave is an acceptable outcome where pods
/// may not start; anything else (refusals, conflicts, crashes) is not.
fn applied_or_not_ready(output: &Output) {
    let (_, err) = text(output);
    if output.status.success() {
        return;
    }
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed: not ready after") || err.contains("progress deadline"),
        "only a readiness failure is acceptable here: {err}"
    );
    assert!(err.contains("not applied ("), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn every_verb_against_a_real_cluster() {
    let Some(kubeconfig) = std::env::var_os("STRATA_E2E_KUBECONFIG") else {
        // Straight to the stream, past the test harness's capture, so the
        // skip shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: STRATA_E2E_KUBECONFIG is not set"
        );
        return;
    };
    every_verb(Path::new(&kubeconfig));
}

/// The same suite against the fake API server of `strata-kube`'s tests,
/// served over loopback HTTP: the binary end to end, in every run. Its
/// workloads are ready at once, so this is the path where pods start.
#[test]
fn every_verb_against_the_fake_api_server() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    let port = loopback::serve(loopback::Fake::new());
    loopback::write_kubeconfig(&kubeconfig, port, None);
    every_verb(&kubeconfig);
}

/// Applies the `idle` environment without the `store` tier: no pod and no
/// claim to wait for, so it must succeed on any cluster.
const APPLY_IDLE: &[&str] = &[
    "apply",
    "--env",
    "idle",
    "--skip",
    "store",
    "--timeout",
    "2m",
];

fn every_verb(kubeconfig: &Path) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let id = suffix();
    let suite = Suite {
        spec: dir.path().join("platform.yaml"),
        kubeconfig: kubeconfig.to_path_buf(),
        dir,
    };
    suite.write_spec(&spec(&id, "1.27"));
    let namespace = format!("strata-e2e-{id}");

    // A dry run changes nothing and needs no namespace.
    let out = suite.strata(&["apply", "--env", "idle", "--dry-run"]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("dry run"), "{err}");
    let out = suite.strata(&["history", "--env", "idle"]);
    assert!(out.status.success());
    assert!(
        text(&out).1.contains("no revisions"),
        "the dry run recorded nothing"
    );

    // Without pods nothing waits on the cluster's nodes: this must succeed.
    let out = suite.strata(APPLY_IDLE);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("recorded revision 1"), "{err}");
    assert!(
        err.contains(&format!("in namespace `{namespace}`")),
        "{err}"
    );

    // Applying again changes nothing, so records nothing; the generated
    // secret is kept. (An object a controller changed after it was applied,
    // a claim bound since, is sent once more, and then a revision is.)
    let out = suite.strata(APPLY_IDLE);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let kept = if err.contains("nothing changed since revision 1") {
        1
    } else {
        assert!(err.contains("recorded revision 2"), "{err}");
        2
    };
    assert!(!err.contains("generated Secret"), "generated twice: {err}");

    // status: web is there with 0/0 replicas; files was skipped.
    let out = suite.strata(&["status", "--env", "idle"]);
    let (table, _) = text(&out);
    assert!(table.contains("Deployment/web"), "{table}");
    assert!(table.contains("0/0"), "{table}");
    assert!(table.contains("missing"), "{table}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "files is missing, so not all are ready"
    );

    // verify: files is missing, so it fails, naming it and `strata apply`.
    let out = suite.strata(&["verify", "--env", "idle", "-o", "json"]);
    let (json, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{json}{err}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let files = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| {
            c["check"] == "workload" && c["subject"].as_str().is_some_and(|s| s.ends_with("/files"))
        })
        .expect("files is checked");
    assert_eq!(files["verdict"], "failed", "{files}");
    assert!(
        files["next"]
            .as_str()
            .is_some_and(|n| n.starts_with("strata apply ")),
        "{files}"
    );

    // diff: web matches, the skipped files would be added.
    let out = suite.strata(&["diff", "--env", "idle"]);
    let (diff, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(diff.contains("+++ desired/Deployment/"), "{diff}");
    assert!(diff.contains("/files"), "{diff}");
    assert!(
        !diff.contains(&format!("desired/Deployment/{namespace}/web")),
        "web was applied as rendered: {diff}"
    );

    // A new image is the next revision, shown by diff first; rollback
    // returns to the one before.
    suite.write_spec(&spec(&id, "1.27.4"));
    let out = suite.strata(&["diff", "--env", "idle"]);
    let (diff, _) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        diff.contains("+        image: nginxinc/nginx-unprivileged:1.27.4"),
        "{diff}"
    );
    let out = suite.strata(APPLY_IDLE);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = suite.strata(&["rollback", "--env", "idle", "--timeout", "2m"]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("recorded revision {}", kept + 2)),
        "{err}"
    );
    let out = suite.strata(&["history", "--env", "idle"]);
    let (history, _) = text(&out);
    assert!(out.status.success());
    assert!(
        history.contains(&format!("rollback to {kept}")),
        "{history}"
    );
    assert!(history.contains("skip store"), "{history}");
    suite.write_spec(&spec(&id, "1.27"));
    let out = suite.strata(&["diff", "--env", "idle"]);
    let (diff, _) = text(&out);
    assert!(
        !diff.contains("nginx-unprivileged:1.27.4"),
        "rolled back: {diff}"
    );

    // With replicas, pods may or may not start here: a timeout is fine.
    let out = suite.strata(&["apply", "--timeout", "45s"]);
    applied_or_not_ready(&out);
    let out = suite.strata(&["status"]);
    let (table, _) = text(&out);
    assert!(table.contains("Deployment/files"), "{table}");
    assert!(matches!(out.status.code(), Some(0 | 1)));

    // logs: lines when a pod runs, a clear error when none does.
    let out = suite.strata(&["logs", "web", "--tail", "5"]);
    let (_, err) = text(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = suite.strata(&["logs", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("not a service with pods"));

    // destroy keeps the claim, its namespace and the generated secret...
    let out = suite.strata(&["destroy", "--timeout", "3m"]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("PersistentVolumeClaim/"), "{err}");
    assert!(
        err.contains(&format!("kept Namespace/{namespace}")),
        "{err}"
    );
    let out = suite.strata(&["status"]);
    let (table, _) = text(&out);
    assert_eq!(
        table.matches("missing").count(),
        2,
        "both workloads are gone: {table}"
    );

    // ...until asked.
    for env in [None, Some("idle")] {
        let mut args = vec!["destroy", "--delete-data", "--timeout", "3m"];
        if let Some(env) = env {
            args.extend(["--env", env]);
        }
        let out = suite.strata(&args);
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let out = suite.strata(&["history", "--env", "idle"]);
    assert!(text(&out).1.contains("no revisions"), "{}", text(&out).1);
}

/// `apply --dry-run` against a server holding Strimzi 0.51's CRDs: the
/// server's deprecation warning is shown, refusals of two waves are both
/// reported with the notes on what could not be checked, and it never
/// says to run the same command again to resume.
#[test]
fn a_dry_run_tells_everything() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    let fake = loopback::Fake::new();
    fake.install_crds(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/crds/strimzi/0.51.0/040-Crd-kafka.yaml"),
    );
    // Objects someone else manages, which the platform's conflict with:
    // one in the first wave, one in the last.
    fake.insert(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dry"}}),
        "kubectl",
    );
    for (name, wave) in [("early", "first"), ("late", "last")] {
        fake.insert(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "dry"}, "data": {"wave": "theirs"}}),
            &format!("helm-{wave}"),
        );
    }
    let port = loopback::serve(fake);
    loopback::write_kubeconfig(&kubeconfig, port, None);
    std::fs::write(
        dir.path().join("kafka.yaml"),
        "apiVersion: kafka.strimzi.io/v1beta2\nkind: Kafka\nmetadata: { name: events, namespace: dry }\nspec: { kafka: { listeners: [{ name: plain, port: 9092, type: internal, tls: false }] } }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: early, namespace: dry }\ndata: { wave: ours }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: extra }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: extra }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("late.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: late, namespace: dry }\ndata: { wave: ours }\n",
    )
    .unwrap();
    let spec = dir.path().join("platform.yaml");
    std::fs::write(
        &spec,
        "platform: dry\nnamespace: dry\ntiers:\n  - name: data\n    manifests: [kafka.yaml]\n  - name: apps\n    after: [data]\n    manifests: [late.yaml]\n    services:\n      web: { image: nginxinc/nginx-unprivileged:1.27, ports: { http: 8080 } }\n",
    )
    .unwrap();
    let out = Command::cargo_bin("strata")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("apply")
        .arg(&spec)
        .args(["--dry-run", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Kafka/dry/events: the API server warns:") && err.contains("deprecated"),
        "{err}"
    );
    assert!(
        err.contains("dry run failed: the API server refused 2 objects"),
        "{err}"
    );
    assert!(
        err.contains("ConfigMap/dry/early") && err.contains("ConfigMap/dry/late"),
        "{err}"
    );
    assert!(
        err.contains("note: ConfigMap/extra/settings: not checked"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!err.contains("run the same command again"), "{err}");
}

/// A claim template that changes: named, no prompt without a terminal,
/// and `--recreate` applies it over the kept pods and claims.
#[test]
fn a_changed_claim_template_is_recreated_only_when_asked() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    let port = loopback::serve(loopback::Fake::new());
    loopback::write_kubeconfig(&kubeconfig, port, None);
    let spec = dir.path().join("platform.yaml");
    let write = |size: &str| {
        std::fs::write(
            &spec,
            format!("platform: disk\nnamespace: disk\ntiers:\n  - name: data\n    services:\n      db: {{ kind: stateful, image: postgres:16.4, ports: {{ pg: 5432 }}, storage: {size} }}\n"),
        )
        .unwrap();
    };
    let apply = |extra: &[&str]| {
        Command::cargo_bin("strata")
            .unwrap()
            .env("NO_COLOR", "1")
            .arg("apply")
            .arg(&spec)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .output()
            .unwrap()
    };
    write("1Gi");
    let out = apply(&[]);
    assert!(out.status.success(), "{}", text(&out).1);
    write("5Gi");
    let out = apply(&[]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("StatefulSet/disk/db: spec.volumeClaimTemplates cannot change once created")
            && err.contains("--recreate"),
        "{err}"
    );
    assert!(
        !err.contains("[y/N]"),
        "no prompt without a terminal: {err}"
    );
    let out = apply(&["--recreate"]);
    assert!(out.status.success(), "{}", text(&out).1);
}

/// `verify` and `apply --verify` end to end against the fake: a platform
/// just applied passes, in a table and in JSON; a health URL answering 500
/// fails with exit 1, naming the Service and the `strata logs` to run;
/// `apply --verify` waits for it to answer 2xx again.
#[test]
fn verify_tells_a_working_platform_from_a_failing_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    let fake = loopback::Fake::new();
    let port = loopback::serve(fake.clone());
    loopback::write_kubeconfig(&kubeconfig, port, None);
    let spec = dir.path().join("platform.yaml");
    std::fs::write(
        &spec,
        "platform: vfy\nnamespace: vfy\ntiers:\n  - name: apps\n    services:\n      web: { image: nginxinc/nginx-unprivileged:1.27, ports: { http: 8080 }, probes: { path: /healthz } }\n",
    )
    .unwrap();
    let strata = |args: &[&str]| {
        Command::cargo_bin("strata")
            .unwrap()
            .env("NO_COLOR", "1")
            .arg(args[0])
            .arg(&spec)
            .args(&args[1..])
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .output()
            .unwrap()
    };

    let out = strata(&["apply", "--verify"]);
    let (table, err) = text(&out);
    assert!(out.status.success(), "{table}{err}");
    assert!(err.contains("recorded revision 1"), "{err}");
    assert!(err.contains("every check passed"), "{err}");
    assert!(table.contains("health"), "{table}");

    let out = strata(&["verify", "-o", "json"]);
    let (json, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["passed"], true);
    for check in [
        "revision",
        "drift",
        "workload",
        "endpoints",
        "route",
        "reference",
        "health",
        "policy",
    ] {
        assert!(report["summary"][check]["failed"] == 0, "{check}: {json}");
    }
    let health = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "health")
        .unwrap();
    assert_eq!(health["subject"], "Service/vfy/web:http/healthz");
    assert_eq!(health["service"], "web");
    assert_eq!(health["verdict"], "passed");
    assert_eq!(health["next"], serde_json::Value::Null);

    fake.proxy_answer("Service/vfy/web", 500, "down");
    let logs = format!(
        "strata logs {} web --kubeconfig {}",
        spec.display(),
        kubeconfig.display()
    );
    let out = strata(&["verify"]);
    let (table, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{table}{err}");
    assert!(table.contains("answered 500: down"), "{table}");
    assert!(table.contains("Service/vfy/web:http/healthz"), "{table}");
    assert!(err.contains("1 check failed"), "{err}");
    let out = strata(&["verify", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(report["passed"], false);
    let failed: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["next"], logs.as_str());
    // apply --verify gives a health URL time to catch up: answering 2xx
    // again a few seconds after the apply, it passes.
    let healer = {
        let fake = fake.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            fake.proxy_answer("Service/vfy/web", 200, "ok");
        })
    };
    let out = strata(&["apply", "--verify"]);
    healer.join().unwrap();
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("applied 0 objects")
            && err.contains("unchanged; nothing changed since revision 1"),
        "{err}"
    );
    assert!(err.contains("every check passed"), "{err}");
}
