//! Which rendered objects are the same object across renders, so that one
//! template serves them all.

use std::collections::HashMap;

use crate::render::{Object, RenderedSet};

/// The same object across renders (index 0 is the base): matched by
/// apiVersion, kind, name, tier and service, then without the namespace,
/// then by kind alone when a tier or service has one such object.
pub(super) fn families<'s>(renders: &[&'s RenderedSet]) -> Vec<Vec<Option<&'s Object>>> {
    type Key = (
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
    );
    let strict = |o: &Object| -> Key {
        (
            o.tier.clone(),
            o.service.clone(),
            o.api_version().into(),
            o.kind().into(),
            o.name().into(),
            o.namespace().into(),
        )
    };
    let loose = |o: &Object| -> Key {
        let mut key = strict(o);
        key.5 = String::new();
        key
    };
    let weak = |o: &Object| -> Key {
        let mut key = loose(o);
        key.4 = String::new();
        key
    };
    let mut families: Vec<Vec<Option<&Object>>> = Vec::new();
    for (r, set) in renders.iter().enumerate() {
        let mut pending: Vec<&Object> = set.objects.iter().collect();
        for key_of in [&strict as &dyn Fn(&Object) -> Key, &loose, &weak] {
            let mut open: HashMap<Key, Vec<usize>> = HashMap::new();
            for (f, family) in families.iter().enumerate() {
                if family[r].is_none()
                    && let Some(member) = family.iter().flatten().next()
                {
                    open.entry(key_of(member)).or_default().push(f);
                }
            }
            let mut wanted: HashMap<Key, usize> = HashMap::new();
            for object in &pending {
                *wanted.entry(key_of(object)).or_default() += 1;
            }
            pending.retain(|object| {
                let key = key_of(object);
                match open.get(&key) {
                    Some(candidates) if candidates.len() == 1 && wanted[&key] == 1 => {
                        families[candidates[0]][r] = Some(object);
                        false
                    }
                    _ => true,
                }
            });
        }
        for object in pending {
            let mut family = vec![None; renders.len()];
            family[r] = Some(object);
            families.push(family);
        }
    }
    families
}
