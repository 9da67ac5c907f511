//! `strata backup` and `strata restore` end to end, against the fake API
//! server on loopback: what they print, and their refusals' exit codes.

mod loopback;
mod support;

use serde_json::json;
use strata_core::render::{self, NoAssets};

const SPEC: &str = "crates/strata/tests/fixtures/backups/platform.yaml";

/// The fixture's caller of `db`, beside its data services.
fn spec(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(support::workspace().join(SPEC)).unwrap()
        + "  - name: apps\n    services:\n      api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 }, needs: [db] }\n";
    let path = dir.join("platform.yaml");
    std::fs::write(&path, &text).unwrap();
    path.display().to_string()
}

/// A cluster with the spec applied: its namespace, CronJobs and Deployments.
fn cluster(spec: &str, dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(spec).unwrap();
    let file = strata_core::source::SourceFile::new(spec, text);
    let platform = strata_core::resolve(&strata_core::spec::parse(&file).unwrap(), None).unwrap();
    let fake = loopback::Fake::new();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "backups"}}),
        "strata",
    );
    for object in render::render(&platform, &NoAssets).unwrap().objects {
        if matches!(object.kind(), "CronJob" | "Deployment") {
            fake.insert(object.value, "strata");
        }
    }
    let port = loopback::serve(fake);
    let kubeconfig = dir.join("kubeconfig");
    loopback::write_kubeconfig(&kubeconfig, port, None);
    kubeconfig.display().to_string()
}

#[test]
fn backup_prints_each_step_and_where_the_backup_went() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let kubeconfig = cluster(&spec, dir.path());
    let output = support::strata()
        .args(["backup", &spec, "db", "--kubeconfig", &kubeconfig])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("db\ts3://backups/db/20"), "{stdout}");
    assert!(
        stderr.contains("created Job/backups/db-backup-20"),
        "{stderr}"
    );
    assert!(stderr.contains("succeeded"), "{stderr}");
}

#[test]
fn restore_refuses_while_callers_run_and_takes_one_way_of_overriding() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let kubeconfig = cluster(&spec, dir.path());
    let output = support::strata()
        .args([
            "restore",
            &spec,
            "db",
            "20260105T030000Z",
            "--kubeconfig",
            &kubeconfig,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("called by running services (api)"),
        "{stderr}"
    );
    assert!(stderr.contains("--stop-callers"), "{stderr}");
    let output = support::strata()
        .args([
            "restore",
            &spec,
            "db",
            "x",
            "--stop-callers",
            "--force",
            "--kubeconfig",
            &kubeconfig,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = support::strata()
        .args([
            "restore",
            &spec,
            "db",
            "20260105T030000Z",
            "--stop-callers",
            "--kubeconfig",
            &kubeconfig,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let scaled = stderr
        .find("scaled Deployment/backups/api from 1 to 0")
        .unwrap();
    let restored = stderr.find("`db` restored from 20260105T030000Z").unwrap();
    let back = stderr
        .find("scaled Deployment/backups/api back to 1")
        .unwrap();
    assert!(scaled < back && back < restored, "{stderr}");
}
