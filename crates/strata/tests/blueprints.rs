//! Every blueprint in every mode, rendered from one fixture spec
//! (`fixtures/blueprints/platform.yaml`) and validated strictly against the
//! Kubernetes schemas by a tool nobody here wrote.

use std::path::PathBuf;

mod support;

use assert_cmd::Command;
use strata_core::{blueprint, render, source::SourceFile, spec};
use support::{validate_strictly, workspace};

const FIXTURE: &str = "crates/strata/tests/fixtures/blueprints/platform.yaml";

fn render_fixture(env: Option<&str>) -> String {
    let mut cmd = Command::cargo_bin("strata").expect("the strata binary is built");
    cmd.env("NO_COLOR", "1")
        .current_dir(workspace())
        .args(["render", FIXTURE]);
    if let Some(env) = env {
        cmd.args(["--env", env]);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_fixture_uses_every_blueprint_in_every_mode() {
    let text = std::fs::read_to_string(workspace().join(FIXTURE)).unwrap();
    for blueprint in blueprint::catalog().all() {
        for (i, mode) in blueprint.info().modes.iter().enumerate() {
            let uses = |line: &&str| {
                let picks = line.contains(&format!("blueprint: {},", blueprint.name()))
                    || line.contains(&format!("blueprint: {} }}", blueprint.name()));
                let mode_written = line.contains(&format!("mode: {}", mode.name));
                picks && (mode_written || (i == 0 && !line.contains("mode:")))
            };
            assert!(
                text.lines().any(|l| uses(&l)),
                "the fixture lacks `{}` in mode `{}`",
                blueprint.name(),
                mode.name
            );
        }
    }
}

#[test]
fn custom_resources_are_applied_after_their_operators_crds() {
    struct Dir(PathBuf);
    impl render::Assets for Dir {
        fn read(&self, p: &str) -> Result<String, String> {
            std::fs::read_to_string(self.0.join(p)).map_err(|e| e.to_string())
        }
    }
    let path = workspace().join(FIXTURE);
    let file = SourceFile::new(FIXTURE, std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Dir(path.parent().unwrap().to_path_buf())).unwrap();
    let crd_wave = set
        .objects
        .iter()
        .filter(|o| o.kind() == "CustomResourceDefinition")
        .map(|o| o.wave)
        .max()
        .unwrap();
    for kind in ["Cluster", "Kafka", "KafkaNodePool", "KafkaTopic"] {
        let object = set
            .objects
            .iter()
            .find(|o| o.kind() == kind)
            .unwrap_or_else(|| panic!("no {kind}"));
        assert!(
            object.wave > crd_wave,
            "{kind} in wave {} after CRDs in wave {crd_wave}",
            object.wave
        );
    }
}

/// `kubernetes-validate --strict` against Kubernetes 1.33, base and local.
#[test]
fn every_blueprint_validates_strictly_against_kubernetes_1_33() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for env in [None, Some("local")] {
        let path = dir.path().join(format!("{}.yaml", env.unwrap_or("base")));
        std::fs::write(&path, render_fixture(env)).unwrap();
        files.push(path);
    }
    validate_strictly(&files);
}
