//! API tests of the commercial subgraph: core (the token issuer and event source) and
//! commercial on free ports, each over a fresh database, sharing a test-owned stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test
#![allow(unreachable_pub)] // test modules share their helpers with `pub`

mod catalogue;
mod commissions;
mod contracts;
mod directory;
mod helpers;
mod sales_reps;
mod tenancy;
