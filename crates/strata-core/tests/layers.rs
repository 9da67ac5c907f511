//! The layers of strata-core, read from its source: which top-level module
//! uses which (`crate::NAME` paths and `use crate::{…}` groups), with no
//! cycle among them and none of the edges the layout forbids.
//!
//! Unit tests (`#[cfg(test)] mod tests` and `tests.rs` files) are left
//! out: a test may reach anywhere. So is `lib.rs`, the root that ties the
//! modules together, and so are uses of the root's own items
//! (`crate::resolve`), which belong to no module.
//!
//! `cargo test -p strata-core --test layers -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each module never uses, as `module: modules`. Files, spans,
/// diagnostics and quantities are the ground the rest stands on; each stage
/// of the pipeline `spec` → `model` → `render` → `export` knows nothing of
/// the stages after it, nor of what is built on the pipeline: blueprints,
/// lint, audit, plan.
const FORBIDDEN: &str = "
    source:   diag quantity spec model render export blueprint lint audit plan
    diag:     quantity spec model render export blueprint lint audit plan
    quantity: source diag spec model render export blueprint lint audit plan
    spec:     model render export blueprint lint audit plan
    model:    render export blueprint lint audit plan
    render:   export blueprint lint audit plan
    export:   blueprint lint audit plan
    pod_security: model render export blueprint lint audit plan
";

/// `from` → `to` → where `from` first uses `to` (`path:line`).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    println!("{}", show(&graph));
    if let Some(cycle) = cycle(&graph) {
        let sites: Vec<String> = cycle
            .windows(2)
            .map(|pair| format!("  {} → {}: {}", pair[0], pair[1], graph[&pair[0]][&pair[1]]))
            .collect();
        panic!(
            "the modules use each other in a cycle: {}\n{}",
            cycle.join(" → "),
            sites.join("\n")
        );
    }
}

