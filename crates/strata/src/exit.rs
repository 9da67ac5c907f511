//! How `strata` ends: the exit status of every verb, and [`Exit`], which
//! stops a verb early and carries an error still to print up to `main`.

use std::process::ExitCode;

use crate::printer::Printer;

/// The exit status of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// 0: done, with nothing to report.
    Success,
    /// 1: the answer is no (findings at `--fail-on`, a plan that does not
    /// fit, workloads not ready, differences, a failed apply), or the verb
    /// could not run (an invalid spec, an error).
    Failure,
    /// 2: `strata diff` could not compare, for its 1 means differences, as
    /// diff(1)'s does; `strata lint` found no object to read. (clap ends
    /// with 2 on a usage error too.)
    Trouble,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Trouble => ExitCode::from(2),
        }
    }
}

/// Why a verb stopped before its answer; the process ends with
/// [`ExitStatus::Failure`] (`diff` makes it [`ExitStatus::Trouble`]).
#[derive(Debug)]
pub(crate) enum Exit {
    /// What is wrong is printed already (the problems of a spec).
    Reported,
    /// An error not printed yet.
    Error(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Exit {
    fn from(error: E) -> Self {
        Exit::Error(error.into())
    }
}

impl Exit {
    /// Prints the error unless that is done; the status to end with.
    pub(crate) fn report(self, printer: &Printer) -> ExitStatus {
        if let Exit::Error(error) = self {
            printer.failure(&format!("{error:#}"));
        }
        ExitStatus::Failure
    }
}
