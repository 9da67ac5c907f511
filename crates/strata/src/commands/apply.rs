//! `strata apply` and `strata rollback`: the wave engine with a live
//! display, and a report of what happened.

use std::time::Duration;

use strata_kube::apply::{Cause, Failure, Rollback};
use strata_kube::immutable::Remedy;
use strata_kube::prune::Removed;
use strata_kube::{Applied, ApplyError, ApplyOptions, Selection, inventory};

use super::cluster::{connect, runtime, target};
use crate::cli::{ClusterArgs, SpecArgs, WaveArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;
use crate::progress::Display;

/// How often what cannot be watched (a kind new to discovery, a deletion)
/// is checked against a real cluster.
const POLL: Duration = Duration::from_secs(2);

/// What `apply` was asked to do, beyond the spec and the cluster.
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is one of apply's independent command-line switches"
)]
pub(super) struct Request {
    /// `--only` / `--skip`.
    pub selection: Selection,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--atomic`.
    pub atomic: bool,
    /// `--force-conflicts`.
    pub force_conflicts: bool,
    /// `--operator-grace`.
    pub operator_grace: Duration,
    /// `--recreate`.
    pub recreate: bool,
    /// `--verify`.
    pub verify: bool,
    /// `--no-skip`.
    pub no_skip: bool,
}

fn options(waves: &WaveArgs, request: &Request) -> ApplyOptions {
    ApplyOptions {
        selection: request.selection.clone(),
        force_conflicts: request.force_conflicts,
        dry_run: request.dry_run,
        atomic: request.atomic,
        recreate: request.recreate,
        timeout: waves.timeout,
        poll: POLL,
        operator_grace: request.operator_grace,
        concurrency: usize::from(waves.concurrency),
        skip_unchanged: !request.no_skip,
        ..ApplyOptions::default()
    }
}

pub(super) fn run(
    spec: &SpecArgs,
    cluster: &ClusterArgs,
    waves: &WaveArgs,
    request: &Request,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    // Bad names are bad input: refused before the cluster is contacted.
    request.selection.check(&target.set)?;
    let mut options = options(waves, request);
    let display = Display::new();
    let result = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        let mut result =
            strata_kube::apply(&cluster, &target.set, &target.release, &options, &display).await;
        // A StatefulSet whose claim templates changed: asked at a terminal,
        // and applied again (it resumes) with --recreate when confirmed.
        if let Some(question) = recreate_question(&result, &options) {
            // Live lines stop before the question is asked.
            display.finish();
            if confirm(&question) {
                options.recreate = true;
                result =
                    strata_kube::apply(&cluster, &target.set, &target.release, &options, &display)
                        .await;
            }
        }
        // --verify: after the last wave, on the same connection.
        let report = match &result {
            Ok(_) if request.verify => {
                Some(super::verify::settled(&cluster, &target, waves.concurrency.into()).await?)
            }
            _ => None,
        };
        Ok::<_, anyhow::Error>((result, report))
    })?;
    display.finish();
    let (result, report) = result;
    let status = conclude(result, request.dry_run, &target.release, printer);
    match report {
        Some(report) if status == ExitStatus::Success => super::verify::print(
            &report,
            crate::cli::PlanFormat::Table,
            &super::verify::Invocation { spec, cluster },
            printer,
        ),
        _ => Ok(status),
    }
}

/// The question to ask when `result` failed on a StatefulSet that
/// `--recreate` would get past, and it was not given.
fn recreate_question(
    result: &Result<Applied, ApplyError>,
    options: &ApplyOptions,
) -> Option<String> {
    let Err(ApplyError::Failed(failure)) = result else {
        return None;
    };
    match &failure.cause {
        Cause::Immutable {
            id,
            remedy: Remedy::RecreateKeepingPods,
            ..
        } if !options.recreate && !options.dry_run => Some(format!(
            "{}\nrecreate {id} keeping its pods and claims (delete with --cascade=orphan, then create)? [y/N] ",
            failure.cause
        )),
        _ => None,
    }
}

/// Asks `question` at a terminal; false without one (never prompts in
/// scripts or CI) or on anything but yes.
fn confirm(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

pub(super) fn rollback(
    spec: &SpecArgs,
    revision: Option<u32>,
    cluster: &ClusterArgs,
    waves: &WaveArgs,
    request: &Request,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    let options = options(waves, request);
    let display = Display::new();
    let release = &target.release;
    let result = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        let number = match revision {
            Some(n) => n,
            None => previous_revision(&cluster, release).await?,
        };
        Ok::<_, anyhow::Error>(
            strata_kube::rollback(&cluster, release, number, &options, &display).await,
        )
    })?;
    display.finish();
    Ok(conclude(result, false, release, printer))
}

/// The revision before the latest: what `rollback` without a number goes
/// back to.
async fn previous_revision(
    cluster: &strata_kube::Cluster,
    release: &strata_kube::Release,
) -> anyhow::Result<u32> {
    let revisions = inventory::numbers(cluster, release).await?;
    match revisions.len() {
        0 | 1 => anyhow::bail!(
            "`{}` has {} revision(s) in namespace `{}`: nothing to roll back to; `strata history` lists them",
            release.platform,
            revisions.len(),
            release.namespace
        ),
        n => Ok(revisions[n - 2]),
    }
}

fn conclude(
    result: Result<Applied, ApplyError>,
    dry_run: bool,
    release: &strata_kube::Release,
    printer: &Printer,
) -> ExitStatus {
    match result {
        Ok(done) => {
            print_warnings(&done.warnings, printer);
            for note in &done.notes {
                printer.note(note);
            }
            print_pruned(&done.pruned, printer);
            match done.revision {
                Some(revision) if done.recorded => printer.note(&format!(
                    "applied {} objects, skipped {} unchanged; recorded revision {revision} of `{}` in namespace `{}`",
                    done.applied.len(),
                    done.skipped.len(),
                    release.platform,
                    release.namespace
                )),
                Some(revision) => printer.note(&format!(
                    "applied {} objects, skipped {} unchanged; nothing changed since revision {revision} of `{}` in namespace `{}`, so no revision was recorded",
                    done.applied.len(),
                    done.skipped.len(),
                    release.platform,
                    release.namespace
                )),
                None if dry_run => {
                    let unchecked = done
                        .notes
                        .iter()
                        .filter(|n| n.contains("not checked"))
                        .count();
                    printer.note(&format!(
                        "dry run: the API server accepted {} objects{}; nothing was changed",
                        done.applied.len(),
                        if unchecked == 0 {
                            String::new()
                        } else {
                            format!(", {unchecked} could not be checked before their namespace or CRD exists")
                        }
                    ));
                }
                None => {}
            }
            ExitStatus::Success
        }
        Err(ApplyError::Failed(failure)) => {
            print_warnings(&failure.warnings, printer);
            print_failure(&failure, dry_run, printer);
            ExitStatus::Failure
        }
        Err(other) => {
            printer.failure(&other.to_string());
            ExitStatus::Failure
        }
    }
}

/// The API server's warnings (deprecated API versions…), one line each.
fn print_warnings(warnings: &[(strata_kube::ObjectId, String)], printer: &Printer) {
    for (id, warning) in warnings {
        printer.warning(&format!("{id}: the API server warns: {warning}"));
    }
}

fn print_pruned(pruned: &Removed, printer: &Printer) {
    for id in &pruned.deleted {
        printer.note(&format!("pruned {id}"));
    }
    for (id, reason) in &pruned.kept {
        printer.note(&format!("not pruned {id}: {reason}"));
    }
}

fn list(ids: &[strata_kube::ObjectId]) -> String {
    const SHOWN: usize = 12;
    let mut text: Vec<String> = ids.iter().take(SHOWN).map(ToString::to_string).collect();
    if ids.len() > SHOWN {
        text.push(format!("… and {} more", ids.len() - SHOWN));
    }
    text.join(", ")
}

fn print_failure(failure: &Failure, dry_run: bool, printer: &Printer) {
    printer.failure(&format!("{} failed: {}", failure.step, failure.cause));
    let mut out = String::new();
    for note in &failure.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    for (id, reason) in &failure.not_ready {
        out.push_str(&format!("  not ready: {id}: {reason}\n"));
    }
    for pod in &failure.pods {
        out.push_str(&format!("  pod {}:\n", pod.pod));
        for problem in &pod.problems {
            out.push_str(&format!("    {problem}\n"));
        }
        for event in &pod.events {
            out.push_str(&format!("    event {event}\n"));
        }
    }
    let (applied, not_applied) = if dry_run {
        ("accepted", "refused or not checked")
    } else {
        ("applied", "not applied")
    };
    out.push_str(&format!(
        "  {applied} ({}): {}\n",
        failure.applied.len(),
        list(&failure.applied)
    ));
    out.push_str(&format!(
        "  {not_applied} ({}): {}\n",
        failure.not_applied.len(),
        list(&failure.not_applied)
    ));
    match &failure.rollback {
        None if dry_run => out.push_str(
            "  dry run: every wave was checked and nothing was changed; fix what was refused and check again\n",
        ),
        None => out.push_str(
            "  nothing was pruned and no revision was recorded; fix the cause and run the same command again to resume\n",
        ),
        Some(Rollback::Done { to, recorded, removed }) => {
            out.push_str(&format!(
                "  rolled back: revision {to} applied again and recorded as revision {recorded}\n"
            ));
            for id in &removed.deleted {
                out.push_str(&format!("  removed {id} (not in revision {to})\n"));
            }
        }
        Some(Rollback::NothingToRollBackTo) => out.push_str(
            "  --atomic: there is no earlier revision to roll back to; what was applied is left in place\n",
        ),
        Some(Rollback::Failed(why)) => {
            out.push_str(&format!("  --atomic: the rollback failed too: {why}\n"));
        }
    }
    eprint!("{out}");
}
