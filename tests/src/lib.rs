//! The whole system, assembled: the catalogue of subgraphs (name, SDL, default address), the
//! launcher of the gateway as a child process on a free port, and the end-to-end harness
//! (every subgraph in-process over fresh databases, behind the gateway).

pub mod catalogue;
pub mod gateway;
pub mod harness;
