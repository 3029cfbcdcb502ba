//! The commercial subgraph: the catalogue (products, ranges, price grids), contracts and
//! their lifecycle, sales reps, commission scales and the commissions computed from payments.

/// Settings: defaults, optional file, environment.
pub mod config;
/// SQL, one module per aggregate.
pub mod db;
/// Rules as types and pure functions: money, lifecycles, prices, commissions.
pub mod domain;
/// The subgraph's error enum and its `extensions.code` mapping.
pub mod error;
/// Events published (contracts, commissions) and consumed (core's directory, payments).
pub mod events;
/// Schema, roots, entities.
pub mod graphql;
/// Operations with more than one caller or more than a few steps: contract transitions and
/// expiry, pricing, commissions from payments.
pub mod ops;
/// What commercial runs: schema, consumers, the expiry job.
pub mod startup;

/// Commercial's migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/commercial");

/// What commercial does on the bus: contracts' and commissions' events out; core's
/// directory and finance's payments in.
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "commercial",
    publishes: crm_events::commercial::TYPES,
    consumers: &[
        (
            "commercial-directory",
            <subgraph_kit::directory::DirectoryEvent as crm_events::EventSet>::TYPES,
        ),
        (
            "commercial-payments",
            <events::PaymentEvent as crm_events::EventSet>::TYPES,
        ),
    ],
    live: false,
};
