//! What the whole-binary tests share: the binary, the workspace, and the
//! examples with their environments.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `strata` binary, colourless, run from the workspace root.
pub fn strata() -> Command {
    let mut cmd = Command::cargo_bin("strata").expect("the strata binary is built");
    cmd.env("NO_COLOR", "1").current_dir(workspace());
    cmd
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example's spec (relative to the workspace) with each of its
/// environments, the base spec first (`None`).
pub fn examples() -> Vec<(String, Option<String>)> {
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
pub fn example_name(spec: &str) -> String {
    Path::new(spec)
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
