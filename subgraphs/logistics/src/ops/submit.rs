//! The submission worker: each queued shipment that is due is claimed under a lease and
//! handed to the carrier step by step — create the sending, upload the document, add the
//! recipient, submit — each step's result stored as soon as the carrier answered, so that an
//! attempt interrupted anywhere (a crash, a lost answer) resumes where it stopped and never
//! makes a second sending. A failed attempt leaves the shipment `QUEUED` with its error and
//! the time of the next attempt (doubling, at most an hour); a refusal, or too many attempts,
//! makes it `FAILED`. Nothing is "sent" until the carrier accepted the submission.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sqlx::PgPool;
use subgraph_kit::{
    storage::{DocumentStore, LocalStore},
    vault::VaultKey,
};

use crate::{
    carrier::{CarrierError, Letter, PostalCarrier},
    config::ShippingSettings,
    db::{
        self,
        shipment::{ShipmentRow, Step},
    },
    domain::{address::PostalAddress, status::ShipmentStatus},
    events,
};

/// How long a claim holds: longer than an attempt takes.
const LEASE_SECONDS: i64 = 300;
/// Longest wait between attempts.
const MAX_BACKOFF_SECONDS: u64 = 3_600;

/// Why an attempt did not end in a submission.
#[derive(Debug)]
enum Failure {
    Carrier(CarrierError),
    /// On our side (the database, the document store, the account): retried.
    Ours(anyhow::Error),
}

impl From<CarrierError> for Failure {
    fn from(err: CarrierError) -> Self {
        Failure::Carrier(err)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        Failure::Ours(err.into())
    }
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Carrier(err) => err.is_retryable(),
            Failure::Ours(_) => true,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Carrier(err) => err.to_string(),
            Failure::Ours(err) => format!("{err:#}"),
        }
    }
}

/// Submits queued shipments to the carrier.
pub struct Submitter<C> {
    pub pool: PgPool,
    pub carrier: Arc<C>,
    pub vault: VaultKey,
    pub store: Arc<LocalStore>,
    pub settings: ShippingSettings,
}

