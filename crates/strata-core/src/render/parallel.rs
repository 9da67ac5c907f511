//! The services of a platform rendered side by side: their objects do
//! not depend on one another, and each object is handed on in the order
//! one thread would have made it, so every sink sees the same sequence.

use std::sync::mpsc;

/// Services a thread renders before handing them on: large enough that
/// the exchange costs little, small enough that the threads stay busy
/// together and little waits in the channels.
const BLOCK: usize = 16;

/// Blocks a thread renders ahead of the one being taken.
const AHEAD: usize = 4;

/// Calls `make` on each item of `items` (with its index) on up to as many
/// threads as there are cores, and `take` on each item with its result, in
/// the order of `items`, on this thread.
///
/// Thread `w` of `n` makes blocks `w`, `w + n`, `w + 2n`, …; this thread
/// takes block `b` from thread `b mod n`, so each waits on the other only
/// as far as its channel allows.
pub(super) fn in_order<'i, T, R>(
    items: &'i [T],
    make: impl Fn(usize, &'i T) -> R + Sync,
    mut take: impl FnMut(&'i T, R),
) where
    T: Sync,
    R: Send,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len().div_ceil(BLOCK));
    if threads <= 1 {
        for (i, item) in items.iter().enumerate() {
            take(item, make(i, item));
        }
        return;
    }
    let make = &make;
    std::thread::scope(|scope| {
        let mut makers = Vec::with_capacity(threads);
        let receivers: Vec<mpsc::Receiver<Vec<R>>> = (0..threads)
            .map(|thread| {
                let (sender, receiver) = mpsc::sync_channel(AHEAD);
                makers.push(scope.spawn(move || {
                    let blocks = items
                        .chunks(BLOCK)
                        .enumerate()
                        .skip(thread)
                        .step_by(threads);
                    for (block, chunk) in blocks {
                        let first = block * BLOCK;
                        let made = chunk
                            .iter()
                            .enumerate()
                            .map(|(i, item)| make(first + i, item))
                            .collect();
                        if sender.send(made).is_err() {
                            // The taking thread stopped: it panicked.
                            return;
                        }
                    }
                }));
                receiver
            })
            .collect();
        for (block, chunk) in items.chunks(BLOCK).enumerate() {
            // A maker that panicked has closed its channel.
            let Ok(made) = receivers[block % threads].recv() else {
                break;
            };
            for (item, result) in chunk.iter().zip(made) {
                take(item, result);
            }
        }
        // Unblocks a maker still sending, then carries a maker's panic on
        // as it was.
        drop(receivers);
        for maker in makers {
            if let Err(panic) = maker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_every_result_in_order() {
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 3, 200] {
            let items: Vec<usize> = (0..len).collect();
            let mut taken = Vec::new();
            in_order(
                &items,
                |i, item| (i, item * 3),
                |item, made| taken.push((*item, made)),
            );
            let expected: Vec<(usize, (usize, usize))> =
                items.iter().map(|&i| (i, (i, i * 3))).collect();
            assert_eq!(taken, expected, "{len} items");
        }
    }

    #[test]
    #[should_panic(expected = "made to fail")]
    fn a_panic_while_making_is_carried_on() {
        let items: Vec<usize> = (0..100).collect();
        in_order(&items, |i, _| assert!(i != 70, "made to fail"), |_, ()| {});
    }
}
