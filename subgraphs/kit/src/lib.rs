//! The one crate every CRM subgraph shares. It holds mechanisms, never domain types: the
//! runtime that assembles a subgraph, how a request's identity is verified, the one error
//! type and its stable codes, the GraphQL helpers and DataLoaders, the request guard (hostile
//! text, aliases), how lists are paged, how a database is created and migrated, the outbox,
//! relay and consumers of domain events, secrets at rest, and the directory projection of core's clients,
//! sociétés and members.

pub mod auth;
pub mod bus;
pub mod consumer;
/// What a list costs the gateway: `@listSize`.
pub mod cost;
pub mod db;
/// Hex digests and constant-time comparison of secrets.
pub mod digest;
pub mod directory;
pub mod error;
pub mod events;
pub mod graphql;
pub mod guard;
/// French company identifiers: SIREN, SIRET, VAT numbers.
pub mod identifiers;
/// Calls between our own services: the internal token and the organisation they act for.
pub mod internal;
/// Prometheus metrics of the event machinery: `/metrics`.
pub mod metrics;
/// Money: cent rounding, French VAT rates, totals (shared rules, not domain types).
pub mod money;
pub mod operations;
pub mod pagination;
pub mod runtime;
pub mod sealed;
pub mod server;
pub mod settings;
/// Where documents are kept: the interface and the local filesystem's implementation.
pub mod storage;
pub mod telemetry;
/// Text inputs: no hostile characters, trimmed, collapsed, bounded.
pub mod text;
pub mod vault;

pub use auth::{Identity, Role};
pub use error::{Error, ErrorCode, Result};
