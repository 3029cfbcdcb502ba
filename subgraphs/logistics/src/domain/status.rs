//! Shipments' lifecycle and their tracking.
//!
//! A shipment is `QUEUED` until the carrier accepted its submission (a failed attempt leaves it
//! queued, its error recorded, for a retry; too many make it `FAILED`), then `SUBMITTED`,
//! `ACCEPTED` by the carrier's checks, `PROCESSED` (handed to La Poste), and finally
//! `DELIVERED` or `RETURNED` — or `REJECTED` by the carrier, or `CANCELLED` before submission.
//!
//! Tracking events keep the carrier's raw code and a normalised status (AfterShip's set).

use async_graphql::Enum;

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "shipment_kind", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentKind {
    /// A simple letter (lettre verte).
    SimpleLetter,
    /// A registered letter (lettre recommandée), with or without acknowledgement of receipt.
    RegisteredLetter,
}

impl ShipmentKind {
    pub fn label(self) -> &'static str {
        match self {
            ShipmentKind::SimpleLetter => "SIMPLE_LETTER",
            ShipmentKind::RegisteredLetter => "REGISTERED_LETTER",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ShipmentKind::SimpleLetter => "simple letter",
            ShipmentKind::RegisteredLetter => "registered letter",
        }
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "shipment_reason", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentReason {
    /// A member asked for it.
    Manual,
    /// An issued invoice, posted because the client's (or société's) setting says so.
    Invoice,
    /// A welcome letter for a signed contract.
    WelcomeLetter,
}

impl ShipmentReason {
    pub fn label(self) -> &'static str {
        match self {
            ShipmentReason::Manual => "MANUAL",
            ShipmentReason::Invoice => "INVOICE",
            ShipmentReason::WelcomeLetter => "WELCOME_LETTER",
        }
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[sqlx(type_name = "shipment_status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    /// Waiting for the carrier (a retry after a failed attempt too).
    Queued,
    /// The carrier accepted the submission.
    Submitted,
    /// The carrier's checks passed: in production.
    Accepted,
    /// Printed and handed to La Poste.
    Processed,
    Delivered,
    /// Back to the sender: refused, unclaimed, wrong address.
    Returned,
    /// Refused by the carrier.
    Rejected,
    /// Given up after too many failed attempts, or refused for good before submission.
    Failed,
    /// Cancelled before submission.
    Cancelled,
}

impl ShipmentStatus {
    pub fn label(self) -> &'static str {
        match self {
            ShipmentStatus::Queued => "QUEUED",
            ShipmentStatus::Submitted => "SUBMITTED",
            ShipmentStatus::Accepted => "ACCEPTED",
            ShipmentStatus::Processed => "PROCESSED",
            ShipmentStatus::Delivered => "DELIVERED",
            ShipmentStatus::Returned => "RETURNED",
            ShipmentStatus::Rejected => "REJECTED",
            ShipmentStatus::Failed => "FAILED",
            ShipmentStatus::Cancelled => "CANCELLED",
        }
    }

    /// How far along a shipment is: the carrier's news never moves it back.
    fn rank(self) -> u8 {
        match self {
            ShipmentStatus::Queued | ShipmentStatus::Failed | ShipmentStatus::Cancelled => 0,
            ShipmentStatus::Submitted => 1,
            ShipmentStatus::Accepted => 2,
            ShipmentStatus::Processed => 3,
            ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Rejected => 4,
        }
    }

    /// No news changes it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Delivered
                | ShipmentStatus::Returned
                | ShipmentStatus::Rejected
                | ShipmentStatus::Cancelled
        )
    }

    /// Handed to the carrier: what tracking applies to.
    pub fn is_with_carrier(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Submitted | ShipmentStatus::Accepted | ShipmentStatus::Processed
        )
    }

    /// Whether the lifecycle allows going from `self` to `next`.
    pub fn can_become(self, next: ShipmentStatus) -> bool {
        use ShipmentStatus as S;
        match (self, next) {
            (S::Queued, S::Submitted | S::Failed | S::Cancelled) => true,
            (S::Failed, S::Queued | S::Cancelled) => true,
            (from, to) if from.is_with_carrier() => {
                to.rank() > from.rank()
                    && matches!(
                        to,
                        S::Accepted | S::Processed | S::Delivered | S::Returned | S::Rejected
                    )
            }
            _ => false,
        }
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "tracking_status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackingStatus {
    Pending,
    InfoReceived,
    InTransit,
    OutForDelivery,
    FailedAttempt,
    Delivered,
    AvailableForPickup,
    Returned,
    Exception,
}

