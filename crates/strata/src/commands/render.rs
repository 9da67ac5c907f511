//! `strata render`: manifests to stdout or, atomically, to a directory.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use strata_core::export::{self, Format, Layout, helm, kustomize};
use strata_core::model::environment_names;
use strata_core::render::{self, Assets};

use super::{load, report};
use crate::cli::{ExportFormat, LayoutArg, RenderFormat, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// Marks a directory as written by `strata render`, so a later render may replace it.
const MARKER: &str = ".strata-render";

/// Files named by a spec, read relative to the spec's directory.
pub(super) struct SpecDirectory(pub PathBuf);

/// The largest file a spec may name: what a ConfigMap or Secret holds.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

impl Assets for SpecDirectory {
    /// Reads `path` when it is a regular file of at most 1 MiB inside the
    /// spec's folder once symbolic links are resolved: not a device, a FIFO
    /// or `/proc`, nothing a link leads out to.
    fn read(&self, path: &str) -> Result<String, String> {
        use std::io::Read;
        let folder = fs::canonicalize(&self.0).map_err(|e| e.to_string())?;
        let file = fs::canonicalize(self.0.join(path)).map_err(|e| e.to_string())?;
        if !file.starts_with(&folder) {
            return Err(format!(
                "it resolves to `{}`, outside the spec's folder `{}`",
                file.display(),
                folder.display()
            ));
        }
        let metadata = fs::metadata(&file).map_err(|e| e.to_string())?;
        if !metadata.is_file() {
            return Err("it is not a regular file".into());
        }
        if metadata.len() > MAX_FILE_BYTES {
            return Err(format!(
                "it is {} bytes long, more than the 1 MiB a ConfigMap holds",
                metadata.len()
            ));
        }
        let mut bytes = Vec::new();
        fs::File::open(&file)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        strata_core::diag::source_from_bytes(path, bytes)
            .map(|source| source.text().to_string())
            .map_err(|diagnostic| {
                format!(
                    "{} at {}",
                    diagnostic.message,
                    diagnostic.location().unwrap_or_default()
                )
            })
    }
}

pub(super) fn run(
    args: &SpecArgs,
    out: Option<&Path>,
    layout: LayoutArg,
    format: RenderFormat,
    export: ExportFormat,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    if export != ExportFormat::Plain {
        return run_export(args, out, export, printer);
    }
    let (_, platform) = load(&args.file, args.env.as_deref(), printer)?;
    let assets = spec_directory(&args.file);
    if out.is_none() && format == RenderFormat::Yaml {
        // Each object written as text as it is made; printed once the
        // whole set is known valid, so an error never leaves half a stream.
        let stream = render::yaml_stream(&platform, &assets)
            .map_err(|diagnostics| report(printer, &platform.file, &diagnostics))?;
        note_secrets(&stream.generated_secrets, &stream.pull_secrets, printer);
        printer.out_with(|out| stream.write_to(out));
        return Ok(ExitStatus::Success);
    }
    let set = render::render(&platform, &assets)
        .map_err(|diagnostics| report(printer, &platform.file, &diagnostics))?;
    let format = match format {
        RenderFormat::Yaml => Format::Yaml,
        RenderFormat::Json => Format::Json,
    };
    note_secrets(&set.generated_secrets, &set.pull_secrets, printer);
    match out {
        None => {
            let all: Vec<_> = set.objects.iter().collect();
            printer.out(&export::stream(&all, format));
        }
        Some(dir) => {
            let layout = match layout {
                LayoutArg::Single => Layout::Single,
                LayoutArg::PerTier => Layout::PerTier,
                LayoutArg::PerObject => Layout::PerObject,
            };
            let files = export::files(&set, layout, format);
            let dir = write_atomically(dir, &files)?;
            printer.note(&format!(
                "wrote {} objects in {} files to {}",
                set.objects.len(),
                files.len(),
                dir.display()
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// The assets of the spec at `file`: files next to it.
pub(crate) fn spec_directory(file: &Path) -> SpecDirectory {
    SpecDirectory(
        file.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    )
}

/// Notes the registry pull secrets the pods name, which must exist before
/// `apply` (Strata never holds registry credentials).
pub(crate) fn note_pull_secrets(pull_secrets: &[render::PullSecret], printer: &Printer) {
    for secret in pull_secrets {
        printer.note(&format!(
            "pull secret `{}` ({}) is not rendered: create it (type kubernetes.io/dockerconfigjson) in `{}` before `strata apply`",
            secret.name,
            secret.registries.join(", "),
            secret.namespaces.join("`, `")
        ));
    }
}

/// Notes the secrets a render leaves to others: pull secrets, and those
/// generated in the cluster.
fn note_secrets(
    generated_secrets: &[render::GeneratedSecret],
    pull_secrets: &[render::PullSecret],
    printer: &Printer,
) {
    note_pull_secrets(pull_secrets, printer);
    for secret in generated_secrets {
        printer.note(&format!(
            "secret `{}` ({}) is generated once in the cluster (by `strata apply`, else by Job `{}-…`), with the same values in `{}`, and not rendered",
            secret.name,
            secret.keys.join(", "),
            render::secret_job::NAME,
            secret.namespaces.join("`, `")
        ));
    }
}

/// `--format kustomize|helm`: the base spec and every environment (or only
/// `--env`'s) rendered, turned into a tree and written atomically.
fn run_export(
    args: &SpecArgs,
    out: Option<&Path>,
    export: ExportFormat,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let name = match export {
        ExportFormat::Kustomize => "kustomize",
        ExportFormat::Helm => "helm",
        ExportFormat::Plain => "plain",
    };
    let dir =
        out.with_context(|| format!("`--format {name}` writes a directory: add `--out DIR`"))?;
    let (doc, platform) = load(&args.file, None, printer)?;
    let assets = spec_directory(&args.file);
    let base = render::render(&platform, &assets)
        .map_err(|diagnostics| report(printer, &platform.file, &diagnostics))?;
    let environments: Vec<String> = match &args.env {
        Some(env) => vec![env.clone()],
        None => environment_names(&doc.spec)
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    let mut sets = Vec::new();
    for env in &environments {
        let platform = strata_core::resolve(&doc, Some(env))
            .map_err(|diagnostics| report(printer, &doc.file, &diagnostics))?;
        let set = render::render(&platform, &assets)
            .map_err(|diagnostics| report(printer, &platform.file, &diagnostics))?;
        sets.push(set);
    }
    note_secrets(&base.generated_secrets, &base.pull_secrets, printer);
    let files = match export {
        ExportFormat::Kustomize => kustomize::files(&base, &sets),
        ExportFormat::Helm => helm::files(&base, &sets),
        ExportFormat::Plain => unreachable!("plain output is not an export"),
    };
    let dir = write_atomically(dir, &files)?;
    printer.note(&format!(
        "wrote a {name} tree of {} objects and {} environment{} in {} files to {}",
        base.objects.len(),
        sets.len(),
        if sets.len() == 1 { "" } else { "s" },
        files.len(),
        dir.display()
    ));
    Ok(ExitStatus::Success)
}

/// Writes `files` into a fresh sibling directory, then swaps it in for
/// `dir`; on any error `dir` is left as it was. A `dir` that is a symbolic
/// link is followed: the directory written is returned.
pub(super) fn write_atomically(dir: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<PathBuf> {
    let dir = &follow_link(dir)?;
    if dir.exists() {
        let is_empty = fs::read_dir(dir)
            .with_context(|| format!("cannot read `{}`", dir.display()))?
            .next()
            .is_none();
        if !is_empty && !dir.join(MARKER).exists() {
            bail!(
                "refusing to replace `{}`: it is not empty and was not written by `strata render`; choose another --out",
                dir.display()
            );
        }
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.strata-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        fs::create_dir(&staging)
            .with_context(|| format!("cannot create `{}`", staging.display()))?;
        // Closed before the first Secret lands in it, not after.
        if files.iter().any(|(_, content)| holds_secret(content)) {
            restrict(&staging, 0o700)
                .with_context(|| format!("cannot restrict `{}`", staging.display()))?;
        }
        fs::write(
            staging.join(MARKER),
            "written by strata render; the whole directory is replaced on the next render\n",
        )?;
        for (path, content) in files {
            let target = staging.join(path);
            if let Some(p) = target.parent() {
                fs::create_dir_all(p)?;
            }
            write_file(&target, content, holds_secret(content))
                .with_context(|| format!("cannot write `{}`", target.display()))?;
        }
        if dir.exists() {
            let old = parent.join(format!(".{name}.strata-old-{}", std::process::id()));
            fs::rename(dir, &old)
                .with_context(|| format!("cannot move `{}` aside", dir.display()))?;
            fs::rename(&staging, dir)
                .with_context(|| format!("cannot move the new files to `{}`", dir.display()))?;
            fs::remove_dir_all(&old)
                .with_context(|| format!("cannot remove `{}`", old.display()))?;
        } else {
            fs::rename(&staging, dir)
                .with_context(|| format!("cannot move the new files to `{}`", dir.display()))?;
        }
        Ok(())
    })();
    if result.is_err() && staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| dir.clone())
}

/// `dir` itself, or the directory it links to: replacing a link with a
/// directory would silently cut whatever the link tied together.
fn follow_link(dir: &Path) -> anyhow::Result<PathBuf> {
    let is_link = fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(dir.to_path_buf());
    }
    let target = fs::canonicalize(dir).with_context(|| {
        format!(
            "`{}` is a symbolic link to nothing: point it at a directory or choose another --out",
            dir.display()
        )
    })?;
    if target.exists() && !target.is_dir() {
        bail!(
            "`{}` links to `{}`, which is not a directory; choose another --out",
            dir.display(),
            target.display()
        );
    }
    Ok(target)
}

/// Whether a rendered file holds a Secret. Strata writes an object's
/// top-level keys unindented in YAML, and `"kind"` on a line of its own in
/// JSON; a ConfigMap quoting such a line only costs that file its
/// readability by others, never the other way round.
fn holds_secret(content: &str) -> bool {
    content.lines().any(|line| {
        let line = line.trim_end();
        line == "kind: Secret" || line.trim_start().starts_with("\"kind\": \"Secret\"")
    })
}

/// Writes `content` to a new file at `path`, created readable by its owner
/// alone when `secret`.
fn write_file(path: &Path, content: &str, secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options.open(path)?.write_all(content.as_bytes())
}

/// Sets the permission bits of `path` (owner-only modes; a no-op off Unix).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}
