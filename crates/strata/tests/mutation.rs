//! Hostile input, kept from coming back: seeded mutants of every example
//! and every bad spec (lines deleted, duplicated, swapped, re-indented;
//! values made huge, negative, long, strange or of the wrong type; the text
//! cut short) go through every offline verb — check, plan, render, audit,
//! graph and lint — in process through `strata_core`, and a smaller
//! sample through the binary.
//!
//! A mutant fails the test when a verb panics, takes more than 10 s, or
//! reports an error without a `file:line:col`. The failure prints the
//! seed and the smallest mutant (lines removed while it still fails) to
//! reproduce it.
//!
//! `STRATA_MUTANTS=N` runs N mutants (2,000 by default, a few seconds per
//! hundred in a debug build); `STRATA_MUTATION_SEED=S` another seed.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use strata_core::diag::{Diagnostic, Severity};
use strata_core::export::{self, Format, diagram::Diagram};
use strata_core::render::{self, Assets};
use strata_core::source::SourceFile;
use strata_core::{audit, lint, model, plan, spec};

/// How long one input may take through every verb.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The seed when `STRATA_MUTATION_SEED` does not give one.
const SEED: u64 = 20;

/// A small, seeded, deterministic generator (SplitMix64): the same seed
/// gives the same mutants on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (which is not 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Values a scalar is replaced with: extreme numbers, long and strange
/// strings, other types, YAML's own syntax.
fn hostile_value(rng: &mut Rng) -> String {
    const VALUES: &[&str] = &[
        "0",
        "-1",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "-9223372036854775808",
        "99999999999999999999999999",
        "1e308",
        "-1e-308",
        ".inf",
        ".nan",
        "0x7fffffff",
        "1.5",
        "true",
        "null",
        "~",
        "[]",
        "{}",
        "[a, [b, [c]]]",
        "{ a: { b: c } }",
        "\"\"",
        "\"\\0\\u0001\"",
        "\"><script>alert(1)</script>\"",
        "\"a b\\nc\"",
        "\"../../etc/passwd\"",
        "/proc/self/environ",
        "\"${nope.host}\"",
        "${",
        "*alias",
        "&anchor x",
        "!!binary aGk=",
        "'",
        "\"",
        "{",
        "[",
        "- - - x",
        "é ü 中 🚀",
        "\t",
        "999999Ti",
        "-5m",
        "1000000000000m",
        "0.0001Ki",
        "99999d",
        "100%",
        "250%",
        "UPPER_case",
        "a:b",
        "# comment",
    ];
    match rng.below(10) {
        // A long string, some with a character to find at its end.
        0 => "x".repeat(1 + rng.below(70_000)),
        1 => format!("{}-{}", "a".repeat(rng.below(300)), rng.next()),
        _ => rng.pick(VALUES).to_string(),
    }
}

