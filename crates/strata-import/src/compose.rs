//! Compose files (the compose specification, v2 and v3) to draft services.

use strata_core::diag::Diagnostic;
use strata_core::source::{SourceFile, Span};

use crate::Options;
use crate::draft::Draft;

/// Reads the services of a compose file.
///
/// # Errors
/// Compose input is not read yet.
pub fn read(
    file: &SourceFile,
    _options: &Options,
    _draft: &mut Draft,
) -> Result<(), Vec<Diagnostic>> {
    Err(vec![
        Diagnostic::error("unsupported-input", "compose files are not imported yet")
            .at(file, Span::new(0, 0), "a compose file")
            .help("convert it to Kubernetes manifests first, or import manifests"),
    ])
}
