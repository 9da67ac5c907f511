//! `strata graph`: the platform as a picture (SVG, Mermaid or Graphviz).

use std::path::Path;

use anyhow::Context;
use strata_core::export::diagram::Diagram;

use super::load;
use crate::cli::{GraphFormat, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    args: &SpecArgs,
    format: GraphFormat,
    out: Option<&Path>,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let (_, platform) = load(&args.file, args.env.as_deref(), printer)?;
    let diagram = Diagram::new(&platform);
    let text = match format {
        GraphFormat::Svg => diagram.svg(),
        GraphFormat::Mermaid => diagram.mermaid(),
        GraphFormat::Dot => diagram.dot(),
    };
    match out {
        None => printer.out(&text),
        Some(path) => {
            write_file(path, &text)?;
            printer.note(&format!(
                "drew {} boxes and {} arrows to {}",
                diagram.nodes.len(),
                diagram.links.len(),
                path.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// Writes `text` to a temporary file beside `path`, then renames it over
/// `path`: a reader never sees half a picture.
pub(super) fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    let name = path
        .file_name()
        .map_or_else(|| "graph".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.strata-{}", std::process::id()));
    let result = std::fs::write(&staging, text)
        .with_context(|| format!("cannot write `{}`", staging.display()))
        .and_then(|()| {
            std::fs::rename(&staging, path)
                .with_context(|| format!("cannot write `{}`", path.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    result
}
