//! `strata verify`: the checks of `strata_kube::verify`, as a table of
//! failures with the command to run next, or as JSON; also run by
//! `apply --verify` after the last wave.

use std::time::Duration;

use comfy_table::{Cell, ColumnConstraint, ContentArrangement, Table, presets};
use serde_json::{Value, json};
use strata_kube::Cluster;
use strata_kube::verify::{Check, Next, Report, Verdict, VerifyOptions};

use super::cluster::{Target, connect, runtime, target};
use crate::cli::{ClusterArgs, PlanFormat, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    spec: &SpecArgs,
    cluster: &ClusterArgs,
    output: PlanFormat,
    concurrency: usize,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    let report = runtime()?.block_on(async {
        let connected = connect(cluster).await?;
        Ok::<_, anyhow::Error>(check(&connected, &target, concurrency).await?)
    })?;
    print(&report, output, &Invocation { spec, cluster }, printer)
}

/// Runs every check against `cluster`, `concurrency` requests at once.
pub(super) async fn check(
    cluster: &Cluster,
    target: &Target,
    concurrency: usize,
) -> Result<Report, strata_kube::verify::VerifyError> {
    strata_kube::verify::verify(
        cluster,
        &target.platform,
        &target.set,
        &target.release,
        &VerifyOptions {
            concurrency,
            ..VerifyOptions::default()
        },
    )
    .await
}

/// How long `apply --verify` gives endpoints and health URLs to catch up
/// with workloads just ready (the endpoint-slice controller follows pods
/// a moment later), and how often it looks again meanwhile.
const SETTLE: Duration = Duration::from_secs(30);
const SETTLE_POLL: Duration = Duration::from_secs(2);

/// [`check`] right after an apply: while only traffic checks (endpoints,
/// routes, health) fail, looked at again for up to [`SETTLE`].
pub(super) async fn settled(
    cluster: &Cluster,
    target: &Target,
    concurrency: usize,
) -> Result<Report, strata_kube::verify::VerifyError> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let report = check(cluster, target, concurrency).await?;
        let catching_up = !report.passed()
            && report
                .failures()
                .all(|f| matches!(f.check, Check::Endpoints | Check::Route | Check::Health));
        if !catching_up || tokio::time::Instant::now() >= deadline {
            return Ok(report);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// How `strata` was called: what the commands to run next repeat.
pub(super) struct Invocation<'a> {
    /// The spec and environment.
    pub spec: &'a SpecArgs,
    /// The cluster.
    pub cluster: &'a ClusterArgs,
}

impl Invocation<'_> {
    /// `strata VERB FILE [ARG] [--env E] [--kubeconfig F] [--context C]`.
    fn strata(&self, verb: &str, arg: Option<&str>) -> String {
        let mut words = vec![
            "strata".to_string(),
            verb.to_string(),
            self.spec.file.display().to_string(),
        ];
        words.extend(arg.map(str::to_string));
        if let Some(env) = &self.spec.env {
            words.extend(["--env".into(), env.clone()]);
        }
        words.push(self.cluster_flags());
        words.retain(|w| !w.is_empty());
        words.join(" ")
    }

    /// `--kubeconfig F --context C`, as given.
    fn cluster_flags(&self) -> String {
        let mut flags = Vec::new();
        if let Some(kubeconfig) = &self.cluster.kubeconfig {
            flags.push(format!("--kubeconfig {}", kubeconfig.display()));
        }
        if let Some(context) = &self.cluster.context {
            flags.push(format!("--context {context}"));
        }
        flags.join(" ")
    }

    /// `kubectl WORDS -n NS [--kubeconfig F] [--context C]`.
    fn kubectl(&self, words: &str, namespace: &str) -> String {
        let mut text = format!("kubectl {words}");
        if !namespace.is_empty() {
            text.push_str(&format!(" -n {namespace}"));
        }
        let flags = self.cluster_flags();
        if !flags.is_empty() {
            text.push_str(&format!(" {flags}"));
        }
        text
    }

    /// The command a [`Next`] stands for.
    fn next(&self, next: &Next) -> String {
        match next {
            Next::Apply => self.strata("apply", None),
            Next::Diff => self.strata("diff", None),
            Next::Logs(service) => self.strata("logs", Some(service)),
            Next::Describe(id) => self.kubectl(
                &format!("describe {} {}", resource(id), id.name),
                &id.namespace,
            ),
            Next::Create(id) if id.kind == "ConfigMap" => self.kubectl(
                &format!("create configmap {} --from-literal=KEY=VALUE", id.name),
                &id.namespace,
            ),
            Next::Create(id) => self.kubectl(
                &format!("create secret generic {} --from-literal=KEY=VALUE", id.name),
                &id.namespace,
            ),
            Next::CreatePullSecret(id) => self.kubectl(
                &format!(
                    "create secret docker-registry {} --docker-server=REGISTRY --docker-username=USER --docker-password=PASSWORD",
                    id.name
                ),
                &id.namespace,
            ),
        }
    }
}

