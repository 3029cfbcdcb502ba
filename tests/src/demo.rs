//! The demo organisation of `cargo xtask dev --demo`: the whole CRM in use, created through the
//! gateway with the operations users run (and the events they cause), so every subgraph's
//! projection agrees with core.
//!
//! Loading is idempotent: the organisation is named [`DEMO_ORGANISATION`] only once everything
//! is in place, so a second load finds it and changes nothing, and a load that was
//! interrupted is reported as such instead of being doubled.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::{Datelike, Days, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::sample;
pub use crm_test_support::mailbox::Mailbox;

/// Confirms `email`'s pending sign-up through `api` with the link in its e-mail (read from
/// `mailbox`), chosen with `password`; the new owner's token.
///
/// # Errors
/// When no confirmation was asked for, or the gateway refuses it.
pub async fn confirm_sign_up(
    api: &Api,
    mailbox: Mailbox<'_>,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let link = mailbox
        .secret(crm_test_support::mailbox::SIGN_UP, email)
        .await?;
    api.id(
        "mutation($t: String!, $p: String!) { confirmSignUp(token: $t, password: $p) { token } }",
        json!({"t": link, "p": password}),
        "confirmSignUp.token",
    )
    .await
}

pub const DEMO_EMAIL: &str = "demo@crm.example";
pub const DEMO_PASSWORD: &str = "demo-password-2026";
pub const MEMBER_EMAIL: &str = "lucas.bernard@crm.example";
pub const MEMBER_PASSWORD: &str = "demo-member-2026";
/// The organisation's name once the demo is complete.
pub const DEMO_ORGANISATION: &str = "Démo Courtage";
const LOADING_NAME: &str = "Démo Courtage (chargement en cours)";
/// How many clients the demo has.
pub const DEMO_CLIENTS: u64 = 30;

/// How long the demo waits for an event's effect in another subgraph.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// Everything was created.
    Created(Summary),
    /// The demo organisation was already complete: nothing was changed.
    AlreadyThere,
}

/// What the demo contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub clients: usize,
    pub contracts: usize,
    pub invoices: usize,
    pub payments: usize,
    pub tasks: usize,
    pub activities: usize,
}

/// A GraphQL client of the gateway that turns errors into `Err`.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Api {
    pub fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            token: None,
        }
    }

    #[must_use]
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// The `data` of `query`, or an error naming the operation and the errors.
    pub async fn run(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the gateway at {}", self.url))?;
        let body: Value = response
            .json()
            .await
            .context("the gateway answered no JSON")?;
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        if !errors.is_empty() {
            let operation: String = query.chars().take(80).collect();
            bail!("{operation}…: {}", Value::Array(errors));
        }
        Ok(body["data"].clone())
    }

    /// `query`'s data, string field `path` (`a.b.c`).
    pub async fn id(&self, query: &str, variables: Value, path: &str) -> anyhow::Result<String> {
        let data = self.run(query, variables).await?;
        let value = path.split('.').fold(&data, |value, key| &value[key]);
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no {path} in {data}"))
    }
}

