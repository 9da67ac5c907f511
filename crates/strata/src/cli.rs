//! Command-line arguments: what a user can type, with examples in `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Strata: one spec for a layered platform on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None, after_help = "\
Examples:
  strata check examples/isa-cloud/platform.yaml
  strata plan examples/isa-cloud/platform.yaml --env staging
  strata apply examples/isa-cloud/platform.yaml --env staging
  strata schema > platform.schema.json")]
pub(crate) struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and validate a spec; every problem is shown at its file:line:col.
    #[command(after_help = "\
Without --env, the base spec and every environment are checked.

Examples:
  strata check platform.yaml
  strata check platform.yaml --env prod

Exit status: 0 when valid, 1 when there are problems.")]
    Check(SpecArgs),
    /// Show the deployment waves, the critical path and resource totals.
    #[command(after_help = "\
Examples:
  strata plan examples/isa-cloud/platform.yaml
  strata plan examples/isa-cloud/platform.yaml --env local
  strata plan platform.yaml -o json | jq '.waves[0].services[].name'

Exit status: 0 when the platform fits its budgets and node pools, 1 otherwise
or when the spec is invalid.")]
    Plan {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = PlanFormat::Table)]
        output: PlanFormat,
    },
    /// Render the platform's Kubernetes manifests, in apply order.
    #[command(after_help = "\
Objects are ordered by wave, then kind (namespaces and CRDs first), then name;
the same input always gives the same bytes. With --out, files are written to
a new directory that replaces DIR only when everything succeeded.

Examples:
  strata render examples/isa-cloud/platform.yaml --env staging
  strata render platform.yaml --env prod --out manifests/ --layout per-tier
  strata render platform.yaml -o json | kubectl apply --dry-run=server -f -
  strata render platform.yaml --format kustomize --out deploy/
  kubectl kustomize deploy/overlays/prod | kubectl apply -f -
  strata render platform.yaml --format helm --out chart/")]
    Render {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// Write files into this directory instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// How files are split under --out.
        #[arg(long, value_enum, default_value_t = LayoutArg::Single)]
        layout: LayoutArg,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = RenderFormat::Yaml)]
        output: RenderFormat,
        /// What to produce: plain manifests, a Kustomize tree or a Helm chart
        /// (the last two need --out and cover every environment, or --env's).
        #[arg(long, value_enum, default_value_t = ExportFormat::Plain)]
        format: ExportFormat,
    },
    /// Draw the platform: waves left to right, services grouped by tier.
    #[command(after_help = "\
Boxes are services (stateful ones with a double border), with replicas and
ports; arrows point from a service to what it waits for. SVG is laid out by
Strata; mermaid and dot are text for other tools.

Examples:
  strata graph examples/isa-cloud/platform.yaml --out docs/img/isa-cloud.svg
  strata graph platform.yaml --env prod -o mermaid
  strata graph platform.yaml -o dot | dot -Tpng > platform.png")]
    Graph {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = GraphFormat::Svg)]
        output: GraphFormat,
        /// Write to this file instead of printing.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Review a platform's architecture: single points of failure, shared
    /// databases, calls without timeouts, long start-up chains, capacity…
    #[command(after_help = "\
Each finding has a stable id, a priority (P0 most urgent), the spec location
and a fix. Findings at or above --fail-on make the exit status 1.

Examples:
  strata audit examples/isa-cloud/platform.yaml --env staging
  strata audit platform.yaml --env prod -o sarif > audit.sarif
  strata audit platform.yaml --disable long-critical-path --fail-on P0
  strata audit --list-checks")]
    Audit {
        /// The platform spec (YAML).
        #[arg(value_name = "FILE", required_unless_present = "list_checks")]
        file: Option<PathBuf>,
        /// The environment to apply.
        #[arg(short, long, value_name = "ENV")]
        env: Option<String>,
        /// How findings are reported.
        #[command(flatten)]
        report: ReportArgs,
        /// Longest acceptable chain of services starting one after another.
        #[arg(long, value_name = "N", default_value_t = 6)]
        max_critical_path: usize,
    },
    /// Check any Kubernetes YAML against production practices.
    #[command(after_help = "\
Reads files, directories (every .yaml, .yml and .json below them) or `-` for
standard input: multi-document files, v1/List objects, Helm or Kustomize
output. Skip checks for one object with the annotation
`strata.dev/ignore: check-id,other-id`.

