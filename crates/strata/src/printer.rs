//! All terminal output: diagnostics through miette, tables, summaries.

use std::fmt;
use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use strata_core::diag::{Diagnostic, Severity};

use crate::cli::Color;
use crate::excerpt::Excerpt;

/// Reports rendered on a thread before another is worth starting: a
/// thread costs about as much as rendering a few reports.
const REPORTS_PER_THREAD: usize = 64;

/// Owns stdout and stderr and knows whether to colour them.
pub(crate) struct Printer {
    color: bool,
}

impl Printer {
    /// A printer for the `--color` choice.
    pub(crate) fn new(choice: Color) -> Self {
        let color = match choice {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        };
        Printer { color }
    }

    /// Writes `text` to stdout.
    #[expect(
        clippy::unused_self,
        reason = "all output goes through the printer, coloured or not"
    )]
    pub(crate) fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`strata plan | head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Writes to stdout through `write`, buffered: for output made of
    /// many pieces, such as a rendered stream.
    #[expect(
        clippy::unused_self,
        reason = "all output goes through the printer, coloured or not"
    )]
    pub(crate) fn out_with(&self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        // A closed pipe is not an error worth a panic, as in `out`.
        let _ = write(&mut out).and_then(|()| out.flush());
    }

    /// Writes one diagnostic to stderr.
    pub(crate) fn diagnostic(&self, diagnostic: &Diagnostic) {
        self.diagnostics(std::slice::from_ref(diagnostic));
    }

    /// Writes diagnostics to stderr, in order, through one buffered lock: a
    /// check may print thousands. Rendering a report (miette wraps its
    /// text by Unicode line breaking) costs far more than writing it, so
    /// many are rendered in parts, one per core, and written in order.
    pub(crate) fn diagnostics(&self, diagnostics: &[Diagnostic]) {
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(diagnostics.len().div_ceil(REPORTS_PER_THREAD))
            .max(1);
        let part = diagnostics.len().div_ceil(threads).max(1);
        let mut err = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
        std::thread::scope(|scope| {
            let mut parts = diagnostics.chunks(part);
            let first = parts.next().unwrap_or_default();
            let rest: Vec<_> = parts
                .map(|part| scope.spawn(move || self.render(part)))
                .collect();
            let texts = std::iter::once(self.render(first)).chain(rest.into_iter().map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }));
            for text in texts {
                // A closed pipe is not an error worth a panic, as in `out`.
                if err.write_all(text.as_bytes()).is_err() {
                    return;
                }
            }
            let _ = err.flush();
        });
    }

    /// The reports of `diagnostics`, one after another, as miette renders
    /// them.
    fn render(&self, diagnostics: &[Diagnostic]) -> String {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_context_lines(1);
        let mut texts = String::new();
        let mut text = String::new();
        for diagnostic in diagnostics {
            text.clear();
            let report = Report::new(diagnostic);
            if handler.render_report(&mut text, &report).is_err() {
                text = format!("error[{}]: {}\n", diagnostic.code, diagnostic.message);
            }
            texts.push_str(&text);
        }
        texts
    }

    /// Writes one line of a verb's report to stderr: where, what became
    /// of it (a word in `style`), and the rest.
    pub(crate) fn report_line(&self, place: &str, word: &str, style: &str, rest: &str) {
        let word = self.paint(word, style);
        eprintln!("{place}: {word}: {rest}");
    }

    /// Writes a one-line note to stderr.
    pub(crate) fn note(&self, message: &str) {
        let head = self.paint("note", "36;1");
        eprintln!("{head}: {message}");
    }

    /// Writes a one-line warning to stderr.
    pub(crate) fn warning(&self, message: &str) {
        let head = self.paint("warning", "33;1");
        eprintln!("{head}: {message}");
    }

    /// Writes a one-line failure to stderr.
    pub(crate) fn failure(&self, message: &str) {
        let head = self.paint("error", "31;1");
        eprintln!("{head}: {message}");
    }

    /// Wraps `text` in an ANSI style when colouring.
    pub(crate) fn paint(&self, text: &str, style: &str) -> String {
        if self.color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A core diagnostic seen through miette's eyes.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<Excerpt>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic) -> Self {
        let spans: Vec<_> = diagnostic.labels.iter().map(|l| l.span).collect();
        let source = diagnostic
            .file
            .as_ref()
            .and_then(|f| Excerpt::new(f, &spans));
        Report { diagnostic, source }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.diagnostic.labels.is_empty() {
            return None;
        }
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.diagnostic.labels.iter().enumerate().map(
            |(i, label)| {
                let span = self
                    .source
                    .as_ref()
                    .map_or((label.span.start(), label.span.len()).into(), |excerpt| {
                        excerpt.span(label.span)
                    });
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(label.message.clone()), span)
                } else {
                    LabeledSpan::new_with_span(Some(label.message.clone()), span)
                }
            },
        )))
    }
}
