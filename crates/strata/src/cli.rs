//! Command-line arguments: what a user can type, with examples in `--help`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Strata: one spec for a layered platform on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None, after_help = "\
Examples:
  strata check examples/isa-cloud/platform.yaml
  strata plan examples/isa-cloud/platform.yaml --env staging
  strata schema > platform.schema.json")]
pub struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Print the JSON Schema of the spec language, for editors.
    #[command(after_help = "\
Examples:
  strata schema > platform.schema.json
  # then, first line of a spec, for editors with the YAML language server:
  # yaml-language-server: $schema=./platform.schema.json")]
    Schema,
}

/// A spec file and an optional environment.
#[derive(Debug, clap::Args)]
pub struct SpecArgs {
    /// The platform spec (YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The environment to apply (as named under `environments:`).
    #[arg(short, long, value_name = "ENV")]
    pub env: Option<String>,
}

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Tables for people.
    Table,
    /// JSON for programs.
    Json,
}

/// How `render --out` splits objects into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// One file.
    Single,
    /// One file per tier.
    PerTier,
    /// One file per object.
    PerObject,
}

/// How `render` prints objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    /// A multi-document YAML stream.
    Yaml,
    /// JSON (a `v1/List`).
    Json,
}

/// Options shared by `audit` and `lint`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
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
pub enum FindingFormat {
    /// Grouped by object, for people.
    Text,
    /// A JSON array.
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

/// The priority that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
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
pub enum ExportFormat {
    /// Manifests, split by --layout.
    Plain,
    /// `base/<tier>/` and `overlays/<env>/` for `kubectl kustomize`.
    Kustomize,
    /// An umbrella chart with one subchart per tier and values per environment.
    Helm,
}

/// How `graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// An SVG picture, laid out by Strata.
    Svg,
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}
