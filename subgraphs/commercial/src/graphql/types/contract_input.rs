//! Contract inputs, checked against the organisation's data (its clients, sociétés and sales
//! reps, read through to core when not heard of yet) and the catalogue (lines priced from it).

use async_graphql::{InputObject, ID};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{error::Invalid, server::RequestContext};
use uuid::Uuid;

use super::catalogue::sellable_product;
use crate::{
    db::{
        self,
        contract::{ContractFields, ContractRow, LineFields},
    },
    domain::{
        clean_text,
        contract::{BillingFrequency, ContractStatus},
        money::{parse_amount, parse_quantity, Totals, VatRate},
        optional_text,
    },
    error::{Error, Result},
    graphql::{parse_id, parse_opt_id, CommercialState},
    ops::pricing::{price_product, PriceInput},
};

#[derive(InputObject)]
pub struct ContractInput {
    pub reference: String,
    pub title: String,
    pub description: Option<String>,
    /// A client of the organisation (core).
    pub client_id: ID,
    pub societe_id: Option<ID>,
    pub sales_rep_id: Option<ID>,
    pub sales_channel: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub billing_frequency: BillingFrequency,
    pub notes: Option<String>,
}

#[derive(InputObject)]
pub struct CreateContractInput {
    #[graphql(flatten)]
    pub contract: ContractInput,
    /// Lines to start with; more can be added while the contract is a draft.
    #[graphql(default)]
    pub lines: Vec<ContractLineInput>,
}

#[derive(InputObject)]
pub struct ContractLineInput {
    pub product_id: ID,
    pub description: Option<String>,
    pub quantity: Decimal,
    /// Excl. VAT; when omitted, the catalogue's price on the contract's start date (grid,
    /// promotion, discount).
    pub unit_price: Option<Decimal>,
    /// When omitted, the product's.
    pub vat_rate: Option<Decimal>,
    pub billing_period: Option<BillingFrequency>,
}

#[derive(InputObject, Default)]
pub struct ContractFilterInput {
    pub status: Option<ContractStatus>,
    pub client_id: Option<ID>,
    pub sales_rep_id: Option<ID>,
    pub societe_id: Option<ID>,
    /// Part of the reference or title.
    pub search: Option<String>,
}

/// Checks a contract's input against the organisation's data.
pub(super) async fn contract_fields(
    tx: &mut PgConnection,
    (state, request): (&CommercialState, &RequestContext),
    org: Uuid,
    input: ContractInput,
) -> Result<ContractFields> {
    if let Some(end) = input.end_date {
        if end < input.start_date {
            return Err(Invalid::new("endDate", "is before startDate").into());
        }
    }
    let client_id = parse_id("clientId", &input.client_id)?;
    if !state
        .directory
        .has_client(tx, request, org, client_id)
        .await?
    {
        return Err(Invalid::new("clientId", "is not a client of the organisation").into());
    }
    let societe_id = parse_opt_id("societeId", input.societe_id.as_ref())?;
    if let Some(id) = societe_id {
        if !state.directory.has_societe(tx, request, org, id).await? {
            return Err(Invalid::new("societeId", "is not a société of the organisation").into());
        }
    }
    let sales_rep_id = parse_opt_id("salesRepId", input.sales_rep_id.as_ref())?;
    if let Some(id) = sales_rep_id {
        match db::sales_rep::find_sales_rep(&mut *tx, org, id).await? {
            Some(rep) if rep.active => {}
            Some(_) => return Err(Invalid::new("salesRepId", "this sales rep is inactive").into()),
            None => {
                return Err(
                    Invalid::new("salesRepId", "is not a sales rep of the organisation").into(),
                )
            }
        }
    }
    Ok(ContractFields {
        reference: clean_text("reference", &input.reference, 100)?,
        title: clean_text("title", &input.title, 200)?,
        description: optional_text("description", input.description.as_deref(), 5000)?,
        client_id,
        societe_id,
        sales_rep_id,
        sales_channel: optional_text("salesChannel", input.sales_channel.as_deref(), 50)?
            .map(|c| c.to_uppercase()),
        start_date: input.start_date,
        end_date: input.end_date,
        billing_frequency: input.billing_frequency,
        notes: optional_text("notes", input.notes.as_deref(), 5000)?,
    })
}

/// Checks a line against the catalogue and prices it.
pub(super) async fn line_fields(
    tx: &mut PgConnection,
    org: Uuid,
    on: NaiveDate,
    field: &str,
    input: ContractLineInput,
) -> Result<LineFields> {
    let at = |name: &str| format!("{field}.{name}");
    let quantity = parse_quantity(&at("quantity"), input.quantity)?;
    let product_id = parse_id(&at("productId"), &input.product_id)?;
    let product = sellable_product(tx, org, product_id)
        .await
        .map_err(|err| match err {
            Error::Invalid(invalid) => {
                Error::Invalid(Invalid::new(at("productId"), invalid.message))
            }
            other => other,
        })?;
    let vat_rate = VatRate::parse(&at("vatRate"), input.vat_rate.unwrap_or(product.vat_rate))?;
    let unit_price = match input.unit_price {
        Some(price) => parse_amount(&at("unitPrice"), price)?,
        None => {
            let input = PriceInput {
                grid_id: None,
                at: on.and_time(chrono::NaiveTime::MIN).and_utc(),
                quantity,
                additional_discount: Decimal::ZERO,
                vat_rate,
            };
            price_product(tx, &product, input).await?.quote.unit_price
        }
    };
    Ok(LineFields {
        product_id,
        description: optional_text(&at("description"), input.description.as_deref(), 2000)?,
        quantity,
        unit_price,
        vat_rate: vat_rate.percent(),
        billing_period: input.billing_period,
        totals: Totals::of_line(quantity, unit_price, vat_rate),
    })
}

pub(super) fn reference_conflict(_: &dyn sqlx::error::DatabaseError) -> Error {
    Error::conflict("another contract already has this reference")
}

/// The contract, locked, provided it is still a draft.
pub(super) async fn lock_draft(tx: &mut PgConnection, org: Uuid, id: Uuid) -> Result<ContractRow> {
    let contract = db::contract::lock_contract(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("contract"))?;
    if !contract.status.is_editable() {
        return Err(Error::InvalidTransition(format!(
            "only a DRAFT contract can be changed; this one is {}",
            contract.status.label()
        )));
    }
    Ok(contract)
}