/// One mutation of `text`.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return hostile_value(rng);
    }
    let n = lines.len();
    let at = rng.below(n);
    match rng.below(9) {
        0 => {
            lines.remove(at);
        }
        8 => {
            // A key renamed after another line's key, maybe with a suffix
            // Strata derives names with: names that collide.
            let keys: Vec<String> = lines
                .iter()
                .filter_map(|l| l.trim_start().trim_start_matches("- ").split_once(':'))
                .map(|(k, _)| k.trim().to_string())
                .filter(|k| !k.is_empty() && !k.contains(' '))
                .collect();
            if let (Some((_, rest)), false) = (lines[at].split_once(':'), keys.is_empty()) {
                let indent = lines[at].len() - lines[at].trim_start().len();
                let suffix = rng.pick(&[
                    "",
                    "-headless",
                    "-config",
                    "-env",
                    "-sentinel",
                    "-credentials",
                    "-nodes",
                    "-public",
                    "-topics",
                    "-databases",
                ]);
                let key = &keys[rng.below(keys.len())];
                lines[at] = format!("{}{key}{suffix}:{rest}", " ".repeat(indent));
            }
        }
        1 => {
            let line = lines[at].clone();
            lines.insert(at, line);
        }
        2 => lines.swap(at, rng.below(n)),
        3 => {
            let line = &lines[at];
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            lines[at] = match rng.below(4) {
                0 => format!("  {line}"),
                1 => format!(
                    "{}{trimmed}",
                    " ".repeat(indent.saturating_sub(1 + rng.below(2)))
                ),
                2 => format!("\t{trimmed}"),
                _ => format!(" {line}"),
            };
        }
        4 => {
            // Cut the text short, at a character boundary.
            let mut cut = rng.below(text.len().max(1));
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return text[..cut].to_string();
        }
        _ => {
            // A value: after a `key: ` or a `- `, to the end of the line or
            // of the flow item.
            let line = &lines[at];
            let starts: Vec<usize> = line
                .match_indices(": ")
                .map(|(i, _)| i + 2)
                .chain(line.find("- ").map(|i| i + 2))
                .collect();
            if starts.is_empty() {
                lines[at] = format!("{line} {}", hostile_value(rng));
            } else {
                let start = starts[rng.below(starts.len())];
                let end = line[start..]
                    .find([',', '}', ']'])
                    .map_or(line.len(), |i| start + i);
                lines[at] = format!("{}{}{}", &line[..start], hostile_value(rng), &line[end..]);
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The spec's folder, read as `render` reads it: relative paths that stay
/// inside, regular files of at most 1 MiB.
struct Folder(PathBuf);

impl Assets for Folder {
    fn read(&self, path: &str) -> Result<String, String> {
        if Path::new(path).is_absolute() || path.split('/').any(|p| p == "..") {
            return Err("outside the spec's folder".into());
        }
        let file = self.0.join(path);
        let metadata = std::fs::metadata(&file).map_err(|e| e.to_string())?;
        if !metadata.is_file() || metadata.len() > 1024 * 1024 {
            return Err("not a regular file of at most 1 MiB".into());
        }
        std::fs::read_to_string(file).map_err(|e| e.to_string())
    }
}

/// What is wrong with how the verbs took one input.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Defect {
    Panic(String),
    Hang,
    Unlocated(String),
}

/// An error without a place, if any of `diagnostics` is one.
fn unlocated(verb: &str, diagnostics: &[Diagnostic]) -> Result<(), Defect> {
    match diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error && d.location().is_none())
    {
        Some(d) => Err(Defect::Unlocated(format!(
            "{verb}: {} {}",
            d.code, d.message
        ))),
        None => Ok(()),
    }
}

/// Every offline verb on `text`, as the binary runs them.
fn verbs(text: &str, folder: &Path) -> Result<(), Defect> {
    let file = SourceFile::new("platform.yaml", text);
    // lint reads any YAML: the mutant itself.
    match lint::read(&file) {
        Ok(reading) => {
            lint::lint(&reading.manifests, &lint::Options::default());
        }
        Err(d) => unlocated("lint", &[d])?,
    }
    let doc = match spec::parse(&file) {
        Ok(doc) => doc,
        Err(diagnostics) => return unlocated("check", &diagnostics),
    };
    let environments =
        std::iter::once(None).chain(model::environment_names(&doc.spec).into_iter().map(Some));
    let assets = Folder(folder.to_path_buf());
    for env in environments {
        let platform = match strata_core::resolve(&doc, env) {
            Ok(platform) => platform,
            Err(diagnostics) => {
                unlocated("check", &diagnostics)?;
                continue;
            }
        };
        unlocated("check", &platform.warnings())?;
        plan::Plan::new(&platform).fits();
        let options = audit::Options {
            max_critical_path: 6,
            disabled: Vec::new(),
        };
        audit::audit(&platform, &options);
        let diagram = Diagram::new(&platform);
        diagram.svg();
        diagram.mermaid();
        diagram.dot();
        match render::render(&platform, &assets) {
            Ok(set) => {
                let all: Vec<_> = set.objects.iter().collect();
                let rendered = SourceFile::new("rendered.yaml", export::stream(&all, Format::Yaml));
                match lint::read(&rendered) {
                    Ok(reading) => {
                        lint::lint(&reading.manifests, &lint::Options::default());
                    }
                    Err(d) => unlocated("lint of the render", &[d])?,
                }
            }
            Err(diagnostics) => unlocated("render", &diagnostics)?,
        }
    }
    Ok(())
}

/// Every verb on `text`, on its own thread: a panic and a hang are
/// caught, not fatal.
fn judge(text: &str, folder: &Path) -> Result<(), Defect> {
    judge_with(verbs, TIMEOUT, text, folder)
}

/// `run` on its own thread, allowed `timeout`.
fn judge_with(
    run: fn(&str, &Path) -> Result<(), Defect>,
    timeout: Duration,
    text: &str,
    folder: &Path,
) -> Result<(), Defect> {
    let (send, receive) = mpsc::channel();
    let (text, folder) = (text.to_string(), folder.to_path_buf());
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| run(&text, &folder));
            let _ = send.send(outcome);
        })
        .unwrap();
    match receive.recv_timeout(timeout) {
        Ok(Ok(result)) => {
            worker.join().unwrap();
            result
        }
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            Err(Defect::Panic(message))
        }
        // The thread is left to finish: the test fails anyway.
        Err(_) => Err(Defect::Hang),
    }
}