/// Loads the demo through the gateway at `gateway_url` (its `/graphql`). The commercial
/// database is used for one thing: running the contract expiry job once, as its schedule
/// would, so that the demo has an expired contract today; the `mailbox`, for another: reading
/// the sign-up's confirmation link, as its owner would in their e-mail.
pub async fn load(
    gateway_url: &str,
    commercial: &PgPool,
    mailbox: Mailbox<'_>,
) -> anyhow::Result<Loaded> {
    let api = Api::new(gateway_url);
    let login = api
        .run(
            "mutation($input: LoginInput!) { login(input: $input) { token organisation { name } } }",
            json!({"input": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}}),
        )
        .await;
    if let Ok(login) = login {
        let name = login["login"]["organisation"]["name"]
            .as_str()
            .unwrap_or_default();
        if name == DEMO_ORGANISATION {
            return Ok(Loaded::AlreadyThere);
        }
        bail!(
            "the demo organisation is incomplete (an earlier load was interrupted): start again \
             from empty databases with `cargo xtask dev --reset --demo`"
        );
    }
    api.run(
        "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
        json!({"input": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "firstName": "Camille",
               "lastName": "Martin", "organisationName": LOADING_NAME}}),
    )
    .await?;
    let owner = confirm_sign_up(&api, mailbox, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let demo = Demo {
        api: api.with_token(&owner),
        today: Utc::now().date_naive(),
        mailbox,
    };
    let summary = demo.build(commercial).await?;
    demo.api
        .run(
            "mutation($name: String!) { updateOrganisation(name: $name) { name } }",
            json!({"name": DEMO_ORGANISATION}),
        )
        .await?;
    Ok(Loaded::Created(summary))
}

/// The demo's two sociétés, with their invoice settings; their ids.
pub async fn create_societes(api: &Api) -> anyhow::Result<[String; 2]> {
    let mut societes = Vec::new();
    for (name, form, siren, capital, street, postal_code, city, iban) in [
        (
            "Démo Courtage SAS",
            "SAS",
            "732829320",
            "50000",
            "12 rue de la Paix",
            "75002",
            "Paris",
            "FR76 3000 6000 0112 3456 7890 189",
        ),
        (
            "Démo Courtage Sud SARL",
            "SARL",
            "443061841",
            "20000",
            "4 place Bellecour",
            "69002",
            "Lyon",
            "FR14 2004 1010 0505 0001 3M02 606",
        ),
    ] {
        let vat = sample::vat_number(siren);
        let id = api
            .id(
                "mutation($input: SocieteInputObject!) { createSociete(input: $input) { id } }",
                json!({"input": {"name": name, "siren": siren, "siret": sample::siret(siren),
                       "vatNumber": vat,
                       "address": {"line1": street, "postalCode": postal_code, "city": city}}}),
                "createSociete.id",
            )
            .await?;
        api.run(
            "mutation($id: ID!, $input: InvoiceSettingsInput!) { setInvoiceSettings(societeId: $id, input: $input) { siren } }",
            json!({"id": id, "input": {"legalName": name, "legalForm": form, "shareCapital": capital,
                   "siren": siren, "siret": sample::siret(siren), "vatNumber": vat,
                   "rcs": format!("RCS {city} {siren}"), "addressLine1": street,
                   "postalCode": postal_code, "city": city, "iban": iban, "bic": "AGRIFRPPXXX"}}),
        )
        .await?;
        societes.push(id);
    }
    let societes: [String; 2] = societes
        .try_into()
        .map_err(|_| anyhow!("two sociétés expected"))?;
    Ok(societes)
}

/// The catalogue's three ranges and [`PRODUCTS`], active; the products' ids in that order.
pub async fn create_products(api: &Api) -> anyhow::Result<Vec<String>> {
    let mut ranges = std::collections::HashMap::new();
    for (position, (code, name)) in [
        ("HAB", "Habitation"),
        ("PRV", "Prévoyance"),
        ("SRV", "Services"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = api
            .id(
                "mutation($input: ProductRangeInput!) { createProductRange(input: $input) { id } }",
                json!({"input": {"code": code, "name": name, "position": position}}),
                "createProductRange.id",
            )
            .await?;
        ranges.insert(code, id);
    }
    let mut products = Vec::new();
    for (range, sku, name, category, price, vat) in PRODUCTS {
        let id = api
            .id(
                "mutation($input: ProductInput!) { createProduct(input: $input) { id } }",
                json!({"input": {"sku": sku, "name": name, "category": category, "unitPrice": price,
                       "vatRate": vat, "rangeId": ranges.get(range)}}),
                "createProduct.id",
            )
            .await?;
        api.run(
            "mutation($id: ID!) { changeProductStatus(id: $id, status: ACTIVE) { status } }",
            json!({"id": id}),
        )
        .await?;
        products.push(id);
    }
    Ok(products)
}

struct Demo<'a> {
    /// The owner's client.
    api: Api,
    today: NaiveDate,
    /// Where the demo's people read their e-mail (sign-up and invitation links).
    mailbox: Mailbox<'a>,
}

