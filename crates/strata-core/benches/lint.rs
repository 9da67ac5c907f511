//! `strata lint` of the render of synthetic platforms of 100, 300 and 1,000
//! services: what `strata render spec.yaml | strata lint -` does after the
//! render.
//!
//! Groups, each per N with the throughput in objects linted:
//! - `lint-read`: the rendered YAML stream to manifests (`lint::read`);
//! - `lint`: every check on those manifests (`lint::lint`);
//! - `linter`: what `strata lint FILE` does once the file is read: the
//!   stream read and checked in one pass (`lint::Linter`), in stretches of
//!   whole documents at once, one per core.
//!
//! Target (issue 18, docs/performance.md): the render of 1,000 services
//! linted in under 0.25 s. Run `cargo bench -p strata-core --bench lint`;
//! a filter after `--` (`-- 'lint/1000'`) runs only the matching benchmarks.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use strata_core::export::{self, Format};
use strata_core::lint::{self, Manifest};
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;
use strata_core::synthetic::platform_yaml;

/// The `strata` binary's allocator, so allocation costs here what it costs
/// there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 3] = [100, 300, 1_000];
const TIERS: usize = 6;
const SEED: u64 = 2024;

/// The render of `services` synthetic services as one YAML stream, as
/// `strata render` prints it.
fn rendered(services: usize) -> SourceFile {
    let text = platform_yaml(services, TIERS, SEED);
    let file = SourceFile::new("synthetic.yaml", text.as_str());
    let doc = spec::parse(&file).expect("a synthetic spec parses");
    let platform = strata_core::resolve(&doc, None).expect("a synthetic spec resolves");
    let set = render::render(&platform, &NoAssets).expect("a synthetic spec renders");
    let objects: Vec<_> = set.objects.iter().collect();
    SourceFile::new("rendered.yaml", export::stream(&objects, Format::Yaml))
}

fn benches(c: &mut Criterion) {
    let inputs: Vec<(usize, SourceFile, Vec<Manifest>)> = SIZES
        .into_iter()
        .map(|services| {
            let file = rendered(services);
            let manifests = lint::read(&file).expect("the render reads back").manifests;
            (services, file, manifests)
        })
        .collect();
    for name in ["lint-read", "lint", "linter"] {
        let mut group = c.benchmark_group(name);
        for (services, file, manifests) in &inputs {
            group.throughput(Throughput::Elements(manifests.len() as u64));
            group.sample_size(10);
            group.sampling_mode(SamplingMode::Flat);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
            group.bench_function(BenchmarkId::from_parameter(services), |b| {
                let options = lint::Options::default();
                match name {
                    "lint-read" => b.iter(|| lint::read(black_box(file)).expect("reads")),
                    "lint" => b.iter(|| lint::lint(black_box(manifests), &options)),
                    _ => b.iter(|| {
                        let mut linter = lint::Linter::new(options.clone());
                        linter.read(black_box(file)).expect("reads");
                        linter.finish()
                    }),
                }
            });
        }
        group.finish();
    }
}

criterion_group!(lint_benches, benches);
criterion_main!(lint_benches);
