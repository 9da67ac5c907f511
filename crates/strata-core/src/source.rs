//! Source text and byte spans: where every value of a spec came from.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `[start, end)` into a [`SourceFile`].
///
/// Offsets are 32-bit: every value of a parsed spec carries a span, and a
/// spec is far below 4 GiB ([`MAX_SPANNED_LEN`] is refused before parsing),
/// so half the width halves what spans cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Span {
    start: u32,
    end: u32,
}

/// The longest text spans can point into: 4 GiB less a byte. A longer
/// file is refused by the parsers rather than given wrong places.
pub const MAX_SPANNED_LEN: usize = u32::MAX as usize;

impl Span {
    /// A span from `start` to `end` (bytes). Offsets past
    /// [`MAX_SPANNED_LEN`] are clamped to it.
    pub fn new(start: usize, end: usize) -> Self {
        let offset = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        let start = offset(start);
        Span {
            start,
            end: offset(end).max(start),
        }
    }

    /// First byte of the range.
    pub fn start(&self) -> usize {
        self.start as usize
    }

    /// One past the last byte of the range.
    pub fn end(&self) -> usize {
        self.end as usize
    }

    /// The number of bytes covered.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A spec file's name and text, shared cheaply between diagnostics.
///
/// ```
/// use strata_core::source::{SourceFile, Span};
/// let file = SourceFile::new("platform.yaml", "platform: demo\ntiers: []\n");
/// assert_eq!(file.location(Span::new(15, 20)), (2, 1));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SourceFile {
    inner: Arc<Inner>,
}

#[derive(PartialEq, Eq)]
struct Inner {
    name: String,
    text: String,
    /// The offset of each line's first byte: 32-bit like [`Span`]'s, in a
    /// list of the exact size (held through the whole run; a large spec
    /// has a hundred thousand lines).
    line_starts: Vec<u32>,
    named_by_spec: bool,
}

impl SourceFile {
    /// Wraps `text`, read from the file called `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_origin(name.into(), text.into(), false)
    }

    /// Wraps `text` of a file the spec names (a `manifests:` entry), which
    /// diagnostics show only the offending lines of: such a file was not
    /// handed to Strata by the user, and its neighbouring lines may hold
    /// anything.
    ///
    /// ```
    /// use strata_core::source::SourceFile;
    /// assert!(SourceFile::named_by_spec("extra.yaml", "kind: x\n").is_named_by_spec());
    /// assert!(!SourceFile::new("platform.yaml", "").is_named_by_spec());
    /// ```
    pub fn named_by_spec(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_origin(name.into(), text.into(), true)
    }

    fn with_origin(name: String, text: String, named_by_spec: bool) -> Self {
        // A line starting past `MAX_SPANNED_LEN` is not kept: no span can
        // point into it (and such a file is refused before parsing).
        let mut line_starts: Vec<u32> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .map_while(|start| u32::try_from(start).ok())
            .collect();
        // Grown by doubling, the list would keep up to half again its size
        // for the whole run; counting the lines first would cost a second
        // pass over the text.
        line_starts.shrink_to_fit();
        SourceFile {
            inner: Arc::new(Inner {
                name,
                text,
                line_starts,
                named_by_spec,
            }),
        }
    }

    /// The file's name as the user gave it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether the spec named this file rather than the user.
    pub fn is_named_by_spec(&self) -> bool {
        self.inner.named_by_spec
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// The text a span covers (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.inner.text.get(span.start()..span.end()).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a span's start.
    pub fn location(&self, span: Span) -> (usize, usize) {
        let starts = &self.inner.line_starts;
        let line = starts
            .partition_point(|&s| s as usize <= span.start())
            .max(1);
        let line_start = starts[line - 1] as usize;
        let col = self
            .inner
            .text
            .get(line_start..span.start().min(self.inner.text.len()))
            .map_or(0, |s| s.chars().count());
        (line, col + 1)
    }

    /// The byte range of 1-based `line`, its line break excluded; `None`
    /// past the last line.
    pub fn line_range(&self, line: usize) -> Option<std::ops::Range<usize>> {
        let starts = &self.inner.line_starts;
        let start = *starts.get(line.checked_sub(1)?)? as usize;
        let end = starts
            .get(line)
            .map_or(self.inner.text.len(), |&next| next as usize - 1);
        Some(start..end.max(start))
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.inner.name)
            .field("len", &self.inner.text.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_characters_not_bytes() {
        let file = SourceFile::new("f", "a: 1\nné: x\n");
        let x = file.text().find('x').unwrap();
        assert_eq!(file.location(Span::new(x, x + 1)), (2, 5));
        assert_eq!(file.location(Span::new(0, 1)), (1, 1));
    }

    #[test]
    fn spans_keep_their_offsets_and_clamp_past_four_gib() {
        let span = Span::new(7, 3);
        assert_eq!((span.start(), span.end(), span.len()), (7, 7, 0));
        let far = Span::new(MAX_SPANNED_LEN - 1, MAX_SPANNED_LEN + 10);
        assert_eq!(
            (far.start(), far.end()),
            (MAX_SPANNED_LEN - 1, MAX_SPANNED_LEN)
        );
        assert_eq!(std::mem::size_of::<Span>(), 8);
    }

    #[test]
    fn line_starts_are_kept_in_a_list_of_the_exact_size() {
        let file = SourceFile::new("f", "a: 1\nb: 2\n\nc: 3");
        assert_eq!(file.inner.line_starts, [0, 5, 10, 11]);
        assert_eq!(file.inner.line_starts.capacity(), 4);
        assert_eq!(file.location(Span::new(11, 12)), (4, 1));
    }

    #[test]
    fn line_ranges_exclude_the_line_break() {
        let file = SourceFile::new("f", "a: 1\nb: 2");
        assert_eq!(file.line_range(1), Some(0..4));
        assert_eq!(file.line_range(2), Some(5..9));
        assert_eq!(file.line_range(3), None);
        assert_eq!(file.line_range(0), None);
    }
}
