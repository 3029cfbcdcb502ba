//! Drafts, issue (compliance, number, Factur-X), immutability, payments, credit notes, and
//! drafts from signed contracts.

use serde_json::json;
use sha2::{Digest, Sha256};
use subgraph_finance::domain::facturx::validate;

use crate::helpers::{
    company, download, draft, draft_input, envelope, internal_download, issue,
    societe_with_settings, spawn_apps, INTERNAL_TOKEN, INVOICE,
};

const SIREN: &str = "732829320";
const VAT: &str = "FR44732829320";
const CLIENT_SIREN: &str = "552100554";

#[tokio::test]
async fn a_draft_is_issued_with_the_next_number_and_a_valid_factur_x() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let created = draft(&owner, &societe, &client).await;
    let draft_row = &created;
    assert_eq!(draft_row["status"], "DRAFT");
    assert_eq!(draft_row["number"], json!(null));
    assert_eq!(draft_row["totalExclVat"], "69.97");
    assert_eq!(draft_row["totalVat"], "11.82");
    assert_eq!(draft_row["totalInclVat"], "81.79");
    assert_eq!(
        draft_row["vatBreakdown"],
        json!([{"category": "STANDARD", "rate": "20", "base": "54.97", "tax": "10.99"},
               {"category": "STANDARD", "rate": "5.5", "base": "15.00", "tax": "0.83"}])
    );
    let id = draft_row["id"].as_str().unwrap();
    let issued = issue(&owner, id, "2026-01-15").await;
    let invoice = &issued.data()["issueInvoice"];
    assert_eq!(invoice["status"], "ISSUED");
    assert_eq!(invoice["number"], "FAC2026-000001");
    assert_eq!(invoice["dueDate"], "2026-02-14");
    let xml = invoice["facturxXml"].as_str().unwrap();
    if let Err(report) = validate(xml) {
        panic!("{report}");
    }
    // The PDF/A-3 downloads for the organisation, carries the XML, and is what was hashed.
    let url = invoice["pdfUrl"].as_str().unwrap();
    let (status, pdf) = download(Some(&owner), url).await;
    assert_eq!(status, 200);
    if let Err(report) = subgraph_finance::domain::facturx::validate_pdf(&pdf, xml) {
        panic!("{report}");
    }
    let digest: String = Sha256::digest(&pdf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(invoice["documentSha256"], digest.as_str());
    assert_eq!(download(None, url).await.0, 401);
    let stranger = apps.sign_up("stranger@example.fr", "Other").await;
    assert_eq!(download(Some(&stranger), url).await.0, 404);
    assert!(draft_row["pdfUrl"].is_null());
    // Our own services fetch it with the internal token, within the organisation they name.
    let org = owner.organisation_id.as_str();
    let (status, fetched) = internal_download(url, INTERNAL_TOKEN, Some(org)).await;
    assert_eq!((status, fetched == pdf), (200, true));
    let other = stranger.organisation_id.as_str();
    assert_eq!(
        internal_download(url, INTERNAL_TOKEN, Some(other)).await.0,
        404
    );
    assert_eq!(
        internal_download(url, &owner.token, Some(org)).await.0,
        401,
        "a member's token"
    );
    assert_eq!(internal_download(url, INTERNAL_TOKEN, None).await.0, 400);
    let events = apps.recorded("invoice.issued").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["organisation_id"], owner.organisation_id.as_str());
    assert_eq!(events[0]["payload"]["invoice"]["number"], "FAC2026-000001");

    // The next one continues the series and chains to it.
    let second = draft(&owner, &societe, &client).await;
    let second = issue(&owner, second["id"].as_str().unwrap(), "2026-01-16").await;
    let second = &second.data()["issueInvoice"];
    assert_eq!(second["number"], "FAC2026-000002");
    let chained: String = Sha256::digest(
        format!(
            "{}{}",
            invoice["chainSha256"].as_str().unwrap(),
            second["documentSha256"].as_str().unwrap()
        )
        .as_bytes(),
    )
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    assert_eq!(second["chainSha256"], chained.as_str());
}

