//! The seeder behind `cargo xtask seed`: an organisation at a realistic scale — by default 100,000 clients,
//! 200,000 contracts and 1,000,000 invoices — for benchmarks and for people.
//!
//! The organisation, its owner, sociétés (with invoice settings), catalogue and sales reps are
//! created through the gateway like any other, so their events reach every subgraph. The bulk
//! (clients and their addresses, contracts with lines and status history, invoices with lines
//! and payments) is then written straight into each subgraph's database with `COPY`, rows
//! built by the subgraphs' own rules (core's client validation, the kit's line totals,
//! finance's VAT breakdown, due dates and numbering) and each subgraph's projection written
//! with the same data its events would have carried. Invoice numbers are gap-free per société
//! and year, in date order, and finance's counters continue after them.
//!
//! Seeded invoices are history: issued (most of them paid) without a Factur-X document, so
//! they have no PDF; invoices issued afterwards get theirs as always.

use std::{collections::HashMap, str::FromStr, time::Instant};

use crate::{demo, sample};
use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    ConnectOptions, PgPool,
};
use subgraph_core::domain::client::{ClientFields, ClientInput, ClientKind, ClientStatus};
use subgraph_finance::domain::invoice::{
    due_date, format_number, invoice_totals, vat_breakdown, VatCategory,
};
use subgraph_kit::{
    money::{Totals, VatRate},
    sealed::OpeningKey,
};
use uuid::Uuid;

pub const SEED_EMAIL: &str = "seed@crm.example";
pub const SEED_PASSWORD: &str = "seed-password-2026";

/// Clients written per round trip to the databases.
const CHUNK: u64 = 2_000;

/// How much to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub clients: u64,
    pub contracts_per_client: u64,
    /// Monthly invoices per contract.
    pub invoices_per_contract: u64,
}

/// What was seeded.
#[derive(Debug)]
pub struct Seeded {
    pub organisation: Uuid,
    pub counts: Counts,
    pub seconds: f64,
}

/// What the seeded organisation was given through the API.
struct Organisation {
    id: Uuid,
    owner: Uuid,
    societes: [Uuid; 2],
    products: Vec<Product>,
    sales_reps: Vec<Uuid>,
}

struct Product {
    id: Uuid,
    sku: &'static str,
    name: &'static str,
    unit_price: Decimal,
    vat_rate: VatRate,
}

/// The four databases.
struct Databases {
    core: PgPool,
    commercial: PgPool,
    finance: PgPool,
    engagement: PgPool,
}