/// The catalogue: (range code, SKU, name, category, unit price excl. VAT, VAT rate).
pub const PRODUCTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "HAB",
        "HAB-GES",
        "Gestion contrat habitation",
        "INSURANCE",
        "12.50",
        "20",
    ),
    (
        "HAB",
        "HAB-ASS",
        "Assistance habitation 24/7",
        "SERVICE",
        "6.90",
        "20",
    ),
    (
        "PRV",
        "PRV-CONS",
        "Conseil prévoyance",
        "PROVIDENT",
        "45.00",
        "20",
    ),
    (
        "PRV",
        "PRV-SUIVI",
        "Suivi annuel prévoyance",
        "PROVIDENT",
        "19.00",
        "20",
    ),
    (
        "SRV",
        "SRV-AUDIT",
        "Audit de couverture",
        "SERVICE",
        "150.00",
        "20",
    ),
    (
        "SRV",
        "SRV-KIT",
        "Kit documentaire",
        "ACCESSORY",
        "9.90",
        "20",
    ),
];

/// The contracts' target statuses, one contract per entry, on the first clients.
const CONTRACT_STATUSES: &[&str] = &[
    "ACTIVE",
    "ACTIVE",
    "ACTIVE",
    "ACTIVE",
    "SIGNED",
    "SIGNED",
    "DRAFT",
    "DRAFT",
    "SUSPENDED",
    "TERMINATED",
    "CANCELLED",
    "EXPIRED",
    "ACTIVE",
    "SIGNED",
];

struct Catalogue {
    /// Product ids, in [`PRODUCTS`] order.
    products: Vec<String>,
}

/// A client and the société that handles it.
struct Holder<'a> {
    client: &'a String,
    societe: &'a String,
}

struct People {
    societes: [String; 2],
    member: String,
    sales_reps: Vec<String>,
}

