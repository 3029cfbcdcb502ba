//! Finance rules as types and pure functions: the invoice lifecycle and totals, the
//! compliance checks run at issue, the Factur-X (CII, EN 16931) XML and the FEC export.

pub mod facturx;
pub mod fec;
pub mod invoice;
pub mod pdf;

pub use subgraph_kit::money;
