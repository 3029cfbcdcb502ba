//! The finance subgraph: invoice settings per société, invoices and credit notes with
//! gap-free numbering assigned at issue, the Factur-X (EN 16931) XML with a hash chain over
//! issued documents, settlements, and the FEC export.

/// Settings: defaults, optional file, environment.
pub mod config;
/// SQL, one module per aggregate.
pub mod db;
/// The authorised download of issued documents.
pub mod documents;
/// Rules as types and pure functions: lifecycle, totals, compliance, Factur-X, FEC.
pub mod domain;
/// The subgraph's error type and its `extensions.code` mapping.
pub mod error;
/// Events published (invoices) and consumed (core's directory, signed contracts).
pub mod events;
/// Schema, roots, entities.
pub mod graphql;
/// Operations: issue, credit notes, settlements, drafts from signed contracts.
pub mod ops;
/// What finance runs: schema, document downloads, consumers.
pub mod startup;

/// Finance's migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/finance");

/// What finance does on the bus: invoices' and payments' events out; core's directory and
/// commercial's signed contracts in.
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "finance",
    publishes: crm_events::finance::TYPES,
    consumers: &[
        (
            "finance-directory",
            <subgraph_kit::directory::DirectoryEvent as crm_events::EventSet>::TYPES,
        ),
        (
            "finance-contracts",
            <events::ContractEvent as crm_events::EventSet>::TYPES,
        ),
    ],
    live: false,
};
