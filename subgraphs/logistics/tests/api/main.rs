//! Logistics' tests against real components: the Maileva adapter against a local server
//! speaking Maileva's API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

mod carrier;
mod poll;
mod queue;
mod submit;
mod webhooks;
