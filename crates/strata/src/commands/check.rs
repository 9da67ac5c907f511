//! `strata check`: validate a spec in every environment (or one).

use std::collections::HashSet;

use strata_core::diag::{Diagnostic, Label};
use strata_core::model::environment_names;
use strata_core::render;
use strata_core::source::SourceFile;
use strata_core::spec;

use super::render::spec_directory;
use super::{read, report};
use crate::cli::SpecArgs;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(args: &SpecArgs, printer: &Printer) -> Result<ExitStatus, Exit> {
    let file = read(&args.file, printer)?;
    let doc = spec::parse(&file).map_err(|diagnostics| report(printer, &file, &diagnostics))?;
    let environments: Vec<Option<String>> = match &args.env {
        Some(env) => vec![Some(env.clone())],
        None => std::iter::once(None)
            .chain(
                environment_names(&doc.spec)
                    .into_iter()
                    .map(|e| Some(e.to_string())),
            )
            .collect(),
    };
    // Each environment is resolved on its own from the same parsed spec,
    // and rendered, reading the files the spec names, keeping only each
    // object's identity: what render refuses (two objects of one name, a
    // pod its namespace refuses, a patch that does not apply) check
    // refuses, with the same report.
    let assets = spec_directory(&args.file);
    let resolved = one_after_another(&doc, &environments, &assets);
    let first_said = first_said(&resolved);
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut summary = None;
    for ((env, result), first) in environments.iter().zip(resolved).zip(first_said) {
        let (found, into) = match result {
            Ok((found, size)) => {
                summary.get_or_insert(size);
                (found, &mut warnings)
            }
            Err(diagnostics) => (diagnostics, &mut problems),
        };
        for (mut diagnostic, first) in found.into_iter().zip(first) {
            if !first {
                continue;
            }
            if let Some(env) = env
                && args.env.is_none()
                && !diagnostic.message.contains(&format!("environment `{env}`"))
            {
                diagnostic.message = format!("{} (in environment `{env}`)", diagnostic.message);
            }
            into.push(diagnostic);
        }
    }
    // Errors first: a warning may come from a mistake they explain.
    if !problems.is_empty() {
        return Err(report(printer, &file, &problems));
    }
    warn(printer, &file, &warnings);
    let (services, tiers, waves) = summary.unwrap_or_default();
    let checked: Vec<&str> = environments
        .iter()
        .map(|e| e.as_deref().unwrap_or("base"))
        .collect();
    let count = |n: usize, noun: &str| {
        if n == 1 {
            format!("1 {noun}")
        } else {
            format!("{n} {noun}s")
        }
    };
    printer.out(&format!(
        "{} {}: platform `{}` is valid: {} in {}, {} (checked: {})\n",
        printer.paint("✓", "32;1"),
        file.name(),
        doc.spec.platform.value.0,
        count(services, "service"),
        count(tiers, "tier"),
        count(waves, "wave"),
        checked.join(", ")
    ));
    drop_aside(doc);
    Ok(ExitStatus::Success)
}

/// Which diagnostics of each environment are said: those whose code and
/// labels no diagnostic before them in the same list (warnings, or errors)
/// has, since the same mistake shows in every environment and is said
/// once. Keyed by reference, the labels are not copied.
fn first_said(resolved: &[Found]) -> Vec<Vec<bool>> {
    let mut said: [HashSet<(&str, &[Label])>; 2] = Default::default();
    resolved
        .iter()
        .map(|result| {
            let (found, seen) = match result {
                Ok((found, _)) => (found, &mut said[0]),
                Err(diagnostics) => (diagnostics, &mut said[1]),
            };
            found
                .iter()
                .map(|d| seen.insert((d.code, d.labels.as_slice())))
                .collect()
        })
        .collect()
}

/// What checking one environment found: its warnings and its size
/// (services, tiers, waves), or its errors.
type Found = Result<(Vec<Diagnostic>, (usize, usize, usize)), Vec<Diagnostic>>;

