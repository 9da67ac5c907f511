//! The NetworkPolicy evaluator the tests judge rendered policies with:
//! strata-core's own, the one `strata verify` judges live policies with.

#[allow(unused_imports, reason = "each test binary uses its own part")]
pub(crate) use strata_core::network_policy::{Direction, Pod, allowed, side_allows};
