//! YAML text to a tree of [`Node`]s that remember where they were written.
//!
//! Typed decoding happens later (in [`super::decode`]); this layer only knows
//! YAML: it resolves anchors, aliases and `<<` merge keys, rejects duplicate
//! keys, and bounds alias expansion so no input can exhaust memory.

mod node;
mod split;

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

pub use node::{Node, NodeKind};
pub use split::parse_split;
pub(crate) use split::{MIN_STRETCH, parse_split_sized};

use crate::diag::Diagnostic;
use crate::source::{MAX_SPANNED_LEN, SourceFile, Span};

/// Most nodes a document may expand to through aliases before it is refused.
const MAX_NODES: usize = 2_000_000;

/// Deepest nesting of lists and mappings accepted: the parser's own bound on
/// flow nesting, applied to block nesting too, so that every later walk of a
/// tree (decoding, JSON, dropping it) stays far from the end of the stack.
const MAX_DEPTH: usize = 255;

/// Characters between two remembered byte offsets of a non-ASCII text.
const CHECKPOINT: usize = 64;

/// Bytes of a whole file from which its text is scanned on a thread of its
/// own while the tree is built from what it scanned: below it, starting a
/// thread costs more than the building it overlaps.
const SCANNED_APART_FROM: usize = 256 * 1024;

/// Events the scanning thread hands over at a time: few enough that little
/// waits in between, enough that handing over costs little per event.
const BATCH: usize = 1024;

/// Batches scanned ahead of the builder at most, bounding what waits.
const BATCHES_AHEAD: usize = 4;

/// What the parser yields: an event and where it was written, or the error
/// that ends the parse.
type Scanned<'t> = Result<(Event<'t>, saphyr_parser::Span), ScanError>;

/// Parses the single YAML document of `file`.
///
/// # Errors
/// A YAML syntax error, a duplicate key, an unknown alias, more than one
/// document, or an alias expansion past two million nodes.
pub fn parse(file: &SourceFile) -> Result<Node, Diagnostic> {
    let mut documents = Vec::new();
    Builder::new(file).run(false, &mut |node| {
        documents.push(node);
        Ok(())
    })?;
    Ok(documents.into_iter().next().unwrap_or(Node {
        span: Span::new(0, 0),
        kind: NodeKind::Scalar {
            text: String::new(),
            quoted: false,
        },
    }))
}

/// Parses every YAML document of `file` (a multi-document manifest).
///
/// # Errors
/// A YAML syntax error, a duplicate key, an unknown alias, or an alias
/// expansion past two million nodes.
pub fn parse_all(file: &SourceFile) -> Result<Vec<Node>, Diagnostic> {
    let mut documents = Vec::new();
    parse_each(file, |node| {
        documents.push(node);
        Ok(())
    })?;
    Ok(documents)
}

/// Parses every YAML document of `file`, handing each to `each` as soon as
/// it ends, so a long stream is never held as one tree: what a reader that
/// converts documents one by one (lint, import) should use.
///
/// # Errors
/// As [`parse_all`], and the first error `each` returns, which stops the
/// parse.
pub fn parse_each(
    file: &SourceFile,
    mut each: impl FnMut(Node) -> Result<(), Diagnostic>,
) -> Result<(), Diagnostic> {
    Builder::new(file).run(true, &mut each)
}

struct Builder<'f> {
    file: &'f SourceFile,
    /// The text parsed: the file's, or a stretch of it.
    text: &'f str,
    /// Where [`Self::text`] starts in the file.
    base: usize,
    /// The offset of the document marker before which to stop, if any.
    stop: Option<usize>,
    /// Byte offset of every [`CHECKPOINT`]th character, when the text is not
    /// plain ASCII: an eighth of a byte per character rather than eight.
    char_offsets: Option<Vec<usize>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    /// Whether the text is scanned on a thread of its own (a large file).
    scan_apart: bool,
}

