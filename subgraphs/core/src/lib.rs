//! The core subgraph: organisations (the tenants), their sociétés, users, memberships with
//! roles, invitations, clients and their addresses; and the identity service that signs the
//! tokens every other part of the system verifies.

/// Settings: defaults, optional file, environment.
pub mod config;
/// SQL, one module per aggregate.
pub mod db;
/// The lookups the other subgraphs' directory projections read through.
pub mod directory;
/// Domain rules as parsing types.
pub mod domain;
/// The subgraph's error enum and its `extensions.code` mapping.
pub mod error;
/// The events core publishes, recorded in the outbox.
pub mod events;
/// Schema, roots, entities, loaders.
pub mod graphql;
/// Operations too long for a resolver: answering invitations.
pub mod ops;
/// What core runs: schema, token issuer, directory routes.
pub mod startup;
/// Signing access tokens and publishing their JWKS.
pub mod tokens;

/// Core's migrations, embedded: used by startup and by tests alike.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/core");

/// What core does on the bus: it publishes the directory's events and consumes none.
pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
    service: "core",
    publishes: crm_events::directory::TYPES,
    consumers: &[],
    live: false,
};

/// Core's memberships are the source of truth: a token whose organisation or role is no
/// longer the caller's is refused (GraphQL and plain routes alike).
pub const MEMBERSHIPS: subgraph_kit::server::MembershipCheck =
    subgraph_kit::server::MembershipCheck::authoritative(
        "select upper(role::text), false from memberships
          where organisation_id = $1 and user_id = $2",
    );
