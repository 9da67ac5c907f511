//! Whole-binary behaviour: the bad-spec corpus, the examples, `plan`
//! snapshots and the committed JSON Schema.

mod support;

use assert_cmd::Command;
use support::workspace;

/// The binary, run from this crate's directory (the bad-spec corpus is named
/// relative to it in the reports).
fn strata() -> Command {
    let mut cmd = support::strata();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `code line:col` for every diagnostic in miette's rendering, in order,
/// `warning code line:col` for a warning.
fn reported(stderr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lines: Vec<&str> = stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        // miette prints the code alone on a line, a blank line, then
        // `  × message` (an error) or `  ⚠ message` (a warning).
        let is_code = !line.starts_with(' ')
            && !line.is_empty()
            && !line.starts_with("error:")
            && !line.starts_with("warning:");
        let Some(mark) = lines
            .get(i + 2)
            .and_then(|l| l.trim_start().chars().next())
            .filter(|&c| is_code && (c == '×' || c == '⚠'))
        else {
            continue;
        };
        let location = lines[i + 2..]
            .iter()
            .take_while(|l| l.is_empty() || l.starts_with(char::is_whitespace))
            .find_map(|l| {
                l.split_once("─[")
                    .map(|(_, rest)| rest.trim_end_matches(']'))
            })
            .and_then(|loc| {
                let mut parts = loc.rsplitn(3, ':');
                let col = parts.next()?;
                let row = parts.next()?;
                Some(format!(" {row}:{col}"))
            });
        let severity = if mark == '⚠' { "warning " } else { "" };
        found.push(format!(
            "{severity}{}{}",
            line.trim(),
            location.unwrap_or_default()
        ));
    }
    found
}

/// Each spec of `tests/bad-specs` reports exactly the problems its
/// `# expect: CODE LINE:COL` lines list (`# expect: warning CODE LINE:COL`
/// for a warning), in order. A spec with only warnings is valid: `check`
/// exits with 0 and says so on stdout.
#[test]
fn bad_specs_report_the_expected_errors() {
    let mut count = 0;
    insta::glob!("bad-specs/*.yaml", |path| {
        count += 1;
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(str::to_string)
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let args: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("# args: "))
            .map(|a| a.split_whitespace().collect())
            .unwrap_or_default();
        let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let output = strata()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("check")
            .arg(relative)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        let valid = expected.iter().all(|e| e.starts_with("warning "));
        assert_eq!(
            output.status.code(),
            Some(i32::from(!valid)),
            "{}: exit code\n{stderr}",
            path.display()
        );
        assert_eq!(
            output.stdout.is_empty(),
            !valid,
            "{}: a summary on stdout only when valid",
            path.display()
        );
        assert!(
            !stderr.contains("panicked"),
            "{}: panicked\n{stderr}",
            path.display()
        );
        assert_eq!(reported(&stderr), expected, "{}:\n{stderr}", path.display());
        assert!(
            stderr.contains("help:"),
            "{}: every problem has a hint\n{stderr}",
            path.display()
        );
        insta::assert_snapshot!(stderr);
    });
    assert!(
        count >= 25,
        "the corpus holds at least 25 bad specs, found {count}"
    );
}

