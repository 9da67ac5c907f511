//! Parses a spec once, then resolves it `N` times in one environment (or
//! the base spec): a steady load for `perf stat` and `perf record` of
//! resolve alone, whose CPU time per resolve is that of `N` runs less that
//! of none, divided by `N`.
//!
//! `cargo run --release -p strata-core --example resolve_loop -- FILE [ENV|-] [N]`

use std::hint::black_box;

use strata_core::source::SourceFile;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: resolve_loop FILE [ENV|-] [N]");
    let env = args.next().filter(|e| e != "-");
    let times: usize = args.next().map_or(10, |n| n.parse().expect("N is a count"));
    let text = std::fs::read_to_string(&path).expect("the spec is readable");
    let file = SourceFile::new(path.as_str(), text.as_str());
    let doc = strata_core::spec::parse(&file).expect("the spec parses");
    for _ in 0..times {
        black_box(strata_core::resolve(&doc, env.as_deref()).expect("the spec resolves"));
    }
}