/// The smallest text, by whole lines removed, that fails the same way.
fn shrink(text: &str, folder: &Path, defect: &Defect) -> String {
    let same = |candidate: &str| {
        judge(candidate, folder)
            .err()
            .is_some_and(|found| std::mem::discriminant(&found) == std::mem::discriminant(defect))
    };
    let mut lines: Vec<&str> = text.lines().collect();
    // A hang costs 10 s a try: keep it short.
    let mut budget = if *defect == Defect::Hang { 3 } else { 400 };
    let mut i = 0;
    while i < lines.len() && budget > 0 {
        let mut fewer = lines.clone();
        fewer.remove(i);
        budget -= 1;
        if same(&(fewer.join("\n") + "\n")) {
            lines = fewer;
        } else {
            i += 1;
        }
    }
    lines.join("\n") + "\n"
}

/// Every input and the folder its files are read from.
fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(root.join("../../examples")).unwrap() {
        let path = entry.unwrap().path().join("platform.yaml");
        if path.exists() {
            files.push(path);
        }
    }
    for entry in std::fs::read_dir(root.join("tests/bad-specs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutants_of_every_example_and_bad_spec_never_crash_hang_or_lose_their_place() {
    let seed = setting("STRATA_MUTATION_SEED", SEED);
    let total = usize::try_from(setting("STRATA_MUTANTS", 2000)).unwrap();
    let corpus = corpus();
    let examples = corpus
        .iter()
        .filter(|(p, _)| p.ends_with("platform.yaml"))
        .count();
    assert!(
        examples >= 5 && corpus.len() > 150,
        "{} inputs",
        corpus.len()
    );
    // The examples are large and slow to render: a sixth of the mutants.
    let per_example = (total / 6 / examples).max(1);
    let per_bad_spec = ((total - per_example * examples) / (corpus.len() - examples)).max(1);
    let mut run = 0;
    for (index, (path, text)) in corpus.iter().enumerate() {
        let folder = path.parent().unwrap();
        let count = if path.ends_with("platform.yaml") {
            per_example
        } else {
            per_bad_spec
        };
        let mut rng = Rng(seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        for mutant in 0..count {
            // One to three mutations on top of each other.
            let mut text = text.clone();
            for _ in 0..=rng.below(3) {
                text = mutate(&text, &mut rng);
            }
            run += 1;
            if let Err(defect) = judge(&text, folder) {
                let smallest = shrink(&text, folder, &defect);
                panic!(
                    "mutant {mutant} of {} (seed {seed}, STRATA_MUTATION_SEED={seed}): {defect:?}\n\
                     the smallest mutant that fails so:\n---\n{smallest}---",
                    path.display()
                );
            }
        }
    }
    assert!(run >= total.min(corpus.len()), "{run} mutants run");
}

/// The binary, on a sample: a panic is exit code 101, and the errors of
/// `check`, `render`, `audit` and `graph` carry `file:line:col`.
#[test]
fn the_binary_takes_a_sample_of_mutants_without_crashing() {
    let seed = setting("STRATA_MUTATION_SEED", SEED);
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    for round in 0..12 {
        let (path, text) = &corpus[rng.below(corpus.len())];
        let mut text = text.clone();
        for _ in 0..=rng.below(3) {
            text = mutate(&text, &mut rng);
        }
        let file = dir.path().join("platform.yaml");
        std::fs::write(&file, &text).unwrap();
        for verb in [
            &["check"][..],
            &["plan"],
            &["render"],
            &["audit", "--fail-on", "none"],
            &["graph", "-o", "mermaid"],
            &["lint"],
        ] {
            let output = assert_cmd::Command::cargo_bin("strata")
                .unwrap()
                .args(verb)
                .arg(&file)
                .arg("--color")
                .arg("never")
                .timeout(TIMEOUT)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let context = format!(
                "round {round} (seed {seed}), `strata {}` on a mutant of {}:\n{stderr}\n---\n{text}---",
                verb.join(" "),
                path.display()
            );
            let code = output.status.code();
            assert!(code.is_some(), "killed (timeout?): {context}");
            assert!(
                code != Some(101) && !stderr.contains("panicked"),
                "panic: {context}"
            );
            // plan's 1 may be a platform that does not fit, lint's its
            // findings; the others' is an error in the spec.
            if matches!(verb[0], "check" | "render" | "audit" | "graph") && code == Some(1) {
                assert!(
                    stderr.contains("platform.yaml:"),
                    "an error without a place: {context}"
                );
            }
        }
    }
}

/// The harness itself: a test that never fails would prove nothing.
#[test]
fn the_harness_catches_panics_hangs_and_errors_without_a_place() {
    let folder = Path::new(".");
    let panics: fn(&str, &Path) -> Result<(), Defect> = |_, _| panic!("boom");
    assert_eq!(
        judge_with(panics, TIMEOUT, "", folder),
        Err(Defect::Panic("boom".into()))
    );
    let hangs: fn(&str, &Path) -> Result<(), Defect> = |_, _| {
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    };
    assert_eq!(
        judge_with(hangs, Duration::from_millis(20), "", folder),
        Err(Defect::Hang)
    );
    let nowhere = Diagnostic::error("internal", "no place");
    assert!(matches!(
        unlocated("render", &[nowhere]),
        Err(Defect::Unlocated(_))
    ));
    let file = SourceFile::new("p.yaml", "a: 1\n");
    let placed =
        Diagnostic::error("x", "y").at(&file, strata_core::source::Span::new(0, 1), "here");
    assert_eq!(unlocated("check", &[placed]), Ok(()));
    // A located error is no defect; a valid spec neither.
    assert_eq!(judge("platform: [\n", folder), Ok(()));
}

#[test]
fn the_same_seed_gives_the_same_mutants() {
    let text = "platform: demo\ntiers:\n  - name: apps\n    services:\n      web: { image: demo/web:1.0, replicas: 2 }\n";
    let mutants = |seed| {
        let mut rng = Rng(seed);
        (0..50).map(|_| mutate(text, &mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(mutants(1), mutants(1));
    assert_ne!(mutants(1), mutants(2));
    assert!(mutants(1).iter().filter(|m| *m != text).count() > 40);
}
