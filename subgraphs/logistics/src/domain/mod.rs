//! Rules as types and pure functions.

/// Postal addresses: La Poste's and Maileva's rules.
pub mod address;
/// What a letter may carry: a PDF within the carrier's limits.
pub mod document;
/// The price estimate.
pub mod pricing;
/// Shipments' lifecycle, tracking statuses and the carrier's codes.
pub mod status;