Examples:
  strata lint manifests/
  helm template my-chart | strata lint -
  kubectl kustomize overlays/prod | strata lint - -o sarif > lint.sarif
  strata lint deploy.yaml --disable no-cpu-limit --fail-on P0
  strata lint --list-checks")]
    Lint {
        /// Files, directories, or `-` for standard input.
        #[arg(value_name = "PATH", required_unless_present = "list_checks")]
        paths: Vec<PathBuf>,
        /// How findings are reported.
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Write a spec from the Kubernetes manifests or compose files a platform has.
    #[command(after_help = "\
Workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs) become
services with their Services, autoscalers, claims, ConfigMaps and routes; an
env value naming another service's host becomes a `${service.field}`
reference, and so a call the NetworkPolicies allow. Selectors and Service
names are kept, so `strata apply` takes the running workloads over. Every
setting with no spec key is kept verbatim (a patch, or a manifest in a file
beside --out: platform.yaml keeps them in platform.kept.yaml) or left out,
and listed on stderr at its file:line:col with why. The spec passes
`strata check` as written.

Examples:
  strata import k8s/ --out platform.yaml
  helm template shop charts/shop | strata import - --name shop --namespace shop --out platform.yaml
  kubectl kustomize overlays/prod | strata import - --out platform.yaml
  strata import docker-compose.yml --out platform.yaml
  strata import k8s/ --out platform.yaml && strata diff platform.yaml")]
    Import {
        /// Files, directories, or `-` for standard input.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// What the input is; guessed per file when not given.
        #[arg(long, value_enum)]
        from: Option<ImportFrom>,
        /// Write the spec here (and objects kept verbatim beside it) instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The platform's name; the input directory's or file's by default.
        #[arg(long)]
        name: Option<String>,
        /// The namespace of objects that name none; the platform's name by default.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Apply the platform to a cluster, wave by wave, waiting for each.
    #[command(after_help = "\
Namespaces and CRDs first, then each wave: its objects applied with server-side
apply (field manager `strata`), then waited for until its workloads are ready.
Generated secrets are created once and never overwritten. After success the
rendered set is recorded as a revision and objects rendered before but not now
are pruned (never PersistentVolumeClaims, never namespaces holding objects
Strata did not create). A failure stops at the failing wave, prunes nothing,
and a new run resumes.

Examples:
  strata apply examples/isa-cloud/platform.yaml --env staging
  strata apply platform.yaml --env prod --dry-run
  strata apply platform.yaml --skip infrastructure --timeout 10m
  strata apply platform.yaml --only api,web --atomic
  strata apply platform.yaml --context kind-dev --force-conflicts
  strata apply platform.yaml --env prod --verify

Exit status: 0 when applied (and recorded, and with --verify verified), 1 otherwise.")]
    Apply {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// How waves are applied and waited for.
        #[command(flatten)]
        waves: WaveArgs,
        /// How long a custom resource may wait for its operator's first
        /// status before the operator is reported as not running.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        operator_grace: Duration,
        /// Apply only these tiers or services (comma-separated), with the
        /// namespaces and CRDs they need.
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        only: Vec<String>,
        /// Leave out these tiers or services (comma-separated).
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        skip: Vec<String>,
        /// Ask the API server to validate everything without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// When a wave fails, apply the previous revision again.
        #[arg(long)]
        atomic: bool,
        /// Take over fields that another field manager owns.
        #[arg(long)]
        force_conflicts: bool,
        /// Recreate a StatefulSet whose claim templates changed, keeping its
        /// pods and claims (delete with --cascade=orphan, then create).
        #[arg(long)]
        recreate: bool,
        /// After the last wave, run `strata verify`; exit 1 when it fails.
        #[arg(long, conflicts_with = "dry_run")]
        verify: bool,
        /// Send every object, even those unchanged since the latest revision
        /// and untouched in the cluster (which are skipped by default).
        #[arg(long)]
        no_skip: bool,
    },
    /// Show each workload in the cluster by tier and wave: replicas, restarts, age, conditions.
    #[command(after_help = "\
Examples:
  strata status examples/isa-cloud/platform.yaml --env staging
  strata status platform.yaml --context prod

Exit status: 0 when every workload is ready, 1 otherwise.")]
    Status {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Show what `apply` would change, as a unified diff against the cluster.
    #[command(after_help = "\
The desired side is the API server's answer to a dry-run apply, so defaults do
not show as changes; server-maintained fields are left out and Secret values
are never printed. Objects `apply` would prune are shown as removed.

Examples:
  strata diff platform.yaml --env prod
  strata diff platform.yaml --env prod --color never | less

Exit status: 0 when there are no differences, 1 when there are, 2 on error.")]
    Diff {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Check that the platform as deployed is the platform as specified, and working.
    #[command(after_help = "\
Checks: the latest revision is what the spec renders; live objects are as it
applied them (no drift); every workload is ready on its current revision; every
Service has ready endpoints; every gateway route's backend has them; every
generated and referenced Secret and ConfigMap exists; every HTTP readiness path
(`probes.path`) answers 2xx through the API server's service proxy; every
declared call is admitted by the live NetworkPolicies of both sides. Each
failure names the object and what to run next.

Examples:
  strata verify platform.yaml --env prod
  strata verify platform.yaml -o json | jq '.checks[] | select(.verdict == \"failed\")'
  strata apply platform.yaml --env prod --verify

Exit status: 0 when every check passes, 1 otherwise.")]
    Verify {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = PlanFormat::Table)]
        output: PlanFormat,
        /// Requests in flight at once: reads of live objects and health URLs.
        #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Print the logs of every pod of a service, each line prefixed with its pod.
    #[command(after_help = "\
Examples:
  strata logs platform.yaml api --env staging
  strata logs platform.yaml api -f --since 10m
  strata logs platform.yaml postgres --tail 50")]
    Logs {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The service.
        #[arg(value_name = "SERVICE")]
        service: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Keep printing new lines.
        #[arg(short, long)]
        follow: bool,
        /// Only lines newer than this (`30s`, `10m`, `2h`).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        since: Option<Duration>,
        /// Only the last N lines of each container.
        #[arg(long, value_name = "N")]
        tail: Option<i64>,
    },
    /// List the revisions recorded by `apply` and `rollback`.
    #[command(after_help = "\
Examples:
  strata history platform.yaml --env prod")]
    History {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Apply a recorded revision again (the one before the latest by default).
    #[command(after_help = "\
The revision's objects are applied wave by wave as by `apply`, recorded as a
new revision, and objects of the latest revision it does not have are pruned.

Examples:
  strata rollback platform.yaml --env prod
  strata rollback platform.yaml 3 --env prod")]
    Rollback {
        /// The spec and environment (they name the platform and environment).
        #[command(flatten)]
        spec: SpecArgs,
        /// The revision to apply again.
        #[arg(value_name = "REV")]
        revision: Option<u32>,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// How waves are applied and waited for.
        #[command(flatten)]
        waves: WaveArgs,
        /// How long a custom resource may wait for its operator's first
        /// status before the operator is reported as not running.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        operator_grace: Duration,
        /// Take over fields that another field manager owns.
        #[arg(long)]
        force_conflicts: bool,
    },
    /// Delete the platform from the cluster, last wave first.
    #[command(after_help = "\
Each wave is deleted and waited for before the one before it. PersistentVolumeClaims
and generated secrets are kept (and so are the namespaces holding them) unless
--delete-data is given; namespaces holding objects Strata did not create are kept.

Examples:
  strata destroy platform.yaml --env dev
  strata destroy platform.yaml --env dev --delete-data")]
    Destroy {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// How long to wait for each wave to be gone, and how often to look.
        #[command(flatten)]
        waves: WaveArgs,
        /// Also delete PersistentVolumeClaims and generated secrets: the data.
        #[arg(long)]
        delete_data: bool,
    },
    /// Print the JSON Schema of the spec language, for editors.
    #[command(after_help = "\
Examples:
  strata schema > platform.schema.json
  # then, first line of a spec, for editors with the YAML language server:
  # yaml-language-server: $schema=./platform.schema.json")]
    Schema,
    /// Back services up now: a Job from each one's backup CronJob, waited for.
    #[command(after_help = "\
Every service with `backup:` when none is named. Prints where each backup went;
`strata backups` lists them. See docs/backup.md.

Examples:
  strata backup platform.yaml --env prod
  strata backup platform.yaml orders cache --env prod")]
    Backup {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The services to back up; every one with `backup:` when none.
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// How long to wait for each backup.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30m")]
        timeout: Duration,
    },
    /// List the backups of services, with their size and age.
    #[command(after_help = "\
Read from the object store by a short Job with the backup's own login, inside the
cluster. Every service with `backup:` when none is named.

Examples:
  strata backups platform.yaml --env prod
  strata backups platform.yaml orders --env prod")]
    Backups {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The service; every one with `backup:` when absent.
        #[arg(value_name = "SERVICE")]
        service: Option<String>,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Restore a service's backup into its server.
    #[command(after_help = "\
Refused while services that call it are running, unless --stop-callers (scaled to
zero first, back after) or --force. Redis is restored with its StatefulSet scaled
to zero: a Job per member writes the backup into its volume, what was there kept
beside it, then the server is scaled back and waited for. Every step is printed;
no backup is deleted.

Examples:
  strata backups platform.yaml orders --env prod
  strata restore platform.yaml orders 20260105T030000Z --env prod --stop-callers")]
    Restore {
        /// The spec and environment.
        #[command(flatten)]
        spec: SpecArgs,
        /// The service.
        #[arg(value_name = "SERVICE")]
        service: String,
        /// The backup, as `strata backups` names it.
        #[arg(value_name = "BACKUP")]
        backup: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Scale the services that call it to zero first, and back after.
        #[arg(long, conflicts_with = "force")]
        stop_callers: bool,
        /// Restore while they run.
        #[arg(long)]
        force: bool,
        /// How long to wait for the restore, and for callers to stop.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30m")]
        timeout: Duration,
    },
}

/// What `strata import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportFrom {
    /// Kubernetes objects: manifests, `helm template` or `kubectl kustomize` output.
    Kubernetes,
    /// A compose file.
    Compose,
}

/// A spec file and an optional environment.
#[derive(Debug, clap::Args)]
pub(crate) struct SpecArgs {
    /// The platform spec (YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The environment to apply (as named under `environments:`).
    #[arg(short, long, value_name = "ENV")]
    pub env: Option<String>,
}

/// Which cluster, as with kubectl.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    /// The kubeconfig file; default `KUBECONFIG`, then `~/.kube/config`.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; default its current context.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// Waiting and concurrency.
#[derive(Debug, clap::Args)]
pub(crate) struct WaveArgs {
    /// Longest wait for one wave (`90s`, `5m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// `90`, `90s`, `5m`, `1h`, `1h30m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint = || format!("`{text}` is not a duration; write e.g. 90s, 5m or 1h");
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(hint()),
        };
        let n: u64 = number.parse().map_err(|_| hint())?;
        total += n * unit;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return Err(hint());
    }
    Ok(Duration::from_secs(total))
}

