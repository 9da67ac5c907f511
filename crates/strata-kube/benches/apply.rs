//! The cluster path of `strata apply`, without a cluster: the fake API
//! server of the engine's tests (`tests/fake`, included as the binary's
//! integration tests include it), with a round trip per request and a
//! readiness latency per workload, as a real API server and kubelet give.
//!
//! Groups, each by N (services; objects for `apply-wave`), which
//! `scripts/bench-table` shows with the others:
//! - `apply-fresh/N`: a synthetic platform of N services
//!   (`strata_core::synthetic`, 6 tiers, seed 2024) applied to an empty
//!   cluster, wave after wave; 200 services are 987 objects in 24 waves;
//! - `apply-noop/N`: the same platform applied again, nothing changed;
//!   before the group, with kubectl on the PATH, `kubectl apply
//!   --server-side` of the same objects, nothing changed either, is timed
//!   against the same fake served over loopback HTTP, and printed beside;
//! - `apply-wave/350`: one wave of 350 Deployments.
//!
//! Before the groups run, each fresh apply is timed once more and its
//! overhead per wave printed: the time beyond what the fake's latencies
//! alone cost (one readiness latency per wave that waits for a workload).
//!
//! With `STRATA_BENCH_KUBECONFIG` set to the kubeconfig of a disposable
//! cluster, `apply-cluster` applies the 200-service platform there (fresh,
//! then again with nothing changed), destroys it, and applies the same
//! manifests with `kubectl apply --server-side` (fresh, `kubectl wait`,
//! then again), printing the times side by side; unset, it says why it
//! did not run. Run `cargo bench -p strata-kube --bench apply`.

// The tests' fake API server, with what serves it over loopback HTTP for
// kubectl (the binary's tests use the same).
#[path = "../../strata/tests/loopback/mod.rs"]
#[allow(
    unreachable_pub,
    missing_docs,
    clippy::pedantic,
    reason = "the tests' fake API server, included as they include it"
)]
mod loopback;

// The allocator the `strata` binary runs on, so the engine's time here is
// what `strata apply` spends; the fake serves Strata and kubectl alike, so
// the side-by-side comparison stays even. The binary also shortens
// mimalloc's purge delay (crates/strata/src/allocator.rs); run with
// `MIMALLOC_PURGE_DELAY=20` for the same setting here (within noise when
// measured, docs/performance.md, s30-process).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loopback::Fake;
use serde_json::json;
use strata_core::render::{self, NoAssets, Object, RenderedSet};
use strata_core::source::SourceFile;
use strata_core::{spec, synthetic};
use strata_kube::{Applied, ApplyOptions, Release, Silent, apply};

/// The round trip of one request to the API server.
const REQUEST_LATENCY: Duration = Duration::from_millis(2);
/// From a workload's change of spec to its pods ready.
const READINESS_LATENCY: Duration = Duration::from_millis(150);
const TIERS: usize = 6;
const SEED: u64 = 2024;

/// The render of a synthetic platform of `services`.
fn platform(services: usize) -> RenderedSet {
    let text = synthetic::platform_yaml(services, TIERS, SEED);
    let file = SourceFile::new("synthetic.yaml", text.as_str());
    let doc = spec::parse(&file).expect("a synthetic spec parses");
    let platform = strata_core::resolve(&doc, None).expect("a synthetic spec resolves");
    render::render(&platform, &NoAssets).expect("a synthetic spec renders")
}

/// A namespace and `n` Deployments in one wave.
fn one_wave(n: usize) -> RenderedSet {
    let mut objects = vec![Object {
        wave: 0,
        tier: None,
        service: None,
        value: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "wide"}}),
    }];
    objects.extend((0..n).map(|i| Object {
        wave: 1,
        tier: Some("apps".into()),
        service: Some(format!("s{i}")),
        value: json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("s{i}"), "namespace": "wide"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": format!("s{i}")}},
                "template": {"metadata": {"labels": {"app": format!("s{i}")}},
                    "spec": {"containers": [{"name": "app", "image": "ghcr.io/wide/app:1.0.0"}]}}}}),
    }));
    RenderedSet {
        platform: "wide".into(),
        environment: None,
        objects,
        generated_secrets: Vec::new(),
        pull_secrets: Vec::new(),
    }
}