/// Checks each environment in turn, in spec order, with one platform alive
/// at a time: each is dropped once checked, on this thread, before the
/// next is resolved, which then reuses the memory it gave back. Resolve and
/// render each use both cores for most of their time. Measured at 10,000
/// services (docs/performance.md, s30-process): resolving the next
/// environment while one renders, as before, held two platforms, 29 MB
/// more for 0.04 s less wall time; dropping a platform on a thread of its
/// own while the next one resolves held 28 MB more; resolving on the
/// calling thread rather than on one of its own held 18 MB more.
fn one_after_another(
    doc: &spec::Document,
    environments: &[Option<String>],
    assets: &dyn render::Assets,
) -> Vec<Found> {
    environments
        .iter()
        .map(|env| {
            let platform = std::thread::scope(|scope| {
                scope
                    .spawn(|| strata_core::resolve(doc, env.as_deref()))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })?;
            let warnings = platform.warnings();
            let checked = render::check(&platform, assets).map(|_| {
                let size = (
                    platform.services.len(),
                    platform.tiers.len(),
                    platform.waves.len(),
                );
                (warnings, size)
            });
            drop(platform);
            checked
        })
        .collect()
}

/// Drops `value` on a thread of its own, not waited for: freeing the
/// parsed spec takes a core for a while once all is said, and whatever is
/// left when the command ends the process frees at once.
fn drop_aside<T: Send + 'static>(value: T) {
    // Where no thread can be started, the value is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// Prints warnings and their count; they leave the exit status alone.
fn warn(printer: &Printer, file: &SourceFile, warnings: &[Diagnostic]) {
    if warnings.is_empty() {
        return;
    }
    printer.diagnostics(warnings);
    let n = warnings.len();
    printer.warning(&format!(
        "{} in {}",
        if n == 1 {
            "1 warning".to_string()
        } else {
            format!("{n} warnings")
        },
        file.name()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::render::NoAssets;

    /// Each environment's result, in order, is what resolving and
    /// checking it alone gives, the last one included.
    #[test]
    fn every_environment_is_checked_in_order_from_the_same_spec() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/nova/platform.yaml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let file = SourceFile::new("platform.yaml", &text);
        let doc = spec::parse(&file).unwrap();
        let environments: Vec<Option<String>> = std::iter::once(None)
            .chain(
                environment_names(&doc.spec)
                    .into_iter()
                    .map(|e| Some(e.to_string())),
            )
            .collect();
        assert!(environments.len() >= 3, "nova has environments");
        // An environment that fails leaves no platform to drop: those after
        // it are checked as ever.
        let mut environments = environments;
        environments.insert(2, Some("nowhere".to_string()));
        let alone: Vec<Found> = environments
            .iter()
            .map(|env| {
                let platform = strata_core::resolve(&doc, env.as_deref())?;
                render::check(&platform, &NoAssets).unwrap();
                Ok((
                    platform.warnings(),
                    (
                        platform.services.len(),
                        platform.tiers.len(),
                        platform.waves.len(),
                    ),
                ))
            })
            .collect();
        let failed: Vec<usize> = (0..alone.len()).filter(|&i| alone[i].is_err()).collect();
        assert_eq!(failed, [2]);
        let found = one_after_another(&doc, &environments, &NoAssets);
        assert_eq!(found.len(), environments.len());
        for ((env, found), alone) in environments.iter().zip(found).zip(alone) {
            assert_eq!(found, alone, "{env:?}");
        }
    }

    /// A diagnostic is said the first time its code and labels show in
    /// its list (warnings, errors), whatever its message; the lists do
    /// not silence each other.
    #[test]
    fn each_mistake_is_said_once_per_list() {
        let file = SourceFile::new("p.yaml", "a: 1\nb: 2\n");
        let at = |code, start, label: &str| {
            Diagnostic::warning(code, "m").at(
                &file,
                strata_core::source::Span::new(start, start + 1),
                label,
            )
        };
        let base: Found = Ok((
            vec![at("x", 0, "l"), at("x", 0, "l"), at("x", 0, "other")],
            (1, 1, 1),
        ));
        let env: Found = Ok((
            vec![at("y", 0, "l"), at("x", 5, "l"), at("x", 0, "l")],
            (1, 1, 1),
        ));
        let failed: Found = Err(vec![at("x", 0, "l"), at("x", 0, "l")]);
        assert_eq!(
            first_said(&[base, env, failed]),
            [
                vec![true, false, true],
                vec![true, true, false],
                vec![true, false]
            ]
        );
    }

    /// A spec without environments is checked once, as the base.
    #[test]
    fn the_base_alone_is_checked_once() {
        let file = SourceFile::new(
            "p.yaml",
            "platform: demo\ntiers:\n  - name: apps\n    services:\n      web: { image: nginx:1.27 }\n",
        );
        let doc = spec::parse(&file).unwrap();
        let found = one_after_another(&doc, &[None], &NoAssets);
        assert_eq!(found.len(), 1);
        let (_, size) = found.into_iter().next().unwrap().unwrap();
        assert_eq!(size.0, 1);
    }
}
