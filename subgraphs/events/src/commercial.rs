//! Commercial's events: contracts signed and changing status, commissions computed.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events;

events! {
    ContractSigned => "contract.signed", version 1;
    ContractStatusChanged => "contract.status_changed", version 1;
    CommissionCalculated => "commission.calculated", version 1;
}

/// A contract as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSummary {
    pub contract_id: Uuid,
    pub reference: String,
    pub client_id: Uuid,
    pub societe_id: Option<Uuid>,
    pub sales_rep_id: Option<Uuid>,
    /// `DRAFT`, `SIGNED`, `ACTIVE`, `SUSPENDED`, `TERMINATED`, `CANCELLED` or `EXPIRED`.
    pub status: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub signature_date: Option<NaiveDate>,
    /// `MONTHLY`, `QUARTERLY`, `SEMIANNUAL`, `ANNUAL` or `ONE_TIME`.
    pub billing_frequency: String,
    pub currency: String,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A line of a signed contract, with what finance needs to bill it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedLine {
    pub line_id: Uuid,
    pub product_id: Uuid,
    pub product_sku: Option<String>,
    pub product_name: Option<String>,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// Percent.
    pub vat_rate: Decimal,
    pub billing_period: Option<String>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A contract was signed: what finance needs to bill it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSigned {
    pub contract: ContractSummary,
    pub lines: Vec<SignedLine>,
}

/// A contract changed status (signing included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractStatusChanged {
    pub contract: ContractSummary,
    pub previous: Option<String>,
    pub new: String,
    pub reason: Option<String>,
    /// The user who changed it; none for the system (the expiry job).
    pub triggered_by: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

/// A commission was computed from a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommissionCalculated {
    pub commission_id: Uuid,
    pub reference: String,
    pub sales_rep_id: Uuid,
    pub contract_id: Uuid,
    pub payment_id: Uuid,
    pub scale_id: Uuid,
    pub scale_version: i32,
    pub base_amount: Decimal,
    pub gross_amount: Decimal,
    pub bonus_amount: Decimal,
    pub net_amount: Decimal,
    pub currency: String,
    /// `YYYY-MM`.
    pub period: String,
}
