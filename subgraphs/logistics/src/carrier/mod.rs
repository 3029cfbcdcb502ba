//! The postal carrier behind a trait: what logistics asks of it, whoever it is. Maileva's
//! implementation is [`maileva::Maileva`]; tests run it against a local fake server speaking
//! Maileva's API.
//!
//! Every step of a submission returns the carrier's id for what it made, which logistics
//! stores at once: a submission interrupted anywhere resumes at the step it stopped, and the
//! sending is found again by its custom id (our shipment's id) when the answer to its creation
//! was lost.

pub mod maileva;

use std::future::Future;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use secrecy::SecretString;
use uuid::Uuid;

use crate::domain::{address::PostalAddress, status::ShipmentKind};

/// An account's credentials, decrypted for the call.
#[derive(Clone)]
pub struct Credentials {
    /// Our account's id: the key the carrier's token is cached under.
    pub account_id: Uuid,
    pub sandbox: bool,
    pub client_id: String,
    pub client_secret: SecretString,
    pub username: String,
    pub password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account_id", &self.account_id)
            .field("sandbox", &self.sandbox)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A sending to create: one letter to one recipient.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    /// The sending's custom id, the idempotency key.
    pub shipment_id: Uuid,
    pub name: &'a str,
    pub kind: ShipmentKind,
    pub colour: bool,
    pub duplex: bool,
    pub acknowledgement_of_receipt: bool,
    pub notification_email: &'a str,
    pub sender: &'a PostalAddress,
}

/// Why the carrier did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CarrierError {
    /// Unreachable, timed out, overloaded (5xx, 429) or refusing our credentials: worth
    /// retrying later.
    #[error("the carrier is unavailable: {0}")]
    Unavailable(String),
    /// The carrier refused the request as it is (4xx with its error code): retrying the same
    /// request will not help.
    #[error("the carrier refused the request ({code}): {message}")]
    Refused { code: String, message: String },
}

impl CarrierError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, CarrierError::Unavailable(_))
    }

    /// The carrier's error code, when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            CarrierError::Refused { code, .. } => Some(code),
            CarrierError::Unavailable(_) => None,
        }
    }
}

pub type CarrierResult<T> = Result<T, CarrierError>;

/// A sending's state at the carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingState {
    /// `DRAFT`, `PENDING`, `ACCEPTED`, `REJECTED`, `PROCESSED` or `PROCESSED_WITH_ERRORS`.
    pub status: String,
    pub status_detail: Option<String>,
}

/// A recipient's state at the carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientState {
    pub id: String,
    pub status: String,
    pub registered_number: Option<String>,
    pub postage_price: Option<Decimal>,
}

/// One of La Poste's delivery statuses for a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    pub code: String,
    pub label: String,
    pub date: DateTime<Utc>,
}

/// A registered letter's proofs, which the carrier makes available as PDFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// That the letter was deposited with La Poste.
    Deposit,
    /// The acknowledgement of receipt the recipient signed.
    AcknowledgementOfReceipt,
}

/// What logistics asks of a postal carrier.
pub trait PostalCarrier: Send + Sync + 'static {
    /// The sending whose custom id is `shipment_id`, if the carrier has one.
    fn find_sending(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        shipment_id: Uuid,
    ) -> impl Future<Output = CarrierResult<Option<String>>> + Send;

    /// Creates the (draft) sending; returns its id.
    fn create_sending(
        &self,
        account: &Credentials,
        letter: &Letter<'_>,
    ) -> impl Future<Output = CarrierResult<String>> + Send;

    /// The ids of the documents a sending already has.
    fn documents(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> impl Future<Output = CarrierResult<Vec<String>>> + Send;

    /// Uploads the PDF a draft sending carries; returns the document's id.
    fn upload_document(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        name: &str,
        pdf: Vec<u8>,
    ) -> impl Future<Output = CarrierResult<String>> + Send;

    /// The recipients a sending already has.
    fn recipients(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> impl Future<Output = CarrierResult<Vec<RecipientState>>> + Send;

    /// Adds the recipient of a draft sending; returns its id.
    fn add_recipient(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        shipment_id: Uuid,
        address: &PostalAddress,
    ) -> impl Future<Output = CarrierResult<String>> + Send;

    /// Submits a draft sending. A sending already submitted is not an error.
    fn submit(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> impl Future<Output = CarrierResult<()>> + Send;

    fn sending(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> impl Future<Output = CarrierResult<SendingState>> + Send;

    fn delivery_statuses(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        recipient_id: &str,
    ) -> impl Future<Output = CarrierResult<Vec<DeliveryStatus>>> + Send;

    /// A registered letter's proof, once the carrier has it (`None` before).
    fn proof(
        &self,
        account: &Credentials,
        sending_id: &str,
        recipient_id: &str,
        proof: Proof,
    ) -> impl Future<Output = CarrierResult<Option<Vec<u8>>>> + Send;

    /// Asks the carrier to notify `callback_url` (authenticating with `login`/`password`) of
    /// every status change of the account's sendings and recipients.
    fn subscribe(
        &self,
        account: &Credentials,
        callback_url: &str,
        login: &str,
        password: &SecretString,
    ) -> impl Future<Output = CarrierResult<()>> + Send;
}
