//! The whole system, assembled: the catalogue of subgraphs (name, SDL, default address), the
//! launcher of the gateway as a child process on a free port, and the end-to-end harness
//! (every subgraph in-process over fresh databases, behind the gateway), a headless browser
//! for the pages the gateway serves, and the demo data, sample records and the seeder of `cargo xtask`.

pub mod browser;
pub mod catalogue;
pub mod demo;
pub mod gateway;
pub mod harness;
pub mod sample;
pub mod seed;
