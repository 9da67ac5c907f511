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
pub mod image;
pub mod kind;
pub mod lint;
pub mod model;
pub mod network_policy;
pub mod plan;
pub mod pod_security;
pub mod quantity;
pub mod rare;
pub mod render;
mod secret_names;
pub mod source;
pub mod spec;
/// Generated platforms of any size, for benchmarks and scale tests.
#[cfg(feature = "bench")]
pub mod synthetic;

/// Resolves a parsed spec in environment `env` (the base spec when `None`)
/// against the blueprints built into this release: [`model::resolve`] with
/// [`blueprint::catalog`].
///
/// # Errors
/// Every problem found, each at its place in the spec.
///
/// ```
/// use strata_core::{source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: data\n    services:\n      cache: { blueprint: redis }\n");
/// let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
/// assert_eq!(platform.service("cache").unwrap().rare.blueprint.as_deref(), Some("redis"));
/// ```
pub fn resolve(
    doc: &spec::Document,
    env: Option<&str>,
) -> Result<model::Platform, Vec<diag::Diagnostic>> {
    model::resolve(doc, env, blueprint::catalog())
}
