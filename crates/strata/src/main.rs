//! The `strata` command: a thin layer of arguments and printing over
//! `strata-core`.

mod cli;
mod commands;
mod excerpt;
mod exit;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system's allocator: render, check and lint make
/// and drop millions of small maps and strings (issue 18; figures in
/// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let printer = printer::Printer::new(cli.color);
    commands::run(cli.command, &printer)
        .unwrap_or_else(|exit| exit.report(&printer))
        .into()
}
