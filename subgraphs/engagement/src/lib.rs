//! The engagement subgraph: notifications for the people of an organisation, created from
//! the domain events of the other subgraphs and pushed live; the organisation's tasks and
//! activities; and the e-mail it sends.

/// Settings: defaults, optional file, environment.
pub mod config;
/// SQL, one module per aggregate.
pub mod db;
/// Rules as types: task statuses and transitions.
pub mod domain;
/// The subgraph's error enum and its `extensions.code` mapping.
pub mod error;
/// Consumers of other subgraphs' events.
pub mod events;
/// Schema, roots, entities.
pub mod graphql;
/// Sending queued e-mail over SMTP.
pub mod mailer;
/// Consumer of logistics' events: letters on the timeline, and their notifications.
pub mod shipments;
/// Building and running the HTTP server and the consumers.
pub mod startup;

/// Engagement's migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/engagement");

/// What engagement does on the bus: core's and logistics' events in, live notifications out to the
/// GraphQL subscriptions of every engagement instance; no domain events of its own.
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "engagement",
    publishes: &[],
    consumers: &[
        (
            "engagement-notifications",
            <events::CoreEvent as crm_events::EventSet>::TYPES,
        ),
        (
            "engagement-shipments",
            <shipments::ShipmentEvent as crm_events::EventSet>::TYPES,
        ),
    ],
    live: true,
};
