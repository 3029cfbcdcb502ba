//! API tests of the finance subgraph: core (the token issuer and event source) and finance
//! on free ports, each over a fresh database, sharing a test-owned stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test
#![allow(unreachable_pub)] // test modules share their helpers with `pub`

mod fec;
mod helpers;
mod invoices;
mod numbering;
mod persons;
mod roles;
mod tenancy;
