//! The five seed platforms as examples: each plans in every environment, and
//! its plan is the one reviewed (a snapshot per example and environment), so
//! a change to waves, replicas or totals shows up in review.

mod support;

use support::{example_name, examples, strata};

#[test]
fn every_example_plan_matches_its_snapshot() {
    let all = examples();
    assert!(all.len() >= 5, "the five seed platforms are examples");
    for (spec, env) in all {
        let mut args = vec!["plan", spec.as_str()];
        if let Some(env) = &env {
            args.extend(["--env", env]);
        }
        let output = strata().args(&args).output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        // A plan that does not fit exits 1 with the plan printed; either
        // way the plan is what is reviewed.
        assert!(
            !stdout.is_empty(),
            "{spec} {env:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let name = format!(
            "plan-{}-{}",
            example_name(&spec),
            env.as_deref().unwrap_or("base")
        );
        insta::assert_snapshot!(name, stdout);
    }
}

#[test]
fn every_seed_platform_is_an_example() {
    let names: Vec<String> = examples().iter().map(|(s, _)| example_name(s)).collect();
    for seed in [
        "isa-cloud",
        "nova",
        "voice-assistant",
        "knowton",
        "one-data-studio",
    ] {
        assert!(names.iter().any(|n| n == seed), "no example for {seed}");
    }
}

/// The inline code spans of a Markdown fragment, trimmed, in order. A span
/// opens with a run of backticks and closes at the next run of the same
/// length (CommonMark); an unclosed run is literal text.
fn code_spans(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let start = i + open;
        let mut j = start;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_at(j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                spans.push(text[start..end].trim().to_string());
                i = end + open;
            }
            None => i = start,
        }
    }
    spans
}

/// The cells of a Markdown table row: split on `|` not escaped as `\|`,
/// the escapes undone, the outer pipes dropped.
fn table_cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let inner = row.strip_prefix('|').unwrap_or(row);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// docs/examples.md quotes each example's spec in the `Spec lines` column of
/// its table: every code span there must be text of that example's
/// platform.yaml, so the page cannot drift from the examples unnoticed.
#[test]
fn docs_examples_quotes_only_what_the_examples_say() {
    let root = support::workspace();
    let page =
        std::fs::read_to_string(root.join("docs/examples.md")).expect("docs/examples.md exists");
    let names: Vec<String> = examples()
        .iter()
        .filter(|(_, env)| env.is_none())
        .map(|(spec, _)| example_name(spec))
        .collect();
    assert!(names.len() >= 5, "the five seed platforms are examples");

    // `## NAME` sections, each with its lines.
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            sections.push((heading.trim().to_string(), Vec::new()));
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push(line);
        }
    }

    for name in &names {
        let found: Vec<&(String, Vec<&str>)> = sections.iter().filter(|(h, _)| h == name).collect();
        assert!(
            found.len() == 1,
            "docs/examples.md has {} `## {name}` sections: write exactly one for examples/{name}",
            found.len()
        );
    }

    let mut checked = 0;
    let mut missing = Vec::new();
    for (heading, lines) in &sections {
        if !names.contains(heading) {
            continue;
        }
        let spec_path = format!("examples/{heading}/platform.yaml");
        let spec = std::fs::read_to_string(root.join(&spec_path)).unwrap();
        let mut quoted = 0;
        for row in lines.iter().filter(|l| l.trim_start().starts_with('|')) {
            let cells = table_cells(row);
            let Some(second) = cells.get(1) else { continue };
            if second.trim().chars().all(|c| matches!(c, '-' | ':' | ' ')) {
                continue; // the delimiter row
            }
            for span in code_spans(second) {
                assert!(
                    !span.is_empty(),
                    "docs/examples.md, section `## {heading}`: an empty code span in the \
                     `Spec lines` column of row `{}`; hint: quote text of {spec_path}",
                    row.trim()
                );
                if !spec.contains(&span) {
                    missing.push(format!(
                        "section `## {heading}`: `{span}` is not in {spec_path}"
                    ));
                }
                quoted += 1;
            }
        }
        assert!(
            quoted > 0,
            "docs/examples.md, section `## {heading}`: no spec quoted in its table; hint: \
             the second column quotes {spec_path} in code spans"
        );
        checked += quoted;
    }
    assert!(
        missing.is_empty(),
        "docs/examples.md quotes text the examples do not have:\n{}\nhint: the `Spec lines` \
         column quotes the spec verbatim (a line without its indentation, or part of one \
         line): copy it from the example again",
        missing.join("\n")
    );
    println!("{checked} quotes of the examples checked in docs/examples.md");
}