#[tokio::test]
async fn issuing_reports_every_missing_mention_and_consumes_no_number() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let bare = owner
        .core
        .run(
            "mutation { createClient(input: {kind: COMPANY, name: \"Sans SIREN\"}) { id } }",
            json!({}),
        )
        .await;
    let bare = bare.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    apps.wait_caught_up().await;
    let empty = owner
        .run(
            "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }",
            json!({"input": {"societeId": societe, "clientId": bare}}),
        )
        .await;
    let id = empty.data()["createInvoice"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = issue(&owner, &id, "2026-01-15").await;
    assert_eq!(refused.error_code(), "VALIDATION");
    let errors = refused.errors();
    let fields: Vec<&str> = errors[0]["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for field in [
        "lines",
        "buyerAddressLine1",
        "buyerPostalCode",
        "buyerCity",
        "buyerSiren",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let future = issue(&owner, &id, "2999-01-01").await;
    assert_eq!(future.error_code(), "VALIDATION");
    // Nothing was numbered: the next valid invoice is number 1.
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let ok = draft(&owner, &societe, &client).await;
    let ok = issue(&owner, ok["id"].as_str().unwrap(), "2026-01-15").await;
    assert_eq!(ok.data()["issueInvoice"]["number"], "FAC2026-000001");
    assert_eq!(apps.recorded("invoice.issued").await.len(), 1);
}

#[tokio::test]
async fn bad_drafts_are_refused_and_nothing_is_written() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let cases = [
        (json!({"clientId": uuid::Uuid::new_v4()}), "clientId"),
        (json!({"societeId": uuid::Uuid::new_v4()}), "societeId"),
        (
            json!({"lines": [{"description": "X", "quantity": "1", "unitPrice": "10", "vatRate": "19.6"}]}),
            "lines.0.vatRate",
        ),
        (
            json!({"lines": [{"description": "X", "quantity": "-1", "unitPrice": "10", "vatRate": "20"}]}),
            "lines.0.quantity",
        ),
        (
            json!({"lines": [{"description": "X", "quantity": "1", "unitPrice": "-10", "vatRate": "20"}]}),
            "lines.0.unitPrice",
        ),
        (
            json!({"lines": [{"description": " ", "quantity": "1", "unitPrice": "10", "vatRate": "20"}]}),
            "lines.0.description",
        ),
        (
            json!({"lines": [{"description": "X", "quantity": "1", "unitPrice": "10", "vatRate": "0"}]}),
            "lines.0.vatCategory",
        ),
        (
            json!({"lines": [{"description": "X", "quantity": "1", "unitPrice": "10", "discount": "11", "vatRate": "20"}]}),
            "lines.0.discount",
        ),
    ];
    for (patch, field) in cases {
        let mut input = draft_input(&societe, &client);
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let response = owner
            .run(
                "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }",
                json!({"input": input}),
            )
            .await;
        assert_eq!(response.error_code(), "VALIDATION", "{patch}");
        assert_eq!(
            response.errors()[0]["extensions"]["field"],
            field,
            "{patch}"
        );
    }
    assert_eq!(apps.count("invoices").await, 0);
    let bad_settings = owner
        .run(
            "mutation($id: ID!) { setInvoiceSettings(societeId: $id, input: {legalName: \"X\", legalForm: \"SAS\", shareCapital: \"1\", siren: \"732829320\", vatNumber: \"FR00732829320\", rcs: \"R\", addressLine1: \"A\", postalCode: \"1\", city: \"C\"}) { siren } }",
            json!({"id": societe}),
        )
        .await;
    assert_eq!(bad_settings.errors()[0]["extensions"]["field"], "vatNumber");
}

