//! What `strata check` warns about, in synthetic platforms of 1,000 and
//! 10,000 services: `Platform::warnings` of an already resolved platform,
//! in the base spec (`base`) and in the `prod` environment (`prod`).
//!
//! `strata check` computes them once per environment; run
//! `cargo bench -p strata-core --bench warnings`, figures in
//! docs/performance.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use strata_core::source::SourceFile;
use strata_core::spec;
use strata_core::synthetic::platform_yaml;

/// The `strata` binary's allocator, so allocation costs here what it costs
/// there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 2] = [1_000, 10_000];
const TIERS: usize = 6;
const SEED: u64 = 2024;

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("warnings");
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for services in SIZES {
        let file = SourceFile::new("synthetic.yaml", platform_yaml(services, TIERS, SEED));
        let doc = spec::parse(&file).expect("a synthetic spec parses");
        group.throughput(Throughput::Elements(services as u64));
        for env in [None, Some("prod")] {
            let platform = strata_core::resolve(&doc, env).expect("a synthetic spec resolves");
            assert!(
                !platform.warnings().is_empty(),
                "the synthetic spec has warnings to find"
            );
            group.bench_function(BenchmarkId::new(env.unwrap_or("base"), services), |b| {
                b.iter(|| black_box(&platform).warnings());
            });
        }
    }
    group.finish();
}

criterion_group!(warnings, benches);
criterion_main!(warnings);
