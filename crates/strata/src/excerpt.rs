//! The part of a file a diagnostic shows: its labelled lines and, in a file
//! the user gave, one line of context around them, each long line cut to a
//! window around its labels.
//!
//! Handing miette the whole file would copy it once per diagnostic, and a
//! label 70,000 characters into one line overflows its formatter; an excerpt
//! keeps both bounded while the gutter and the `[file:line:col]` header still
//! show the file's own lines and columns.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use strata_core::source::{SourceFile, Span};

/// Lines up to this many bytes are shown whole.
const WIDE: usize = 200;
/// Bytes kept before the first label of a cut line.
const LEAD: usize = 60;
/// Marks text left out of a cut line.
const ELLIPSIS: &str = "…";

/// Lines of a file around some labels, long ones cut, with the way back from
/// an offset in the excerpt to one in the file.
pub(crate) struct Excerpt {
    file: SourceFile,
    text: String,
    lines: Vec<Cut>,
}

/// One line of the excerpt: where it starts in the excerpt and which bytes
/// of the file it keeps.
struct Cut {
    /// Where the line starts in the excerpt.
    start: usize,
    /// Bytes of the ellipsis written before the kept text (0 or 3).
    lead: usize,
    /// The file's bytes kept.
    kept: Range<usize>,
}

impl Excerpt {
    /// The lines of `file` that `labels` cover, with one line of context
    /// unless the spec named the file (nothing of it beyond the offending
    /// lines is shown).
    pub(crate) fn new(file: &SourceFile, labels: &[Span]) -> Option<Excerpt> {
        let context = usize::from(!file.is_named_by_spec());
        let first = labels.iter().map(|s| file.location(*s).0).min()?;
        let last = labels
            .iter()
            .map(|s| file.location(Span::new(s.end(), s.end())).0)
            .max()?;
        let first_line = first.saturating_sub(context).max(1);
        let mut excerpt = Excerpt {
            file: file.clone(),
            text: String::new(),
            lines: Vec::new(),
        };
        let text = file.text();
        for line in first_line..=last + context {
            // The empty "line" after a final line break is context only when
            // a label points there (a file ending too early).
            let Some(range) = file
                .line_range(line)
                .filter(|r| line <= last || r.start < file.text().len())
            else {
                break;
            };
            let kept = window(text, &range, labels);
            let start = excerpt.text.len();
            let lead = if kept.start > range.start {
                ELLIPSIS.len()
            } else {
                0
            };
            if lead > 0 {
                excerpt.text.push_str(ELLIPSIS);
            }
            excerpt.text.push_str(&text[kept.clone()]);
            if kept.end < range.end {
                excerpt.text.push_str(ELLIPSIS);
            }
            excerpt.text.push('\n');
            excerpt.lines.push(Cut { start, lead, kept });
        }
        Some(excerpt)
    }

    /// Where byte `offset` of the file appears in the excerpt: the nearest
    /// kept byte when it was cut away.
    pub(crate) fn to_excerpt(&self, offset: usize) -> usize {
        let index = self
            .lines
            .partition_point(|cut| cut.kept.start <= offset)
            .saturating_sub(1);
        let Some(cut) = self.lines.get(index) else {
            return 0;
        };
        let within = offset.clamp(cut.kept.start, cut.kept.end) - cut.kept.start;
        cut.start + cut.lead + within
    }

    /// `span` of the file as a span of the excerpt.
    pub(crate) fn span(&self, span: Span) -> SourceSpan {
        let start = self.to_excerpt(span.start());
        let end = self.to_excerpt(span.end()).max(start);
        (start, end - start).into()
    }

    /// Where byte `offset` of the excerpt came from in the file.
    fn to_file(&self, offset: usize) -> usize {
        let index = self
            .lines
            .partition_point(|cut| cut.start <= offset)
            .saturating_sub(1);
        let Some(cut) = self.lines.get(index) else {
            return 0;
        };
        let within = offset.saturating_sub(cut.start + cut.lead);
        (cut.kept.start + within).min(cut.kept.end)
    }
}

