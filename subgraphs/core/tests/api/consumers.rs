//! Durable consumers: each event's effect happens once, whatever the deliveries, kills and
//! failures; events that keep failing are dead-lettered and can be replayed.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use async_nats::{header::HeaderMap, jetstream};
use crm_events::{event_set, Event};
use crm_test_support::{harness::operate, wait_for};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use subgraph_kit::{
    consumer::{self, ConsumerSpec, Handler, HandlerError, Outcome},
    events::{ensure_stream, Envelope, EventsSettings},
};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::helpers::*;

/// What the test handler does on each call.
#[derive(Clone, Copy)]
enum Behaviour {
    Succeed,
    /// Writes its effect, then never finishes (a consumer that dies mid-handling).
    Hang,
    FailTransiently,
    FailPermanently,
    /// Needs a fact that arrives when `ready` turns true.
    WaitUntilReady,
}

#[derive(Clone)]
struct Recorder {
    behaviour: Behaviour,
    calls: Arc<AtomicUsize>,
    started: Arc<Notify>,
    ready: Arc<AtomicBool>,
}

impl Recorder {
    fn new(behaviour: Behaviour) -> Self {
        Self {
            behaviour,
            calls: Arc::default(),
            started: Arc::default(),
            ready: Arc::default(),
        }
    }
}

/// The test's own event type.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Happened {
    name: String,
}

impl Event for Happened {
    const TYPE: &'static str = "test.happened";
    const VERSION: u32 = 1;
}

event_set! {
    enum TestEvents {
        Happened(Happened),
    }
}

impl Handler for Recorder {
    type Events = TestEvents;
    type Output = ();

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &Envelope,
        _: TestEvents,
    ) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        sqlx::query("insert into test_effects (event_id) values ($1)")
            .bind(event.id)
            .execute(&mut *tx)
            .await?;
        match self.behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::Hang => {
                self.started.notify_one();
                std::future::pending().await
            }
            Behaviour::FailTransiently => Err(HandlerError::Transient(anyhow::anyhow!(
                "the mail server is down"
            ))),
            Behaviour::FailPermanently => {
                Err(HandlerError::Permanent(anyhow::anyhow!("no such template")))
            }
            Behaviour::WaitUntilReady if self.ready.load(Ordering::SeqCst) => Ok(()),
            Behaviour::WaitUntilReady => Err(HandlerError::not_yet("client not known yet")),
        }
    }
}

async fn effects(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from test_effects")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn setup(app: &TestApp) -> (async_nats::Client, jetstream::Context) {
    sqlx::query("create table test_effects (event_id uuid not null)")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let client = async_nats::connect(app.events.nats_url.as_str())
        .await
        .unwrap();
    let js = jetstream::new(client.clone());
    ensure_stream(&js, &app.events).await.unwrap();
    (client, js)
}