/// Seeds one new organisation through the gateway at `gateway_url` and the subgraphs'
/// databases (`database(name)` is the URL of `crm_<name>`'s database); `progress` hears
/// of each written chunk with the number of clients done so far.
pub async fn seed(
    gateway_url: &str,
    database: impl Fn(&str) -> String,
    mail_key: &OpeningKey,
    options: &SeedOptions,
    mut progress: impl FnMut(u64, &Counts),
) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let pool = |name: &str| {
        let url = database(name);
        async move {
            // Bulk statements are slow by nature: no warning for each.
            let options = PgConnectOptions::from_str(&url)
                .with_context(|| format!("invalid database URL {url}"))?
                .disable_statement_logging();
            PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .with_context(|| format!("cannot connect to {url}"))
        }
    };
    let databases = Databases {
        core: pool("core").await?,
        commercial: pool("commercial").await?,
        finance: pool("finance").await?,
        engagement: pool("engagement").await?,
    };
    let mailbox = demo::Mailbox {
        core: &databases.core,
        key: mail_key,
    };
    let organisation = organisation(gateway_url, options, mailbox).await?;
    wait_for_projections(&databases, &organisation).await?;
    let plan = Plan::new(options, Utc::now().date_naive());
    let numbers = plan.numbering();
    let mut counts = Counts::default();
    let mut first = 0;
    while first < options.clients {
        let last = (first + CHUNK).min(options.clients);
        let chunk = plan.chunk(&organisation, &numbers, first..last)?;
        counts.add(&chunk);
        chunk.write(&databases).await?;
        progress(last, &counts);
        first = last;
    }
    counters(&databases.finance, &organisation, &plan, &numbers).await?;
    for (pool, tables) in [
        (&databases.core, "clients, addresses"),
        (
            &databases.commercial,
            "clients, contracts, contract_lines, contract_status_history",
        ),
        (
            &databases.finance,
            "clients, invoices, invoice_lines, invoice_payments",
        ),
        (&databases.engagement, "clients"),
    ] {
        sqlx::query(&format!("analyze {tables}"))
            .execute(pool)
            .await?;
    }
    Ok(Seeded {
        organisation: organisation.id,
        counts,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The organisation and everything users would set up by hand, through the gateway.
async fn organisation(
    gateway_url: &str,
    options: &SeedOptions,
    mailbox: demo::Mailbox<'_>,
) -> anyhow::Result<Organisation> {
    let api = demo::Api::new(gateway_url);
    let login = api
        .run(
            "mutation($input: LoginInput!) { login(input: $input) { token } }",
            json!({"input": {"email": SEED_EMAIL, "password": SEED_PASSWORD}}),
        )
        .await;
    if login.is_ok() {
        bail!(
            "an organisation is seeded already ({SEED_EMAIL}): start from empty databases with \
             `cargo xtask seed --reset …`"
        );
    }
    api.run(
        "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
        json!({"input": {"email": SEED_EMAIL, "password": SEED_PASSWORD, "firstName": "Sam",
               "lastName": "Seed", "organisationName": format!("Cabinet {} clients", options.clients)}}),
    )
    .await?;
    let token = demo::confirm_sign_up(&api, mailbox, SEED_EMAIL, SEED_PASSWORD).await?;
    let me = api
        .with_token(&token)
        .run("{ me { user { id } organisation { id } } }", json!({}))
        .await?;
    let api = api.with_token(&token);
    let uuid = |value: &serde_json::Value| Uuid::from_str(value.as_str().unwrap_or_default());
    let [first, second] = demo::create_societes(&api).await?;
    let product_ids = demo::create_products(&api).await?;
    let mut products = Vec::new();
    for (id, (_, sku, name, _, price, vat)) in product_ids.iter().zip(demo::PRODUCTS) {
        products.push(Product {
            id: Uuid::from_str(id)?,
            sku,
            name,
            unit_price: Decimal::from_str(price)?,
            vat_rate: VatRate::parse("vatRate", Decimal::from_str(vat)?)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        });
    }
    let mut sales_reps = Vec::new();
    for (kind, first_name, last_name) in [
        ("REP", "Inès", "Carpentier"),
        ("REP", "Malik", "Benali"),
        ("MANAGER", "Claire", "Vasseur"),
    ] {
        let rep = api
            .run(
                "mutation($input: SalesRepInput!) { createSalesRep(input: $input) { id } }",
                json!({"input": {"kind": kind, "firstName": first_name, "lastName": last_name}}),
            )
            .await?;
        sales_reps.push(uuid(&rep["createSalesRep"]["id"])?);
    }
    Ok(Organisation {
        id: uuid(&me["me"]["organisation"]["id"])?,
        owner: uuid(&me["me"]["user"]["id"])?,
        societes: [Uuid::from_str(&first)?, Uuid::from_str(&second)?],
        products,
        sales_reps,
    })
}

/// The bulk rows name the sociétés and the owner: every subgraph must know them first.
async fn wait_for_projections(
    databases: &Databases,
    organisation: &Organisation,
) -> anyhow::Result<()> {
    for (name, pool) in [
        ("commercial", &databases.commercial),
        ("finance", &databases.finance),
        ("engagement", &databases.engagement),
    ] {
        let known = crm_test_support::wait_for(std::time::Duration::from_secs(30), || async {
            let societes: i64 = sqlx::query_scalar(
                "select count(*) from societes where organisation_id = $1 and not deleted",
            )
            .bind(organisation.id)
            .fetch_one(pool)
            .await
            .ok()?;
            let members: i64 = sqlx::query_scalar(
                "select count(*) from members where organisation_id = $1 and user_id = $2",
            )
            .bind(organisation.id)
            .bind(organisation.owner)
            .fetch_one(pool)
            .await
            .ok()?;
            (societes == 2 && members == 1).then_some(())
        })
        .await;
        if known.is_none() {
            bail!(
                "{name} did not learn of the organisation's sociétés and owner from core's events"
            );
        }
    }
    Ok(())
}

/// When everything happens, derived from the indices alone.
struct Plan {
    clients: u64,
    contracts_per_client: u64,
    invoices_per_contract: u64,
    /// Clients arrive over three years, the last one six months ago.
    first_day: NaiveDate,
    span_days: u64,
}

impl Plan {
    fn new(options: &SeedOptions, today: NaiveDate) -> Self {
        let last_day = today.checked_sub_months(Months::new(6)).unwrap_or(today);
        let first_day = last_day
            .checked_sub_days(Days::new(3 * 365))
            .unwrap_or(last_day);
        Self {
            clients: options.clients,
            contracts_per_client: options.contracts_per_client,
            invoices_per_contract: options.invoices_per_contract,
            first_day,
            span_days: 3 * 365,
        }
    }

    fn client_day(&self, client: u64) -> NaiveDate {
        let offset = client * self.span_days / self.clients.max(1);
        self.first_day + Days::new(offset)
    }

    /// A contract starts within weeks of its client's arrival.
    fn contract_start(&self, client: u64, k: u64) -> NaiveDate {
        self.client_day(client) + Days::new(7 + k * 23)
    }

    /// Contract `c`'s `j`-th monthly invoice.
    fn invoice_day(&self, client: u64, k: u64, j: u64) -> NaiveDate {
        let start = self.contract_start(client, k);
        start
            .checked_add_months(Months::new(u32::try_from(j).unwrap_or(0)))
            .unwrap_or(start)
    }

    fn invoice_index(&self, client: u64, k: u64, j: u64) -> usize {
        ((client * self.contracts_per_client + k) * self.invoices_per_contract + j) as usize
    }

    /// Each invoice's sequence in its société's series for its year: ordered by date, then
    /// index, from 1, without gaps.
    fn numbering(&self) -> Vec<u32> {
        let total =
            (self.clients * self.contracts_per_client * self.invoices_per_contract) as usize;
        let mut order: Vec<(u8, NaiveDate, u32)> = Vec::with_capacity(total);
        for client in 0..self.clients {
            for k in 0..self.contracts_per_client {
                for j in 0..self.invoices_per_contract {
                    let index = self.invoice_index(client, k, j) as u32;
                    order.push(((client % 2) as u8, self.invoice_day(client, k, j), index));
                }
            }
        }
        order.sort_unstable();
        let mut numbers = vec![0u32; total];
        let mut series: Option<(u8, i32)> = None;
        let mut next = 0;
        for (societe, day, index) in order {
            if series != Some((societe, day.year())) {
                series = Some((societe, day.year()));
                next = 0;
            }
            next += 1;
            numbers[index as usize] = next;
        }
        numbers
    }

    /// The last sequence of each (société, year), for finance's counters.
    fn last_numbers(&self, numbers: &[u32]) -> HashMap<(u8, i32), u32> {
        let mut last: HashMap<(u8, i32), u32> = HashMap::new();
        for client in 0..self.clients {
            for k in 0..self.contracts_per_client {
                for j in 0..self.invoices_per_contract {
                    let key = ((client % 2) as u8, self.invoice_day(client, k, j).year());
                    let number = numbers[self.invoice_index(client, k, j)];
                    let entry = last.entry(key).or_default();
                    *entry = (*entry).max(number);
                }
            }
        }
        last
    }

    fn chunk(
        &self,
        organisation: &Organisation,
        numbers: &[u32],
        clients: std::ops::Range<u64>,
    ) -> anyhow::Result<Chunk> {
        let mut chunk = Chunk::default();
        let today = Utc::now().date_naive();
        for client in clients {
            chunk.client(self, organisation, numbers, client, today)?;
        }
        Ok(chunk)
    }
}

/// Rows for one range of clients, in `COPY` text format, one buffer per table.
#[derive(Default)]
struct Chunk {
    core_clients: Copy,
    core_addresses: Copy,
    commercial_clients: Copy,
    finance_clients: Copy,
    engagement_clients: Copy,
    contracts: Copy,
    contract_lines: Copy,
    contract_history: Copy,
    invoices: Copy,
    invoice_lines: Copy,
    payments: Copy,
}

/// The 9:00 (UTC) instant of `day`.
fn at_nine(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0).unwrap_or_default())
}

