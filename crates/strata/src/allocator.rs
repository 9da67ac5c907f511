//! The process's allocator: mimalloc, told to give freed memory back to
//! the system soon after it is freed.
//!
//! mimalloc keeps the pages it frees for a second by default (its purge
//! delay) in case they are asked for again. `strata check` frees each
//! environment's platform before it resolves the next, but much of that
//! memory is not asked for again in the same places, so at 10,000 services
//! the process held 26 MB of freed pages at its peak (docs/performance.md,
//! s30-process). A delay of a few milliseconds gives them back while the
//! command runs, for a little more system time.

use std::ffi::{c_int, c_long};

/// mimalloc rather than the system's allocator: render, check and lint make
/// and drop millions of small maps and strings (issue 18; figures in
/// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long mimalloc keeps a freed page before it gives it back, in
/// milliseconds.
const PURGE_DELAY_MS: c_long = 20;

/// The environment variable by which mimalloc is told its purge delay;
/// where it is set, its value is kept.
const PURGE_DELAY_VARIABLE: &str = "MIMALLOC_PURGE_DELAY";

/// `mi_option_purge_delay` in the `mi_option_e` enumeration of the
/// mimalloc.h that `libmimalloc-sys` builds (v3): the crates name no
/// constant for it. A test below checks it against mimalloc's default for
/// that option.
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    /// Sets one of mimalloc's options; an option number out of range is
    /// ignored.
    fn mi_option_set(option: c_int, value: c_long);
    /// One of mimalloc's options; an option number out of range reads 0.
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Shortens mimalloc's purge delay to [`PURGE_DELAY_MS`], unless the
/// environment sets it.
///
/// Neither `mimalloc` nor `libmimalloc-sys` offers a safe way to set an
/// option: mimalloc reads its environment before `main` runs, and setting
/// an environment variable is itself unsafe in edition 2024. So this is
/// the one FFI call of the binary.
pub(crate) fn give_back_freed_memory_soon() {
    if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
        return;
    }
    // SAFETY: `mi_option_set` takes plain integers, writes one entry of
    // mimalloc's option table (range-checked on its side) and is safe to
    // call at any time from any thread; mimalloc reads the purge delay
    // afresh each time it considers purging.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is the purge delay's: its default is mimalloc's
    /// 1,000 ms (no other option defaults to that), and what is set is what
    /// is read back.
    #[test]
    fn the_option_set_is_the_purge_delay() {
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
            return;
        }
        // SAFETY: as in `give_back_freed_memory_soon`; reading an option
        // is as safe as setting it.
        let before = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(before, 1_000);
        give_back_freed_memory_soon();
        // SAFETY: as above.
        let after = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(after, PURGE_DELAY_MS);
    }
}
