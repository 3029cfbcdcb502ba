//! Finance's errors: the kit's one error type (client errors with a stable `extensions.code`,
//! internal errors masked as `INTERNAL`). Issuing reports every compliance problem at once as
//! `Error::Problems`.

pub use subgraph_kit::error::{Error, Result};
