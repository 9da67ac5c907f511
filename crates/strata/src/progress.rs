//! Shows what the engine reports: a live line per service on a terminal,
//! plain lines otherwise (CI logs, pipes).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use strata_kube::{Event, Progress};

/// The display for one command run.
pub(crate) enum Display {
    /// Spinners, one per service (or object without a service).
    Live {
        /// The bars' owner.
        bars: MultiProgress,
        /// Bars by service.
        lines: Mutex<HashMap<String, ProgressBar>>,
    },
    /// One line per event.
    Plain,
}

impl Display {
    /// Live on a terminal, plain otherwise.
    pub(crate) fn new() -> Self {
        if std::io::stderr().is_terminal() {
            Display::Live {
                bars: MultiProgress::new(),
                lines: Mutex::new(HashMap::new()),
            }
        } else {
            Display::Plain
        }
    }

    /// Stops every live line, leaving its last message on screen.
    pub(crate) fn finish(&self) {
        if let Display::Live { lines, .. } = self {
            let lines = lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for bar in lines.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}

/// The live line of `key`; a new one when its last one was finished by
/// an earlier step.
fn live_line(
    bars: &MultiProgress,
    lines: &Mutex<HashMap<String, ProgressBar>>,
    key: &str,
) -> ProgressBar {
    let mut lines = lines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(bar) = lines.get(key).filter(|b| !b.is_finished()) {
        return bar.clone();
    }
    let bar = bars.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:<24} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(key.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    lines.insert(key.to_string(), bar.clone());
    bar
}

/// The line an object is shown on: its service's, or one for the objects
/// of no service (namespaces, policies, secrets, gateways).
fn owner(service: Option<&str>) -> &str {
    service.unwrap_or("(platform)")
}

fn short(id: &strata_kube::ObjectId) -> String {
    format!("{}/{}", id.kind, id.name)
}

impl Progress for Display {
    fn event(&self, event: Event) {
        match self {
            Display::Plain => eprintln!("{}", plain(&event)),
            Display::Live { bars, lines } => match &event {
                Event::Applied { id, service } => {
                    live_line(bars, lines, owner(service.as_deref()))
                        .set_message(format!("applied {}", short(id)));
                }
                Event::Waiting {
                    id,
                    service,
                    reason,
                } => {
                    live_line(bars, lines, owner(service.as_deref()))
                        .set_message(format!("waiting for {}: {reason}", short(id)));
                }
                Event::Ready { id, service } => {
                    live_line(bars, lines, owner(service.as_deref()))
                        .set_message(format!("ready {}", short(id)));
                }
                Event::Step { .. } => {
                    // A step starts once the previous one is done: its
                    // lines stop spinning.
                    self.finish();
                    let _ = bars.println(plain(&event));
                }
                _ => {
                    let _ = bars.println(plain(&event));
                }
            },
        }
    }
}

/// An event as one line of text.
fn plain(event: &Event) -> String {
    match event {
        Event::Step { label, objects } => format!("== {label}: {objects} objects"),
        Event::Applied { id, .. } => format!("applied {id}"),
        Event::Waiting { id, reason, .. } => format!("waiting for {id}: {reason}"),
        Event::Ready { id, .. } => format!("ready {id}"),
        Event::SecretCreated { id, keys } => {
            format!("generated {id} ({})", keys.join(", "))
        }
        Event::Deleted { id } => format!("deleted {id}"),
        Event::Kept { id, reason } => format!("kept {id}: {reason}"),
        Event::Note(text) => text.clone(),
    }
}
