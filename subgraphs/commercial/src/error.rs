//! The commercial subgraph's errors: the kit's `ServiceError` (client errors with a stable
//! `extensions.code`, internal errors masked as `INTERNAL`), which has every variant this
//! subgraph needs. A variant of its own would make this an enum of its own, as core's is.

pub use subgraph_kit::error::ServiceError as Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;
