//! The CRM's event contracts, shared by the subgraphs that publish events and those that
//! consume them: the envelope, every event type's name and its versioned payload. Data only:
//! no I/O, no database, so any crate can depend on it.
//!
//! A producer builds the payload struct and wraps it with [`Envelope::of`]; a consumer
//! declares the events it hears as an [`event_set!`] enum, which names its subjects and
//! decodes each delivery into a typed variant. A payload change that breaks consumers gets a
//! new version (and a new struct); the type name never changes.

pub mod commercial;
pub mod directory;
mod envelope;
pub mod finance;
pub mod logistics;

pub use envelope::{Envelope, PayloadError};

/// A payload of one event type at one version.
pub trait Event: serde::Serialize + serde::de::DeserializeOwned {
    /// `<aggregate>.<verb>`, the subject suffix (`crm.events.` + this).
    const TYPE: &'static str;
    /// The payload's schema version.
    const VERSION: u32;
}

/// The events one consumer hears, as a typed enum (see [`event_set!`]).
pub trait EventSet: Sized + Send + 'static {
    /// The type names of its variants: the consumer's subjects.
    const TYPES: &'static [&'static str];

    /// Decodes a delivery into its variant.
    ///
    /// # Errors
    /// When the type is not one of [`EventSet::TYPES`], or the payload does not match.
    fn decode(envelope: &Envelope) -> Result<Self, PayloadError>;
}

/// Declares the typed enum of the events a consumer hears: one variant per payload type,
/// named like it.
///
/// ```
/// crm_events::event_set! {
///     /// What a directory projection hears.
///     pub enum Heard {
///         ClientCreated(crm_events::directory::ClientCreated),
///         SocieteDeleted(crm_events::directory::SocieteDeleted),
///     }
/// }
/// assert_eq!(<Heard as crm_events::EventSet>::TYPES, ["client.created", "societe.deleted"]);
/// ```
#[macro_export]
macro_rules! event_set {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident($payload:ty)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis enum $name {
            $($variant($payload)),+
        }

        impl $crate::EventSet for $name {
            const TYPES: &'static [&'static str] = &[$(<$payload as $crate::Event>::TYPE),+];

            fn decode(envelope: &$crate::Envelope) -> Result<Self, $crate::PayloadError> {
                $(
                    if envelope.event_type == <$payload as $crate::Event>::TYPE {
                        return envelope.payload_as::<$payload>().map(Self::$variant);
                    }
                )+
                Err($crate::PayloadError::UnexpectedType(envelope.event_type.clone()))
            }
        }
    };
}

/// Every event type of the system, for catalogues and documentation checks.
pub const ALL_TYPES: &[&str] = &[
    directory::OrganisationCreated::TYPE,
    directory::ClientCreated::TYPE,
    directory::ClientUpdated::TYPE,
    directory::SocieteCreated::TYPE,
    directory::SocieteUpdated::TYPE,
    directory::SocieteDeleted::TYPE,
    directory::MemberInvited::TYPE,
    directory::MemberJoined::TYPE,
    directory::MemberRoleChanged::TYPE,
    directory::MemberRemoved::TYPE,
    directory::SignUpRequested::TYPE,
    directory::SignUpOfExistingAccount::TYPE,
    directory::PasswordResetRequested::TYPE,
    commercial::ContractSigned::TYPE,
    commercial::ContractStatusChanged::TYPE,
    commercial::CommissionCalculated::TYPE,
    finance::InvoiceIssued::TYPE,
    finance::InvoicePaid::TYPE,
    finance::CreditNoteIssued::TYPE,
    finance::PaymentReceived::TYPE,
    finance::PaymentRejected::TYPE,
    logistics::ShipmentCreated::TYPE,
    logistics::ShipmentStatusChanged::TYPE,
];

/// Implements [`Event`] for a producer's payload structs, and lists their types as the
/// module's `TYPES`: `events! { Struct => "type.name", version 1; … }`.
macro_rules! events {
    ($($payload:ty => $name:literal, version $version:literal;)+) => {
        $(impl $crate::Event for $payload {
            const TYPE: &'static str = $name;
            const VERSION: u32 = $version;
        })+

        /// The event types this module's producer publishes.
        pub const TYPES: &[&str] = &[$($name),+];
    };
}
pub(crate) use events;

#[cfg(test)]
mod tests {
    #[test]
    fn every_type_has_one_producer() {
        let mut produced: Vec<&str> = [
            super::directory::TYPES,
            super::commercial::TYPES,
            super::finance::TYPES,
            super::logistics::TYPES,
        ]
        .concat();
        let mut all = super::ALL_TYPES.to_vec();
        produced.sort_unstable();
        all.sort_unstable();
        assert_eq!(produced, all);
        produced.dedup();
        assert_eq!(produced.len(), all.len());
    }
}
