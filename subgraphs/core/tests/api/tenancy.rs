//! Tenancy: every core operation tried by another organisation's owner, with ids of the first
//! organisation's data. Nothing is read, nothing changes.

use serde_json::{json, Value};

use crate::helpers::*;

struct Victim {
    client: Value,
    address_id: Value,
    societe_id: Value,
    invitation_id: Value,
    member_id: String,
}

async fn victim(app: &TestApp, owner: &Session) -> Victim {
    let societe = owner
        .run(
            "mutation { createSociete(input: {name: \"Acme SAS\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let societe_id = societe.data()["createSociete"]["id"].clone();
    let mut input = person("Dupont", "06 12 34 56 78");
    input["societeId"] = societe_id.clone();
    input["addresses"] =
        json!([{"kind": "BILLING", "line1": "1 rue A", "postalCode": "75001", "city": "Paris"}]);
    let client = create_client(owner, input).await;
    let address_id = client["addresses"][0]["id"].clone();
    let invitation = owner
        .run("mutation { inviteMember(input: {email: \"p@example.fr\", role: MEMBER}) { invitation { id } } }", json!({}))
        .await;
    let invitation_id = invitation.data()["inviteMember"]["invitation"]["id"].clone();
    let member = app.join(owner, "m@example.fr", "MEMBER").await;
    Victim {
        client,
        address_id,
        societe_id,
        invitation_id,
        member_id: member.user_id,
    }
}

/// Every row of the victim's organisation, as text.
async fn snapshot(app: &TestApp, organisation_id: &str) -> String {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select t::text from (
            select row(c.*)::text as t from clients c where organisation_id = $1::uuid
            union all select row(a.*)::text from addresses a where organisation_id = $1::uuid
            union all select row(s.*)::text from societes s where organisation_id = $1::uuid
            union all select row(m.*)::text from memberships m where organisation_id = $1::uuid
            union all select row(i.*)::text from invitations i where organisation_id = $1::uuid
            union all select row(o.*)::text from organisations o where id = $1::uuid
         ) x(t) order by 1",
    )
    .bind(organisation_id)
    .fetch_all(&app.core_db.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn another_organisation_can_neither_read_nor_change_anything() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let v = victim(&app, &owner).await;
    let intruder = app.sign_up("intruder@example.fr", "Evil").await;
    let before = snapshot(&app, &owner.organisation_id).await;
    let id = &v.client["id"];

    let not_found = [
        ("query($id: ID!) { client(id: $id) { name } }", json!({"id": id})),
        ("query($id: ID!) { societe(id: $id) { name } }", json!({"id": v.societe_id})),
        ("mutation($id: ID!) { updateClient(id: $id, input: {name: \"Pwned\"}) { name } }", json!({"id": id})),
        ("mutation($id: ID!) { deleteClient(id: $id) { id } }", json!({"id": id})),
        ("mutation($id: ID!) { restoreClient(id: $id) { id } }", json!({"id": id})),
        ("mutation($id: ID!) { addAddress(clientId: $id, input: {kind: OTHER, line1: \"x\", postalCode: \"75001\", city: \"P\"}) { id } }", json!({"id": id})),
        ("mutation($id: ID!) { updateAddress(id: $id, input: {kind: BILLING, line1: \"x\", postalCode: \"75001\", city: \"P\"}) { id } }", json!({"id": v.address_id})),
        ("mutation($id: ID!) { deleteAddress(id: $id) }", json!({"id": v.address_id})),
        ("mutation($id: ID!) { updateSociete(id: $id, input: {name: \"x\", siren: \"552100554\"}) { id } }", json!({"id": v.societe_id})),
        ("mutation($id: ID!) { deleteSociete(id: $id) }", json!({"id": v.societe_id})),
        ("mutation($id: ID!) { revokeInvitation(id: $id) { id } }", json!({"id": v.invitation_id})),
        ("mutation($id: ID!) { updateMemberRole(userId: $id, role: VIEWER) { role } }", json!({"id": v.member_id})),
        ("mutation($id: ID!) { removeMember(userId: $id) }", json!({"id": v.member_id})),
    ];
    for (query, variables) in not_found {
        let response = intruder.run(query, variables).await;
        assert_eq!(response.error_code(), "NOT_FOUND", "{query}");
    }

    // A client of the intruder's own organisation cannot be tied to the victim's société.
    let mut input = person("Evil", "06 66 66 66 66");
    input["societeId"] = v.societe_id.clone();
    assert_eq!(
        intruder
            .run(CREATE_CLIENT, json!({"input": input}))
            .await
            .error_code(),
        "NOT_FOUND"
    );

    // Lists and searches see only the intruder's (empty) organisation.
    let lists = intruder
        .run(
            "{ all: clients { totalCount } found: clients(filter: {search: \"Dupont\"}) { totalCount }
               bin: clients(filter: {deleted: true}) { totalCount } societes { id } members { user { email } }
               invitations { email } organisation { name } }",
            json!({}),
        )
        .await;
    let data = lists.data();
    assert_eq!(data["all"]["totalCount"], 0);
    assert_eq!(data["found"]["totalCount"], 0);
    assert_eq!(data["bin"]["totalCount"], 0);
    assert_eq!(data["societes"], json!([]));
    assert_eq!(data["members"].as_array().unwrap().len(), 1);
    assert_eq!(data["members"][0]["user"]["email"], "intruder@example.fr");
    assert_eq!(data["invitations"], json!([]));
    assert_eq!(data["organisation"]["name"], "Evil");

    // Entity lookups resolve foreign ids to null.
    let entities = intruder
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { name } ... on Address { city }
               ... on Societe { name } ... on User { email } ... on Organisation { name } } }",
            json!({"r": [
                {"__typename": "Client", "id": id},
                {"__typename": "Address", "id": v.address_id},
                {"__typename": "Societe", "id": v.societe_id},
                {"__typename": "User", "id": owner.user_id},
                {"__typename": "Organisation", "id": owner.organisation_id},
            ]}),
        )
        .await;
    assert_eq!(
        entities.data()["_entities"],
        json!([null, null, null, null, null])
    );

    // Switching into the victim's organisation needs a membership.
    let switch = intruder
        .run(
            "mutation($id: ID!) { switchOrganisation(organisationId: $id) { token } }",
            json!({"id": owner.organisation_id}),
        )
        .await;
    assert_eq!(switch.error_code(), "FORBIDDEN");

    // Renaming "the organisation" renames the caller's own, never another.
    let renamed = intruder
        .run(
            "mutation { updateOrganisation(name: \"Evil Corp\") { id name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        renamed.data()["updateOrganisation"]["id"],
        intruder.organisation_id.as_str()
    );

    assert_eq!(
        snapshot(&app, &owner.organisation_id).await,
        before,
        "the victim's data changed"
    );
}
