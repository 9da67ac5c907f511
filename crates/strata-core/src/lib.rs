//! Strata's core: a platform spec becomes a validated [`model::Platform`],
//! and the platform becomes a [`plan::Plan`].
//!
//! Everything here is pure and synchronous; the only input is the spec text.
//! The path of data is `source` → [`spec`] → [`model`] → [`plan`].

pub mod audit;
pub mod blueprint;
pub mod diag;
pub mod export;
pub mod finding;
pub mod kind;
pub mod lint;
pub mod model;
pub mod plan;
pub mod quantity;
pub mod render;
pub mod source;
pub mod spec;
/// Generated platforms of any size, for benchmarks and scale tests.
#[cfg(feature = "bench")]
pub mod synthetic;
