//! An object as a builder hands it on: made whole, or only its identity
//! with what makes the rest, made when a sink reads it. `check` keeps no
//! more than the identities of most objects (NetworkPolicies, Services,
//! ServiceAccounts…), so it never makes a body it would drop; `render`
//! makes every one, with the same builder.

use std::borrow::Cow;

use serde_json::Value;

/// What makes an object one of a set (see [`super::Identity`]): known
/// before its body is made, and agreeing with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Head<'a> {
    /// `apiVersion`.
    pub(super) api_version: &'static str,
    /// `kind`.
    pub(super) kind: &'static str,
    /// `metadata.namespace`.
    pub(super) namespace: &'a str,
    /// `metadata.name`.
    pub(super) name: Cow<'a, str>,
}

impl<'a> Head<'a> {
    /// The identity of an object `kind` of `api_version`, `name` in
    /// `namespace`.
    pub(super) fn new(
        api_version: &'static str,
        kind: &'static str,
        namespace: &'a str,
        name: impl Into<Cow<'a, str>>,
    ) -> Self {
        Head {
            api_version,
            kind,
            namespace,
            name: name.into(),
        }
    }

    /// [`super::sink::identity_hash`] of the object it heads.
    pub(super) fn identity_hash(&self) -> u64 {
        super::sink::hash_identity(self.api_version, self.kind, self.namespace, &self.name)
    }
}

/// How much of an object a sink reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Detail {
    /// All of it, as `render` writes it.
    Whole,
    /// What admission reads of an object that holds a pod template: its
    /// identity, and of its pod template what the Pod Security Standards
    /// evaluate (the pod's security context, host namespaces and volumes,
    /// its containers' names, images and security contexts, its
    /// annotations) and the pull secrets its images need. What `check`
    /// reads (see [`super::sink::Guard`]); labels, variables, resources,
    /// probes and the controller's own settings are left out.
    Admission,
}

/// The whole of an object (as JSON), or its identity and what makes it.
pub(super) enum Body<'a> {
    /// Made already: what may raise a diagnostic, or what every sink reads.
    Made(Value),
    /// Made only when a sink reads it, in the [`Detail`] the sink reads.
    Deferred(Head<'a>, Box<dyn FnOnce(Detail) -> Value + 'a>),
}

impl<'a> Body<'a> {
    /// An object of identity `head` that `make` makes when it is read.
    /// `make` must make exactly that identity, and raise nothing.
    pub(super) fn deferred(head: Head<'a>, make: impl FnOnce() -> Value + 'a) -> Self {
        Body::Deferred(head, Box::new(move |_| make()))
    }

    /// [`Body::deferred`], with a `make` that makes only what a sink
    /// reading `Detail::Admission` reads when asked for that.
    pub(super) fn detailed(head: Head<'a>, make: impl FnOnce(Detail) -> Value + 'a) -> Self {
        Body::Deferred(head, Box::new(make))
    }

    /// The whole object, made now if it was not.
    pub(super) fn make(self) -> Value {
        self.make_in(Detail::Whole)
    }

    /// The object in `detail`, made now if it was not (one made already
    /// is whole, which holds every detail).
    pub(super) fn make_in(self, detail: Detail) -> Value {
        match self {
            Body::Made(value) => value,
            Body::Deferred(head, make) => {
                let value = make(detail);
                #[cfg(test)]
                if detail == Detail::Whole {
                    tests::MADE.with(|made| made.borrow_mut().push(head.kind));
                }
                debug_assert_eq!(
                    (
                        value["apiVersion"].as_str(),
                        value["kind"].as_str(),
                        value["metadata"]["namespace"].as_str().unwrap_or(""),
                        value["metadata"]["name"].as_str(),
                    ),
                    (
                        Some(head.api_version),
                        Some(head.kind),
                        head.namespace,
                        Some(&*head.name)
                    ),
                    "a deferred object's body is of its identity"
                );
                let _ = head;
                value
            }
        }
    }
}

impl From<Value> for Body<'_> {
    fn from(value: Value) -> Self {
        Body::Made(value)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::RefCell;

    thread_local! {
        /// The kinds of the deferred bodies made whole on this thread, in
        /// order: what a test reads to know which bodies a render made.
        pub(in crate::render) static MADE: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    }

    /// The kinds of deferred bodies made whole on this thread while `run`
    /// ran.
    pub(in crate::render) fn made_while(run: impl FnOnce()) -> Vec<&'static str> {
        MADE.with(|made| made.borrow_mut().clear());
        run();
        MADE.with(|made| std::mem::take(&mut *made.borrow_mut()))
    }
}
