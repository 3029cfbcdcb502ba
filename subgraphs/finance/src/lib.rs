//! The finance subgraph: invoice settings per société, invoices and credit notes with
//! gap-free numbering assigned at issue, the Factur-X (EN 16931) XML with a hash chain over
//! issued documents, settlements, and the FEC export.

/// Rules as types and pure functions: lifecycle, totals, compliance, Factur-X, FEC.
pub mod domain;
/// The subgraph's error type and its `extensions.code` mapping.
pub mod error;

/// Finance's migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/finance");
