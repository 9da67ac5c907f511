//! Shows what the engine reports: a live line per service on a terminal,
//! plain lines otherwise (CI logs, pipes).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use strata_kube::{Event, Progress};

/// The display for one command run.
pub enum Display {
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
    pub fn new() -> Self {
        if std::io::stderr().is_terminal() {
            Display::Live {
                bars: MultiProgress::new(),
                lines: Mutex::new(HashMap::new()),
            }
        } else {
            Display::Plain
        }
    }

    fn line(
        &self,
        bars: &MultiProgress,
        lines: &Mutex<HashMap<String, ProgressBar>>,
        key: &str,
    ) -> ProgressBar {
        let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .entry(key.to_string())
            .or_insert_with(|| {
                let bar = bars.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:<28} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(key.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    /// Stops every live line, leaving its last message on screen.
    pub fn finish(&self) {
        if let Display::Live { lines, .. } = self {
            let lines = lines.lock().unwrap_or_else(|e| e.into_inner());
            for bar in lines.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}

fn owner(service: &Option<String>, id: &strata_kube::ObjectId) -> String {
    service.clone().unwrap_or_else(|| id.to_string())
}

impl Progress for Display {
    fn event(&self, event: Event) {
        match self {
            Display::Plain => eprintln!("{}", plain(&event)),
            Display::Live { bars, lines } => match &event {
                Event::Applied { id, service } => {
                    self.line(bars, lines, &owner(service, id))
                        .set_message(format!("applied {id}"));
                }
                Event::Waiting {
                    id,
                    service,
                    reason,
                } => {
                    self.line(bars, lines, &owner(service, id))
                        .set_message(format!("waiting: {reason}"));
                }
                Event::Ready { id, service } => {
                    let bar = self.line(bars, lines, &owner(service, id));
                    bar.finish_with_message(format!("ready ({id})"));
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