#[test]
fn no_module_uses_what_its_layer_forbids() {
    let graph = graph();
    let mut broken = Vec::new();
    for (from, forbidden) in FORBIDDEN.lines().filter_map(|row| row.split_once(':')) {
        let from = from.trim();
        for to in forbidden.split_whitespace() {
            // A misspelt module would never match: each must exist.
            for name in [from, to] {
                assert!(graph.contains_key(name), "no module `{name}` in src");
            }
            if let Some(site) = graph[from].get(to) {
                broken.push(format!("{from} uses {to}: {site}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// An empty graph would pass the checks above: the scan must see the
/// edges the pipeline is made of.
#[test]
fn the_scan_sees_the_pipeline() {
    let graph = graph();
    for (from, to) in [("model", "spec"), ("render", "model"), ("plan", "model")] {
        assert!(
            graph.get(from).is_some_and(|uses| uses.contains_key(to)),
            "{from} → {to} not found:\n{}",
            show(&graph)
        );
    }
}

#[test]
fn comments_and_strings_are_not_uses() {
    let text = "//! See crate::audit.\n\
                /// Like crate::lint::Finding.\n\
                // crate::plan is later.\n\
                let a = b; // not crate::export\n\
                /* crate::blueprint /* nested */ crate::lint */\n\
                let s = \"crate::render // no comment\";\n\
                let r = r#\"crate::spec\"#;\n\
                let q = '\"'; let c = crate::model::X; // '\"'\n";
    let code = strip(text);
    assert_eq!(uses(&code), [("model".to_string(), 8)], "{code}");
    assert_eq!(code.lines().count(), text.lines().count(), "lines are kept");
}

#[test]
fn paths_and_groups_are_uses() {
    let code = "use crate::{\n    diag::Diagnostic,\n    spec::{self, Document},\n    self,\n};\n\
                pub(crate) fn f() -> crate::model::Platform { crate :: source::x() }\n\
                pub(in crate::plan) struct S;\n\
                macro_rules! m { () => { $crate::kind::X } }\n";
    assert_eq!(
        uses(code),
        [
            ("diag".to_string(), 2),
            ("spec".to_string(), 3),
            ("model".to_string(), 6),
            ("source".to_string(), 6),
            ("plan".to_string(), 7),
        ]
    );
}

#[test]
fn unit_tests_are_cut_off() {
    let text = "use crate::model;\n\n#[cfg(test)]\nmod tests {\n    use crate::lint;\n}\n";
    assert_eq!(without_tests(text), "use crate::model;\n\n");
}

/// The module graph of `crates/strata-core/src`.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(&src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(from) = top_module(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let relative = file.strip_prefix(&src).unwrap().display().to_string();
        let edges = graph.entry(from.clone()).or_default();
        for (to, line) in uses(&strip(without_tests(&text))) {
            if to != from && modules.contains(&to) {
                edges
                    .entry(to)
                    .or_insert_with(|| format!("src/{relative}:{line}"));
            }
        }
    }
    graph
}

/// Every `.rs` file under `dir` but `tests.rs` files, in order.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level module `file` belongs to: its first path component
/// under `src`, without `.rs`. None for the root, `lib.rs`.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?;
    let name = first.as_os_str().to_str()?;
    let name = name.strip_suffix(".rs").unwrap_or(name);
    (name != "lib").then(|| name.to_string())
}

/// `text` up to its unit tests, which by convention close a file.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |end| &text[..end])
}

/// `code` with its comments removed and its string and character literals
/// emptied, newlines kept so lines still count.
fn strip(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            // To the end of the line: `//`, `///` and `//!` alike.
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comments nest.
            let mut depth = 0;
            while i < chars.len() {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'r' && raw_string_at(&chars, i)) {
            i = skip_string(&chars, i, &mut out);
        } else if c == '\'' && at(i + 1) == '\\' {
            // An escaped character: `'\n'`, `'\''`, `'\u{2192}'`.
            i += 3;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
        } else if c == '\'' && at(i + 2) == '\'' {
            out.push_str("' '");
            i += 3;
        } else {
            // Code, and the quote of a lifetime.
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether a raw string (`r"…"`, `r#"…"#`, `br"…"`) starts at the `r` at `i`.
fn raw_string_at(chars: &[char], i: usize) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let before = i.checked_sub(1).map(|j| chars[j]);
    let prefix_ok = match before {
        Some('b') => i < 2 || !ident(chars[i - 2]),
        Some(c) => !ident(c),
        None => true,
    };
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    prefix_ok && chars.get(j) == Some(&'"')
}

/// Skips the string literal starting at `i` (at its `"` or its raw `r`),
/// writing `""` and the newlines inside it; returns where the code goes on.
fn skip_string(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let mut hashes = 0;
    let raw = chars[i] == 'r';
    if raw {
        i += 1;
        while chars[i] == '#' {
            hashes += 1;
            i += 1;
        }
    }
    i += 1; // the opening quote
    out.push('"');
    let closes_at =
        |i: usize| chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#'));
    while i < chars.len() && !closes_at(i) {
        // An escape is skipped whole, so `\"` does not close the string;
        // a newline, escaped or not, is kept.
        let step = if chars[i] == '\\' && !raw { 2 } else { 1 };
        out.extend(
            chars[i..chars.len().min(i + step)]
                .iter()
                .filter(|&&c| c == '\n'),
        );
        i += step;
    }
    out.push('"');
    i + 1 + hashes
}

/// The first name of each path from the crate root in `code`, with the
/// line it is on: `crate::NAME` and each element of `crate::{…}`.
fn uses(code: &str) -> Vec<(String, usize)> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let line = |pos: usize| code[..pos].matches('\n').count() + 1;
    let skip_space = |mut pos: usize| {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        pos
    };
    let word_at = |pos: usize| {
        let end = (pos..bytes.len())
            .find(|&j| !ident(bytes[j]))
            .unwrap_or(bytes.len());
        &code[pos..end]
    };
    let mut found = Vec::new();
    for (start, _) in code.match_indices("crate") {
        // A whole word, and not `$crate`, which in a macro names this
        // crate to its callers.
        let before = start.checked_sub(1).map(|j| bytes[j]);
        if before.is_some_and(|b| ident(b) || b == b'$')
            || bytes.get(start + 5).is_some_and(|&b| ident(b))
        {
            continue;
        }
        let mut pos = skip_space(start + 5);
        if !code[pos..].starts_with("::") {
            continue; // `pub(crate)`
        }
        pos = skip_space(pos + 2);
        if bytes.get(pos) != Some(&b'{') {
            found.push((word_at(pos).to_string(), line(pos)));
            continue;
        }
        // A group: the first name of each element at its top level.
        let (mut depth, mut element_start) = (0, true);
        while pos < bytes.len() {
            match bytes[pos] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => element_start = true,
                b if depth == 1 && element_start && ident(b) => {
                    let name = word_at(pos);
                    if name != "self" {
                        found.push((name.to_string(), line(pos)));
                    }
                    element_start = false;
                    pos += name.len();
                    continue;
                }
                _ => {}
            }
            pos += 1;
        }
    }
    found
}

/// A cycle in `graph` as its modules, the first repeated at the end.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

/// One line per module: what it uses.
fn show(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, uses)| {
            let to: Vec<&str> = uses.keys().map(String::as_str).collect();
            format!("{from} → {}", to.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
