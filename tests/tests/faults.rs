//! A fault of the event flow through the whole stack: finance's `finance-directory` consumer
//! stopped for a minute (its NATS permissions withdrawn and the server reloaded, as a faulty
//! deployment would: the consumer idles once its last pull request expires) while a client is
//! created and a contract signed. The contract's event
//! waits for the client instead of being dead-lettered, and once the directory is back the
//! draft invoice exists.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::{Duration, Instant};

use async_nats::jetstream;
use crm_e2e::{
    catalogue::nats_config,
    harness::{company_client, invoicing_setup, signed_contract, Stack},
};
use crm_test_support::wait_for;
use serde_json::json;
use subgraph_kit::{bus::Bus, events::EventsSettings};

/// The deployment's NATS configuration with finance's directory consumer taken away.
fn without_finance_directory() -> String {
    let buses: Vec<Bus> = crm_e2e::catalogue::SUBGRAPHS
        .iter()
        .map(|s| {
            let mut bus = *s.bus;
            if bus.service == "finance" {
                let kept: Vec<_> = bus
                    .consumers
                    .iter()
                    .copied()
                    .filter(|(name, _)| *name != "finance-directory")
                    .collect();
                bus.consumers = Box::leak(kept.into_boxed_slice());
            }
            bus
        })
        .collect();
    subgraph_kit::bus::nats_config(&buses, &EventsSettings::new(""))
}

async fn consumer_info(js: &jetstream::Context, name: &str) -> Option<jetstream::consumer::Info> {
    let stream = js.get_stream("CRM_EVENTS").await.ok()?;
    stream.consumer_info(name).await.ok()
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[allow(clippy::print_stdout)] // the counts are the test's report, shown with --nocapture
#[tokio::test]
async fn a_contract_signed_while_finance_directory_is_stopped_becomes_a_draft_without_dead_letter()
{
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@faults.test", "Acme").await;
    let (societe, product) = invoicing_setup(&owner).await;

    // Finance's directory consumer stops: once the reload applies, finance may no longer use
    // it, and its last pull request expires (within 5 s).
    let js = jetstream::new(stack.nats.client_as(subgraph_kit::bus::OPERATOR).await);
    let mut as_finance = jetstream::new(stack.nats.client_as("finance").await);
    as_finance.set_timeout(Duration::from_secs(2));
    stack.nats.reload(&without_finance_directory());
    let stopped = Instant::now();
    let denied = wait_for(Duration::from_secs(20), || async {
        let stream = as_finance.get_stream("CRM_EVENTS").await.ok()?;
        stream
            .consumer_info("finance-directory")
            .await
            .is_err()
            .then_some(())
    })
    .await;
    assert!(denied.is_some(), "the reloaded permissions never applied");
    let idle = wait_for(Duration::from_secs(20), || async {
        let info = consumer_info(&js, "finance-directory").await?;
        (info.num_waiting == 0).then_some(())
    })
    .await;
    assert!(idle.is_some(), "finance-directory still pulls");
    let client = company_client(&owner).await;
    let contract = signed_contract(&owner, &client, &societe, &product).await;

    // finance-contracts has the event and waits for the client: tried again and again.
    let finance = &stack.finance_db.pool;
    let waiting = wait_for(Duration::from_secs(30), || async {
        let info = consumer_info(&js, "finance-contracts").await?;
        (info.delivered.consumer_sequence >= 3).then_some(())
    })
    .await;
    assert!(
        waiting.is_some(),
        "finance-contracts never retried the contract"
    );
    assert_eq!(
        count(finance, "select count(*) from clients").await,
        0,
        "the directory is stopped"
    );
    // The outage lasts a minute in all: the fault's length, not a synchronisation.
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(stopped.elapsed())).await;
    assert_eq!(count(finance, "select count(*) from invoices").await, 0);
    assert_eq!(count(finance, "select count(*) from dead_letters").await, 0);

    // The directory is back: the client arrives, then the waiting contract becomes a draft.
    stack.nats.reload(&nats_config());
    let draft = wait_for(Duration::from_secs(180), || async {
        let r = owner
            .run(
                "query($id: ID!) { contract(id: $id) { invoices { nodes { id status } } } }",
                json!({"id": contract}),
            )
            .await;
        let invoices = r.data()["contract"]["invoices"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        invoices.first().cloned()
    })
    .await
    .expect("a draft invoice once the directory is back");
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(count(finance, "select count(*) from invoices").await, 1);
    assert_eq!(count(finance, "select count(*) from dead_letters").await, 0);
    println!(
        "finance-directory stopped for a minute: one draft {} s after it stopped, no dead letter",
        stopped.elapsed().as_secs()
    );
}
