//! Operations: what a change does, in one place, whoever asks for it.

/// Carrier accounts' credentials, sealed at rest.
pub mod credentials;
/// Queuing a shipment: checked, frozen, estimated.
pub mod shipment;
/// The submission worker: queued shipments handed to the carrier, step by step.
pub mod submit;
/// Tracking: what the carrier says, kept and followed.
pub mod tracking;
