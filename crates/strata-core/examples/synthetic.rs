//! Prints a synthetic platform spec: `synthetic SERVICES [TIERS] [SEED]`
//! (defaults: 6 tiers, seed 2024), the input of the whole-process
//! benchmarks in `scripts/bench-process`.

use std::process::ExitCode;

use strata_core::synthetic::platform_yaml;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> Option<u64> {
        args.get(i).map_or(Some(default), |a| a.parse().ok())
    };
    match (number(0, 0), number(1, 6), number(2, 2024)) {
        (Some(services), Some(tiers), Some(seed)) if services > 0 && tiers > 0 => {
            let services = usize::try_from(services).unwrap_or(usize::MAX);
            let tiers = usize::try_from(tiers).unwrap_or(usize::MAX);
            print!("{}", platform_yaml(services, tiers, seed));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: synthetic SERVICES [TIERS] [SEED]");
            ExitCode::FAILURE
        }
    }
}
