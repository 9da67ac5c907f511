//! Check and plan of synthetic platforms of 100, 1,000 and 10,000 services.
//!
//! Groups, each per N with the throughput in services:
//! - `parse`: spec text to `Document` (YAML and decoding);
//! - `resolve`: `Document` to `Platform`, in the base spec (`base`) and in
//!   the `prod` environment, whose overrides are merged over the decoded
//!   base spec (only the services and mappings it writes are decoded again);
//! - `plan`: `Platform` to `Plan`;
//! - `pipeline`: text to plan. `base` parses, resolves the base spec and
//!   plans it; `all-envs` is what `strata check` then `strata plan` do:
//!   parse, resolve in the base spec and in every environment, plan;
//! - `check/all-envs`: what `strata check` does, on one thread: parse, then
//!   resolve the base spec and every environment and render each through
//!   `render::check` (identities and Pod Security, no object kept).
//!
//! Target (docs/performance.md): `pipeline` of 10,000 services under 1 s on
//! one core. Run `cargo bench -p strata-core --bench check_plan`, then
//! `scripts/bench-table` for the comparison table. A filter after `--`
//! (`-- pipeline/base`, `-- '/(100|1000)$'`) runs only the matching
//! benchmarks, and only their inputs are parsed and resolved.

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use strata_core::model::Platform;
use strata_core::plan::Plan;
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec::{self, Document};
use strata_core::synthetic::{ENVIRONMENTS, platform_yaml};

/// The `strata` binary's allocator, so allocation costs here what it costs
/// there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const TIERS: usize = 6;
const SEED: u64 = 2024;

/// One size: the text up front, the parsed and resolved forms on first use.
struct Input {
    services: usize,
    text: String,
    file: SourceFile,
    doc: OnceCell<Document>,
    platform: OnceCell<Platform>,
}

impl Input {
    fn new(services: usize) -> Input {
        let text = platform_yaml(services, TIERS, SEED);
        let file = SourceFile::new("synthetic.yaml", text.as_str());
        Input {
            services,
            text,
            file,
            doc: OnceCell::new(),
            platform: OnceCell::new(),
        }
    }

    fn doc(&self) -> &Document {
        self.doc
            .get_or_init(|| spec::parse(&self.file).expect("a synthetic spec parses"))
    }

    fn platform(&self) -> &Platform {
        self.platform.get_or_init(|| {
            let platform =
                strata_core::resolve(self.doc(), None).expect("a synthetic spec resolves");
            assert_eq!(platform.services.len(), self.services);
            platform
        })
    }
}

/// Few samples, flat sampling for the slow sizes and a measuring time that
/// grows with N, so that the whole run stays within a few minutes on two
/// cores.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>, services: usize) {
    group.throughput(Throughput::Elements(services as u64));
    group.sample_size(10);
    group.sampling_mode(if services >= 1_000 {
        SamplingMode::Flat
    } else {
        SamplingMode::Auto
    });
    group.warm_up_time(Duration::from_millis(if services >= 10_000 {
        1_000
    } else {
        500
    }));
    group.measurement_time(Duration::from_secs(match services {
        0..1_000 => 2,
        1_000..10_000 => 3,
        _ => 10,
    }));
}

/// Text to plan; with `all_envs`, checked in every environment as `strata check` does.
fn pipeline(text: &str, all_envs: bool) -> Plan {
    let file = SourceFile::new("synthetic.yaml", text);
    let doc = spec::parse(&file).expect("a synthetic spec parses");
    let platform = strata_core::resolve(&doc, None).expect("a synthetic spec resolves");
    if all_envs {
        for env in ENVIRONMENTS {
            black_box(strata_core::resolve(&doc, Some(env)).expect("every environment resolves"));
        }
    }
    Plan::new(&platform)
}

/// Text to a checked spec in every environment, as `strata check` does
/// (on one thread); the number of objects checked.
fn check_all(text: &str) -> usize {
    let file = SourceFile::new("synthetic.yaml", text);
    let doc = spec::parse(&file).expect("a synthetic spec parses");
    std::iter::once(None)
        .chain(ENVIRONMENTS.map(Some))
        .map(|env| {
            let platform = strata_core::resolve(&doc, env).expect("every environment resolves");
            render::check(&platform, &NoAssets)
                .expect("every environment renders")
                .len()
        })
        .sum()
}

fn benches(c: &mut Criterion) {
    let inputs: Vec<Input> = SIZES.into_iter().map(Input::new).collect();

    let mut group = c.benchmark_group("parse");
    for input in &inputs {
        configure(&mut group, input.services);
        group.bench_function(BenchmarkId::from_parameter(input.services), |b| {
            b.iter(|| spec::parse(black_box(&input.file)).expect("parses"));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("resolve");
    for input in &inputs {
        configure(&mut group, input.services);
        for env in [None, Some("prod")] {
            let id = BenchmarkId::new(env.unwrap_or("base"), input.services);
            group.bench_function(id, |b| {
                let doc = input.doc();
                b.iter(|| strata_core::resolve(black_box(doc), env).expect("resolves"));
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("plan");
    for input in &inputs {
        configure(&mut group, input.services);
        group.bench_function(BenchmarkId::from_parameter(input.services), |b| {
            let platform = input.platform();
            b.iter(|| Plan::new(black_box(platform)));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("pipeline");
    for input in &inputs {
        configure(&mut group, input.services);
        for (name, all_envs) in [("base", false), ("all-envs", true)] {
            let id = BenchmarkId::new(name, input.services);
            group.bench_with_input(id, input.text.as_str(), |b, text| {
                b.iter(|| pipeline(black_box(text), all_envs));
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("check");
    for input in &inputs {
        configure(&mut group, input.services);
        let id = BenchmarkId::new("all-envs", input.services);
        group.bench_with_input(id, input.text.as_str(), |b, text| {
            b.iter(|| check_all(black_box(text)));
        });
    }
    group.finish();
}

criterion_group!(check_plan, benches);
criterion_main!(check_plan);