#[tokio::test]
async fn an_issued_invoice_is_never_changed_only_paid_or_credited() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let draft = draft(&owner, &societe, &client).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let issued = issue(&owner, &id, "2026-01-15").await;
    let before = issued.data()["issueInvoice"].clone();
    let update = owner
        .run(
            "mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { id } }",
            json!({"id": id, "input": draft_input(&societe, &client)}),
        )
        .await;
    assert_eq!(update.error_code(), "INVALID_TRANSITION");
    let delete = owner
        .run(
            "mutation($id: ID!) { deleteInvoice(id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(delete.error_code(), "INVALID_TRANSITION");
    assert_eq!(
        issue(&owner, &id, "2026-01-15").await.error_code(),
        "INVALID_TRANSITION"
    );

    let pay = |amount: &'static str| {
        let owner = owner.clone();
        let id = id.clone();
        async move {
            owner
                .run(
                    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { status amountPaid amountDue } }",
                    json!({"input": {"invoiceId": id, "amount": amount, "paidOn": "2026-01-20", "method": "TRANSFER"}}),
                )
                .await
        }
    };
    let refused = member
        .run(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { status } }",
            json!({"input": {"invoiceId": id, "amount": "1", "paidOn": "2026-01-20", "method": "TRANSFER"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    assert_eq!(
        pay("30").await.data()["recordPayment"],
        json!({"status": "PARTIALLY_PAID", "amountPaid": "30.00", "amountDue": "51.79"})
    );
    assert_eq!(pay("51.80").await.error_code(), "VALIDATION");
    assert_eq!(pay("51.79").await.data()["recordPayment"]["status"], "PAID");
    assert_eq!(pay("1").await.error_code(), "INVALID_TRANSITION");
    assert_eq!(apps.recorded("invoice.paid").await.len(), 1);

    let after = owner
        .run(
            &format!("query($id: ID!) {{ invoice(id: $id) {{ {INVOICE} }} }}"),
            json!({"id": id}),
        )
        .await;
    for field in [
        "number",
        "totalInclVat",
        "facturxXml",
        "documentSha256",
        "chainSha256",
        "lines",
        "issueDate",
    ] {
        assert_eq!(
            after.data()["invoice"][field],
            before[field],
            "{field} changed"
        );
    }
}

#[tokio::test]
async fn credit_notes_never_exceed_the_invoice_and_a_full_credit_cancels_it() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let draft_id = draft(&owner, &societe, &client).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unissued = owner
        .run(
            "mutation($id: ID!) { createCreditNote(invoiceId: $id, reason: \"x\") { id } }",
            json!({"id": draft_id}),
        )
        .await;
    assert_eq!(unissued.error_code(), "INVALID_TRANSITION");
    issue(&owner, &draft_id, "2026-01-15").await.data();
    let partial = owner
        .run(
            &format!("mutation($id: ID!, $lines: [InvoiceLineInput!]) {{ createCreditNote(invoiceId: $id, lines: $lines, reason: \"Geste commercial\") {{ {INVOICE} originalInvoice {{ number status }} }} }}"),
            json!({"id": draft_id, "lines": [{"description": "Remise", "quantity": "1", "unitPrice": "10", "vatRate": "20"}]}),
        )
        .await;
    let note = &partial.data()["createCreditNote"];
    assert_eq!(note["kind"], "CREDIT_NOTE");
    assert_eq!(note["number"], "AV2026-000001");
    assert_eq!(note["totalInclVat"], "12.00");
    assert_eq!(
        note["originalInvoice"],
        json!({"number": "FAC2026-000001", "status": "ISSUED"})
    );
    if let Err(report) = validate(note["facturxXml"].as_str().unwrap()) {
        panic!("{report}");
    }
    let too_much = owner
        .run(
            "mutation($id: ID!, $lines: [InvoiceLineInput!]) { createCreditNote(invoiceId: $id, lines: $lines, reason: \"x\") { id } }",
            json!({"id": draft_id, "lines": [{"description": "Trop", "quantity": "1", "unitPrice": "60", "vatRate": "20"}]}),
        )
        .await;
    assert_eq!(too_much.error_code(), "VALIDATION");
    let rest = owner
        .run(
            "mutation($id: ID!, $lines: [InvoiceLineInput!]) { createCreditNote(invoiceId: $id, lines: $lines, reason: \"Solde\") { number originalInvoice { status } } }",
            json!({"id": draft_id, "lines": [
                {"description": "Solde 20", "quantity": "1", "unitPrice": "44.97", "vatRate": "20"},
                {"description": "Solde 5.5", "quantity": "1", "unitPrice": "15", "vatRate": "5.5"}]}),
        )
        .await;
    assert_eq!(
        rest.data()["createCreditNote"],
        json!({"number": "AV2026-000002", "originalInvoice": {"status": "CANCELLED"}})
    );
    assert_eq!(apps.recorded("credit_note.issued").await.len(), 2);
}

#[tokio::test]
async fn a_signed_contract_becomes_one_draft_whatever_the_deliveries() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let contract = uuid::Uuid::new_v4();
    let event = envelope(
        "contract.signed",
        &owner.organisation_id,
        json!({"contract": {"contract_id": contract, "reference": "CTR-1", "client_id": client, "societe_id": societe, "signature_date": "2026-01-10",
                            "status": "SIGNED", "start_date": "2026-01-01", "billing_frequency": "MONTHLY", "currency": "EUR",
                            "total_excl_vat": "39.98", "total_vat": "8.00", "total_incl_vat": "47.98"},
               "lines": [{"line_id": uuid::Uuid::new_v4(), "product_id": uuid::Uuid::new_v4(),
                          "product_sku": "ASS-1", "product_name": "Assurance", "description": null, "quantity": "2.000", "unit_price": "19.99", "vat_rate": "20.0",
                          "total_excl_vat": "39.98", "total_vat": "8.00", "total_incl_vat": "47.98"}]}),
    );
    apps.publish(&event).await;
    apps.publish(&event).await;
    apps.wait_handled(event.id).await;
    let marker = envelope(
        "contract.signed",
        &owner.organisation_id,
        json!({"contract": "not a contract"}),
    );
    apps.publish(&marker).await;
    apps.wait_handled(marker.id).await;
    let drafts = owner
        .run(
            "query($c: ID!) { invoices(filter: {contractId: $c}) { totalCount edges { node { status totalInclVat buyerName lines { productReference description quantity } } } } }",
            json!({"c": contract}),
        )
        .await;
    let page = &drafts.data()["invoices"];
    assert_eq!(page["totalCount"], 1);
    assert_eq!(
        page["edges"][0]["node"],
        json!({"status": "DRAFT", "totalInclVat": "47.98", "buyerName": "Dupont SA",
               "lines": [{"productReference": "ASS-1", "description": "Assurance", "quantity": "2"}]})
    );
}

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4z8AARAAI/gH/xp559wAAAABJRU5ErkJggg==";

