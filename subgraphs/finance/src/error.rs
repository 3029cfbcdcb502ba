//! The finance subgraph's errors: the kit's `ServiceError` (client errors with a stable
//! `extensions.code`, internal errors masked as `INTERNAL`). Issuing reports every compliance
//! problem at once: see `graphql::types::invoice::compliance_error`.

pub use subgraph_kit::error::ServiceError as Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;
