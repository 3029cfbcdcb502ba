//! The one crate every CRM subgraph shares. It holds mechanisms, never domain types:
//! how a request's identity is verified, how errors carry stable codes, how lists are paged,
//! how a database is created and migrated, and how a subgraph is served over HTTP.
//! Each subgraph keeps its own `Error` enum, schema and SQL; this crate keeps them alike.

pub mod auth;
pub mod consumer;
pub mod db;
pub mod error;
pub mod events;
/// French company identifiers: SIREN, SIRET, VAT numbers.
pub mod identifiers;
/// Money: cent rounding, French VAT rates, totals (shared rules, not domain types).
pub mod money;
pub mod pagination;
pub mod server;
pub mod settings;
pub mod telemetry;
pub mod testing;
/// Text inputs: trimmed, collapsed, bounded.
pub mod text;

pub use auth::{Identity, Role};
pub use error::ErrorCode;
