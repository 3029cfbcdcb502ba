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
/// `POST /documents` (uploads) and `GET /documents/{id}`.
pub mod documents;
/// Rules as types and pure functions: postal addresses, statuses, tracking codes, documents,
/// prices.
pub mod domain;
/// The subgraph's error type and its `extensions.code` mapping.
pub mod error;
/// Events published (shipments created and changing status) and consumed (issued invoices).
pub mod events;
/// Finance's internal route: an issued invoice's PDF.
pub mod finance;
/// The GraphQL schema, its types and loaders.
pub mod graphql;
/// Operations: accounts, documents, queuing, posting invoices, submission, tracking, polling.
pub mod ops;
/// What the subgraph runs.
pub mod startup;
/// Maileva's notifications: `POST /webhooks/maileva/{account}`.
pub mod webhooks;

/// Logistics' migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/logistics");

/// What logistics does on the bus: shipments' events out; core's directory, finance's issued
/// invoices and commercial's signed contracts in.
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "logistics",
    publishes: crm_events::logistics::TYPES,
    consumers: &[
        (
            "logistics-directory",
            <subgraph_kit::directory::DirectoryEvent as crm_events::EventSet>::TYPES,
        ),
        (
            "logistics-invoices",
            <events::InvoiceEvent as crm_events::EventSet>::TYPES,
        ),
        (
            "logistics-contracts",
            <events::ContractEvent as crm_events::EventSet>::TYPES,
        ),
    ],
    live: false,
};
