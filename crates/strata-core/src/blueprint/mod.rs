//! The blueprint catalog: named recipes for infrastructure (`redis`,
//! `postgresql`, …) that a service selects with `blueprint:`.
//!
//! The catalog is empty in this release; names are already checked against
//! it so that a spec written today fails clearly rather than silently.

/// A named recipe a service can select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blueprint {
    /// The name written after `blueprint:`.
    pub name: &'static str,
    /// One line on what it deploys.
    pub summary: &'static str,
}

/// The blueprints Strata knows.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    blueprints: Vec<Blueprint>,
}

impl Catalog {
    /// The catalog built into this release.
    pub fn builtin() -> Catalog {
        Catalog::default()
    }

    /// The blueprint called `name`.
    pub fn get(&self, name: &str) -> Option<&Blueprint> {
        self.blueprints.iter().find(|b| b.name == name)
    }

    /// Every blueprint's name, in catalog order.
    pub fn names(&self) -> Vec<&'static str> {
        self.blueprints.iter().map(|b| b.name).collect()
    }
}
