//! All terminal output: diagnostics through miette, tables, summaries.

use std::fmt;
use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use strata_core::diag::{Diagnostic, Severity};

use crate::cli::Color;
use crate::excerpt::Excerpt;

/// Diagnostics from which [`Printer::diagnostics`] makes half of them on a
/// thread of its own: below it, starting a thread costs more than it saves.
const MADE_IN_TWO_FROM: usize = 64;

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

    /// Writes diagnostics to stderr, in order, through one buffered lock:
    /// a check may print thousands.
    pub(crate) fn diagnostics(&self, diagnostics: &[Diagnostic]) {
        let mut err = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
        // A closed pipe is not an error worth a panic, as in `out`.
        let _ = self
            .write_in_two(&mut err, diagnostics)
            .and_then(|()| err.flush());
    }

    /// Writes diagnostics to `out`, in order, the second half of many made
    /// on a thread of its own while the first is made and written.
    fn write_in_two(&self, out: &mut dyn Write, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
        let (first, second) = if diagnostics.len() >= MADE_IN_TWO_FROM {
            diagnostics.split_at(diagnostics.len() / 2)
        } else {
            (diagnostics, &[][..])
        };
        std::thread::scope(|scope| {
            let second = (!second.is_empty()).then(|| {
                scope.spawn(|| {
                    let mut text = String::new();
                    self.write_diagnostics(&mut text, second);
                    text
                })
            });
            let mut text = String::new();
            self.write_diagnostics(&mut text, first);
            out.write_all(text.as_bytes())?;
            if let Some(second) = second {
                let text = second
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                out.write_all(text.as_bytes())?;
            }
            Ok(())
        })
    }

    /// Appends `diagnostics` to `text`, as miette shows them, through one
    /// handler.
    fn write_diagnostics(&self, text: &mut String, diagnostics: &[Diagnostic]) {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_context_lines(1);
        for diagnostic in diagnostics {
            let start = text.len();
            let report = Report::new(diagnostic);
            if handler.render_report(text, &report).is_err() {
                text.truncate(start);
                text.push_str(&format!(
                    "error[{}]: {}\n",
                    diagnostic.code, diagnostic.message
                ));
            }
        }
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
                    .map_or((label.span.start, label.span.len()).into(), |excerpt| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::source::{SourceFile, Span};

    /// Many diagnostics, made in two halves at once, are written in order
    /// and as one run through one handler writes them, whatever their count.
    #[test]
    fn diagnostics_made_in_two_read_as_made_in_one() {
        let text = (0..200).fold(String::new(), |mut text, i| {
            text.push_str(&format!("k{i}: v{i}\n"));
            text
        });
        let file = SourceFile::new("p.yaml", text.as_str());
        let line = |i: usize| text.match_indices('\n').nth(i).map_or(0, |(at, _)| at);
        let diagnostics: Vec<Diagnostic> = (0..150)
            .map(|i| {
                Diagnostic::warning("w", format!("warning {i}")).at(
                    &file,
                    Span::new(line(i) + 1, line(i) + 3),
                    "here",
                )
            })
            .collect();
        for color in [Color::Always, Color::Never] {
            let printer = Printer::new(color);
            for n in [0, 1, MADE_IN_TWO_FROM - 1, MADE_IN_TWO_FROM, 101, 150] {
                let mut in_one = String::new();
                printer.write_diagnostics(&mut in_one, &diagnostics[..n]);
                let mut in_two = Vec::new();
                printer
                    .write_in_two(&mut in_two, &diagnostics[..n])
                    .unwrap();
                assert_eq!(String::from_utf8(in_two).unwrap(), in_one, "{n}");
                assert_eq!(in_one.matches("warning ").count(), n);
            }
        }
    }
}
