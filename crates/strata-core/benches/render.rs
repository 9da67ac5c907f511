//! `strata render` of synthetic platforms of 100, 1,000, 3,000 and 10,000
//! services: the resolved platform to objects, written as one YAML stream
//! as `strata render` prints it.
//!
//! Group `render` (`render::yaml_stream`, as `strata render` prints), per N
//! with the throughput in services; group `render-set` renders the whole
//! set first (`render::render`, as exports do) for comparison; group
//! `render-check` is what `strata check` renders of each environment
//! (`render::check`). Target (issue 18,
//! docs/performance.md): 3,000 services in under 0.6 s, 10,000 in under
//! 2.5 s. Run `cargo bench -p strata-core --bench render`; a filter after
//! `--` (`-- 'render/3000'`) runs only the matching benchmarks.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use strata_core::export::{self, Format};
use strata_core::model::Platform;
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;
use strata_core::synthetic::platform_yaml;

/// The `strata` binary's allocator, so allocation costs here what it costs
/// there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 4] = [100, 1_000, 3_000, 10_000];
const TIERS: usize = 6;
const SEED: u64 = 2024;

fn platform(services: usize) -> Platform {
    let file = SourceFile::new("synthetic.yaml", platform_yaml(services, TIERS, SEED));
    let doc = spec::parse(&file).expect("a synthetic spec parses");
    strata_core::resolve(&doc, None).expect("a synthetic spec resolves")
}

/// What `strata render` does once the platform is resolved: each object
/// written as YAML as it is made, then the stream in apply order.
fn render_stream(platform: &Platform) -> Vec<u8> {
    let stream = render::yaml_stream(platform, &NoAssets).expect("a synthetic spec renders");
    let mut out = Vec::new();
    stream.write_to(&mut out).expect("a Vec takes any write");
    out
}

/// What it did before: every object held, sorted, then written.
fn render_set_stream(platform: &Platform) -> String {
    let set = render::render(platform, &NoAssets).expect("a synthetic spec renders");
    let objects: Vec<_> = set.objects.iter().collect();
    export::stream(&objects, Format::Yaml)
}

fn benches(c: &mut Criterion) {
    group(c, "render", |platform| render_stream(platform).len());
    // The whole set held (as exports and the cluster verbs render), for
    // comparison.
    group(c, "render-set", |platform| {
        render_set_stream(platform).len()
    });
    // What `strata check` renders of each environment.
    group(c, "render-check", |platform| {
        render::check(platform, &NoAssets)
            .expect("a synthetic spec checks")
            .len()
    });
}

/// Benchmark group `name`: `work` on the platform of each size the filter
/// leaves in, with the throughput in services.
fn group(c: &mut Criterion, name: &str, work: impl Fn(&Platform) -> usize) {
    let mut group = c.benchmark_group(name);
    for services in SIZES {
        if !filter_matches(&format!("{name}/{services}")) {
            continue;
        }
        let platform = platform(services);
        group.throughput(Throughput::Elements(services as u64));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(if services >= 3_000 { 10 } else { 3 }));
        group.bench_function(BenchmarkId::from_parameter(services), |b| {
            b.iter(|| work(black_box(&platform)));
        });
    }
    group.finish();
}

/// Whether the filter given after `--` (if any) can match `name`, so that
/// the inputs of benchmarks left out are not built.
fn filter_matches(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let after_option = |i: usize| i > 0 && TAKES_VALUE.contains(&args[i - 1].as_str());
    args.iter()
        .enumerate()
        .filter(|&(i, a)| !a.starts_with('-') && !after_option(i))
        .all(|(_, filter)| {
            name.contains(filter.as_str()) || filter.contains(['(', '|', '$', '^', '.', '*'])
        })
}

/// Criterion's options whose value may follow as the next argument
/// (`--measurement-time 3`): that value is not a filter.
const TAKES_VALUE: [&str; 15] = [
    "--color",
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
];

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
