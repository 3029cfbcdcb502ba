//! Logistics' errors: the kit's one error type (client errors with a stable `extensions.code`,
//! internal errors masked as `INTERNAL`).

pub use subgraph_kit::error::{Error, Result};
