//! The logistics subgraph: postal mail through Maileva. A société's carrier account (its
//! credentials encrypted at rest), shipments of a document to a client — its address frozen
//! and checked against the postal rules before anything is sent —, their submission to the
//! carrier (idempotent, resumable, retried), and their tracking from the carrier's
//! notifications and from polling.

/// The carrier's API behind a trait, and Maileva's implementation of it.
pub mod carrier;
/// Settings: defaults, optional file, environment.
pub mod config;
/// SQL, one module per aggregate.
pub mod db;
/// Rules as types and pure functions: postal addresses, statuses, tracking codes, documents,
/// prices.
pub mod domain;
/// The subgraph's error type and its `extensions.code` mapping.
pub mod error;
/// Events published: shipments created and changing status.
pub mod events;
/// Operations: credentials, submission, tracking.
pub mod ops;
/// Maileva's notifications: `POST /webhooks/maileva/{account}`.
pub mod webhooks;

/// Logistics' migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/logistics");

/// What logistics does on the bus: shipments' events out; core's directory in (finance's
/// issued invoices next).
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "logistics",
    publishes: crm_events::logistics::TYPES,
    consumers: &[(
        "logistics-directory",
        <subgraph_kit::directory::DirectoryEvent as crm_events::EventSet>::TYPES,
    )],
    live: false,
};
