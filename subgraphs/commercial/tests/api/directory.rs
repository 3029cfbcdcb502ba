//! The directory reads through to core: a client, a société or a member that commercial has
//! not heard of is asked of core with the caller's token, so it is usable at once — and only
//! within the caller's organisation.

use serde_json::json;

use crate::helpers::{spawn_apps_deaf_to_core, Session, TestApps};

async fn client_in_core(session: &Session, name: &str) -> String {
    let response = session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "COMPANY", "name": name}}),
        )
        .await;
    response.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn contract_for(
    session: &Session,
    reference: &str,
    client: &str,
) -> crm_test_support::GqlResponse {
    session
        .run(
            "mutation($input: CreateContractInput!) { createContract(input: $input) { id client { id } } }",
            json!({"input": {"reference": reference, "title": "Contrat", "clientId": client,
                             "startDate": "2026-01-01", "billingFrequency": "MONTHLY"}}),
        )
        .await
}

async fn projected(apps: &TestApps, table: &str) -> i64 {
    apps.count(table).await
}

#[tokio::test]
async fn a_client_unknown_to_commercial_is_asked_of_core_and_remembered() {
    let apps = spawn_apps_deaf_to_core().await;
    let owner = apps.harness.sign_up("owner@example.fr", "Acme").await;
    let client = client_in_core(&owner, "Dupont SA").await;
    assert_eq!(
        projected(&apps, "clients").await,
        0,
        "no event reached commercial"
    );

    let created = contract_for(&owner, "CTR-1", &client).await;
    assert_eq!(
        created.data()["createContract"]["client"]["id"],
        client.as_str()
    );
    assert_eq!(
        projected(&apps, "clients").await,
        1,
        "what core said is recorded"
    );
    let name: String = sqlx::query_scalar("select name from clients")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(name, "Dupont SA");
}

#[tokio::test]
async fn another_organisations_client_is_refused_even_when_core_knows_it() {
    let apps = spawn_apps_deaf_to_core().await;
    let owner = apps.harness.sign_up("owner@example.fr", "Acme").await;
    let stranger = apps.harness.sign_up("stranger@example.fr", "Other").await;
    let foreign = client_in_core(&stranger, "Martin SARL").await;

    let refused = contract_for(&owner, "CTR-1", &foreign).await;
    assert_eq!(refused.error_code(), "VALIDATION");
    assert_eq!(refused.errors()[0]["extensions"]["field"], "clientId");
    let unknown = contract_for(&owner, "CTR-2", &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(unknown.error_code(), "VALIDATION");
    assert_eq!(projected(&apps, "clients").await, 0);
    assert_eq!(projected(&apps, "contracts").await, 0);
}

#[tokio::test]
async fn a_societe_and_a_member_unknown_to_commercial_are_asked_of_core() {
    let apps = spawn_apps_deaf_to_core().await;
    let owner = apps.harness.sign_up("owner@example.fr", "Acme").await;
    let member = apps.harness.join(&owner, "rep@example.fr", "MEMBER").await;
    let societe = owner
        .core
        .run(
            "mutation { createSociete(input: {name: \"Acme SAS\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let societe = societe.data()["createSociete"]["id"].clone();

    let rep = owner
        .run(
            "mutation($input: SalesRepInput!) { createSalesRep(input: $input) { id user { id } societe { id } } }",
            json!({"input": {"kind": "REP", "firstName": "Rémi", "lastName": "Petit",
                             "userId": member.user_id, "societeId": societe}}),
        )
        .await;
    let rep = &rep.data()["createSalesRep"];
    assert_eq!(rep["user"]["id"], member.user_id.as_str());
    assert_eq!(rep["societe"]["id"], societe);
    assert_eq!(projected(&apps, "societes").await, 1);
    let role: Option<String> = sqlx::query_scalar("select role from members")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("MEMBER"));
}
