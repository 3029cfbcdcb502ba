//! Operations: what a change does, in one place, whoever asks for it.

/// Carrier accounts: created, changed, their notifications registered.
pub mod account;
/// Carrier accounts' credentials, sealed at rest.
pub mod credentials;
/// Documents kept: checked, stored, recorded.
pub mod document;
/// Issued invoices posted by their setting.
pub mod invoice;
/// Polling the carrier, the fallback of its notifications.
pub mod poll;
/// Registered letters' proofs, downloaded and kept.
pub mod proofs;
/// Queuing a shipment: checked, frozen, estimated; cancelled, retried.
pub mod shipment;
/// The submission worker: queued shipments handed to the carrier, step by step.
pub mod submit;
/// Tracking: what the carrier says, kept and followed.
pub mod tracking;
/// Welcome letters for signed contracts, when configured.
pub mod welcome;
