//! What long operations report while they run; the binary decides how to
//! show it (live bars on a terminal, plain lines elsewhere).

use crate::cluster::ObjectId;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A step (setup, a wave, prune, a deletion wave) started.
    Step {
        /// `setup`, `wave 2`, `prune`…
        label: String,
        /// How many objects it handles.
        objects: usize,
    },
    /// An object was applied (or accepted by a dry run).
    Applied {
        /// The object.
        id: ObjectId,
        /// Its service, if any.
        service: Option<String>,
    },
    /// An object is not ready yet; sent when the reason changes.
    Waiting {
        /// The object.
        id: ObjectId,
        /// Its service, if any.
        service: Option<String>,
        /// Why it is not ready.
        reason: String,
    },
    /// An object became ready.
    Ready {
        /// The object.
        id: ObjectId,
        /// Its service, if any.
        service: Option<String>,
    },
    /// A generated secret was created, or got its missing keys.
    SecretCreated {
        /// The Secret.
        id: ObjectId,
        /// The keys given random values.
        keys: Vec<String>,
    },
    /// An object was deleted (prune, destroy, rollback).
    Deleted {
        /// The object.
        id: ObjectId,
    },
    /// An object was deliberately left in place.
    Kept {
        /// The object.
        id: ObjectId,
        /// Why.
        reason: String,
    },
    /// Something worth telling that is not an error.
    Note(String),
}

/// Receives events; implementations must be cheap and never block long.
pub trait Progress: Send + Sync {
    /// Called for each event, from any task.
    fn event(&self, event: Event);
}

/// Drops every event.
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: Event) {}
}
