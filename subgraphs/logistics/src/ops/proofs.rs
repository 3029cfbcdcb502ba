//! A registered letter's proofs — the deposit proof once La Poste has it, the signed
//! acknowledgement of receipt once delivered — downloaded from the carrier when its tracking
//! says they exist, kept in the document store, and linked to the shipment. A proof not
//! there yet is asked for again later (at most every few minutes, sooner when news arrives).

use std::sync::Arc;

use sqlx::PgPool;
use subgraph_kit::{storage::LocalStore, vault::VaultKey};
use uuid::Uuid;

use crate::{
    carrier::{PostalCarrier, Proof},
    db::shipment::ShipmentRow,
    domain::status::DocumentKind,
    ops::document::{keep_checked, NewDocument},
};

/// Shipments looked at per run.
const BATCH: i64 = 50;
/// Seconds before a proof not there yet is asked for again without news.
const RETRY_SECONDS: f64 = 600.0;

/// Collects registered letters' proofs.
pub struct ProofCollector<C> {
    pub pool: PgPool,
    pub carrier: Arc<C>,
    pub vault: VaultKey,
    pub store: Arc<LocalStore>,
}

impl<C: PostalCarrier> ProofCollector<C> {
    /// Looks at the letters whose proofs are due; returns how many proofs it kept.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let due: Vec<ShipmentRow> = sqlx::query_as(
            "update shipments s set proofs_checked_at = now()
             where s.id in (
               select id from shipments t
               where t.kind = 'REGISTERED_LETTER' and t.carrier_sending_id is not null
                 and t.carrier_recipient_id is not null
                 and ((t.deposit_proof_id is null
                       and (t.status in ('PROCESSED', 'DELIVERED', 'RETURNED')
                            or exists (select 1 from tracking_events e where e.shipment_id = t.id
                                       and e.code = 'ON_DEPOSIT_PROOF_RECEIVED')))
                   or (t.acknowledgement_of_receipt and t.acknowledgement_id is null
                       and (t.status = 'DELIVERED'
                            or exists (select 1 from tracking_events e where e.shipment_id = t.id
                                       and e.code in ('ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED', 'N01')))))
                 and (t.proofs_checked_at is null
                      or t.proofs_checked_at < now() - make_interval(secs => $1)
                      or exists (select 1 from tracking_events e where e.shipment_id = t.id
                                 and e.recorded_at > t.proofs_checked_at))
               order by t.proofs_checked_at nulls first, t.id
               limit $2 for update skip locked)
             returning s.*",
        )
        .bind(RETRY_SECONDS)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut kept = 0;
        for shipment in due {
            match self.collect(&shipment).await {
                Ok(n) => kept += n,
                Err(err) => {
                    tracing::warn!(shipment = %shipment.id, error = %format!("{err:#}"), "cannot collect a letter's proofs");
                }
            }
        }
        Ok(kept)
    }

    async fn collect(&self, s: &ShipmentRow) -> anyhow::Result<usize> {
        let (Some(sending), Some(recipient)) = (&s.carrier_sending_id, &s.carrier_recipient_id)
        else {
            return Ok(0);
        };
        let (_, credentials) =
            crate::ops::credentials::of_shipment(&self.pool, &self.vault, s).await?;
        let mut wanted = Vec::new();
        if s.deposit_proof_id.is_none() {
            wanted.push((
                Proof::Deposit,
                DocumentKind::DepositProof,
                "deposit_proof_id",
            ));
        }
        if s.acknowledgement_of_receipt && s.acknowledgement_id.is_none() {
            wanted.push((
                Proof::AcknowledgementOfReceipt,
                DocumentKind::AcknowledgementOfReceipt,
                "acknowledgement_id",
            ));
        }
        let mut kept = 0;
        for (proof, kind, column) in wanted {
            let Some(pdf) = self
                .carrier
                .proof(&credentials, sending, recipient, proof)
                .await?
            else {
                continue;
            };
            let name = match proof {
                Proof::Deposit => format!("preuve-de-depot-{}.pdf", s.id.simple()),
                Proof::AcknowledgementOfReceipt => {
                    format!("accuse-de-reception-{}.pdf", s.id.simple())
                }
            };
            let mut tx = self.pool.begin().await?;
            let document = keep_checked(
                &mut *tx,
                &self.store,
                s.organisation_id,
                NewDocument {
                    id: Uuid::now_v7(),
                    kind,
                    file_name: &name,
                    uploaded_by: None,
                },
                pdf,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            // `column` is one of two names above.
            sqlx::query(&format!(
                "update shipments set {column} = $3, updated_at = now()
                 where organisation_id = $1 and id = $2 and {column} is null"
            ))
            .bind(s.organisation_id)
            .bind(s.id)
            .bind(document.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            kept += 1;
        }
        Ok(kept)
    }
}