/// How `plan` and `verify` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// Tables for people.
    Table,
    /// JSON for programs.
    Json,
}

/// How `render --out` splits objects into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LayoutArg {
    /// One file.
    Single,
    /// One file per tier.
    PerTier,
    /// One file per object.
    PerObject,
}

/// How `render` prints objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RenderFormat {
    /// A multi-document YAML stream.
    Yaml,
    /// JSON (a `v1/List`).
    Json,
}

/// Options shared by `audit` and `lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FindingFormat::Text)]
    pub output: FindingFormat,
    /// Exit 1 when a finding has this priority or a more urgent one.
    #[arg(long, value_enum, default_value_t = FailOn::P1)]
    pub fail_on: FailOn,
    /// Checks to skip (comma-separated ids).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub disable: Vec<String>,
    /// List every check with its rationale and fix, then exit.
    #[arg(long)]
    pub list_checks: bool,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FindingFormat {
    /// Grouped by object, for people.
    Text,
    /// A JSON array.
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

/// The priority that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Only P0.
    #[value(name = "P0")]
    P0,
    /// P0 and P1.
    #[value(name = "P1")]
    P1,
    /// Any finding.
    #[value(name = "P2")]
    P2,
    /// Never.
    #[value(name = "none")]
    None,
}

/// What `render` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// Manifests, split by --layout.
    Plain,
    /// `base/<tier>/` and `overlays/<env>/` for `kubectl kustomize`.
    Kustomize,
    /// An umbrella chart with one subchart per tier and values per environment.
    Helm,
}

/// How `graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// An SVG picture, laid out by Strata.
    Svg,
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_mins(5)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_mins(90)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
    }
}
