//! `strata import` as a user runs it: files written (or nothing at all),
//! the report on stderr at file:line:col, and a spec `strata check` and
//! `strata render` accept as written.

mod support;

use std::path::Path;

use support::strata;

const CORPUS: &str = "crates/strata-import/tests/corpus";

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn import_writes_a_spec_that_checks_and_renders_with_what_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ledger.yaml");
    let output = strata()
        .args(["import", &format!("{CORPUS}/ledger"), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let report = stderr(&output);
    assert!(output.status.success(), "{report}");
    assert!(output.stdout.is_empty());
    // Verbatim objects go beside the spec, named after it, and the spec's
    // `imported` tier names them.
    let kept = std::fs::read_to_string(dir.path().join("ledger.kept.yaml")).unwrap();
    assert!(
        kept.contains("kind: RoleBinding") && kept.contains("kind: Role\n"),
        "{kept}"
    );
    assert!(
        !kept.contains("ledger-test-connection"),
        "a Helm test hook is no part of the platform"
    );
    let spec = std::fs::read_to_string(&out).unwrap();
    assert!(spec.contains("manifests: [ledger.kept.yaml]"), "{spec}");
    // Each kept or left-out setting is reported at its place in the input.
    for line in [
        "ledger/rendered.yaml:42:1: kept as manifest: Role/ledger-core-leader",
        "ledger/rendered.yaml:284:9: kept as patch: Deployment/ledger-core: pod `affinity`",
        "ledger/rendered.yaml:29:1: not imported: Secret/ledger-api-keys: its values are not imported",
        "ledger/rendered.yaml:558:5: not imported: Pod/ledger-test-connection: a Helm test hook",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
    // The spec passes check and renders, the kept objects included.
    strata().arg("check").arg(&out).assert().success();
    let render = strata().arg("render").arg(&out).output().unwrap();
    assert!(render.status.success(), "{}", stderr(&render));
    let rendered = String::from_utf8_lossy(&render.stdout);
    assert!(rendered.contains("name: ledger-core-leader"));
    assert!(rendered.contains("nodePort: 30080"));
}

#[test]
fn import_prints_the_spec_when_nothing_is_kept_verbatim() {
    let output = strata()
        .args(["import", &format!("{CORPUS}/shop"), "--name", "shop"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let spec = String::from_utf8_lossy(&output.stdout);
    assert!(spec.starts_with("# yaml-language-server"), "{spec}");
    assert!(spec.contains("platform: shop\n"));
    assert!(spec.contains(r#"REDIS_ADDR: "${redis.address}""#), "{spec}");
}

#[test]
fn import_refuses_to_print_a_spec_whose_kept_objects_need_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = strata()
        .current_dir(dir.path())
        .arg("import")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(CORPUS)
                .join("ledger"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("give --out FILE"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is written"
    );
}

#[test]
fn import_reports_bad_input_at_its_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.yaml");
    std::fs::write(
        &input,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\nkind: [unclosed\n",
    )
    .unwrap();
    let out = dir.path().join("platform.yaml");
    let output = strata()
        .arg("import")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    assert!(
        report.contains("broken.yaml:5:") || report.contains("broken.yaml:6:"),
        "{report}"
    );
    assert!(!out.exists());

    // Kubernetes objects read as a compose file.
    let output = strata()
        .args([
            "import",
            &format!("{CORPUS}/shop/data.yaml"),
            "--from",
            "compose",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("invalid-compose"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());

    // A spec written by hand is never replaced.
    std::fs::write(&out, "platform: mine\n").unwrap();
    let output = strata()
        .args(["import", &format!("{CORPUS}/shop"), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("refusing to replace"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "platform: mine\n");
    std::fs::remove_file(&out).unwrap();

    // A platform name the spec would refuse.
    let output = strata()
        .args(["import", &format!("{CORPUS}/shop"), "--name", "Shop_1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--name `Shop_1` is not a DNS label"),
        "{}",
        stderr(&output)
    );

    // Objects but no workload: nothing to import.
    std::fs::write(
        &input,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n",
    )
    .unwrap();
    let output = strata()
        .arg("import")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nothing-to-import"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn import_reads_standard_input() {
    let stream =
        std::fs::read_to_string(support::workspace().join(CORPUS).join("shop/data.yaml")).unwrap();
    let output = strata()
        .args(["import", "-", "--name", "stores"])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let spec = String::from_utf8_lossy(&output.stdout);
    assert!(
        spec.contains("platform: stores") && spec.contains("rabbitmq:"),
        "{spec}"
    );
    assert!(
        stderr(&output).contains("<stdin>:56:1: not imported: Secret/postgres-auth"),
        "{}",
        stderr(&output)
    );
}

/// Every corpus system, imported then rendered, gives objects the API
/// server takes: the patches that keep the input's settings included.
#[test]
fn every_imported_corpus_system_validates_strictly_against_kubernetes_1_33() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut systems: Vec<_> = std::fs::read_dir(support::workspace().join(CORPUS))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    systems.sort();
    for system in systems {
        let name = system.file_name().unwrap().to_string_lossy().into_owned();
        let spec = dir.path().join(format!("{name}.yaml"));
        let output = strata()
            .arg("import")
            .arg(&system)
            .arg("--out")
            .arg(&spec)
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let render = strata().arg("render").arg(&spec).output().unwrap();
        assert!(render.status.success(), "{name}: {}", stderr(&render));
        let rendered = dir.path().join(format!("{name}.rendered.yaml"));
        std::fs::write(&rendered, &render.stdout).unwrap();
        files.push(rendered);
    }
    assert!(files.len() >= 6, "{} corpus systems", files.len());
    if support::validate_strictly(&files) {
        eprintln!(
            "validated {} imported systems strictly against Kubernetes 1.33",
            files.len()
        );
    }
}
