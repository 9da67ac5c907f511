//! The `strata` command: a thin layer of arguments and printing over
//! `strata-core`.

mod cli;
mod commands;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let printer = printer::Printer::new(cli.color);
    match commands::run(cli.command, &printer) {
        Ok(code) => code,
        Err(err) => {
            printer.failure(&format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