/// Publishes `event` under a fresh message id (so JetStream's dedupe does not hide a repeat).
async fn publish(js: &jetstream::Context, events: &EventsSettings, event: &Envelope) {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
    js.publish_with_headers(
        events.subject(&event.event_type),
        headers,
        serde_json::to_vec(event).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
}

fn event() -> Envelope {
    let happened = Happened {
        name: "Dupont".into(),
    };
    Envelope::of(&happened, Uuid::new_v4(), None).unwrap()
}

fn spec(name: &str) -> ConsumerSpec {
    ConsumerSpec {
        max_deliver: 3,
        ack_wait: Duration::from_secs(1),
        ..ConsumerSpec::new(name, &[Happened::TYPE])
    }
}

fn start(
    app: &TestApp,
    client: &async_nats::Client,
    spec: ConsumerSpec,
    handler: Recorder,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(consumer::run(
        app.core_db.pool.clone(),
        client.clone(),
        app.events.clone(),
        spec,
        handler,
        stopped,
    ));
    (stop, task)
}

async fn wait_until(what: &str, check: impl AsyncFn() -> bool) {
    let ok = wait_for(Duration::from_secs(20), || async {
        check().await.then_some(())
    })
    .await;
    assert!(ok.is_some(), "timed out waiting until {what}");
}

#[tokio::test]
async fn an_event_delivered_twice_has_one_effect() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let handler = Recorder::new(Behaviour::Succeed);
    let (stop, task) = start(&app, &client, spec("test-twice"), handler.clone());
    let event = event();
    publish(&js, &app.events, &event).await;
    publish(&js, &app.events, &event).await;
    wait_until("both deliveries are handled", async || {
        handler.calls.load(Ordering::SeqCst) >= 1
    })
    .await;
    wait_until("the second delivery is acknowledged", async || {
        let info = js
            .get_stream(&app.events.stream)
            .await
            .unwrap()
            .consumer_info("test-twice")
            .await
            .unwrap();
        info.num_pending == 0 && info.num_ack_pending == 0
    })
    .await;
    assert_eq!(effects(&app.core_db.pool).await, 1);
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        1,
        "the repeat was recognised before the handler ran"
    );
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_consumer_killed_mid_handling_reprocesses_the_event_once() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let hanging = Recorder::new(Behaviour::Hang);
    let (_stop, task) = start(&app, &client, spec("test-killed"), hanging.clone());
    publish(&js, &app.events, &event()).await;
    hanging.started.notified().await;
    task.abort(); // killed: its transaction, effect included, is rolled back
    let _ = task.await;
    // A killed process's connections close and PostgreSQL rolls back at once; an aborted task
    // leaves its connection idle in transaction in the pool: close it as the OS would.
    sqlx::query(
        "select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and state = 'idle in transaction'",
    )
    .execute(&app.core_db.pool)
    .await
    .unwrap();
    wait_until("the killed transaction is gone", async || {
        effects(&app.core_db.pool).await == 0
    })
    .await;

    let healthy = Recorder::new(Behaviour::Succeed);
    let (stop, task) = start(&app, &client, spec("test-killed"), healthy.clone());
    wait_until("the event is redelivered and handled", async || {
        effects(&app.core_db.pool).await == 1
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    assert_eq!(effects(&app.core_db.pool).await, 1);
    assert_eq!(healthy.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_dead_lettered_then_replayed() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let failing = Recorder::new(Behaviour::FailTransiently);
    let (stop, task) = start(&app, &client, spec("test-failing"), failing.clone());
    let event = event();
    publish(&js, &app.events, &event).await;
    wait_until("the event is dead-lettered", async || {
        !consumer::list_dead_letters(&app.core_db.pool, "test-failing")
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    assert_eq!(
        failing.calls.load(Ordering::SeqCst),
        3,
        "max_deliver attempts"
    );
    assert_eq!(
        effects(&app.core_db.pool).await,
        0,
        "failed attempts leave no effect"
    );
    let letters = consumer::list_dead_letters(&app.core_db.pool, "test-failing")
        .await
        .unwrap();
    assert_eq!((letters[0].event_id, letters[0].attempts), (event.id, 3));
    assert!(letters[0].error.contains("mail server is down"));

    let fixed = Recorder::new(Behaviour::Succeed);
    let outcome = consumer::replay_dead_letter(&app.core_db.pool, "test-failing", event.id, &fixed)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Processed);
    assert_eq!(effects(&app.core_db.pool).await, 1);
    assert!(
        consumer::list_dead_letters(&app.core_db.pool, "test-failing")
            .await
            .unwrap()
            .is_empty()
    );
    let again = consumer::replay_dead_letter(&app.core_db.pool, "test-failing", event.id, &fixed)
        .await
        .unwrap();
    assert_eq!(again, Outcome::AlreadyProcessed);
    assert_eq!(effects(&app.core_db.pool).await, 1);
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let failing = Recorder::new(Behaviour::FailPermanently);
    let (stop, task) = start(&app, &client, spec("test-permanent"), failing.clone());
    publish(&js, &app.events, &event()).await;
    wait_until("the event is dead-lettered", async || {
        !consumer::list_dead_letters(&app.core_db.pool, "test-permanent")
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    assert_eq!(failing.calls.load(Ordering::SeqCst), 1);
    let letters = consumer::list_dead_letters(&app.core_db.pool, "test-permanent")
        .await
        .unwrap();
    assert_eq!(letters[0].attempts, 1);
}

#[tokio::test]
async fn an_unreadable_message_is_dead_lettered_not_dropped() {
    let app = spawn_app().await;
    sqlx::query("create table test_effects (event_id uuid not null)")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let handler = Recorder::new(Behaviour::Succeed);
    let outcome = consumer::handle_message(
        &app.core_db.pool,
        &spec("test-unreadable"),
        &handler,
        b"not json",
        consumer::Delivery::first(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::DeadLettered);
    let letters = consumer::list_dead_letters(&app.core_db.pool, "test-unreadable")
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].envelope["raw"], "not json");
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_event_waiting_for_a_dependency_outlasts_max_deliver_and_is_applied_once_it_comes() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let waiting = Recorder::new(Behaviour::WaitUntilReady);
    let spec = ConsumerSpec {
        max_wait_delay: Duration::from_millis(100),
        ..spec("test-waiting")
    };
    let max_deliver = usize::try_from(spec.max_deliver).unwrap();
    let (stop, task) = start(&app, &client, spec, waiting.clone());
    publish(&js, &app.events, &event()).await;
    wait_until("the event was tried twice max_deliver times", async || {
        waiting.calls.load(Ordering::SeqCst) > 2 * max_deliver
    })
    .await;
    assert!(
        consumer::list_dead_letters(&app.core_db.pool, "test-waiting")
            .await
            .unwrap()
            .is_empty(),
        "a dependency not there yet is no reason to give up"
    );
    assert_eq!(effects(&app.core_db.pool).await, 0);
    waiting.ready.store(true, Ordering::SeqCst);
    wait_until("the event is applied", async || {
        effects(&app.core_db.pool).await == 1
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    assert!(
        consumer::list_dead_letters(&app.core_db.pool, "test-waiting")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_event_that_waited_longer_than_max_wait_is_dead_lettered() {
    let app = spawn_app().await;
    sqlx::query("create table test_effects (event_id uuid not null)")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let waiting = Recorder::new(Behaviour::WaitUntilReady);
    let spec = spec("test-waited");
    let payload = serde_json::to_vec(&event()).unwrap();
    let young = consumer::Delivery {
        count: 50,
        age: spec.max_wait - Duration::from_secs(1),
    };
    let outcome =
        consumer::handle_message(&app.core_db.pool, &spec, &waiting, &payload, young, None)
            .await
            .unwrap();
    assert_eq!(
        outcome,
        Outcome::Waiting(spec.max_wait_delay),
        "the delay is capped"
    );
    let old = consumer::Delivery {
        count: 51,
        age: spec.max_wait,
    };
    let outcome = consumer::handle_message(&app.core_db.pool, &spec, &waiting, &payload, old, None)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::DeadLettered);
    let letters = consumer::list_dead_letters(&app.core_db.pool, "test-waited")
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].error.contains("not known yet"),
        "{}",
        letters[0].error
    );
}

#[tokio::test]
async fn an_operator_discards_or_replays_dead_letters_and_the_consumer_runs_them() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let pool = &app.core_db.pool;
    let broken = Recorder::new(Behaviour::FailPermanently);
    let (stop, task) = start(&app, &client, spec("test-operated"), broken.clone());
    let (unwanted, wanted) = (event(), event());
    publish(&js, &app.events, &unwanted).await;
    publish(&js, &app.events, &wanted).await;
    wait_until("both events are dead-lettered", async || {
        consumer::list_dead_letters(pool, "test-operated")
            .await
            .unwrap()
            .len()
            == 2
    })
    .await;
    let listed = operate(
        pool,
        &["dead-letters", "list", "--consumer", "test-operated"],
    )
    .await;
    assert!(
        listed.contains(&unwanted.id.to_string())
            && listed.contains(&wanted.id.to_string())
            && listed.contains("no such template"),
        "{listed}"
    );

    // Discarded: kept, never listed or replayed again.
    let discarded = operate(pool, &["dead-letters", "discard", &unwanted.id.to_string()]).await;
    assert_eq!(discarded, "1 dead letter(s) discarded\n");

    // A replay asked while the cause is still there fails, and says so.
    operate(pool, &["dead-letters", "replay", "--all"]).await;
    wait_until("the consumer tried the replay", async || {
        let letters = consumer::list_dead_letters(pool, "test-operated")
            .await
            .unwrap();
        letters.len() == 1 && letters[0].attempts == 2 && letters[0].replay_requested_at.is_none()
    })
    .await;
    let letters = consumer::list_dead_letters(pool, "test-operated")
        .await
        .unwrap();
    assert_eq!(letters[0].event_id, wanted.id);
    assert!(
        letters[0].error.starts_with("replay: "),
        "{}",
        letters[0].error
    );
    let _ = stop.send(true);
    task.await.unwrap();

    // The fix is deployed: the same request now applies the event, once.
    let fixed = Recorder::new(Behaviour::Succeed);
    let (stop, task) = start(&app, &client, spec("test-operated"), fixed.clone());
    let asked = operate(
        pool,
        &[
            "dead-letters",
            "replay",
            "--all",
            "--consumer",
            "test-operated",
        ],
    )
    .await;
    assert_eq!(asked, "1 dead letter(s) to be replayed by their consumer\n");
    wait_until("the replay is applied", async || effects(pool).await == 1).await;
    wait_until("the dead letter is closed", async || {
        operate(pool, &["dead-letters", "list"]).await == "no dead letters\n"
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    let applied: Vec<Uuid> = sqlx::query_scalar("select event_id from test_effects")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(
        applied,
        vec![wanted.id],
        "the discarded event is never applied"
    );
    assert_eq!(fixed.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_envelope_on_another_types_subject_is_refused() {
    let app = spawn_app().await;
    let (client, js) = setup(&app).await;
    let handler = Recorder::new(Behaviour::Succeed);
    let mut spec = spec("test-subjects");
    spec.event_types.push("contract.signed".into());
    let (stop, task) = start(&app, &client, spec, handler.clone());
    // A producer allowed to publish `contract.signed` only, sending another type in it.
    let smuggled = event();
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", smuggled.id.to_string().as_str());
    js.publish_with_headers(
        app.events.subject("contract.signed"),
        headers,
        serde_json::to_vec(&smuggled).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let genuine = event();
    publish(&js, &app.events, &genuine).await;
    wait_until("the genuine event is applied", async || {
        effects(&app.core_db.pool).await == 1
    })
    .await;
    wait_until("the smuggled one is dead-lettered", async || {
        !consumer::list_dead_letters(&app.core_db.pool, "test-subjects")
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let _ = stop.send(true);
    task.await.unwrap();
    let letters = consumer::list_dead_letters(&app.core_db.pool, "test-subjects")
        .await
        .unwrap();
    assert_eq!(letters[0].event_id, smuggled.id);
    assert!(
        letters[0]
            .error
            .contains("arrived on the subject of contract.signed"),
        "{}",
        letters[0].error
    );
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        1,
        "only the genuine event ran"
    );
}