impl TrackingStatus {
    pub fn label(self) -> &'static str {
        match self {
            TrackingStatus::Pending => "PENDING",
            TrackingStatus::InfoReceived => "INFO_RECEIVED",
            TrackingStatus::InTransit => "IN_TRANSIT",
            TrackingStatus::OutForDelivery => "OUT_FOR_DELIVERY",
            TrackingStatus::FailedAttempt => "FAILED_ATTEMPT",
            TrackingStatus::Delivered => "DELIVERED",
            TrackingStatus::AvailableForPickup => "AVAILABLE_FOR_PICKUP",
            TrackingStatus::Returned => "RETURNED",
            TrackingStatus::Exception => "EXCEPTION",
        }
    }

    /// The shipment status a tracking status implies, if it implies one.
    pub fn shipment_status(self) -> Option<ShipmentStatus> {
        match self {
            TrackingStatus::Delivered => Some(ShipmentStatus::Delivered),
            TrackingStatus::Returned => Some(ShipmentStatus::Returned),
            TrackingStatus::InTransit
            | TrackingStatus::OutForDelivery
            | TrackingStatus::FailedAttempt
            | TrackingStatus::AvailableForPickup => Some(ShipmentStatus::Processed),
            TrackingStatus::InfoReceived => Some(ShipmentStatus::Accepted),
            TrackingStatus::Pending | TrackingStatus::Exception => None,
        }
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "tracking_source", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackingSource {
    /// Maileva's notification.
    Webhook,
    /// Our polling of Maileva.
    Poll,
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "document_kind", rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "ShipmentDocumentKind")]
pub enum DocumentKind {
    /// Uploaded by a member.
    Upload,
    /// An issued invoice's PDF, from finance.
    Invoice,
    /// The carrier's proof that the letter was deposited.
    DepositProof,
    /// The signed acknowledgement of receipt of a registered letter.
    AcknowledgementOfReceipt,
}

/// What a carrier's code means: its label and normalised status. Maileva's notification
/// events (`ON_STATUS_…`), a sending's or recipient's status, and La Poste's delivery codes
/// (A01–A27 routing, P01–P06 presentation, D01 delivered, N01–N10 scanned back by Maileva).
pub fn normalise(code: &str) -> (TrackingStatus, &'static str) {
    use TrackingStatus as T;
    match code {
        "ON_STATUS_ACCEPTED" | "ACCEPTED" => (T::InfoReceived, "Accepted by Maileva"),
        "ON_STATUS_REJECTED" | "REJECTED" => (T::Exception, "Rejected by Maileva"),
        "ON_STATUS_PROCESSED" | "PROCESSED" => (T::InTransit, "Handed to La Poste"),
        "PROCESSED_WITH_ERRORS" => (T::Exception, "Processed with errors"),
        "ON_DEPOSIT_PROOF_RECEIVED" => (T::InTransit, "Deposit proof received"),
        "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED" => {
            (T::Delivered, "Acknowledgement of receipt received")
        }
        "PENDING" => (T::Pending, "Submitted to Maileva"),
        "A05" => (T::FailedAttempt, "Delivery attempt failed"),
        "A16" => (T::Returned, "Refused by the recipient"),
        "A23" => (T::Exception, "Wrong address"),
        "A26" => (T::Returned, "Returned to the sender"),
        "P01" => (T::OutForDelivery, "Out for delivery"),
        "D01" => (T::Delivered, "Delivered"),
        "N01" => (T::Delivered, "Acknowledgement of receipt signed"),
        code if code.len() == 3 && code.starts_with('A') => (T::InTransit, "In transit"),
        code if code.len() == 3 && code.starts_with('P') => (
            T::AvailableForPickup,
            "Notice left: available at the post office",
        ),
        code if code.len() == 3 && code.starts_with('N') => {
            (T::Returned, "Undeliverable: returned to the sender")
        }
        _ => (T::Exception, "Unknown carrier code"),
    }
}

#[cfg(test)]
mod tests {
    use super::{normalise, ShipmentStatus as S, TrackingStatus as T};

    #[test]
    fn the_lifecycle_only_moves_forward() {
        assert!(S::Queued.can_become(S::Submitted));
        assert!(S::Queued.can_become(S::Cancelled));
        assert!(S::Failed.can_become(S::Queued));
        assert!(S::Submitted.can_become(S::Delivered));
        assert!(S::Processed.can_become(S::Returned));
        assert!(!S::Processed.can_become(S::Accepted), "never back");
        assert!(!S::Delivered.can_become(S::Returned), "final");
        assert!(!S::Submitted.can_become(S::Cancelled), "with the carrier");
        assert!(!S::Queued.can_become(S::Delivered));
        assert!(!S::Cancelled.can_become(S::Queued));
    }

    #[test]
    fn la_postes_codes_keep_their_meaning() {
        assert_eq!(normalise("D01").0, T::Delivered);
        assert_eq!(normalise("A05").0, T::FailedAttempt);
        assert_eq!(normalise("A01").0, T::InTransit);
        assert_eq!(normalise("P03").0, T::AvailableForPickup);
        assert_eq!(normalise("N02").0, T::Returned);
        assert_eq!(normalise("N01").0, T::Delivered);
        assert_eq!(
            normalise("ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED").0,
            T::Delivered
        );
        assert_eq!(normalise("Z99").0, T::Exception);
        assert_eq!(T::Delivered.shipment_status(), Some(S::Delivered));
    }
}
