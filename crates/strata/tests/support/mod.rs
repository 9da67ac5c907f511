//! What the whole-binary tests share: the binary, the workspace, and the
//! examples with their environments.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

/// The `strata` binary, colourless, run from the workspace root.
pub(crate) fn strata() -> Command {
    let mut cmd = Command::cargo_bin("strata").expect("the strata binary is built");
    cmd.env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .current_dir(workspace());
    cmd
}

/// The workspace root.
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example's spec (relative to the workspace) with each of its
/// environments, the base spec first (`None`).
pub(crate) fn examples() -> Vec<(String, Option<String>)> {
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

/// The example's directory name: `examples/nova/platform.yaml` → `nova`.
pub(crate) fn example_name(spec: &str) -> String {
    Path::new(spec)
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `kubernetes-validate --strict` against the Kubernetes 1.33 schemas
/// on `files` and asserts it finds nothing wrong: no error, and warnings only
/// for custom resources, which have no upstream schema. Returns `false`,
/// saying why, when the tool is not installed (CI installs it, and fails
/// here if it did not).
pub(crate) fn validate_strictly(files: &[PathBuf]) -> bool {
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
        return false;
    }
    let output = Process::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.33", "--quiet"])
        .args(files)
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
    for warning in report.lines().filter(|l| l.starts_with("WARN")) {
        assert!(
            warning.contains("Couldn't find schema for kind"),
            "{warning}"
        );
        for core in [
            "api version v1 ",
            "apps/v1",
            "batch/v1",
            "rbac.authorization.k8s.io",
            "policy/v1",
            "apiextensions",
        ] {
            assert!(
                !warning.contains(core),
                "core kinds always validate: {warning}"
            );
        }
    }
    true
}