#[tokio::test]
async fn the_logo_is_checked_and_printed() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let set = |logo: Option<&'static str>| {
        let owner = owner.clone();
        let societe = societe.clone();
        async move {
            owner
                .run(
                    "mutation($s: ID!, $l: String) { setInvoiceLogo(societeId: $s, logoBase64: $l) { logoMime } }",
                    json!({"s": societe, "l": logo}),
                )
                .await
        }
    };
    assert_eq!(set(Some("not base64!")).await.error_code(), "VALIDATION");
    assert_eq!(set(Some("aGVsbG8=")).await.error_code(), "VALIDATION"); // "hello"
    assert_eq!(
        set(Some(PNG)).await.data()["setInvoiceLogo"]["logoMime"],
        "image/png"
    );
    let client = company(&apps, &owner, "Dupont SA", CLIENT_SIREN).await;
    let d = draft(&owner, &societe, &client).await;
    let issued = issue(&owner, d["id"].as_str().unwrap(), "2026-01-15").await;
    let invoice = &issued.data()["issueInvoice"];
    let (status, pdf) = download(Some(&owner), invoice["pdfUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    if let Err(report) = subgraph_finance::domain::facturx::validate_pdf(
        &pdf,
        invoice["facturxXml"].as_str().unwrap(),
    ) {
        panic!("{report}");
    }
    assert_eq!(
        set(None).await.data()["setInvoiceLogo"]["logoMime"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn a_draft_starts_from_the_clients_billing_address_as_core_says_it() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let created = owner
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "COMPANY", "name": "Dupont SA", "siren": CLIENT_SIREN,
                   "addresses": [{"kind": "BILLING", "line1": "2 avenue Foch", "postalCode": "69006", "city": "Lyon"}]}}),
        )
        .await;
    let client = created.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    apps.wait_caught_up().await;
    let input = json!({"input": {"societeId": societe, "clientId": client,
        "lines": [{"description": "X", "quantity": "1", "unitPrice": "10", "vatRate": "20"}]}});
    let make = || async {
        owner
            .run("mutation($input: InvoiceInput!) { createInvoice(input: $input) { id buyerAddress } }", input.clone())
            .await
            .data()["createInvoice"]
            .clone()
    };
    let first = make().await;
    assert_eq!(first["buyerAddress"], "2 avenue Foch, 69006 Lyon");
    // A new default billing address in core reaches finance through client.updated.
    owner
        .core
        .run(
            "mutation($c: ID!) { addAddress(clientId: $c, input: {kind: BILLING, line1: \"9 quai Perrache\", postalCode: \"69002\", city: \"Lyon\", isDefault: true}) { id } }",
            json!({"c": client}),
        )
        .await
        .data();
    apps.wait_caught_up().await;
    assert_eq!(make().await["buyerAddress"], "9 quai Perrache, 69002 Lyon");
    // With its address, the draft issues as it is.
    let issued = issue(&owner, first["id"].as_str().unwrap(), "2026-01-15").await;
    assert_eq!(issued.data()["issueInvoice"]["number"], "FAC2026-000001");
}