#[test]
fn every_example_is_valid_in_every_environment() {
    let examples = std::fs::read_dir(workspace().join("examples")).unwrap();
    let mut checked = 0;
    for example in examples {
        let spec = example.unwrap().path().join("platform.yaml");
        if !spec.exists() {
            continue;
        }
        let output = strata().arg("check").arg(&spec).output().unwrap();
        assert!(
            output.status.success(),
            "{}:\n{}",
            spec.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

fn plan(env: &str, format: &str) -> String {
    let output = strata()
        .current_dir(workspace())
        .args([
            "plan",
            "examples/isa-cloud/platform.yaml",
            "--env",
            env,
            "-o",
            format,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn isa_cloud_plan_follows_the_documented_start_up_order() {
    let plan: serde_json::Value = serde_json::from_str(&plan("staging", "json")).unwrap();
    let wave_of = |name: &str| {
        let wave = plan["waves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| {
                w["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["name"] == name)
            })
            .unwrap_or_else(|| panic!("{name} is in no wave"));
        wave["wave"].as_u64().unwrap()
    };
    for first in [
        "consul",
        "redis",
        "minio",
        "nats",
        "mosquitto",
        "postgres",
        "qdrant",
        "neo4j",
        "loki",
    ] {
        assert_eq!(wave_of(first), 1, "{first} starts first");
    }
    assert!(wave_of("grafana") > wave_of("loki"));
    for grpc in [
        "minio-grpc",
        "redis-grpc",
        "postgres-grpc",
        "neo4j-grpc",
        "duckdb-grpc",
    ] {
        assert!(
            wave_of(grpc) > wave_of("grafana"),
            "{grpc} after the infrastructure"
        );
        assert!(wave_of("gateway") > wave_of(grpc), "gateway after {grpc}");
    }
    assert!(wave_of("openresty") > wave_of("gateway"));
    for app in ["model", "mcp", "agent", "auth-service", "event-service"] {
        assert!(
            wave_of(app) > wave_of("openresty"),
            "{app} after the gateway tier"
        );
    }
    assert!(wave_of("agent") > wave_of("mcp") && wave_of("mcp") > wave_of("model"));
    let users = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["services"].as_array().unwrap())
        .filter(|s| s["name"].as_str().unwrap().ends_with("-service"))
        .count();
    assert_eq!(users, 25);
}

#[test]
fn isa_cloud_plans_match_snapshots() {
    insta::assert_snapshot!("plan-staging", plan("staging", "table"));
    insta::assert_snapshot!("plan-local", plan("local", "table"));
    insta::assert_snapshot!("plan-staging-json", plan("staging", "json"));
}

#[test]
fn committed_schema_is_current() {
    let output = strata().arg("schema").output().unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed =
        std::fs::read_to_string(workspace().join("docs/platform.schema.json")).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/platform.schema.json is stale: run `cargo run -- schema > docs/platform.schema.json`"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let output = strata()
        .args(["check", "no/such/platform.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cannot read the spec `no/such/platform.yaml`"),
        "{stderr}"
    );
}

#[test]
fn a_problem_far_into_a_long_line_is_shown_at_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("platform.yaml");
    let description = "x".repeat(70_000);
    std::fs::write(
        &spec,
        format!("{{platform: demo, description: \"{description}\", tierz: []}}\n"),
    )
    .unwrap();
    let output = strata().arg("check").arg(&spec).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let column = "{platform: demo, description: \"\", ".len() + description.len() + 1;
    assert!(stderr.contains(&format!(":1:{column}]")), "{stderr}");
    assert!(stderr.contains("did you mean `tiers`?"), "{stderr}");
    // The snippet is a window of the line, not 70,000 characters of it.
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("platform.yaml");
    std::fs::write(&spec, b"platform: demo\ndescription: caf\xe9\ntiers: []\n").unwrap();
    for verb in ["check", "lint"] {
        let output = strata().arg(verb).arg(&spec).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{verb}: {stderr}");
        assert!(stderr.contains("invalid-utf8"), "{verb}: {stderr}");
        assert!(stderr.contains("platform.yaml:2:17]"), "{verb}: {stderr}");
    }
}

#[test]
fn every_verb_has_examples_in_its_help() {
    for verb in ["check", "plan", "render", "graph", "schema"] {
        let output = strata().args([verb, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Examples:"),
            "`strata {verb} --help` shows examples:\n{help}"
        );
        assert!(help.contains(&format!("strata {verb}")), "{help}");
    }
}

#[test]
fn plan_shows_each_backup_s_schedule_retention_and_store() {
    let spec = "crates/strata/tests/fixtures/backups/platform.yaml";
    let output = strata()
        .current_dir(workspace())
        .args(["plan", spec, "-o", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let backups: Vec<(String, String)> = plan["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["service"].as_str().unwrap().to_string(),
                b["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        backups,
        [
            (
                "db".to_string(),
                "s3://backups/db (on `objects`)".to_string()
            ),
            (
                "sql".to_string(),
                "s3://backups/sql (on `objects`)".to_string()
            ),
            (
                "cache".to_string(),
                "s3://backups/cache (on `objects`)".to_string()
            ),
        ]
    );
    assert_eq!(plan["backups"][0]["schedule"], "0 3 * * *");
    assert_eq!(plan["backups"][0]["keepDays"], 7);
    let table = strata()
        .current_dir(workspace())
        .args(["plan", spec])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("Backups") && table.contains("0 3 * * *"),
        "{table}"
    );
}
