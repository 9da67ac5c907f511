//! Property tests of the parser and resolver: no input makes them panic,
//! and every failure carries a diagnostic that points into the file.

use proptest::prelude::*;
use strata_core::source::SourceFile;
use strata_core::{model, plan, spec};

const EXAMPLE: &str = include_str!("../../../examples/isa-cloud/platform.yaml");

/// Runs the whole pure pipeline; panics only through a bug.
fn check(text: &str) {
    let file = SourceFile::new("fuzz.yaml", text);
    let doc = match spec::parse(&file) {
        Ok(doc) => doc,
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a failed parse explains itself");
            for d in &diagnostics {
                for label in &d.labels {
                    assert!(
                        label.span.end() <= text.len(),
                        "labels stay inside the file"
                    );
                    assert!(
                        text.is_char_boundary(label.span.start())
                            && text.is_char_boundary(label.span.end())
                    );
                }
            }
            return;
        }
    };
    let mut environments = vec![None];
    environments.extend(model::environment_names(&doc.spec).into_iter().map(Some));
    for env in environments {
        match strata_core::resolve(&doc, env) {
            Ok(platform) => {
                let plan = plan::Plan::new(&platform);
                assert_eq!(plan.total.services as usize, platform.services.len());
            }
            Err(diagnostics) => assert!(!diagnostics.is_empty()),
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    DeleteChar(usize),
    Insert(usize, String),
}

fn apply(text: &str, edit: &Edit) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match edit {
        Edit::DeleteLine(i) => {
            let i = i % lines.len();
            lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
        Edit::DuplicateLine(i) => {
            let i = i % lines.len();
            let mut out: Vec<&str> = lines.clone();
            out.insert(i, lines[i]);
            out.join("\n")
        }
        Edit::DeleteChar(i) => {
            let mut chars: Vec<char> = text.chars().collect();
            let i = i % chars.len();
            chars.remove(i);
            chars.into_iter().collect()
        }
        Edit::Insert(i, s) => {
            let mut chars: Vec<char> = text.chars().collect();
            let i = i % chars.len();
            for (k, c) in s.chars().enumerate() {
                chars.insert(i + k, c);
            }
            chars.into_iter().collect()
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::DeleteChar),
        (
            any::<usize>(),
            prop_oneof![
                Just("${".to_string()),
                Just(": ".to_string()),
                Just("\n  - ".to_string()),
                Just("{".to_string()),
                Just("*x".to_string()),
                Just("&x ".to_string()),
                Just("é".to_string()),
                "[ -~]{1,6}",
            ]
        )
            .prop_map(|(i, s)| Edit::Insert(i, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check(&text);
    }

    #[test]
    fn edited_examples_never_panic(edits in proptest::collection::vec(edit(), 1..4)) {
        let mut text = EXAMPLE.to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text);
    }
}

#[test]
fn the_example_itself_is_valid() {
    let file = SourceFile::new("platform.yaml", EXAMPLE);
    let doc = spec::parse(&file).unwrap();
    for env in [None, Some("local"), Some("staging")] {
        strata_core::resolve(&doc, env).unwrap();
    }
}