enum Frame {
    Seq(Span, usize, Vec<Node>),
    Map(
        Span,
        usize,
        Vec<(Node, Node)>,
        Option<Node>,
        Option<KeyIndex>,
    ),
}

/// The scalar keys of a large mapping, so that each new key is checked for
/// a duplicate in constant time rather than by scanning every earlier entry
/// (a `services:` mapping of a large platform has thousands).
type KeyIndex = std::collections::HashSet<String>;

/// Entries from which a mapping's keys are indexed; below it a scan is
/// cheaper than hashing.
const INDEXED_FROM: usize = 32;

/// Whether `key` is already a key of `entries`, indexing them once the
/// mapping reaches [`INDEXED_FROM`] entries; records `key` in the index.
fn is_written_twice(key: &str, entries: &[(Node, Node)], index: &mut Option<KeyIndex>) -> bool {
    if index.is_none() && entries.len() >= INDEXED_FROM {
        *index = Some(
            entries
                .iter()
                .filter_map(|(e, _)| e.as_scalar())
                .map(str::to_owned)
                .collect(),
        );
    }
    match index {
        Some(keys) => !keys.insert(key.to_owned()),
        None => entries.iter().any(|(e, _)| e.as_scalar() == Some(key)),
    }
}

/// Scans `text` into `batches` of [`BATCH`] events, in order, up to its end
/// or its first error (where every build stops), or until the builder stops
/// taking them.
fn scan<'t>(text: &'t str, batches: &std::sync::mpsc::SyncSender<Vec<Scanned<'t>>>) {
    let mut batch = Vec::with_capacity(BATCH);
    for event in Parser::new_from_str(text) {
        let failed = event.is_err();
        batch.push(event);
        if failed || batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if batches.send(full).is_err() || failed {
                return;
            }
        }
    }
    // The builder may have stopped already: nothing is lost.
    let _ = batches.send(batch);
}

impl<'f> Builder<'f> {
    fn new(file: &'f SourceFile) -> Self {
        Builder {
            scan_apart: file.text().len() >= SCANNED_APART_FROM,
            ..Builder::stretch(file, 0..file.text().len())
        }
    }

    /// A builder of the documents of `file` that start in `range`, with
    /// places in the file. It reads on past the range's end up to the
    /// marker of the next document, as a parse of the whole file does (an
    /// empty document ends where that marker does).
    fn stretch(file: &'f SourceFile, range: std::ops::Range<usize>) -> Self {
        let base = range.start;
        let stop = (range.end < file.text().len()).then_some(range.end);
        let text = &file.text()[base..];
        // Places are asked for up to the next stretch's marker, `---`.
        let placed = stop.map_or(text, |stop| &text[..stop - base + 3]);
        let char_offsets = (!placed.is_ascii()).then(|| {
            placed
                .char_indices()
                .step_by(CHECKPOINT)
                .map(|(i, _)| i)
                .collect()
        });
        Builder {
            file,
            text,
            base,
            stop,
            char_offsets,
            anchors: HashMap::new(),
            nodes: 0,
            // Stretches are parsed on every core already.
            scan_apart: false,
        }
    }

    /// The offset in the file of the character `char_index` of the text.
    fn byte(&self, char_index: usize) -> usize {
        self.base + self.byte_of_text(char_index)
    }

    fn byte_of_text(&self, char_index: usize) -> usize {
        let text = self.text;
        match &self.char_offsets {
            Some(offsets) => {
                let Some(&checkpoint) = offsets.get(char_index / CHECKPOINT) else {
                    return text.len();
                };
                text[checkpoint..]
                    .char_indices()
                    .nth(char_index % CHECKPOINT)
                    .map_or(text.len(), |(i, _)| checkpoint + i)
            }
            None => char_index.min(text.len()),
        }
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span::new(self.byte(span.start.index()), self.byte(span.end.index()))
    }

    fn error(&self, span: Span, message: impl Into<String>, label: &str) -> Diagnostic {
        Diagnostic::error("yaml-syntax", message).at(self.file, span, label)
    }