/// How kubectl names an object's kind: `deployment`, and for a custom
/// resource `cluster.postgresql.cnpg.io`, which no other kind can shadow.
fn resource(id: &strata_kube::ObjectId) -> String {
    let kind = id.kind.to_lowercase();
    match id.api_version.split_once('/') {
        Some((group, _)) if group.contains('.') && !group.ends_with(".k8s.io") => {
            format!("{kind}.{group}")
        }
        _ => kind,
    }
}

/// Prints `report` as `output` asks; exit 1 when a check failed.
pub(super) fn print(
    report: &Report,
    output: PlanFormat,
    invocation: &Invocation<'_>,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    match output {
        PlanFormat::Json => printer.out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&as_json(report, invocation))?
        )),
        PlanFormat::Table => {
            printer.out(&format!("{}\n", summary(report)));
            if !report.passed() {
                printer.out(&format!("{}\n", failures(report, invocation, printer)));
            }
        }
    }
    let failed = report.failures().count();
    if failed == 0 {
        printer.note("verified: the platform is deployed as specified and every check passed");
        Ok(ExitStatus::Success)
    } else {
        printer.failure(&format!(
            "{failed} {} failed; each names what to run next",
            if failed == 1 { "check" } else { "checks" }
        ));
        Ok(ExitStatus::Failure)
    }
}

fn verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Skipped => "skipped",
    }
}

/// Every outcome, with the command to run next spelled out.
fn as_json(report: &Report, invocation: &Invocation<'_>) -> Value {
    let summary: serde_json::Map<String, Value> = Check::ALL
        .iter()
        .map(|check| {
            let (passed, failed, skipped) = report.counts(*check);
            (
                check.name().to_string(),
                json!({"passed": passed, "failed": failed, "skipped": skipped}),
            )
        })
        .collect();
    let checks: Vec<Value> = report
        .outcomes
        .iter()
        .map(|o| {
            json!({
                "check": o.check.name(),
                "subject": o.subject,
                "service": o.service,
                "verdict": verdict(o.verdict),
                "detail": o.detail,
                "next": o.next.as_ref().map(|n| invocation.next(n)),
            })
        })
        .collect();
    json!({"passed": report.passed(), "summary": summary, "checks": checks})
}

/// Passed, failed and skipped per check.
fn summary(report: &Report) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_header(["Check", "Passed", "Failed", "Skipped"]);
    for check in Check::ALL {
        let (passed, failed, skipped) = report.counts(check);
        table.add_row(vec![
            Cell::new(check.name()),
            Cell::new(passed),
            Cell::new(failed),
            Cell::new(skipped),
        ]);
    }
    table
}

/// One line per failure: what, what is wrong, what to run next.
fn failures(report: &Report, invocation: &Invocation<'_>, printer: &Printer) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(["Check", "Object", "Problem", "Next"]);
    // The command to run next is copied whole: never wrapped.
    if let Some(next) = table.column_mut(3) {
        next.set_constraint(ColumnConstraint::ContentWidth);
    }
    for outcome in report.failures() {
        table.add_row(vec![
            Cell::new(outcome.check.name()),
            Cell::new(&outcome.subject),
            Cell::new(printer.paint(&outcome.detail, "31")),
            Cell::new(
                outcome
                    .next
                    .as_ref()
                    .map_or_else(String::new, |n| invocation.next(n)),
            ),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use strata_kube::ObjectId;

    #[test]
    fn the_next_command_repeats_the_spec_environment_and_cluster() {
        let spec = SpecArgs {
            file: PathBuf::from("platform.yaml"),
            env: Some("prod".into()),
        };
        let cluster = ClusterArgs {
            kubeconfig: None,
            context: Some("east".into()),
        };
        let invocation = Invocation {
            spec: &spec,
            cluster: &cluster,
        };
        assert_eq!(
            invocation.next(&Next::Logs("api".into())),
            "strata logs platform.yaml api --env prod --context east"
        );
        assert_eq!(
            invocation.next(&Next::Apply),
            "strata apply platform.yaml --env prod --context east"
        );
        let id = |api_version: &str, kind: &str| ObjectId {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: "x".into(),
        };
        assert_eq!(
            invocation.next(&Next::Describe(id("networking.k8s.io/v1", "NetworkPolicy"))),
            "kubectl describe networkpolicy x -n shop --context east"
        );
        assert_eq!(
            invocation.next(&Next::Describe(id("postgresql.cnpg.io/v1", "Cluster"))),
            "kubectl describe cluster.postgresql.cnpg.io x -n shop --context east"
        );
        assert_eq!(
            invocation.next(&Next::Create(id("v1", "ConfigMap"))),
            "kubectl create configmap x --from-literal=KEY=VALUE -n shop --context east"
        );
    }
}
