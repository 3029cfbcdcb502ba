//! The whole system, assembled: the catalogue of subgraphs (name, SDL, default address), the
//! launcher of the gateway as a child process on a free port, and the end-to-end harness
//! (every subgraph in-process over fresh databases, behind the gateway), and a headless
//! browser for the pages the gateway serves.

pub mod browser;
pub mod catalogue;
pub mod gateway;
pub mod harness;