impl<C: PostalCarrier> Submitter<C> {
    /// Works through every shipment due now; returns how many attempts it made.
    ///
    /// # Errors
    /// When the queue cannot be read.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let mut attempts = 0;
        while let Some(shipment) = db::shipment::claim_next(&self.pool, LEASE_SECONDS).await? {
            attempts += 1;
            self.attempt(shipment).await?;
        }
        Ok(attempts)
    }

    async fn attempt(&self, s: ShipmentRow) -> anyhow::Result<()> {
        let outcome = self.steps(&s).await;
        let mut tx = self.pool.begin().await?;
        match outcome {
            Ok(()) => {
                if let Some((previous, row)) = db::shipment::transition(
                    &mut tx,
                    s.organisation_id,
                    s.id,
                    ShipmentStatus::Submitted,
                    Some("submitted to the carrier"),
                    None,
                )
                .await?
                {
                    events::record_status_changed(&mut tx, &row, previous, Some("PENDING"), None)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                }
            }
            Err(failure) => {
                let message = failure.message();
                let give_up =
                    !failure.retryable() || s.attempts + 1 >= self.settings.max_attempts.max(1);
                if give_up {
                    db::shipment::record_failed_attempt(
                        &mut *tx,
                        s.organisation_id,
                        s.id,
                        &message,
                        Utc::now(),
                    )
                    .await?;
                    if let Some((previous, row)) = db::shipment::transition(
                        &mut tx,
                        s.organisation_id,
                        s.id,
                        ShipmentStatus::Failed,
                        None,
                        Some(&message),
                    )
                    .await?
                    {
                        let code = match &failure {
                            Failure::Carrier(err) => err.code(),
                            Failure::Ours(_) => None,
                        };
                        events::record_status_changed(
                            &mut tx,
                            &row,
                            previous,
                            code,
                            Some(&message),
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    }
                    tracing::warn!(shipment = %s.id, error = %message, "a shipment failed");
                } else {
                    let exponent = u32::try_from(s.attempts.max(0)).unwrap_or(u32::MAX).min(16);
                    let delay = self
                        .settings
                        .retry_base_seconds
                        .saturating_mul(2u64.saturating_pow(exponent))
                        .min(MAX_BACKOFF_SECONDS);
                    let next = Utc::now()
                        + chrono::Duration::from_std(Duration::from_secs(delay))
                            .unwrap_or_default();
                    db::shipment::record_failed_attempt(
                        &mut *tx,
                        s.organisation_id,
                        s.id,
                        &message,
                        next,
                    )
                    .await?;
                    tracing::info!(shipment = %s.id, error = %message, "a submission will be retried");
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn steps(&self, s: &ShipmentRow) -> Result<(), Failure> {
        let (row, account) = crate::ops::credentials::of_shipment(&self.pool, &self.vault, s)
            .await
            .map_err(Failure::Ours)?;
        let notification_email = row.notification_email;
        let carrier = &*self.carrier;
        let sender = PostalAddress::from_stored(&s.sender_lines, &s.sender_country);
        let recipient = PostalAddress::from_stored(&s.recipient_lines, &s.recipient_country);
        let name = format!("{} — {}", recipient.recipient(), s.id.simple());
        let sending = match &s.carrier_sending_id {
            Some(id) => id.clone(),
            None => {
                // An earlier creation's answer may have been lost: look for it first.
                let found = match s.create_sent_at {
                    Some(_) => carrier.find_sending(&account, s.kind, s.id).await?,
                    None => None,
                };
                let id = match found {
                    Some(id) => id,
                    None => {
                        db::shipment::record_step(
                            &self.pool,
                            s.organisation_id,
                            s.id,
                            Step::CreateSent,
                        )
                        .await?;
                        let letter = Letter {
                            shipment_id: s.id,
                            name: &name,
                            kind: s.kind,
                            colour: s.colour,
                            duplex: s.duplex,
                            acknowledgement_of_receipt: s.acknowledgement_of_receipt,
                            notification_email: &notification_email,
                            sender: &sender,
                        };
                        carrier.create_sending(&account, &letter).await?
                    }
                };
                db::shipment::record_step(&self.pool, s.organisation_id, s.id, Step::Sending(&id))
                    .await?;
                id
            }
        };
        if s.carrier_document_id.is_none() {
            let existing = carrier.documents(&account, s.kind, &sending).await?;
            let id = match existing.into_iter().next() {
                Some(id) => id,
                None => {
                    let pdf = self.document(s).await?;
                    let file = format!("shipment-{}", s.id.simple());
                    carrier
                        .upload_document(&account, s.kind, &sending, &file, pdf)
                        .await?
                }
            };
            db::shipment::record_step(&self.pool, s.organisation_id, s.id, Step::Document(&id))
                .await?;
        }
        if s.carrier_recipient_id.is_none() {
            let existing = carrier.recipients(&account, s.kind, &sending).await?;
            let id = match existing.into_iter().next() {
                Some(r) => r.id,
                None => {
                    carrier
                        .add_recipient(&account, s.kind, &sending, s.id, &recipient)
                        .await?
                }
            };
            db::shipment::record_step(&self.pool, s.organisation_id, s.id, Step::Recipient(&id))
                .await?;
        }
        carrier.submit(&account, s.kind, &sending).await?;
        // What the carrier says of the recipient now: the registered number, the postage.
        if let Ok(recipients) = carrier.recipients(&account, s.kind, &sending).await {
            if let Some(r) = recipients.into_iter().next() {
                db::shipment::record_recipient_facts(
                    &self.pool,
                    s.organisation_id,
                    s.id,
                    r.registered_number.as_deref(),
                    r.postage_price,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn document(&self, s: &ShipmentRow) -> Result<Vec<u8>, Failure> {
        let id = s
            .document_id
            .ok_or_else(|| Failure::Ours(anyhow::anyhow!("the shipment has no document yet")))?;
        let document = db::document::find(&self.pool, s.organisation_id, id)
            .await?
            .ok_or_else(|| Failure::Ours(anyhow::anyhow!("the shipment's document is gone")))?;
        self.store
            .get(&document.storage_key)
            .await
            .map_err(|e| Failure::Ours(anyhow::anyhow!("cannot read the document: {e}")))
    }
}
