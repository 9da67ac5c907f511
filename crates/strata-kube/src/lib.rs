//! Strata against a cluster: connect like kubectl, apply a rendered set in
//! waves with server-side apply and readiness waits, record revisions in
//! the cluster, prune, roll back, and report status, diffs, logs; verify
//! that the platform deployed is the one specified and works; destroy.
//!
//! Objects travel as JSON values addressed through discovery, so custom
//! resources are handled like built-in kinds. What is pure (readiness,
//! ordering, selection, prune candidates, diff normalisation) is kept in
//! plain functions and tested beside them; an in-process fake API server
//! under `tests/` drives the rest.

pub mod apply;
pub mod backup;
pub mod cluster;
pub mod connect;
pub mod destroy;
pub mod diff;
pub mod immutable;
pub mod inventory;
pub mod logs;
pub mod progress;
pub mod prune;
pub mod readiness;
pub mod status;
pub mod steps;
pub mod verify;

pub use apply::{Applied, ApplyError, ApplyOptions, apply, rollback};
pub use cluster::{Cluster, ClusterError, ObjectId};
pub use connect::{Access, ConnectError, connect};
pub use inventory::Release;
pub use progress::{Event, Progress, Silent};
pub use steps::Selection;