/// A fake with this file's latencies.
fn cluster() -> Fake {
    let fake = Fake::new();
    fake.request_latency(REQUEST_LATENCY);
    fake.readiness(READINESS_LATENCY, READINESS_LATENCY);
    fake
}

/// A fake with this file's latencies holding what `set` needs from the
/// cluster and does not render ([`prerequisites`]).
fn cluster_for(set: &RenderedSet) -> Fake {
    let fake = cluster();
    for value in prerequisites(set, false) {
        let manager = if value["kind"] == "Namespace" {
            "strata"
        } else {
            "admin"
        };
        fake.insert(value, manager);
    }
    fake
}

/// What `set` needs from the cluster and does not render (preflight
/// checks it): its namespaces first, the StorageClass, and in each
/// namespace the ConfigMaps and Secrets its pods read; with `generated`,
/// its generated Secrets too, which Strata makes and another tool must be
/// given.
fn prerequisites(set: &RenderedSet, generated: bool) -> Vec<serde_json::Value> {
    let mut found: Vec<serde_json::Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "Namespace")
        .map(|o| o.value.clone())
        .collect();
    found.push(
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
            "provisioner": "example.com/disk"}),
    );
    let rendered: std::collections::BTreeSet<(String, &str)> = set
        .objects
        .iter()
        .map(|o| (o.kind().to_string(), o.name()))
        .collect();
    let mut needed = std::collections::BTreeSet::new();
    for object in &set.objects {
        references(&object.value, object.namespace(), &mut needed);
    }
    for (kind, namespace, name) in needed {
        if rendered.contains(&(kind.to_string(), name.as_str()))
            || set.generated_secrets.iter().any(|g| g.name == name)
        {
            continue;
        }
        found.push(
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace},
                "data": {}}),
        );
    }
    if generated {
        for secret in &set.generated_secrets {
            let data: serde_json::Map<String, serde_json::Value> = secret
                .keys
                .iter()
                .map(|k| (k.clone(), json!("bench")))
                .collect();
            for namespace in &secret.namespaces {
                found.push(
                    json!({"apiVersion": "v1", "kind": "Secret", "type": secret.secret_type,
                    "metadata": {"name": secret.name, "namespace": namespace}, "stringData": data}),
                );
            }
        }
    }
    found
}

/// The ConfigMaps and Secrets `value` (in `namespace`) refers to.
fn references(
    value: &serde_json::Value,
    namespace: &str,
    found: &mut std::collections::BTreeSet<(&'static str, String, String)>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let named = |field: &str| inner[field].as_str().map(str::to_string);
                let reference = match key.as_str() {
                    "secretKeyRef" | "secretRef" => named("name").map(|n| ("Secret", n)),
                    "configMapKeyRef" | "configMapRef" | "configMap" => {
                        named("name").map(|n| ("ConfigMap", n))
                    }
                    "secret" => named("secretName").map(|n| ("Secret", n)),
                    _ => None,
                };
                if let Some((kind, name)) = reference {
                    found.insert((kind, namespace.to_string(), name));
                }
                references(inner, namespace, found);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                references(item, namespace, found);
            }
        }
        _ => {}
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        timeout: Duration::from_mins(1),
        ..ApplyOptions::default()
    }
}

async fn apply_to(fake: &Fake, set: &RenderedSet) -> Applied {
    let release = Release::new(set, "platform");
    apply(&fake.cluster(), set, &release, &options(), &Silent)
        .await
        .expect("the fake takes the platform")
}

