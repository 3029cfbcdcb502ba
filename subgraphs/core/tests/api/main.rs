//! API tests of the core subgraph: the real app on a free port over a fresh database per
//! test, driven over HTTP like the gateway drives it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test
#![allow(unreachable_pub)] // test modules share their helpers with `pub`

mod accounts;
mod clients;
mod consumers;
mod directory;
mod entities;
mod events;
mod helpers;
mod identity;
mod invitations;
mod organisation;
mod sessions;
mod tenancy;
