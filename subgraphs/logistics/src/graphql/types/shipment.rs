//! Shipments as clients read them — their options, addresses, price, carrier facts, tracking
//! events and status history —, the list and the postal-address check; and their changes:
//! a letter queued (members), cancelled before it leaves, retried after it failed; a client's
//! postal setting.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::Invalid,
    money::cents,
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};
use uuid::Uuid;

use super::{
    account::CarrierAccount,
    entities::{Client, Contract, Invoice, Societe},
};
use crate::{
    db::{
        self,
        shipment::{ShipmentFilter, ShipmentRow},
        tracking::{StatusChangeRow, TrackingEventRow},
    },
    domain::{
        address::{check, AddressInput},
        status::{
            DocumentKind, ShipmentKind, ShipmentReason, ShipmentStatus, TrackingSource,
            TrackingStatus,
        },
    },
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
    ops::{
        self,
        document::{keep, NewDocument},
        shipment::Request,
    },
};

/// A postal sending of one document to one client.
pub struct Shipment(pub ShipmentRow);

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Non-empty lines of a stored address.
fn lines(stored: &[String]) -> Vec<String> {
    stored.iter().filter(|l| !l.is_empty()).cloned().collect()
}

#[Object]
impl Shipment {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    async fn kind(&self) -> ShipmentKind {
        self.0.kind
    }
    /// Why it was sent.
    async fn reason(&self) -> ShipmentReason {
        self.0.reason
    }
    async fn status(&self) -> ShipmentStatus {
        self.0.status
    }
    /// The latest tracking status, normalised; null before the carrier said anything.
    async fn tracking_status(&self) -> Option<TrackingStatus> {
        self.0.tracking_status
    }
    async fn client(&self) -> Client {
        Client {
            id: id_of(self.0.client_id),
        }
    }
    /// The sender.
    async fn societe(&self) -> Societe {
        Societe {
            id: id_of(self.0.societe_id),
        }
    }
    async fn contract(&self) -> Option<Contract> {
        self.0.contract_id.map(|id| Contract { id: id_of(id) })
    }
    /// The invoice it carries.
    async fn invoice(&self) -> Option<Invoice> {
        self.0.invoice_id.map(|id| Invoice { id: id_of(id) })
    }
    /// The carrier account it goes through (admins: its settings are theirs to see).
    async fn carrier_account(&self, ctx: &Context<'_>) -> Result<Option<CarrierAccount>> {
        let (_, request) = parts(ctx);
        request.tenant_with_role(Role::Admin)?;
        Ok(loaders::account(ctx, self.0.carrier_account_id)
            .await?
            .map(CarrierAccount))
    }
    async fn colour(&self) -> bool {
        self.0.colour
    }
    /// Printed on both sides.
    async fn duplex(&self) -> bool {
        self.0.duplex
    }
    async fn acknowledgement_of_receipt(&self) -> bool {
        self.0.acknowledgement_of_receipt
    }
    /// The recipient's address as printed (frozen when the shipment was made).
    async fn recipient_address(&self) -> Vec<String> {
        lines(&self.0.recipient_lines)
    }
    /// ISO 3166-1 alpha-2.
    async fn recipient_country(&self) -> &str {
        &self.0.recipient_country
    }
    async fn sender_address(&self) -> Vec<String> {
        lines(&self.0.sender_lines)
    }
    async fn pages(&self) -> Option<i32> {
        self.0.pages
    }
    /// Our estimate, excl. VAT, in euros.
    async fn price_estimate(&self) -> Option<Decimal> {
        self.0.price_estimate.map(cents)
    }
    /// The carrier's postage price, once it is known.
    async fn postage_price(&self) -> Option<Decimal> {
        self.0.postage_price.map(cents)
    }
    /// The registered letter's number.
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }
    /// Where the document the letter carries downloads from (with the caller's token).
    async fn document_url(&self, ctx: &Context<'_>) -> Option<String> {
        let (state, _) = parts(ctx);
        self.0
            .document_id
            .map(|id| crate::documents::url(&state.public_url, id))
    }
    /// A registered letter's deposit proof, once the carrier has it.
    async fn deposit_proof_url(&self, ctx: &Context<'_>) -> Option<String> {
        let (state, _) = parts(ctx);
        self.0
            .deposit_proof_id
            .map(|id| crate::documents::url(&state.public_url, id))
    }
    /// The signed acknowledgement of receipt, once the carrier has it.
    async fn acknowledgement_of_receipt_url(&self, ctx: &Context<'_>) -> Option<String> {
        let (state, _) = parts(ctx);
        self.0
            .acknowledgement_id
            .map(|id| crate::documents::url(&state.public_url, id))
    }
    /// Submission attempts that failed (reset by a retry).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When a queued shipment is next tried.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == ShipmentStatus::Queued)
            .then_some(self.0.next_attempt_at)
            .flatten()
    }
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// What the carrier said, oldest first, with its raw codes.
    #[graphql(directive = subgraph_kit::cost::at_most::apply(50))]
    async fn tracking_events(&self, ctx: &Context<'_>) -> Result<Vec<TrackingEvent>> {
        Ok(loaders::tracking(ctx, self.0.id)
            .await?
            .into_iter()
            .map(TrackingEvent)
            .collect())
    }
    /// Every status it went through, oldest first.
    #[graphql(directive = subgraph_kit::cost::at_most::apply(20))]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ShipmentStatusChange>> {
        Ok(loaders::history(ctx, self.0.id)
            .await?
            .into_iter()
            .map(ShipmentStatusChange)
            .collect())
    }
}