/// The bytes of the line at `range` worth showing: all of a short line; of a
/// long one, a window from a little before its first label.
fn window(text: &str, range: &Range<usize>, labels: &[Span]) -> Range<usize> {
    if range.len() <= WIDE {
        return range.clone();
    }
    let first_label = labels
        .iter()
        .filter(|s| s.start() < range.end.max(range.start + 1) && s.end() >= range.start)
        .map(|s| s.start().max(range.start))
        .min()
        .unwrap_or(range.start);
    let start = floor_boundary(text, first_label.saturating_sub(LEAD).max(range.start));
    let end = floor_boundary(text, (start + WIDE).min(range.end));
    start..end
}

/// The nearest character boundary at or before `index`.
fn floor_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // The gutter counts the file's lines from the first one shown; the
        // header gives the file's column of the span itself.
        let first = self.to_file(contents.span().offset());
        let (line, _) = self.file.location(Span::new(first, first));
        let at = self.to_file(span.offset());
        let (_, column) = self.file.location(Span::new(at, at));
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name().to_string(),
            contents.data(),
            *contents.span(),
            line - 1,
            column - 1,
            // miette counts lines from the top of the source, and merges two
            // snippets by that count: count as if the file were whole.
            contents.line_count() + (line - 1 - contents.line()),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt_of(text: &str, label: Range<usize>) -> (Excerpt, SourceSpan) {
        let file = SourceFile::new("spec.yaml", text);
        let span = Span::new(label.start, label.end);
        let excerpt = Excerpt::new(&file, &[span]).unwrap();
        let mapped = excerpt.span(span);
        (excerpt, mapped)
    }

    #[test]
    fn short_lines_are_kept_whole_with_one_line_of_context() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n";
        let (excerpt, span) = excerpt_of(text, 10..14);
        assert_eq!(excerpt.text, "b: 2\nc: 3\nd: 4\n");
        assert_eq!(
            &excerpt.text[span.offset()..span.offset() + span.len()],
            "c: 3"
        );
        let contents = excerpt.read_span(&span, 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (2, 0));
    }

    #[test]
    fn a_file_the_spec_names_shows_only_its_offending_lines() {
        let text = "TOKEN=a\nkind: [\nPASSWORD=b\n";
        let file = SourceFile::named_by_spec("extra.yaml", text);
        let span = Span::new(8, 15);
        let excerpt = Excerpt::new(&file, &[span]).unwrap();
        assert_eq!(excerpt.text, "kind: [\n");
        let contents = excerpt.read_span(&excerpt.span(span), 1, 1).unwrap();
        assert_eq!(contents.line(), 1);
    }

    #[test]
    fn a_label_far_into_a_long_line_is_shown_with_its_own_column() {
        let text = format!("{{description: \"{}\", tierz: []}}\n", "x".repeat(70_000));
        let at = text.find("tierz").unwrap();
        let (excerpt, span) = excerpt_of(&text, at..at + 5);
        assert!(
            excerpt.text.len() < 2 * WIDE,
            "{} bytes",
            excerpt.text.len()
        );
        assert!(excerpt.text.starts_with(ELLIPSIS));
        assert_eq!(
            &excerpt.text[span.offset()..span.offset() + span.len()],
            "tierz"
        );
        let contents = excerpt.read_span(&span, 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (0, at));
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let text = format!("k: \"{}\"\n", "é".repeat(500));
        let at = text.len() - 4;
        let (excerpt, span) = excerpt_of(&text, at..at + 1);
        assert!(excerpt.text.is_char_boundary(span.offset()));
        let contents = excerpt.read_span(&span, 0, 0).unwrap();
        // The column counts characters, not bytes.
        assert_eq!(contents.column(), text[..at].chars().count());
    }
}
