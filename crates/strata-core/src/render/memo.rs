//! Parts of objects a render makes again and again from one small input
//! (a probe, a security context, requests and limits): each made once per
//! thread and distinct input, then cloned. A clone copies a map's entries
//! and its hash table as they are; building it again hashes every key and
//! inserts it, and most services of a platform share these inputs.

use std::cell::RefCell;
use std::thread::LocalKey;

/// How many distinct inputs a [`Memo`] keeps: a platform's services use
/// a handful of probes, security contexts and sizes; past that, the
/// oldest is forgotten and made again when it comes back.
const SLOTS: usize = 16;

/// The last distinct inputs of one builder and what it made of them.
pub(super) struct Memo<K, V> {
    entries: Vec<(K, V)>,
}

impl<K: PartialEq + Clone, V: Clone> Memo<K, V> {
    /// An empty memo.
    pub(super) const fn new() -> Self {
        Memo {
            entries: Vec::new(),
        }
    }

    /// What `make` makes of `key`: a clone of what it made before for an
    /// equal key, else made now and kept.
    pub(super) fn get(&mut self, key: &K, make: impl FnOnce(&K) -> V) -> V {
        if let Some((_, value)) = self.entries.iter().find(|(k, _)| k == key) {
            return value.clone();
        }
        let value = make(key);
        if self.entries.len() == SLOTS {
            self.entries.remove(0);
        }
        self.entries.push((key.clone(), value.clone()));
        value
    }
}

/// [`Memo::get`] on this thread's memo `memo`.
pub(super) fn get<K: PartialEq + Clone + 'static, V: Clone + 'static>(
    memo: &'static LocalKey<RefCell<Memo<K, V>>>,
    key: &K,
    make: impl FnOnce(&K) -> V,
) -> V {
    memo.with_borrow_mut(|memo| memo.get(key, make))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_each_distinct_key_once_and_clones_after() {
        let mut memo = Memo::new();
        let mut made = Vec::new();
        for key in [1, 2, 1, 1, 3, 2] {
            let value = memo.get(&key, |k| {
                made.push(*k);
                format!("value {k}")
            });
            assert_eq!(value, format!("value {key}"));
        }
        assert_eq!(made, [1, 2, 3]);
    }

    #[test]
    fn forgets_the_oldest_past_its_slots_and_makes_it_again() {
        let mut memo = Memo::new();
        let mut made = 0;
        let keys = 0..=SLOTS;
        for key in keys.clone() {
            memo.get(&key, |k| {
                made += 1;
                *k * 10
            });
        }
        assert_eq!(made, SLOTS + 1);
        // The newest are kept, the first was forgotten.
        assert_eq!(memo.get(&SLOTS, |_| unreachable!("kept")), SLOTS * 10);
        assert_eq!(
            memo.get(&0, |k| {
                made += 1;
                *k * 10
            }),
            0
        );
        assert_eq!(made, SLOTS + 2);
    }
}