    /// Builds the documents of the text, handing each to `each`; a large
    /// text is scanned on a thread of its own meanwhile.
    fn run(
        self,
        multiple: bool,
        each: &mut dyn FnMut(Node) -> Result<(), Diagnostic>,
    ) -> Result<(), Diagnostic> {
        // Before any scan starts: places past 4 GiB cannot be said.
        if self.file.text().len() > MAX_SPANNED_LEN {
            return Err(Diagnostic::error(
                "file-too-large",
                format!(
                    "`{}` is larger than 4 GiB, more than Strata reads as YAML",
                    self.file.name()
                ),
            )
            .help("split it into files of a sensible size"));
        }
        let text = self.text;
        if !self.scan_apart {
            return self.build(Parser::new_from_str(text), multiple, each);
        }
        std::thread::scope(|scope| {
            let (batches, scanned) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
            scope.spawn(move || scan(text, &batches));
            // Dropping `scanned` when the build stops early (an error, a
            // stop marker) stops the scan at its next batch.
            self.build(scanned.into_iter().flatten(), multiple, each)
        })
    }

    /// Builds the documents of `events`, the parser's events of the text.
    fn build<'t>(
        mut self,
        events: impl Iterator<Item = Scanned<'t>>,
        multiple: bool,
        each: &mut dyn FnMut(Node) -> Result<(), Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut documents = 0;
        for event in events {
            let (event, span) = event.map_err(|e| {
                let at = self.byte(e.marker().index());
                self.error(
                    Span::new(at, at),
                    format!("invalid YAML: {}", e.info()),
                    "here",
                )
                .help("check the indentation and quoting around this place")
            })?;
            let span = self.span(span);
            let node = match event {
                Event::DocumentStart(_) => {
                    if self.stop.is_some_and(|stop| span.start() >= stop) {
                        return Ok(());
                    }
                    // Bounds and anchors are per document: a stream of many
                    // small objects is not one large one.
                    self.nodes = 0;
                    self.anchors.clear();
                    documents += 1;
                    if documents > 1 && !multiple {
                        return Err(self
                            .error(span, "a spec holds exactly one YAML document", "a second document starts here")
                            .help("remove the `---` separator, or put the other document in its own file"));
                    }
                    continue;
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                    let quoted = tagged_str || !matches!(style, ScalarStyle::Plain);
                    // The scanner grows its strings as it reads them; decoding
                    // moves them into the spec, where spare room would stay.
                    // A copy of the exact size, not a shrink in place, which
                    // leaves the system allocator a heap of slivers.
                    let text = match text {
                        Cow::Owned(text) if text.capacity() == text.len() => text,
                        text => String::from(&*text),
                    };
                    self.finish(
                        Node {
                            span,
                            kind: NodeKind::Scalar { text, quoted },
                        },
                        anchor,
                    )?
                }
                Event::Alias(id) => {
                    let Some(node) = self.anchors.get(&id).cloned() else {
                        return Err(self.error(
                            span,
                            "this alias names no anchor defined before it",
                            "unknown alias",
                        ));
                    };
                    self.count(&node, span)?;
                    Node { span, ..node }
                }
                Event::SequenceStart(anchor, _) => {
                    self.descend(&stack, span)?;
                    stack.push(Frame::Seq(span, anchor, Vec::new()));
                    continue;
                }
                Event::MappingStart(anchor, _) => {
                    self.descend(&stack, span)?;
                    stack.push(Frame::Map(span, anchor, Vec::new(), None, None));
                    continue;
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Seq(start, anchor, items)) => {
                        let end = items.last().map_or(start.end(), |n| n.span.end());
                        self.finish(
                            Node {
                                span: Span::new(start.start(), end),
                                kind: NodeKind::Seq(items),
                            },
                            anchor,
                        )?
                    }
                    _ => continue,
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Map(start, anchor, entries, _, _)) => {
                        let end = entries.last().map_or(start.end(), |(_, v)| v.span.end());
                        let entries = self.apply_merge_keys(entries)?;
                        self.finish(
                            Node {
                                span: Span::new(start.start(), end),
                                kind: NodeKind::Map(entries),
                            },
                            anchor,
                        )?
                    }
                    _ => continue,
                },
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                    continue;
                }
            };
            match stack.last_mut() {
                Some(Frame::Seq(_, _, items)) => items.push(node),
                Some(Frame::Map(_, _, entries, pending, index)) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => {
                        if let Some(k) = key.as_scalar().filter(|k| *k != "<<")
                            && is_written_twice(k, entries, index)
                            && let Some((first, _)) =
                                entries.iter().find(|(e, _)| e.as_scalar() == Some(k))
                        {
                            let first = first.span;
                            return Err(Diagnostic::error(
                                "duplicate-key",
                                format!("the key `{k}` is written twice in this mapping"),
                            )
                            .at(self.file, key.span, "written again here")
                            .also(first, "first written here")
                            .help("keep one of the two; YAML would silently use only the last"));
                        }
                        entries.push((key, node));
                    }
                },
                None => each(node)?,
            }
        }
        Ok(())
    }

    /// Refuses a list or mapping starting at `span` inside `stack` when it
    /// would nest past [`MAX_DEPTH`].
    fn descend(&self, stack: &[Frame], span: Span) -> Result<(), Diagnostic> {
        if stack.len() < MAX_DEPTH {
            return Ok(());
        }
        Err(self
            .error(
                Span::new(span.start(), span.start()),
                format!("lists and mappings nest deeper than {MAX_DEPTH} levels here"),
                "too deep",
            )
            .help("no Kubernetes object or spec nests this deep: look for a runaway `- - -` or a generated file gone wrong"))
    }

    fn count(&mut self, node: &Node, span: Span) -> Result<(), Diagnostic> {
        fn size(node: &Node) -> usize {
            match &node.kind {
                NodeKind::Scalar { .. } => 1,
                NodeKind::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
                NodeKind::Map(entries) => {
                    1 + entries
                        .iter()
                        .map(|(k, v)| size(k) + size(v))
                        .sum::<usize>()
                }
            }
        }
        self.nodes += size(node);
        if self.nodes > MAX_NODES {
            return Err(self
                .error(
                    span,
                    "aliases expand this document past two million values",
                    "expanded here",
                )
                .help("a spec this large is almost certainly an alias loop or an 'alias bomb'"));
        }
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) -> Result<Node, Diagnostic> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error(
                node.span,
                "this document has more than two million values",
                "here",
            ));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    /// Expands `<<: *anchor` (or a list of anchors): keys written in the
    /// mapping itself win over merged ones.
    fn apply_merge_keys(
        &mut self,
        entries: Vec<(Node, Node)>,
    ) -> Result<Vec<(Node, Node)>, Diagnostic> {
        if !entries.iter().any(
            |(k, _)| matches!(&k.kind, NodeKind::Scalar { text, quoted: false } if text == "<<"),
        ) {
            return Ok(entries);
        }
        let mut own = Vec::new();
        let mut merged: Vec<(Node, Node)> = Vec::new();
        for (key, value) in entries {
            if !matches!(&key.kind, NodeKind::Scalar { text, quoted: false } if text == "<<") {
                own.push((key, value));
                continue;
            }
            let sources = match value.kind {
                NodeKind::Seq(items) => items,
                _ => vec![value],
            };
            for source in sources {
                let NodeKind::Map(source_entries) = source.kind else {
                    return Err(self.error(
                        source.span,
                        "a `<<` merge key takes a mapping or a list of mappings",
                        "not a mapping",
                    ));
                };
                for (k, v) in source_entries {
                    if !merged.iter().any(|(m, _)| m.as_scalar() == k.as_scalar()) {
                        merged.push((k, v));
                    }
                }
            }
        }
        for (k, v) in merged {
            if !own.iter().any(|(o, _)| o.as_scalar() == k.as_scalar()) {
                own.push((k, v));
            }
        }
        Ok(own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Diagnostic> {
        parse(&SourceFile::new("t.yaml", text))
    }

    #[test]
    fn spans_point_at_values() {
        let text = "a: 1\nb:\n  c: [x, 'y']\n";
        let node = parse_str(text).unwrap();
        let c = node.get("b").unwrap().get("c").unwrap();
        let NodeKind::Seq(items) = &c.kind else {
            panic!("not a list")
        };
        assert_eq!(&text[items[1].span.start()..items[1].span.end()], "'y'");
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar {
                text: "y".into(),
                quoted: true
            }
        );
    }

    #[test]
    fn byte_offsets_of_non_ascii_text_hold_across_checkpoints() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!("k{i}: \"{}\"\n", "é".repeat(i % 7)));
        }
        let node = parse_str(&text).unwrap();
        for i in [0, 63, 64, 65, 127, 128, 299] {
            let key = format!("k{i}");
            let value = node.get(&key).unwrap();
            let expected = format!("\"{}\"", "é".repeat(i % 7));
            assert_eq!(
                &text[value.span.start()..value.span.end()],
                expected,
                "{key}"
            );
        }
    }

    #[test]
    fn non_ascii_text_keeps_byte_spans() {
        let text = "名前: 値\nb: x\n";
        let node = parse_str(text).unwrap();
        let b = node.get("b").unwrap();
        assert_eq!(&text[b.span.start()..b.span.end()], "x");
    }

    #[test]
    fn block_nesting_is_bounded_like_flow_nesting() {
        let deep = format!("{}a\n", "- ".repeat(40_000));
        let err = parse_str(&deep).unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert_eq!(
            err.location().unwrap(),
            format!("t.yaml:1:{}", 2 * MAX_DEPTH + 1)
        );
        let mapping = (0..=MAX_DEPTH).fold(String::new(), |text, depth| {
            format!("{text}{}k:\n", "  ".repeat(depth))
        });
        assert!(parse_str(&mapping).is_err());
        let within = format!("{}a\n", "- ".repeat(MAX_DEPTH));
        assert!(parse_str(&within).is_ok());
    }

    #[test]
    fn the_value_bound_counts_per_document() {
        let document = format!("[{}]\n", vec!["x"; 999].join(", "));
        let stream = vec![document.as_str(); 2_100].join("---\n");
        let documents = parse_all(&SourceFile::new("s.yaml", stream)).unwrap();
        assert_eq!(documents.len(), 2_100);
        let anchors = parse_all(&SourceFile::new("s.yaml", "a: &x 1\n---\nb: *x\n"));
        assert_eq!(anchors.unwrap_err().code, "yaml-syntax");
    }

    #[test]
    fn parse_each_hands_over_documents_in_order_and_stops_on_error() {
        let file = SourceFile::new("s.yaml", "a: 1\n---\nb: 2\n---\nc: 3\n");
        let mut seen = Vec::new();
        let stopped = parse_each(&file, |node| {
            seen.push(node.to_json());
            if seen.len() == 2 {
                return Err(Diagnostic::error("stop", "enough"));
            }
            Ok(())
        });
        assert_eq!(stopped.unwrap_err().code, "stop");
        assert_eq!(
            seen,
            [serde_json::json!({ "a": 1 }), serde_json::json!({ "b": 2 })]
        );
    }

    /// What a build hands over and returns, its text scanned on a thread
    /// of its own or not.
    fn built(text: &str, scan_apart: bool) -> (Vec<Node>, Result<(), Diagnostic>) {
        let file = SourceFile::new("t.yaml", text);
        let mut documents = Vec::new();
        let builder = Builder {
            scan_apart,
            ..Builder::stretch(&file, 0..text.len())
        };
        let result = builder.run(true, &mut |node| {
            documents.push(node);
            Ok(())
        });
        (documents, result)
    }

    #[test]
    fn a_text_scanned_apart_builds_what_one_scanned_in_line_does() {
        use std::fmt::Write as _;
        // Many batches of events, then each kind of failure: a syntax
        // error, a key written twice, an unknown alias, in a batch's middle.
        let long = (0..3 * BATCH).fold(String::new(), |mut text, i| {
            writeln!(text, "k{i}: [{i}, {{ a: b }}]").unwrap();
            text
        });
        let texts = [
            long.clone(),
            format!("{long}x: [1, 2\ny: 3\n"),
            format!("{long}k7: again\n"),
            format!("{long}z: *nowhere\n"),
            format!("a: &x 1\n---\n{long}---\nb: *x\n"),
            "a: 1\n---\nb: 2\n".to_string(),
            String::new(),
            "名前: 値\nb: [é, ü]\n".to_string(),
        ];
        for text in &texts {
            let (apart, apart_result) = built(text, true);
            let (in_line, in_line_result) = built(text, false);
            assert_eq!(
                apart_result,
                in_line_result,
                "in {:?}",
                &text[text.len().saturating_sub(40)..]
            );
            assert_eq!(apart, in_line);
        }
        // The build stops at the first document `each` refuses; so does the scan.
        let file = SourceFile::new("t.yaml", format!("{long}---\n{long}---\n{long}"));
        let mut seen = 0;
        let builder = Builder {
            scan_apart: true,
            ..Builder::stretch(&file, 0..file.text().len())
        };
        let stopped = builder.run(true, &mut |_| {
            seen += 1;
            Err(Diagnostic::error("stop", "enough"))
        });
        assert_eq!((seen, stopped.unwrap_err().code), (1, "stop"));
        let large = SourceFile::new("t.yaml", "a: 1\n".repeat(SCANNED_APART_FROM / 5 + 1));
        assert!(Builder::new(&large).scan_apart);
        assert!(!Builder::new(&SourceFile::new("t.yaml", long)).scan_apart);
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.code, "duplicate-key");
        assert_eq!(err.location().unwrap(), "t.yaml:3:1");
    }

    #[test]
    fn duplicate_keys_of_large_mappings_are_rejected_at_both_places() {
        use std::fmt::Write as _;
        let numbered = || {
            (0..100).fold(String::new(), |mut text, i| {
                writeln!(text, "k{i}: {i}").unwrap();
                text
            })
        };
        // Past `INDEXED_FROM` entries keys are found through the index: a
        // key repeated before and after the index is built, and one repeated
        // at the last entry, are each refused at their second writing.
        for (first, again) in [(3, 10), (3, 60), (40, 70), (0, 99)] {
            let mut text = numbered();
            text.push_str(&format!("k{first}: again\n"));
            let mut lines: Vec<&str> = text.lines().collect();
            let repeated = lines.pop().unwrap();
            lines.insert(again + 1, repeated);
            let text = lines.join("\n") + "\n";
            let err = parse_str(&text).unwrap_err();
            assert_eq!(err.code, "duplicate-key", "k{first} again at {again}");
            assert_eq!(err.location().unwrap(), format!("t.yaml:{}:1", again + 2));
        }
        assert!(parse_str(&numbered()).is_ok());
    }

    #[test]
    fn merge_keys_and_aliases_expand() {
        let node = parse_str("base: &b { x: 1, y: 2 }\nuse: { <<: *b, y: 3 }\n").unwrap();
        let used = node.get("use").unwrap();
        assert_eq!(used.get("x").unwrap().as_scalar(), Some("1"));
        assert_eq!(used.get("y").unwrap().as_scalar(), Some("3"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(
            parse_str(&text)
                .unwrap_err()
                .message
                .contains("two million")
        );
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let err = parse_str("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert!(err.location().is_some());
    }
}