/// The waves of `set` that wait for a workload, each costing one
/// readiness latency.
fn waiting_waves(set: &RenderedSet) -> usize {
    let waves: std::collections::BTreeSet<usize> = set
        .objects
        .iter()
        .filter(|o| strata_kube::readiness::is_waited_for(o.api_version(), o.kind()))
        .filter(|o| o.kind() != "Namespace")
        .map(|o| o.wave)
        .collect();
    waves.len()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn fresh(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("apply-fresh");
    group.sample_size(10);
    for services in [20, 200] {
        let set = platform(services);
        let waves = waiting_waves(&set);
        let started = Instant::now();
        runtime.block_on(apply_to(&cluster_for(&set), &set));
        let took = started.elapsed();
        let waves = u32::try_from(waves).unwrap_or(u32::MAX);
        let floor = READINESS_LATENCY * waves;
        eprintln!(
            "apply-fresh/{services}: {} objects, {waves} waves waiting for workloads, {:.2} s; \
             overhead per wave beyond the readiness latency: {:.3} s",
            set.objects.len(),
            took.as_secs_f64(),
            took.saturating_sub(floor).as_secs_f64() / f64::from(waves.max(1))
        );
        group.bench_with_input(BenchmarkId::from_parameter(services), &set, |b, set| {
            b.iter_batched(
                || cluster_for(set),
                |fake| runtime.block_on(apply_to(&fake, black_box(set))),
                criterion::BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn noop(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("apply-noop");
    group.sample_size(10);
    for services in [20, 200] {
        let set = platform(services);
        let fake = cluster_for(&set);
        runtime.block_on(apply_to(&fake, &set));
        fake.clear_calls();
        let started = Instant::now();
        let again = runtime.block_on(apply_to(&fake, &set));
        let took = started.elapsed();
        let calls = fake.calls();
        let mut verbs = std::collections::BTreeMap::new();
        for call in &calls {
            *verbs.entry(call.verb).or_insert(0) += 1;
        }
        eprintln!(
            "apply-noop/{services}: {} requests {verbs:?} in {:.3} s",
            calls.len(),
            took.as_secs_f64()
        );
        // By verb and kind: where the requests of a no-op go.
        let mut by_kind = std::collections::BTreeMap::new();
        for call in &calls {
            let kind = call.id.split('/').next().unwrap_or("");
            *by_kind.entry((call.verb, kind)).or_insert(0) += 1;
        }
        for ((verb, kind), n) in by_kind {
            eprintln!("apply-noop/{services}:   {verb} {kind}: {n}");
        }
        assert_eq!(again.applied, [], "nothing is sent again");
        eprintln!(
            "apply-noop/{services}: {} objects, {} skipped",
            set.objects.len(),
            again.skipped.len()
        );
        // On a fake of its own: kubectl takes the fields over from Strata.
        let other = cluster_for(&set);
        runtime.block_on(apply_to(&other, &set));
        kubectl_noop(&other, &set, took);
        group.bench_with_input(BenchmarkId::from_parameter(services), &set, |b, set| {
            b.iter(|| runtime.block_on(apply_to(&fake, black_box(set))));
        });
    }
    group.finish();
}

/// `kubectl apply --server-side` of `set` with nothing changed, against
/// `fake` (which holds `set` as Strata applied it) over loopback HTTP,
/// printed beside `strata`, Strata's no-op on a fake alike. The first
/// kubectl run takes the fields over from Strata's field manager; the
/// second, timed, changes nothing.
fn kubectl_noop(fake: &Fake, set: &RenderedSet, strata: Duration) {
    let dir = std::env::temp_dir().join(format!("strata-bench-noop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let kubeconfig = dir.join("kubeconfig");
    let manifests = dir.join("platform.yaml");
    loopback::write_kubeconfig(&kubeconfig, loopback::serve(fake.clone()), None);
    let objects: Vec<&Object> = set.objects.iter().collect();
    std::fs::write(
        &manifests,
        strata_core::export::stream(&objects, strata_core::export::Format::Yaml),
    )
    .expect("the manifests are written");
    let kubectl = || {
        let started = Instant::now();
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "apply",
                "--server-side",
                "--force-conflicts",
                "--validate=false",
                "-f",
            ])
            .arg(&manifests)
            .output();
        match out {
            Ok(out) if out.status.success() => Ok(started.elapsed()),
            Ok(out) => Err(format!(
                "failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("not run: {e}")),
        }
    };
    let timed = kubectl().and_then(|_| kubectl());
    match timed {
        Ok(took) => eprintln!(
            "apply-noop/{} objects: kubectl apply --server-side (nothing changed) {:.2} s, strata {:.3} s: {:.0}x",
            set.objects.len(),
            took.as_secs_f64(),
            strata.as_secs_f64(),
            took.as_secs_f64() / strata.as_secs_f64()
        ),
        Err(why) => eprintln!("apply-noop/{} objects: kubectl {why}", set.objects.len()),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn wave(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("apply-wave");
    group.sample_size(10);
    let n = 350;
    let set = one_wave(n);
    group.bench_with_input(BenchmarkId::from_parameter(n), &set, |b, set| {
        b.iter_batched(
            cluster,
            |fake| runtime.block_on(apply_to(&fake, black_box(set))),
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// Against a real cluster, when `STRATA_BENCH_KUBECONFIG` names one.
fn real(_: &mut Criterion) {
    let Some(kubeconfig) = std::env::var_os("STRATA_BENCH_KUBECONFIG") else {
        eprintln!(
            "apply-cluster: skipped: set STRATA_BENCH_KUBECONFIG to the kubeconfig of a disposable cluster to run it"
        );
        return;
    };
    let kubeconfig = std::path::PathBuf::from(kubeconfig);
    let runtime = runtime();
    let set = platform(200);
    let release = Release::new(&set, "platform");
    let access = strata_kube::connect::Access {
        kubeconfig: Some(kubeconfig.clone()),
        context: None,
    };
    let connect = || async {
        strata_kube::connect::connect(&access, Duration::from_secs(10))
            .await
            .expect("the cluster answers")
    };
    // What the platform reads and does not render, created where missing
    // (the cluster's own StorageClass `standard` is left as it is).
    let provide = |generated: bool| {
        runtime.block_on(async {
            let cluster = connect().await;
            for value in prerequisites(&set, generated) {
                cluster
                    .create(&value, false)
                    .await
                    .unwrap_or_else(|e| panic!("creating what the platform reads: {e}"));
            }
        });
    };
    provide(false);
    let timed = |label: &str, options: &ApplyOptions| {
        runtime.block_on(async {
            let cluster = connect().await;
            let started = Instant::now();
            let done = apply(&cluster, &set, &release, options, &Silent)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            (started.elapsed(), done)
        })
    };
    let (fresh, done) = timed("strata apply", &options());
    let (noop, again) = timed("strata apply (again)", &options());
    // kubectl starts from the same empty cluster: the platform destroyed
    // (its data too), then what it reads provided again, generated
    // Secrets included.
    runtime.block_on(async {
        let cluster = connect().await;
        let destroy = strata_kube::destroy::DestroyOptions {
            delete_data: true,
            timeout: Duration::from_mins(10),
            poll: Duration::from_secs(1),
            concurrency: 8,
        };
        strata_kube::destroy::destroy(&cluster, &set, &release, destroy, &Silent)
            .await
            .unwrap_or_else(|e| panic!("strata destroy: {e}"));
    });
    provide(true);
    // kubectl on the same objects, in a directory of its own.
    let dir = std::env::temp_dir().join(format!("strata-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let manifests = dir.join("platform.yaml");
    let objects: Vec<&Object> = set.objects.iter().collect();
    std::fs::write(
        &manifests,
        strata_core::export::stream(&objects, strata_core::export::Format::Yaml),
    )
    .expect("the manifests are written");
    let kubectl = |args: &[&str]| {
        let started = Instant::now();
        let status = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => format!("{:.1} s", started.elapsed().as_secs_f64()),
            Ok(s) => format!("failed ({s})"),
            Err(e) => format!("not run ({e})"),
        }
    };
    let path = manifests.to_string_lossy().to_string();
    let server_side = ["apply", "--server-side", "--force-conflicts", "-f", &path];
    let kubectl_apply = kubectl(&server_side);
    let kubectl_wait = kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployments",
        "--all",
        "--all-namespaces",
        "--timeout=10m",
    ]);
    let kubectl_again = kubectl(&server_side);
    println!("| work | Strata | kubectl |");
    println!("|---|---|---|");
    println!(
        "| apply, 200 services = {} objects, fresh | {:.1} s ({} applied) | `apply --server-side` {kubectl_apply} + `wait` {kubectl_wait} |",
        set.objects.len(),
        fresh.as_secs_f64(),
        done.applied.len()
    );
    println!(
        "| no-op re-apply | {:.2} s ({} skipped) | `apply --server-side` {kubectl_again} |",
        noop.as_secs_f64(),
        again.skipped.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, real, wave, noop, fresh);
criterion_main!(benches);
