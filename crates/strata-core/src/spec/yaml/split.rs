//! Parsing a long multi-document file on every core: the file is cut at
//! document markers into stretches of whole documents, each parsed alone,
//! and any failure falls back to one parse of the whole file, so results
//! and errors are always those of [`parse_each`].
//!
//! [`parse_each`]: super::parse_each

use super::{Builder, Node};
use crate::diag::Diagnostic;
use crate::source::SourceFile;

/// Fewest bytes of a stretch [`parse_split`] parses on a thread of its own:
/// below it, starting a thread costs more than it saves.
pub(crate) const MIN_STRETCH: usize = 256 * 1024;

/// Parses the documents of `file` as [`parse_each`] does, in up to `parts`
/// stretches of whole documents at once, each on a thread of its own:
/// `start` makes what a stretch's documents are handed to, `each` hands one
/// over. Returns one such value per stretch, in the order of the file, so
/// together they saw every document in order, exactly as [`parse_each`]
/// hands them over.
///
/// A stretch ends where a line starting with `---` starts the next
/// document, which every YAML scanner takes for a document marker whatever
/// came before. When any stretch fails, the whole file is parsed again in
/// one piece into one value, and its error is returned beside it, so every
/// message and place is that of [`parse_each`]: the documents before the
/// error were handed over, those after it not.
///
/// [`parse_each`]: super::parse_each
pub fn parse_split<T: Send>(
    file: &SourceFile,
    parts: usize,
    start: impl Fn() -> T + Sync,
    each: impl Fn(&mut T, Node) + Sync,
) -> (Vec<T>, Result<(), Diagnostic>) {
    parse_split_sized(file, parts, MIN_STRETCH, start, each)
}