impl Chunk {
    fn client(
        &mut self,
        plan: &Plan,
        organisation: &Organisation,
        numbers: &[u32],
        index: u64,
        today: NaiveDate,
    ) -> anyhow::Result<()> {
        let org = organisation.id.to_string();
        let sample = sample::client(index);
        let fields = ClientFields::parse(
            ClientInput {
                kind: if sample.company {
                    ClientKind::Company
                } else {
                    ClientKind::Person
                },
                status: ClientStatus::Active,
                name: sample.name.clone(),
                first_name: sample.first_name.clone(),
                email: Some(sample.email.clone()),
                phone: Some(sample.phone.clone()),
                birth_date: None,
                siren: sample.siren.clone(),
                vat_number: sample.vat_number.clone(),
                payment_terms_days: 30,
            },
            today,
        )
        .map_err(|e| anyhow::anyhow!("sample client {index} is invalid: {e:?}"))?;
        let display = match &fields.first_name {
            Some(first) => format!("{first} {}", fields.name),
            None => fields.name.clone(),
        };
        let id = Uuid::now_v7().to_string();
        let societe = organisation.societes[(index % 2) as usize].to_string();
        let created = at_nine(plan.client_day(index)).to_rfc3339();
        let kind = if sample.company { "company" } else { "person" };
        self.core_clients.row(&[
            Some(&id),
            Some(&org),
            Some(kind),
            Some("active"),
            Some(&fields.name),
            fields.first_name.as_deref(),
            fields.email.as_deref(),
            fields.phone.as_deref(),
            Some(&societe),
            fields.siren.as_deref(),
            fields.vat_number.as_deref(),
            Some("30"),
            Some(&created),
            Some(&created),
        ]);
        let address = Uuid::now_v7().to_string();
        self.core_addresses.row(&[
            Some(&address),
            Some(&org),
            Some(&id),
            Some("billing"),
            Some(&sample.line1),
            Some(&sample.postal_code),
            Some(&sample.city),
            Some("FR"),
            Some("t"),
            Some(&created),
            Some(&created),
        ]);
        self.commercial_clients
            .row(&[Some(&org), Some(&id), Some(&display), Some(&created)]);
        self.engagement_clients
            .row(&[Some(&org), Some(&id), Some(&display), Some(&created)]);
        self.finance_clients.row(&[
            Some(&org),
            Some(&id),
            Some(&display),
            fields.siren.as_deref(),
            fields.vat_number.as_deref(),
            fields.email.as_deref(),
            Some("30"),
            Some(&sample.line1),
            Some(&sample.postal_code),
            Some(&sample.city),
            Some("FR"),
            Some(&created),
        ]);
        let buyer = Buyer {
            client: &id,
            societe: &societe,
            name: &display,
            siren: fields.siren.as_deref(),
            vat_number: fields.vat_number.as_deref(),
            line1: &sample.line1,
            postal_code: &sample.postal_code,
            city: &sample.city,
        };
        for k in 0..plan.contracts_per_client {
            self.contract(plan, organisation, numbers, &buyer, index, k, today)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one contract's coordinates, all needed
    fn contract(
        &mut self,
        plan: &Plan,
        organisation: &Organisation,
        numbers: &[u32],
        buyer: &Buyer<'_>,
        client: u64,
        k: u64,
        today: NaiveDate,
    ) -> anyhow::Result<()> {
        let org = organisation.id.to_string();
        let owner = organisation.owner.to_string();
        let c = client * plan.contracts_per_client + k;
        let id = Uuid::now_v7().to_string();
        let start = plan.contract_start(client, k);
        let months = u32::try_from(plan.invoices_per_contract).unwrap_or(1);
        let (status, end) = match c % 20 {
            0 => (
                "TERMINATED",
                start
                    .checked_add_months(Months::new(months))
                    .map(|d| d + Days::new(10)),
            ),
            1 => ("EXPIRED", start.checked_add_months(Months::new(months))),
            2 => ("SUSPENDED", None),
            _ => ("ACTIVE", None),
        };
        // The monthly lines: one product of the first two ranges, sometimes a service.
        let mut lines = vec![&organisation.products[(c % 4) as usize]];
        if c.is_multiple_of(3) {
            lines.push(&organisation.products[4 + (c % 2) as usize]);
        }
        let line_totals: Vec<Totals> = lines
            .iter()
            .map(|p| Totals::of_line(Decimal::ONE, p.unit_price, p.vat_rate))
            .collect();
        let total: Totals = line_totals.iter().copied().sum();
        let created = at_nine(start).to_rfc3339();
        let sales_rep = (c % 4 != 3).then(|| organisation.sales_reps[(c % 3) as usize].to_string());
        let reference = format!("SEED-{:07}", c + 1);
        let title = format!("Contrat {}", lines[0].name);
        let (start_text, end_text) = (start.to_string(), end.map(|d| d.to_string()));
        let (excl, vat, incl) = (
            total.excl_vat.to_string(),
            total.vat.to_string(),
            total.incl_vat.to_string(),
        );
        self.contracts.row(&[
            Some(&id),
            Some(&org),
            Some(&reference),
            Some(&title),
            Some(buyer.client),
            Some(buyer.societe),
            sales_rep.as_deref(),
            Some(status),
            Some(&start_text),
            end_text.as_deref(),
            Some(&start_text),
            Some("MONTHLY"),
            Some(&excl),
            Some(&vat),
            Some(&incl),
            Some(&owner),
            Some(&created),
            Some(&created),
        ]);
        for (position, (product, totals)) in lines.iter().zip(&line_totals).enumerate() {
            let line = Uuid::now_v7().to_string();
            self.contract_lines.row(&[
                Some(&line),
                Some(&org),
                Some(&id),
                Some(&position.to_string()),
                Some(&product.id.to_string()),
                Some("1"),
                Some(&product.unit_price.to_string()),
                Some(&product.vat_rate.percent().to_string()),
                Some(&totals.excl_vat.to_string()),
                Some(&totals.vat.to_string()),
                Some(&totals.incl_vat.to_string()),
            ]);
        }
        let mut history = vec![
            (None, "DRAFT", start),
            (Some("DRAFT"), "SIGNED", start),
            (Some("SIGNED"), "ACTIVE", start),
        ];
        match (status, end) {
            ("TERMINATED" | "EXPIRED", Some(end)) => history.push((Some("ACTIVE"), status, end)),
            ("SUSPENDED", _) => history.push((Some("ACTIVE"), status, start + Days::new(60))),
            _ => {}
        }
        for (from, to, day) in history {
            let row = Uuid::now_v7().to_string();
            let at = at_nine(day).to_rfc3339();
            self.contract_history.row(&[
                Some(&row),
                Some(&org),
                Some(&id),
                from,
                Some(to),
                Some(&owner),
                Some(&at),
            ]);
        }
        for j in 0..plan.invoices_per_contract {
            let day = plan.invoice_day(client, k, j);
            let number = numbers[plan.invoice_index(client, k, j)];
            self.invoice(organisation, buyer, &id, &lines, day, number, c + j, today);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one invoice's coordinates, all needed
    fn invoice(
        &mut self,
        organisation: &Organisation,
        buyer: &Buyer<'_>,
        contract: &str,
        lines: &[&Product],
        day: NaiveDate,
        sequence: u32,
        salt: u64,
        today: NaiveDate,
    ) {
        let org = organisation.id.to_string();
        let owner = organisation.owner.to_string();
        let id = Uuid::now_v7().to_string();
        let nets: Vec<(VatCategory, Decimal, Decimal)> = lines
            .iter()
            .map(|p| (VatCategory::Standard, p.vat_rate.percent(), p.unit_price))
            .collect();
        let totals = invoice_totals(&vat_breakdown(&nets));
        let due = due_date(day, 30);
        // Paid a few days before the due date, except one in seventeen (and everything not
        // yet due a fortnight ago): unpaid, some of them overdue.
        let paid = due + Days::new(15) < today && !salt.is_multiple_of(17);
        let status = if paid { "PAID" } else { "ISSUED" };
        let number = format_number("FAC", day.year(), i64::from(sequence));
        let issued = at_nine(day).to_rfc3339();
        let created = (at_nine(day) - chrono::Duration::hours(1)).to_rfc3339();
        let (excl, vat, incl) = (
            totals.excl_vat.to_string(),
            totals.vat.to_string(),
            totals.incl_vat.to_string(),
        );
        let amount_paid = if paid { incl.clone() } else { "0".to_owned() };
        let (day_text, due_text) = (day.to_string(), due.to_string());
        self.invoices.row(&[
            Some(&id),
            Some(&org),
            Some(buyer.societe),
            Some(buyer.client),
            Some(contract),
            Some(status),
            Some(&number),
            Some("INVOICE"),
            Some(&day.year().to_string()),
            Some(&sequence.to_string()),
            Some(&day_text),
            Some(&day_text),
            Some(&due_text),
            Some(buyer.name),
            buyer.siren,
            buyer.vat_number,
            Some(buyer.line1),
            Some(buyer.postal_code),
            Some(buyer.city),
            Some(&excl),
            Some(&vat),
            Some(&incl),
            Some(&amount_paid),
            Some(&owner),
            Some(&issued),
            Some(&owner),
            Some(&created),
            Some(&issued),
        ]);
        for (position, product) in lines.iter().enumerate() {
            let line = Uuid::now_v7().to_string();
            let t = Totals::of_line(Decimal::ONE, product.unit_price, product.vat_rate);
            self.invoice_lines.row(&[
                Some(&line),
                Some(&org),
                Some(&id),
                Some(&position.to_string()),
                Some(product.sku),
                Some(product.name),
                Some("1"),
                Some(&product.unit_price.to_string()),
                Some(&product.vat_rate.percent().to_string()),
                Some(&t.excl_vat.to_string()),
                Some(&t.vat.to_string()),
                Some(&t.incl_vat.to_string()),
            ]);
        }
        if paid {
            let payment = Uuid::now_v7().to_string();
            let paid_on = (due - Days::new(3)).to_string();
            let method = ["SEPA_DEBIT", "SEPA_DEBIT", "TRANSFER", "CARD"][(salt % 4) as usize];
            let reference = format!("PAI-{number}");
            self.payments.row(&[
                Some(&payment),
                Some(&org),
                Some(&id),
                Some(&incl),
                Some(&paid_on),
                Some(method),
                Some(&reference),
                Some(&owner),
                Some(&issued),
            ]);
        }
    }

    async fn write(self, databases: &Databases) -> anyhow::Result<()> {
        let core = async {
            self.core_clients.send(&databases.core, "clients (id, organisation_id, kind, status, name, first_name, email, phone, societe_id, siren, vat_number, payment_terms_days, created_at, updated_at)").await?;
            self.core_addresses.send(&databases.core, "addresses (id, organisation_id, client_id, kind, line1, postal_code, city, country, is_default, created_at, updated_at)").await
        };
        let commercial = async {
            self.commercial_clients
                .send(
                    &databases.commercial,
                    "clients (organisation_id, id, name, updated_at)",
                )
                .await?;
            self.contracts.send(&databases.commercial, "contracts (id, organisation_id, reference, title, client_id, societe_id, sales_rep_id, status, start_date, end_date, signature_date, billing_frequency, total_excl_vat, total_vat, total_incl_vat, created_by, created_at, updated_at)").await?;
            self.contract_lines.send(&databases.commercial, "contract_lines (id, organisation_id, contract_id, position, product_id, quantity, unit_price, vat_rate, total_excl_vat, total_vat, total_incl_vat)").await?;
            self.contract_history.send(&databases.commercial, "contract_status_history (id, organisation_id, contract_id, from_status, to_status, changed_by, changed_at)").await
        };
        let finance = async {
            self.finance_clients.send(&databases.finance, "clients (organisation_id, id, name, siren, vat_number, email, payment_terms_days, billing_line1, billing_postal_code, billing_city, billing_country, updated_at)").await?;
            self.invoices.send(&databases.finance, "invoices (id, organisation_id, societe_id, client_id, contract_id, status, number, series, fiscal_year, sequence, issue_date, delivery_date, due_date, buyer_name, buyer_siren, buyer_vat_number, buyer_address_line1, buyer_postal_code, buyer_city, total_excl_vat, total_vat, total_incl_vat, amount_paid, issued_by, issued_at, created_by, created_at, updated_at)").await?;
            self.invoice_lines.send(&databases.finance, "invoice_lines (id, organisation_id, invoice_id, position, product_reference, description, quantity, unit_price, vat_rate, total_excl_vat, total_vat, total_incl_vat)").await?;
            self.payments.send(&databases.finance, "invoice_payments (id, organisation_id, invoice_id, amount, paid_on, method, reference, recorded_by, recorded_at)").await
        };
        let engagement = self.engagement_clients.send(
            &databases.engagement,
            "clients (organisation_id, id, name, updated_at)",
        );
        tokio::try_join!(core, commercial, finance, engagement)?;
        Ok(())
    }
}

/// Who an invoice is for, as it names them.
struct Buyer<'a> {
    client: &'a str,
    societe: &'a str,
    name: &'a str,
    siren: Option<&'a str>,
    vat_number: Option<&'a str>,
    line1: &'a str,
    postal_code: &'a str,
    city: &'a str,
}

/// Finance numbers the next invoice of each series after the seeded ones.
async fn counters(
    finance: &PgPool,
    organisation: &Organisation,
    plan: &Plan,
    numbers: &[u32],
) -> anyhow::Result<()> {
    for ((societe, year), last) in plan.last_numbers(numbers) {
        sqlx::query(
            "insert into invoice_counters (organisation_id, societe_id, series, fiscal_year, last_value)
             values ($1, $2, 'INVOICE', $3, $4)
             on conflict (organisation_id, societe_id, series, fiscal_year)
             do update set last_value = greatest(invoice_counters.last_value, excluded.last_value)",
        )
        .bind(organisation.id)
        .bind(organisation.societes[usize::from(societe)])
        .bind(year)
        .bind(i64::from(last))
        .execute(finance)
        .await?;
    }
    Ok(())
}

/// One table's rows in `COPY … FROM STDIN` text format.
#[derive(Default)]
struct Copy {
    text: String,
    rows: u64,
}

impl Copy {
    /// Appends a row; `None` is SQL null.
    fn row(&mut self, fields: &[Option<&str>]) {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.text.push('\t');
            }
            match field {
                None => self.text.push_str("\\N"),
                Some(value) => {
                    for c in value.chars() {
                        match c {
                            '\\' => self.text.push_str("\\\\"),
                            '\t' => self.text.push_str("\\t"),
                            '\n' => self.text.push_str("\\n"),
                            '\r' => self.text.push_str("\\r"),
                            c => self.text.push(c),
                        }
                    }
                }
            }
        }
        self.text.push('\n');
        self.rows += 1;
    }

    async fn send(&self, pool: &PgPool, target: &str) -> anyhow::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut connection = pool.acquire().await?;
        let mut copy = connection
            .copy_in_raw(&format!("copy {target} from stdin"))
            .await
            .with_context(|| format!("copy into {target}"))?;
        copy.send(self.text.as_bytes()).await?;
        copy.finish()
            .await
            .with_context(|| format!("copy into {target}"))?;
        Ok(())
    }
}

/// Rows written so far (each client has one address).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub clients: u64,
    pub contracts: u64,
    pub contract_lines: u64,
    pub invoices: u64,
    pub invoice_lines: u64,
    pub payments: u64,
}

impl Counts {
    fn add(&mut self, chunk: &Chunk) {
        self.clients += chunk.core_clients.rows;
        self.contracts += chunk.contracts.rows;
        self.contract_lines += chunk.contract_lines.rows;
        self.invoices += chunk.invoices.rows;
        self.invoice_lines += chunk.invoice_lines.rows;
        self.payments += chunk.payments.rows;
    }
}
