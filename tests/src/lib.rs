//! The whole system, assembled: the catalogue of subgraphs (name, SDL, default address), and
//! launchers that start subgraphs in-process and the gateway as a child process on free
//! ports. End-to-end tests and `cargo xtask dev` start the stack through this one code path.

pub mod catalogue;
pub mod gateway;
pub mod harness;
pub mod stack;