/// Something the carrier said about a shipment.
pub struct TrackingEvent(pub TrackingEventRow);

#[Object]
impl TrackingEvent {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    /// The carrier's raw code (`ON_STATUS_PROCESSED`, La Poste's `D01`…).
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// The code, normalised.
    async fn status(&self) -> TrackingStatus {
        self.0.status
    }
    /// A notification or our polling.
    async fn source(&self) -> TrackingSource {
        self.0.source
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A status a shipment went through.
pub struct ShipmentStatusChange(pub StatusChangeRow);

#[Object]
impl ShipmentStatusChange {
    async fn from(&self) -> Option<ShipmentStatus> {
        self.0.from_status
    }
    async fn to(&self) -> ShipmentStatus {
        self.0.to_status
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// A postal address as given: lines 1 to 5 (line 1 or 2 names the recipient; line 4 the
/// street), the postcode, the city and the country; line 6 is made of the postcode and city.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ShipmentAddressInput {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub line4: Option<String>,
    pub line5: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 (default FR).
    #[graphql(default = "FR")]
    pub country: String,
}

impl From<ShipmentAddressInput> for AddressInput {
    fn from(a: ShipmentAddressInput) -> Self {
        AddressInput {
            lines: [a.line1, a.line2, a.line3, a.line4, a.line5],
            postal_code: a.postal_code,
            city: a.city,
            country: a.country.trim().to_uppercase(),
        }
    }
}

/// A rule an address breaks.
#[derive(SimpleObject)]
pub struct AddressProblem {
    pub field: String,
    pub message: String,
}

/// The postal-address check's verdict.
#[derive(SimpleObject)]
pub struct PostalAddressCheck {
    pub valid: bool,
    /// The six lines as they would be printed (when valid).
    pub lines: Vec<String>,
    pub problems: Vec<AddressProblem>,
}

#[derive(InputObject, Default)]
pub struct ShipmentFilterInput {
    pub status: Option<ShipmentStatus>,
    pub tracking_status: Option<TrackingStatus>,
    pub reason: Option<ShipmentReason>,
    pub client_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub invoice_id: Option<ID>,
    pub societe_id: Option<ID>,
    /// Made at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Made before.
    pub created_before: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ShipmentQuery;

#[Object]
impl ShipmentQuery {
    /// Shipments, newest first.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        filter: Option<ShipmentFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Shipment>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let f = filter.unwrap_or_default();
        if let (Some(from), Some(before)) = (f.created_from, f.created_before) {
            if before <= from {
                return Err(
                    Invalid::new("filter.createdBefore", "is not after createdFrom").into(),
                );
            }
        }
        let filter = ShipmentFilter {
            status: f.status,
            tracking_status: f.tracking_status,
            reason: f.reason,
            client_id: parse_opt_id("filter.clientId", f.client_id.as_ref())?,
            contract_id: parse_opt_id("filter.contractId", f.contract_id.as_ref())?,
            invoice_id: parse_opt_id("filter.invoiceId", f.invoice_id.as_ref())?,
            societe_id: parse_opt_id("filter.societeId", f.societe_id.as_ref())?,
            created_from: f.created_from,
            created_before: f.created_before,
        };
        let (rows, total) =
            db::shipment::list_page(&state.pool, tenant.organisation_id, &filter, &page).await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |r| Keyset::instant(r.created_at, r.id),
            Shipment,
        ))
    }

    async fn shipment(&self, ctx: &Context<'_>, id: ID) -> Result<Shipment> {
        let id = parse_id("id", &id)?;
        loaders::shipment(ctx, id)
            .await?
            .map(Shipment)
            .ok_or(Error::not_found("shipment"))
    }

    /// Checks an address against the postal rules for a kind of letter, without sending
    /// anything: every rule broken at once, or the lines as they would be printed.
    async fn check_postal_address(
        &self,
        ctx: &Context<'_>,
        address: ShipmentAddressInput,
        #[graphql(default_with = "ShipmentKind::SimpleLetter")] kind: ShipmentKind,
    ) -> Result<PostalAddressCheck> {
        let (_, request) = parts(ctx);
        request.tenant()?;
        Ok(match check(&address.into(), kind) {
            Ok(checked) => PostalAddressCheck {
                valid: true,
                lines: checked.stored_lines(),
                problems: Vec::new(),
            },
            Err(found) => PostalAddressCheck {
                valid: false,
                lines: Vec::new(),
                problems: found
                    .into_iter()
                    .map(|p| AddressProblem {
                        field: format!("address.{}", p.field),
                        message: p.message,
                    })
                    .collect(),
            },
        })
    }
}

/// A letter to post.
#[derive(InputObject)]
pub struct CreateShipmentInput {
    pub client_id: ID,
    #[graphql(default_with = "ShipmentKind::SimpleLetter")]
    pub kind: ShipmentKind,
    /// An uploaded document (`POST /documents`) — or leave it out and give `invoiceId`.
    pub document_id: Option<ID>,
    /// An issued invoice of the client: the letter carries its PDF (unless `documentId`
    /// says otherwise) and is sent by the invoice's société.
    pub invoice_id: Option<ID>,
    /// The contract the letter is about.
    pub contract_id: Option<ID>,
    /// The sending société (its carrier account); the invoice's when an invoice is given.
    pub societe_id: Option<ID>,
    #[graphql(default)]
    pub colour: bool,
    #[graphql(default)]
    pub duplex: bool,
    /// Registered letters only.
    #[graphql(default)]
    pub acknowledgement_of_receipt: bool,
    /// Another address than the client's own.
    pub address: Option<ShipmentAddressInput>,
}

#[derive(Default)]
pub struct ShipmentMutation;

#[Object]
impl ShipmentMutation {
    /// Queues a letter to a client (members): the address is checked against the postal
    /// rules and frozen, the document checked, the price estimated; the carrier gets it
    /// within moments.
    async fn create_shipment(
        &self,
        ctx: &Context<'_>,
        input: CreateShipmentInput,
    ) -> Result<Shipment> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let client_id = parse_id("clientId", &input.client_id)?;
        let document_id = parse_opt_id("documentId", input.document_id.as_ref())?;
        let invoice_id = parse_opt_id("invoiceId", input.invoice_id.as_ref())?;
        let contract_id = parse_opt_id("contractId", input.contract_id.as_ref())?;
        let mut societe_id = parse_opt_id("societeId", input.societe_id.as_ref())?;
        let mut conn = state.pool.acquire().await?;
        if !state
            .directory
            .has_client(&mut conn, request, org, client_id)
            .await?
        {
            return Err(Error::not_found("client"));
        }
        let invoice = match invoice_id {
            Some(id) => {
                let invoice = db::invoice::find(&mut *conn, org, id)
                    .await?
                    .ok_or(Error::not_found("invoice"))?;
                if invoice.client_id != client_id {
                    return Err(Invalid::new("invoiceId", "is not an invoice of the client").into());
                }
                if societe_id.is_some_and(|s| s != invoice.societe_id) {
                    return Err(
                        Invalid::new("societeId", "is not the société of the invoice").into(),
                    );
                }
                societe_id = Some(invoice.societe_id);
                Some(invoice)
            }
            None => None,
        };
        let societe_id = societe_id.ok_or_else(|| {
            Invalid::new(
                "societeId",
                "is required (the sender), unless an invoice is given",
            )
        })?;
        let account = db::account::active_for_societe(&mut *conn, org, societe_id)
            .await?
            .ok_or_else(|| Invalid::new("societeId", "has no active carrier account"))?;
        let client = db::directory::find_client(&mut *conn, org, client_id)
            .await?
            .ok_or(Error::not_found("client"))?;
        // The document: an uploaded one, or the invoice's PDF fetched (and checked) now and
        // kept in the transaction of the shipment.
        let (document, invoice_pdf) = match (document_id, &invoice) {
            (Some(id), _) => {
                let document = db::document::find(&mut *conn, org, id)
                    .await?
                    .ok_or(Error::not_found("document"))?;
                if !matches!(document.kind, DocumentKind::Upload | DocumentKind::Invoice) {
                    return Err(Invalid::new("documentId", "is not a letter's document").into());
                }
                (Some(document), None)
            }
            (None, Some(invoice)) => {
                let pdf = state
                    .finance
                    .invoice_pdf(org, invoice.id, &invoice.document_sha256)
                    .await
                    .map_err(|e| match e {
                        crate::finance::FetchError::Unavailable(_) => {
                            Error::internal(format!("{e}"))
                        }
                        _ => Invalid::new("invoiceId", e.to_string()).into(),
                    })?;
                (None, Some((pdf, format!("{}.pdf", invoice.number))))
            }
            (None, None) => {
                return Err(Invalid::new("documentId", "give a document or an invoice").into())
            }
        };
        drop(conn);
        let mut tx = state.pool.begin().await?;
        let document = match (document, invoice_pdf) {
            (Some(document), _) => document,
            (None, Some((pdf, name))) => {
                keep(
                    &mut *tx,
                    &state.store,
                    org,
                    "invoiceId",
                    NewDocument {
                        id: Uuid::now_v7(),
                        kind: DocumentKind::Invoice,
                        file_name: &name,
                        uploaded_by: Some(tenant.user_id),
                    },
                    pdf,
                )
                .await?
            }
            (None, None) => return Err(Error::internal("no document")),
        };
        let pages = document
            .pages
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| Invalid::new("documentId", "has no known page count"))?;
        let reason = ShipmentReason::Manual;
        let row = ops::shipment::queue(
            &mut tx,
            org,
            &client,
            &account,
            &state.pricing,
            Request {
                client_id,
                contract_id,
                invoice_id,
                kind: input.kind,
                reason,
                colour: input.colour,
                duplex: input.duplex,
                acknowledgement_of_receipt: input.acknowledgement_of_receipt,
                address: input.address.map(AddressInput::from),
                document_id: document.id,
                pages,
                created_by: Some(tenant.user_id),
            },
            Some(&request.request_id),
        )
        .await?;
        tx.commit().await?;
        state.wake.notify_one();
        Ok(Shipment(row))
    }

    /// Cancels a letter not yet with the carrier (members).
    async fn cancel_shipment(&self, ctx: &Context<'_>, id: ID) -> Result<Shipment> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let row =
            ops::shipment::cancel(&mut tx, tenant.organisation_id, id, tenant.user_id).await?;
        tx.commit().await?;
        Ok(Shipment(row))
    }

    /// Queues a failed letter again, resuming where it stopped (members).
    async fn retry_shipment(&self, ctx: &Context<'_>, id: ID) -> Result<Shipment> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let row = ops::shipment::retry(&mut tx, tenant.organisation_id, id, tenant.user_id).await?;
        tx.commit().await?;
        state.wake.notify_one();
        Ok(Shipment(row))
    }

    /// Sets whether a client's invoices go by post (members): true or false, or null for its
    /// société's default.
    async fn set_client_postal_preference(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        invoices_by_post: Option<bool>,
    ) -> Result<Client> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("clientId", &client_id)?;
        let mut conn = state.pool.acquire().await?;
        if !state
            .directory
            .has_client(&mut conn, request, tenant.organisation_id, id)
            .await?
        {
            return Err(Error::not_found("client"));
        }
        db::preference::set(
            &mut *conn,
            tenant.organisation_id,
            id,
            invoices_by_post,
            tenant.user_id,
        )
        .await?;
        Ok(Client { id: client_id })
    }
}
