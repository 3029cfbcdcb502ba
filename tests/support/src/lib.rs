//! What the CRM's tests share, and only its tests (a dev-dependency: no service links it):
//! a fresh database per test, a GraphQL client, bounded waiting, NATS and SMTP helpers, and
//! the harness that starts core with sessions for API tests and the end-to-end stack alike.

pub mod db;
pub mod graphql;
pub mod harness;
pub mod nats;
pub mod smtp;
pub mod wait;

pub use db::TestDatabase;
pub use graphql::{GqlResponse, GraphqlClient};
pub use harness::{Harness, Session, PASSWORD};
pub use wait::wait_for;
