//! The `strata` command: a thin layer of arguments and printing over
//! `strata-core`.

mod allocator;
mod cli;
mod commands;
mod excerpt;
mod exit;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    allocator::give_back_freed_memory_soon();
    let cli = cli::Cli::parse();
    let printer = printer::Printer::new(cli.color);
    commands::run(cli.command, &printer)
        .unwrap_or_else(|exit| exit.report(&printer))
        .into()
}
