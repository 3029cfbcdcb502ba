//! The seeder of `cargo xtask seed`, at a small scale on a fresh stack: every subgraph's
//! database and projection agree, invoice numbers are gap-free and continue afterwards, the
//! federated page reads the seeded organisation, and a second run refuses to seed twice.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_e2e::{
    demo::Api,
    harness::Stack,
    seed::{self, SeedOptions},
};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const OPTIONS: SeedOptions = SeedOptions {
    clients: 45,
    contracts_per_client: 2,
    invoices_per_contract: 3,
};

async fn seed_on(stack: &Stack) -> anyhow::Result<seed::Seeded> {
    let urls = [
        ("core", stack.core_db.url.clone()),
        ("commercial", stack.commercial_db.url.clone()),
        ("finance", stack.finance_db.url.clone()),
        ("engagement", stack.engagement_db.url.clone()),
    ];
    let mut chunks = 0;
    let seeded = seed::seed(
        &stack.gateway.url(),
        |name| {
            urls.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, url)| url.clone())
                .unwrap_or_default()
        },
        &stack.mail_key,
        &OPTIONS,
        |_, _| chunks += 1,
    )
    .await;
    assert!(seeded.is_err() || chunks > 0, "progress is reported");
    seeded
}

async fn count(pool: &PgPool, sql: &str, organisation: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(organisation)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn seeded_organisation_is_consistent_across_subgraphs() {
    let stack = Stack::start().await;
    let seeded = seed_on(&stack).await.unwrap();
    let organisation = seeded.organisation;
    let contracts = OPTIONS.clients * OPTIONS.contracts_per_client;
    let invoices = contracts * OPTIONS.invoices_per_contract;
    assert_eq!(seeded.counts.clients, OPTIONS.clients);
    assert_eq!(seeded.counts.contracts, contracts);
    assert_eq!(seeded.counts.invoices, invoices);

    // Every subgraph's projection of the clients matches core's rows, name for name.
    let core_names: Vec<(Uuid, String)> = sqlx::query_as(
        "select id, coalesce(first_name || ' ', '') || name from clients
          where organisation_id = $1 order by id",
    )
    .bind(organisation)
    .fetch_all(&stack.core_db.pool)
    .await
    .unwrap();
    assert_eq!(core_names.len() as u64, OPTIONS.clients);
    for (name, pool) in [
        ("commercial", &stack.commercial_db.pool),
        ("finance", &stack.finance_db.pool),
        ("engagement", &stack.engagement_db.pool),
    ] {
        let projected: Vec<(Uuid, String)> =
            sqlx::query_as("select id, name from clients where organisation_id = $1 order by id")
                .bind(organisation)
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(projected, core_names, "{name}'s client projection");
    }
    let addresses = count(
        &stack.core_db.pool,
        "select count(*) from addresses where organisation_id = $1",
        organisation,
    )
    .await;
    assert_eq!(addresses as u64, OPTIONS.clients);
    let contract_rows = count(
        &stack.commercial_db.pool,
        "select count(*) from contracts where organisation_id = $1",
        organisation,
    )
    .await;
    assert_eq!(contract_rows as u64, contracts);
    // Each invoice names a contract commercial has, and a client of that contract.
    let contract_pairs: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select id, client_id from contracts where organisation_id = $1")
            .bind(organisation)
            .fetch_all(&stack.commercial_db.pool)
            .await
            .unwrap();
    let invoice_pairs: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select distinct contract_id, client_id from invoices where organisation_id = $1",
    )
    .bind(organisation)
    .fetch_all(&stack.finance_db.pool)
    .await
    .unwrap();
    let mut expected = contract_pairs.clone();
    expected.sort();
    let mut found = invoice_pairs.clone();
    found.sort();
    assert_eq!(
        found, expected,
        "every contract has invoices, for its client"
    );

    // Numbers: gap-free from 1 per société and year, in date order.
    let series: Vec<(Uuid, i32, i64, i64, i64, bool)> = sqlx::query_as(
        "select societe_id, fiscal_year, count(*), min(sequence), max(sequence),
                bool_and(ordered) from (
            select societe_id, fiscal_year, sequence,
                   issue_date >= coalesce(lag(issue_date) over w, issue_date) as ordered
              from invoices where organisation_id = $1 and number is not null
            window w as (partition by societe_id, fiscal_year order by sequence)) s
         group by societe_id, fiscal_year",
    )
    .bind(organisation)
    .fetch_all(&stack.finance_db.pool)
    .await
    .unwrap();
    assert!(!series.is_empty());
    let numbered: i64 = series.iter().map(|s| s.2).sum();
    assert_eq!(numbered as u64, invoices);
    for (societe, year, n, min, max, ordered) in &series {
        assert_eq!(
            (*min, *max),
            (1, *n),
            "série of {societe} in {year} has gaps"
        );
        assert!(ordered, "série of {societe} in {year} is out of date order");
    }

    // The federated page reads it all through the gateway.
    let api = Api::new(&stack.gateway.url());
    let login = api
        .run(
            "mutation($input: LoginInput!) { login(input: $input) { token } }",
            json!({"input": {"email": seed::SEED_EMAIL, "password": seed::SEED_PASSWORD}}),
        )
        .await
        .unwrap();
    let api = api.with_token(login["login"]["token"].as_str().unwrap());
    let page = api
        .run(
            "{ clients(first: 20) { totalCount nodes { id displayName
                 contracts { nodes { reference lines { product { name } }
                   invoices { nodes { number status } } } } } } }",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(page["clients"]["totalCount"], json!(OPTIONS.clients));
    let nodes = page["clients"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 20);
    for node in nodes {
        let contracts = node["contracts"]["nodes"].as_array().unwrap();
        assert_eq!(contracts.len() as u64, OPTIONS.contracts_per_client);
        for contract in contracts {
            let lines = contract["lines"].as_array().unwrap();
            assert!(!lines.is_empty() && lines.iter().all(|l| l["product"]["name"].is_string()));
            let invoices = contract["invoices"]["nodes"].as_array().unwrap();
            assert_eq!(invoices.len() as u64, OPTIONS.invoices_per_contract);
            assert!(invoices
                .iter()
                .all(|i| i["number"].is_string() && i["status"] != "DRAFT"));
        }
    }

    // An invoice issued now continues its société's série of this year.
    let (client, siren): (Uuid, String) = sqlx::query_as(
        "select id, siren from clients where organisation_id = $1 and siren is not null limit 1",
    )
    .bind(organisation)
    .fetch_one(&stack.finance_db.pool)
    .await
    .unwrap();
    let (societe, year, last): (Uuid, i32, i64) = sqlx::query_as(
        "select societe_id, fiscal_year, max(sequence) from invoices
          where organisation_id = $1 and fiscal_year = extract(year from now())::int
          group by societe_id, fiscal_year limit 1",
    )
    .bind(organisation)
    .fetch_one(&stack.finance_db.pool)
    .await
    .unwrap();
    let draft = api
        .run(
            "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }",
            json!({"input": {"societeId": societe, "clientId": client, "buyerSiren": siren,
                   "buyerAddressLine1": "1 rue du Test", "buyerPostalCode": "75001", "buyerCity": "Paris",
                   "lines": [{"description": "Conseil", "quantity": "1", "unitPrice": "100.00", "vatRate": "20"}]}}),
        )
        .await
        .unwrap();
    let issued = api
        .run(
            "mutation($id: ID!) { issueInvoice(id: $id) { number } }",
            json!({"id": draft["createInvoice"]["id"]}),
        )
        .await
        .unwrap();
    let number = issued["issueInvoice"]["number"].as_str().unwrap();
    assert!(
        number.ends_with(&format!("{year}-{:06}", last + 1)),
        "{number} continues after {last}"
    );

    // Seeding again into the same databases is refused, and says how to start over.
    let again = seed_on(&stack).await.unwrap_err();
    assert!(format!("{again:#}").contains("--reset"), "{again:#}");
}
