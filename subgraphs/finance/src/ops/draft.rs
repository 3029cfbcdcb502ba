//! Drafts from signed contracts: `contract.signed` becomes one draft invoice with the
//! contract's lines, from the client's identity and billing address (called by the
//! `finance-contracts` consumer).

use crm_events::commercial::ContractSigned;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{consumer::HandlerError, events::Envelope, money::VatRate};
use uuid::Uuid;

use crate::{
    db::{
        self,
        directory::Societes,
        invoice::{DraftFields, LineFields},
    },
    domain::invoice::{
        invoice_totals, vat_breakdown, BuyerKind, InvoiceKind, LineAmounts, OperationNature,
        VatCategory,
    },
};

/// One draft per `contract.signed` event (its id is the draft's unique source).
#[tracing::instrument(skip_all, fields(contract = %signed.contract.contract_id))]
pub async fn draft_from_contract(
    tx: &mut PgConnection,
    event: &Envelope,
    signed: &ContractSigned,
) -> Result<(), HandlerError> {
    let org = event.organisation_id;
    let c = &signed.contract;
    // Events can arrive before core's: a client or société not known yet is waited for.
    let client = db::directory::find_client(&mut *tx, org, c.client_id)
        .await?
        .ok_or_else(|| HandlerError::not_yet(format!("client {} not known yet", c.client_id)))?;
    let societe_id = match c.societe_id {
        Some(id) => id,
        None => match db::directory::societes_of(&mut *tx, org).await? {
            Societes::One(id) => id,
            Societes::None => {
                return Err(HandlerError::not_yet("the organisation has no société yet"))
            }
            Societes::Several => {
                return Err(HandlerError::permanent(
                    "the contract names no société and the organisation has several",
                ))
            }
        },
    };
    let fields = DraftFields {
        societe_id,
        client_id: client.id,
        contract_id: Some(c.contract_id),
        delivery_date: c.signature_date,
        payment_terms_days: client.payment_terms_days,
        late_payment_rate: Decimal::new(135, 1),
        nature: OperationNature::Services,
        buyer_kind: client.kind.unwrap_or(BuyerKind::Company),
        buyer_email: client.email.clone(),
        buyer_name: client.name.clone(),
        buyer_siren: client.siren.clone(),
        buyer_vat_number: client.vat_number.clone(),
        buyer_address_line1: client.billing_line1.clone(),
        buyer_address_line2: client.billing_line2.clone(),
        buyer_postal_code: client.billing_postal_code.clone(),
        buyer_city: client.billing_city.clone(),
        buyer_country: client
            .billing_country
            .clone()
            .unwrap_or_else(|| "FR".into()),
        delivery_address: None,
        notes: Some(format!("Contrat {}", c.reference)),
    };
    let lines = contract_lines(signed)?;
    let nets: Vec<_> = lines
        .iter()
        .map(|l| {
            let category = VatCategory::parse(l.vat_category).unwrap_or(VatCategory::Standard);
            (category, l.vat_rate, l.totals.excl_vat)
        })
        .collect();
    let totals = invoice_totals(&vat_breakdown(&nets));
    // One draft per contract.signed event (source_event_id is unique).
    let system = Uuid::nil();
    let draft = db::invoice::insert_draft(
        &mut *tx,
        org,
        InvoiceKind::Invoice,
        None,
        Some(event.id),
        system,
        &fields,
    )
    .await?;
    if let Some(draft) = draft {
        db::invoice::replace_lines(tx, org, draft.id, &lines, totals).await?;
    }
    Ok(())
}

/// The contract's lines as invoice lines, at their signed prices.
fn contract_lines(signed: &ContractSigned) -> Result<Vec<LineFields>, HandlerError> {
    let mut lines = Vec::with_capacity(signed.lines.len());
    for l in &signed.lines {
        let rate = VatRate::parse("vatRate", l.vat_rate).map_err(HandlerError::permanent)?;
        let category = if rate.percent().is_zero() {
            VatCategory::Zero
        } else {
            VatCategory::Standard
        };
        let totals = LineAmounts {
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: Decimal::ZERO,
            vat_rate: rate,
        }
        .totals();
        lines.push(LineFields {
            product_reference: l.product_sku.clone(),
            description: l
                .description
                .clone()
                .or_else(|| l.product_name.clone())
                .unwrap_or_else(|| "Prestation".to_owned()),
            quantity: l.quantity,
            unit_code: "C62".into(),
            unit_price: l.unit_price,
            discount: Decimal::ZERO,
            vat_category: category.code(),
            vat_rate: rate.percent(),
            totals,
        });
    }
    Ok(lines)
}
