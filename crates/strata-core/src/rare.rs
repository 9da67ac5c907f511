//! Fields most values leave unset, held out of line.
//!
//! A parsed service writes a handful of its ≈ 56 keys and a resolved one
//! sets a few of its parts; holding every absent field inline cost
//! 1.6 KB per service in both (docs/performance.md, `s30-spec` and
//! `s30-service`). [`Rare`] keeps such fields together behind one pointer,
//! allocated only when one of them is set, and reads as the fields
//! themselves either way.
//!
//! ```
//! use strata_core::rare::{Rare, RareFields};
//!
//! #[derive(Debug, Default, PartialEq)]
//! struct Seldom {
//!     note: Option<String>,
//! }
//!
//! impl RareFields for Seldom {
//!     const NONE: &'static Self = &Seldom { note: None };
//!     fn is_empty(&self) -> bool {
//!         self.note.is_none()
//!     }
//! }
//!
//! let mut rare = Rare::new(Seldom::default());
//! assert!(!rare.is_allocated());
//! assert_eq!(rare.note, None);
//! rare.make_mut().note = Some("set".into());
//! assert!(rare.is_allocated());
//! assert_eq!(rare.note.as_deref(), Some("set"));
//! ```

/// A set of rarely set fields, kept out of line: a value that sets none of
/// them holds one empty pointer and allocates nothing.
///
/// It reads as the fields themselves (`spec.rare.blueprint`), set or not:
/// absent, it reads as [`RareFields::NONE`].
#[derive(Clone)]
pub struct Rare<T: RareFields>(Option<Box<T>>);

/// The struct of a value's rare fields.
pub trait RareFields: Default + 'static {
    /// Every field unset: what a value that sets none of them reads.
    const NONE: &'static Self;

    /// Whether every field is unset.
    fn is_empty(&self) -> bool;
}

impl<T: RareFields> Rare<T> {
    /// `fields`, allocated only when one of them is set.
    pub fn new(fields: T) -> Self {
        Rare((!fields.is_empty()).then(|| Box::new(fields)))
    }

    /// The fields, taken out; every one unset when none was.
    pub fn into_inner(self) -> T {
        self.0.map_or_else(T::default, |fields| *fields)
    }

    /// The fields to change, allocated (all unset) if none was set: call
    /// it only to set something.
    pub fn make_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }

    /// The fields to change where one is set; `None` where none is, so
    /// changing what is set allocates nothing.
    pub fn set_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    /// Whether the fields are held out of line, i.e. one was set.
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

impl<T: RareFields> Default for Rare<T> {
    fn default() -> Self {
        Rare(None)
    }
}

impl<T: RareFields> std::ops::Deref for Rare<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or(T::NONE)
    }
}

/// Equal when every field is: allocated with nothing set is the same as
/// not allocated.
impl<T: RareFields + PartialEq> PartialEq for Rare<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: RareFields + std::fmt::Debug> std::fmt::Debug for Rare<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}
