//! Diagnostics: the one shape shared by spec errors, audit and lint findings.
//!
//! The core never prints. It returns [`Diagnostic`]s, plain serializable values
//! with spans; the binary renders them (with miette) at the edge.

use serde::Serialize;

use crate::source::{SourceFile, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input cannot be used.
    Error,
    /// The input works but is probably not what was meant.
    Warning,
}

/// A span of a file with a short message pointing at it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there (shown beside the caret).
    pub message: String,
}

/// One problem found in a spec, with everything a user needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// A stable identifier such as `unknown-key`, documented in `docs/spec.md`.
    pub code: &'static str,
    /// One sentence: what is wrong.
    pub message: String,
    /// The file the labels point into.
    #[serde(skip)]
    pub file: Option<SourceFile>,
    /// The places involved; the first is the primary one.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a code and message, and no location yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning: the spec works, but probably not as meant.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Points at `span` of `file` with a short label.
    #[must_use]
    pub fn at(mut self, file: &SourceFile, span: Span, label: impl Into<String>) -> Self {
        self.file = Some(file.clone());
        self.labels.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a secondary label in the same file.
    #[must_use]
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Sets the hint.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` of the primary label, when there is one.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        let label = self.labels.first()?;
        let (line, col) = file.location(label.span);
        Some(format!("{}:{line}:{col}", file.name()))
    }
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
///
/// ```
/// use strata_core::diag::closest;
/// assert_eq!(closest("replica", ["image", "replicas"]), Some("replicas"));
/// assert_eq!(closest("zzz", ["image", "replicas"]), None);
/// ```
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|&(distance, c)| distance <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|&(distance, c)| (distance, c))
        .map(|(_, c)| c)
}

/// A "did you mean" hint, or a list of what is allowed when nothing is close.
pub fn suggestion(word: &str, candidates: &[&str], noun: &str) -> String {
    match closest(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => format!("there are no {noun}s to choose from"),
        None if candidates.len() <= 12 => {
            let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            format!("expected one of the {noun}s: {}", list.join(", "))
        }
        None => format!(
            "there are {} {noun}s; none is close to `{word}`",
            candidates.len()
        ),
    }
}
/// The text of `bytes`, read from the file called `name`; an
/// `invalid-utf8` error at the first byte that is not UTF-8, its line and
/// column those of the text before it.
///
/// ```
/// use strata_core::diag::source_from_bytes;
/// assert!(source_from_bytes("ok.yaml", b"a: 1\n".to_vec()).is_ok());
/// let error = source_from_bytes("bad.yaml", b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
/// assert_eq!(error.location().unwrap(), "bad.yaml:2:4");
/// ```
///
/// # Errors
/// Bytes that are not UTF-8.
pub fn source_from_bytes(
    name: impl Into<String>,
    bytes: Vec<u8>,
) -> Result<SourceFile, Diagnostic> {
    let name = name.into();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let bad = error.as_bytes()[at];
            // The text before the bad byte is kept as is, so spans and
            // locations into it hold.
            let file =
                SourceFile::new(name, String::from_utf8_lossy(error.as_bytes()).into_owned());
            Err(Diagnostic::error(
                "invalid-utf8",
                format!("byte 0x{bad:02x} (offset {at}) is not UTF-8"),
            )
            .at(&file, Span::new(at, at), "not UTF-8")
            .help("save the file as UTF-8 (a Latin-1 or UTF-16 file, or a binary, is no YAML Strata reads)"))
        }
    }
}
