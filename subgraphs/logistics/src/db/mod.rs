//! SQL, one module per aggregate. Every statement names the organisation.

pub mod account;
pub mod directory;
pub mod document;
pub mod invoice;
pub mod preference;
pub mod shipment;
pub mod tracking;