impl Demo<'_> {
    fn days_ago(&self, days: u64) -> NaiveDate {
        self.today
            .checked_sub_days(Days::new(days))
            .unwrap_or(self.today)
    }

    async fn build(&self, commercial: &PgPool) -> anyhow::Result<Summary> {
        let people = self.people().await?;
        let catalogue = self.catalogue().await?;
        self.commission_scale().await?;
        let clients = self.clients(&people).await?;
        // Companies first: finance issues invoices to buyers with a SIREN only. Contracts,
        // activities and tasks go to the clients in this order, so the first ones have it all.
        let (companies, persons): (Vec<usize>, Vec<usize>) =
            (0..clients.len()).partition(|index| sample::client(*index as u64).company);
        let order: Vec<usize> = companies.into_iter().chain(persons).collect();
        let holders: Vec<Holder<'_>> = order
            .iter()
            .map(|index| Holder {
                client: &clients[*index],
                societe: &people.societes[index % 2],
            })
            .collect();
        let contracts = self.contracts(&people, &catalogue, &holders).await?;
        subgraph_commercial::ops::contract::expire_contracts(commercial, self.today)
            .await
            .context("running the contract expiry job")?;
        // Commissions follow payments once finance publishes `payment.received` for them; the
        // scale is in place for that day.
        let (invoices, payments) = self.invoices(&contracts).await?;
        let activities = self.activities(&holders).await?;
        let tasks = self.tasks(&people, &holders).await?;
        Ok(Summary {
            clients: clients.len(),
            contracts: contracts.len(),
            invoices,
            payments,
            tasks,
            activities,
        })
    }

    /// Two sociétés with their invoice settings, a member, three sales reps.
    async fn people(&self) -> anyhow::Result<People> {
        let api = &self.api;
        let societes = create_societes(api).await?;

        api.run(
            "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id } } }",
            json!({"input": {"email": MEMBER_EMAIL, "role": "MEMBER"}}),
        )
        .await?;
        let invitation = self
            .mailbox
            .secret(crm_test_support::mailbox::INVITATION, MEMBER_EMAIL)
            .await?;
        let member = Api::new(&api.url)
            .id(
                "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { user { id } } }",
                json!({"input": {"token": invitation, "newAccount": {
                    "firstName": "Lucas", "lastName": "Bernard", "password": MEMBER_PASSWORD}}}),
                "acceptInvitation.user.id",
            )
            .await?;

        let mut sales_reps = Vec::new();
        for (kind, first, last, email, societe, user) in [
            (
                "REP",
                "Lucas",
                "Bernard",
                MEMBER_EMAIL,
                &societes[0],
                Some(&member),
            ),
            (
                "MANAGER",
                "Julie",
                "Moreau",
                "julie.moreau@crm.example",
                &societes[0],
                None,
            ),
            (
                "PARTNER",
                "Antoine",
                "Girard",
                "a.girard@cabinet-girard.example",
                &societes[1],
                None,
            ),
        ] {
            sales_reps.push(
                api.id(
                    "mutation($input: SalesRepInput!) { createSalesRep(input: $input) { id } }",
                    json!({"input": {"kind": kind, "firstName": first, "lastName": last, "email": email,
                           "societeId": societe, "userId": user}}),
                    "createSalesRep.id",
                )
                .await?,
            );
        }
        Ok(People {
            societes,
            member,
            sales_reps,
        })
    }

    /// Three ranges, six active products, a promotion, a partners' price grid.
    async fn catalogue(&self) -> anyhow::Result<Catalogue> {
        let api = &self.api;
        let products = create_products(api).await?;
        let now = Utc::now();
        api.run(
            "mutation($id: ID!, $input: PromotionInput!) { setProductPromotion(id: $id, input: $input) { id } }",
            json!({"id": products[1], "input": {"price": "4.90", "startsAt": now - chrono::Duration::days(1),
                   "endsAt": now + chrono::Duration::days(30)}}),
        )
        .await?;
        let grid = api
            .id(
                "mutation($input: PriceGridInput!) { createPriceGrid(input: $input) { id } }",
                json!({"input": {"name": "Tarif partenaires", "description": "Prix négociés avec les apporteurs"}}),
                "createPriceGrid.id",
            )
            .await?;
        for (product, price, discount) in
            [(&products[0], "10.90", "0"), (&products[2], "45.00", "10")]
        {
            api.run(
                "mutation($input: SetGridPriceInput!) { setGridPrice(input: $input) { unitPrice } }",
                json!({"input": {"productId": product, "gridId": grid, "unitPrice": price, "discountPercent": discount}}),
            )
            .await?;
        }
        Ok(Catalogue { products })
    }

    /// 8 % of the premium excl. VAT, with a bonus past 1,000 € a month.
    async fn commission_scale(&self) -> anyhow::Result<()> {
        let start = NaiveDate::from_ymd_opt(self.today.year(), 1, 1).unwrap_or(self.today);
        self.api
            .run(
                "mutation($input: CommissionScaleTermsInput!) { createCommissionScale(code: \"STANDARD\", input: $input) { id } }",
                json!({"input": {"name": "Barème standard", "calculation": "PERCENTAGE", "base": "PREMIUM_EXCL_VAT",
                       "rate": "8", "effectiveFrom": start,
                       "tiers": [{"thresholdMin": "1000", "bonus": "50"}]}}),
            )
            .await?;
        Ok(())
    }

    /// [`DEMO_CLIENTS`] clients, persons and companies, each with a billing address.
    async fn clients(&self, people: &People) -> anyhow::Result<Vec<String>> {
        let mut clients = Vec::new();
        for index in 0..DEMO_CLIENTS {
            let c = sample::client(index);
            let mut addresses = vec![
                json!({"kind": "BILLING", "line1": c.line1, "postalCode": c.postal_code, "city": c.city}),
            ];
            if index % 5 == 0 {
                addresses.push(json!({"kind": "SHIPPING", "line1": "2 allée des Tilleuls", "postalCode": "44300", "city": "Nantes"}));
            }
            let input = json!({
                "kind": if c.company { "COMPANY" } else { "PERSON" }, "name": c.name, "firstName": c.first_name,
                "email": c.email, "phone": c.phone, "siren": c.siren, "vatNumber": c.vat_number,
                "status": if index % 9 == 8 { "PROSPECT" } else { "ACTIVE" },
                "societeId": people.societes[(index % 2) as usize], "addresses": addresses,
            });
            clients.push(
                self.api
                    .id(
                        "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
                        json!({"input": input}),
                        "createClient.id",
                    )
                    .await?,
            );
        }
        Ok(clients)
    }

    /// One contract per [`CONTRACT_STATUSES`] entry, taken there through its transitions.
    async fn contracts(
        &self,
        people: &People,
        catalogue: &Catalogue,
        holders: &[Holder<'_>],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let api = &self.api;
        let mut contracts = Vec::new();
        for (index, status) in CONTRACT_STATUSES.iter().enumerate() {
            let products = &catalogue.products;
            let lines = vec![
                json!({"productId": products[index % 4], "quantity": "1"}),
                json!({"productId": products[4 + index % 2], "quantity": format!("{}", 1 + index % 3)}),
            ];
            let expired = *status == "EXPIRED";
            let start = self.days_ago(if expired { 400 } else { 60 + index as u64 * 5 });
            let end = expired.then(|| self.days_ago(2));
            let frequency = ["MONTHLY", "QUARTERLY", "ANNUAL"][index % 3];
            let id = api
                .id(
                    "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
                    json!({"input": {
                        "reference": format!("DEMO-{:04}", index + 1), "title": format!("Contrat {}", PRODUCTS[index % 4].2),
                        "clientId": holders[index].client, "societeId": holders[index].societe,
                        "salesRepId": (index % 4 != 3).then(|| &people.sales_reps[index % 3]),
                        "startDate": start, "endDate": end,
                        "billingFrequency": frequency, "lines": lines}}),
                    "createContract.id",
                )
                .await?;
            self.take_to(&id, status, start).await?;
            contracts.push((id, (*status).to_owned()));
        }
        Ok(contracts)
    }

    async fn take_to(&self, id: &str, status: &str, start: NaiveDate) -> anyhow::Result<()> {
        let steps: &[&str] = match status {
            "DRAFT" => &[],
            "CANCELLED" => &["cancelContract(id: $id, reason: \"Le client a renoncé\")"],
            "SIGNED" => &["signContract(id: $id, signatureDate: $signed)"],
            "ACTIVE" | "EXPIRED" => &[
                "signContract(id: $id, signatureDate: $signed)",
                "activateContract(id: $id)",
            ],
            "SUSPENDED" => &[
                "signContract(id: $id, signatureDate: $signed)",
                "activateContract(id: $id)",
                "suspendContract(id: $id, reason: \"Impayé en cours d'examen\")",
            ],
            "TERMINATED" => &[
                "signContract(id: $id, signatureDate: $signed)",
                "activateContract(id: $id)",
                "terminateContract(id: $id, reason: \"Résiliation à l'échéance (loi Hamon)\")",
            ],
            other => bail!("no way to a {other} contract"),
        };
        for step in steps {
            let variables = if step.contains("$signed") {
                "($id: ID!, $signed: NaiveDate!)"
            } else {
                "($id: ID!)"
            };
            self.api
                .run(
                    &format!("mutation{variables} {{ {step} {{ status }} }}"),
                    json!({"id": id, "signed": start}),
                )
                .await?;
        }
        Ok(())
    }

    /// The drafts finance made of the signed contracts: those of companies completed with the
    /// buyer's address and issued, paid in full or in part, one credited; persons' stay drafts.
    async fn invoices(&self, contracts: &[(String, String)]) -> anyhow::Result<(usize, usize)> {
        let api = &self.api;
        let signed: Vec<&String> = contracts
            .iter()
            .filter(|(_, status)| !matches!(status.as_str(), "DRAFT" | "CANCELLED"))
            .map(|(id, _)| id)
            .collect();
        let mut issued = Vec::new();
        for contract in &signed {
            let draft = self.draft_of(contract).await?;
            let client = &draft["client"];
            if client["siren"].is_null() {
                continue; // a person: finance cannot issue to a buyer without a SIREN yet
            }
            let address = &client["defaultAddress"];
            let lines: Vec<Value> = draft["lines"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|line| json!({"description": line["description"], "quantity": line["quantity"],
                    "unitPrice": line["unitPrice"], "vatRate": line["vatRate"], "productReference": line["productReference"]}))
                .collect();
            let id = draft["id"].as_str().unwrap_or_default().to_owned();
            api.run(
                "mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { id } }",
                json!({"id": id, "input": {"societeId": draft["societe"]["id"], "clientId": client["id"],
                       "contractId": contract, "buyerName": client["displayName"], "buyerSiren": client["siren"],
                       "buyerVatNumber": client["vatNumber"], "buyerAddressLine1": address["line1"],
                       "buyerPostalCode": address["postalCode"], "buyerCity": address["city"], "lines": lines}}),
            )
            .await?;
            let total = api
                .id(
                    "mutation($id: ID!, $date: NaiveDate!) { issueInvoice(id: $id, issueDate: $date) { totalInclVat } }",
                    json!({"id": id, "date": self.today}),
                    "issueInvoice.totalInclVat",
                )
                .await?;
            issued.push((id, total));
        }
        let mut payments = 0;
        let methods = ["TRANSFER", "SEPA_DEBIT", "CARD", "CHEQUE"];
        for (index, (id, total)) in issued.iter().enumerate().take(5) {
            // The fifth pays a first instalment of 10 €.
            let amount = if index == 4 {
                "10.00".to_owned()
            } else {
                total.clone()
            };
            api.run(
                "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { status } }",
                json!({"input": {"invoiceId": id, "amount": amount, "paidOn": self.today,
                       "method": methods[index % methods.len()], "reference": format!("PAI-DEMO-{:03}", index + 1)}}),
            )
            .await?;
            payments += 1;
        }
        if let Some((id, _)) = issued.last() {
            api.run(
                "mutation($id: ID!) { createCreditNote(invoiceId: $id, reason: \"Erreur sur la quantité facturée\") { number } }",
                json!({"id": id}),
            )
            .await?;
        }
        Ok((signed.len() + usize::from(!issued.is_empty()), payments))
    }

    /// The draft finance created from `contract`'s signature, once it is there.
    async fn draft_of(&self, contract: &str) -> anyhow::Result<Value> {
        let query = "query($id: ID!) { contract(id: $id) { invoices(first: 1) { nodes { id status societe { id } \
            client { id displayName siren vatNumber defaultAddress(kind: BILLING) { line1 postalCode city } } \
            lines { description quantity unitPrice vatRate productReference } } } } }";
        crm_test_support::wait_for(EVENT_TIMEOUT, || async {
            let data = self.api.run(query, json!({"id": contract})).await.ok()?;
            data["contract"]["invoices"]["nodes"]
                .as_array()?
                .first()
                .cloned()
        })
        .await
        .with_context(|| format!("finance made no draft invoice of contract {contract}"))
    }

    /// Calls and meetings on the first clients' timelines.
    async fn activities(&self, holders: &[Holder<'_>]) -> anyhow::Result<usize> {
        let mut types = Vec::new();
        for (code, label) in [
            ("APPEL", "Appel téléphonique"),
            ("RDV", "Rendez-vous"),
            ("COURRIER", "Courrier"),
        ] {
            types.push(
                self.api
                    .id(
                        "mutation($code: String!, $label: String!) { createActivityType(code: $code, label: $label) { id } }",
                        json!({"code": code, "label": label}),
                        "createActivityType.id",
                    )
                    .await?,
            );
        }
        let subjects = [
            ("Premier contact", "Intéressé par une offre habitation."),
            ("Rendez-vous bilan", "Bilan de couverture fait en agence."),
            ("Envoi des conditions générales", "Envoyées par courrier."),
            ("Relance devis", "Rappeler la semaine prochaine."),
        ];
        let mut created = 0;
        for (index, holder) in holders.iter().take(10).enumerate() {
            let (subject, comment) = subjects[index % subjects.len()];
            let occurred = Utc::now() - chrono::Duration::days(2 + index as i64 * 3);
            self.api
                .run(
                    "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
                    json!({"input": {"typeId": types[index % types.len()], "clientId": holder.client,
                           "subject": subject, "comment": comment, "occurredAt": occurred}}),
                )
                .await?;
            created += 1;
        }
        Ok(created)
    }

    /// Tasks for the owner and the member: some overdue, some under way, one done.
    async fn tasks(&self, people: &People, holders: &[Holder<'_>]) -> anyhow::Result<usize> {
        let now = Utc::now();
        let tasks = [
            (
                "Rappeler pour le renouvellement",
                "CALL",
                "HIGH",
                -3,
                Some(&people.member),
                "TODO",
            ),
            (
                "Envoyer le devis prévoyance",
                "EMAIL",
                "NORMAL",
                -1,
                Some(&people.member),
                "IN_PROGRESS",
            ),
            (
                "Relancer la facture impayée",
                "DUNNING",
                "URGENT",
                -7,
                None,
                "TODO",
            ),
            (
                "Préparer le rendez-vous bilan",
                "MEETING",
                "NORMAL",
                2,
                Some(&people.member),
                "TODO",
            ),
            (
                "Vérifier les pièces justificatives",
                "FOLLOW_UP",
                "LOW",
                5,
                None,
                "IN_PROGRESS",
            ),
            (
                "Mettre à jour l'adresse de facturation",
                "OTHER",
                "NORMAL",
                -10,
                None,
                "DONE",
            ),
            (
                "Proposer l'assistance 24/7",
                "CALL",
                "NORMAL",
                10,
                Some(&people.member),
                "TODO",
            ),
            (
                "Point annuel avec le client",
                "MEETING",
                "LOW",
                30,
                None,
                "TODO",
            ),
        ];
        for (index, (title, kind, priority, due_in_days, assignee, status)) in
            tasks.iter().enumerate()
        {
            let id = self
                .api
                .id(
                    "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
                    json!({"input": {"title": title, "kind": kind, "priority": priority,
                           "clientId": holders[index].client, "assigneeId": assignee,
                           "dueAt": now + chrono::Duration::days(*due_in_days)}}),
                    "createTask.id",
                )
                .await?;
            let steps: &[&str] = match *status {
                "IN_PROGRESS" => &["IN_PROGRESS"],
                "DONE" => &["IN_PROGRESS", "DONE"],
                _ => &[],
            };
            for step in steps {
                self.api
                    .run(
                        "mutation($id: ID!, $status: TaskStatus!) { changeTaskStatus(id: $id, status: $status) { status } }",
                        json!({"id": id, "status": step}),
                    )
                    .await?;
            }
        }
        Ok(tasks.len())
    }
}
