//! API tests of the engagement subgraph: core (the token issuer and event source) and
//! engagement on free ports, each over a fresh database, sharing a test-owned stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test
#![allow(unreachable_pub)] // test modules share their helpers with `pub`

mod activities;
mod crash;
mod emails;
mod faults;
mod helpers;
mod notifications;
mod process;
mod tasks;
