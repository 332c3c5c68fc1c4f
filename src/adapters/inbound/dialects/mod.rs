//! The client families this server speaks, one folder each (socket events, payload shapes,
//! REST routes, tests), and the registry that lists them: the one place a dialect is added,
//! and the list the listener configuration is checked against.

pub mod calmora;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod fuzz;
pub mod kaajkaam;
pub mod linsta;
pub mod marketplace;
pub mod native;
pub mod quickclinic;

use std::sync::{Arc, LazyLock};

use axum::Router;

use super::protocol::Dialect;
use super::transports::http::RestState;

/// Every dialect of this build. The built-in listeners follow this order (the first on port
/// 3000, the next on 3001, …), so a new dialect is appended.
static REGISTRY: LazyLock<Vec<Arc<dyn Dialect>>> = LazyLock::new(|| {
    vec![
        Arc::new(native::Native::default()),
        Arc::new(linsta::Linsta::default()),
        Arc::new(quickclinic::Quickclinic::default()),
        Arc::new(calmora::Calmora::default()),
        Arc::new(marketplace::Marketplace::default()),
        Arc::new(kaajkaam::Kaajkaam::default()),
    ]
});

pub fn registry() -> &'static [Arc<dyn Dialect>] {
    &REGISTRY
}

/// The dialect configured as `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Dialect>> {
    registry().iter().find(|d| d.name() == name).cloned()
}

/// Every dialect's name, in registry order.
pub fn names() -> Vec<&'static str> {
    registry().iter().map(|d| d.name()).collect()
}

/// The routes every REST listener serves besides its dialect's: the provisioning API.
pub fn provisioning() -> Router<RestState> {
    native::rest::router()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
        for name in names {
            assert_eq!(by_name(name).map(|d| d.name()), Some(name));
        }
        assert!(by_name("nope").is_none());
    }
}