/// [`parse_split`] with stretches of at least `min_len` bytes: tests split
/// small texts at every document.
pub(crate) fn parse_split_sized<T: Send>(
    file: &SourceFile,
    parts: usize,
    min_len: usize,
    start: impl Fn() -> T + Sync,
    each: impl Fn(&mut T, Node) + Sync,
) -> (Vec<T>, Result<(), Diagnostic>) {
    let whole = |start: &dyn Fn() -> T| {
        let mut into = start();
        let result = Builder::new(file).run(true, &mut |node| {
            each(&mut into, node);
            Ok(())
        });
        (vec![into], result)
    };
    let stretches = document_stretches(file.text(), parts, min_len);
    if stretches.len() < 2 {
        return whole(&start);
    }
    let parse = |range: std::ops::Range<usize>| {
        let mut into = start();
        Builder::stretch(file, range)
            .run(true, &mut |node| {
                each(&mut into, node);
                Ok(())
            })
            .map(|()| into)
    };
    let parsed: Vec<Result<T, Diagnostic>> = std::thread::scope(|scope| {
        let mut rest = stretches.into_iter();
        let first = rest.next().unwrap_or_default();
        let others: Vec<_> = rest.map(|range| scope.spawn(|| parse(range))).collect();
        let mut parsed = vec![parse(first)];
        for other in others {
            parsed.push(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        parsed
    });
    match parsed.into_iter().collect() {
        Ok(parts) => (parts, Ok(())),
        Err(_) => whole(&start),
    }
}

/// Byte ranges of `text` holding whole documents, together all of it: up
/// to `parts`, each at least `min_len` long. Each but the first starts at a
/// line `---` (followed by a space, a tab, a line break or the end), a
/// document marker to the scanner in any context, so each stretch parses
/// alone as it does within the text. A text with directives (a line
/// starting with `%`, which belongs to the document after it) is not split.
fn document_stretches(text: &str, parts: usize, min_len: usize) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let target = (text.len() / parts.max(1)).max(min_len).max(1);
    if parts < 2 || text.len() < 2 * target || text.starts_with('%') || text.contains("\n%") {
        return std::iter::once(0..text.len()).collect();
    }
    let mut cuts = vec![0];
    let mut from = target;
    while cuts.len() < parts
        && let Some(at) = next_document_marker(bytes, from)
        && text.len() - at >= min_len
    {
        cuts.push(at);
        from = at + target;
    }
    cuts.push(text.len());
    cuts.windows(2).map(|cut| cut[0]..cut[1]).collect()
}

/// The offset of the first line from `from` on that is a document marker
/// `---`.
fn next_document_marker(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let line = at + bytes.get(at..)?.iter().position(|&b| b == b'\n')? + 1;
        if bytes[line..].starts_with(b"---")
            && matches!(
                bytes.get(line + 3),
                None | Some(b' ' | b'\t' | b'\r' | b'\n')
            )
        {
            return Some(line);
        }
        at = line;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse_each;

    /// What a parse hands over and returns.
    type Parsed = (Vec<Node>, Result<(), Diagnostic>);

    /// The documents `parse_split` hands over, split at every document it
    /// may, and what it returns, beside those of `parse_each`.
    fn split_and_whole(text: &str) -> (Parsed, Parsed) {
        let file = SourceFile::new("s.yaml", text);
        let (parts, split) = parse_split_sized(&file, usize::MAX, 1, Vec::new, Vec::push);
        let mut whole = Vec::new();
        let result = parse_each(&file, |node| {
            whole.push(node);
            Ok(())
        });
        (
            (parts.into_iter().flatten().collect(), split),
            (whole, result),
        )
    }

    #[test]
    fn stretches_start_at_document_markers_only() {
        let text = "a: 1\n---\nb: 2\n----\nc: 3\n--- x\n---x: 1\n---\t\n---\r\n---";
        let stretches = document_stretches(text, usize::MAX, 1);
        let starts: Vec<&str> = stretches.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            starts,
            [
                "a: 1\n",
                "---\nb: 2\n----\nc: 3\n",
                "--- x\n---x: 1\n",
                "---\t\n",
                "---\r\n",
                "---"
            ]
        );
        assert_eq!(document_stretches(text, 1, 1).len(), 1);
        let long = document_stretches(text, usize::MAX, 20);
        assert!(long.len() > 1 && long.len() < stretches.len());
        assert!(long[..long.len() - 1].iter().all(|r| r.len() >= 20));
        let directive = "a: 1\n---\nb: 2\n%YAML 1.2\n---\nc: 3\n";
        assert_eq!(document_stretches(directive, usize::MAX, 1).len(), 1);
    }

    #[test]
    fn a_split_parse_hands_over_what_a_whole_parse_does() {
        let texts = [
            "a: 1\n---\nb: [1, 2]\n---\n- x\n- y\n",
            // Block scalars end at a marker, keeping their line breaks.
            "--- |\nfoo\n---\nbar\n",
            "a: |+\n  x\n\n---\nb: >-\n  y\n---\n",
            "\u{FEFF}a: 1\r\n---\r\nb: 2\r\n...\r\n---\r\nc: 3\r\n",
            "# only\n---\n# comments\n---\n---\n",
            "名前: 値\n---\nb: é\n---\nc: ü\n",
            // Plain ASCII before a marker, not after it.
            "a: 1\n---\nb: é\n---\nc: 1\n---\n",
            "a: [1, 2\n---\nb: é\n",
            // Errors: a marker inside quotes or brackets, an alias of an
            // earlier document, a key written twice, directives, syntax.
            "a: \"x\n---\ny\"\n",
            "a: 'x\n---\n'\n",
            "a: [x,\n---\n]\n",
            "a: &x 1\n---\nb: *x\n",
            "a: 1\n---\nb: 1\nb: 2\n---\nc: 3\n",
            "%YAML 1.2\n---\na: 1\n---\nb: 2\n",
            "a: 1\n%TAG ! tag:x,2000:\n---\nb: !x 2\n",
            "名前: 値\n---\nb: é\n---\nc: [1, 2\n---\nd: 4\n",
        ];
        for text in texts {
            let (split, whole) = split_and_whole(text);
            assert_eq!(split, whole, "in {text:?}");
        }
        // Every text cut short anywhere, or with any one line dropped.
        let long = texts.concat();
        let cuts = long.char_indices().map(|(i, _)| i).step_by(3);
        for cut in cuts {
            let (split, whole) = split_and_whole(&long[..cut]);
            assert_eq!(split, whole, "cut at {cut}");
        }
        let lines: Vec<&str> = long.split_inclusive('\n').collect();
        for dropped in 0..lines.len() {
            let mut text = lines.clone();
            text.remove(dropped);
            let (split, whole) = split_and_whole(&text.concat());
            assert_eq!(split, whole, "without line {dropped}");
        }
    }
}
