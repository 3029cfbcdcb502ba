//! What an operator does with the events that did not go through, from the command line:
//! dead letters (a consumer gave up on an event) and parked outbox rows (the bus refused an
//! event). Every subgraph binary takes these commands (`subgraph-finance events dead-letters
//! list`), and so does `cargo xtask events` for the development stack.
//!
//! A replay is only asked for here: the consumer's own process, which holds the handler and
//! everything it needs, runs it within seconds (see `consumer::run`) and records the outcome.
//! A parked row let go is published by the relay like any new one.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use sqlx::PgPool;
use uuid::Uuid;

use crate::consumer::DeadLetter;

/// `events …`: dead letters and parked outbox rows.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events a consumer of this subgraph gave up on.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
    },
    /// Events of this subgraph the bus refused (too large, or refused too often).
    Parked {
        #[command(subcommand)]
        action: ParkedAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterAction {
    /// Lists the dead letters neither replayed nor discarded, oldest first.
    List {
        /// Only this consumer's.
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Asks the consumer to run its handler again (once the cause is fixed).
    Replay(DeadLetters),
    /// Gives up on them for good: kept for the record, never replayed.
    Discard(DeadLetters),
}

/// Which dead letters: one event's or every open one, of every consumer or of one.
#[derive(Debug, Args)]
pub struct DeadLetters {
    #[command(flatten)]
    pub selection: Selection,
    /// Only this consumer's.
    #[arg(long)]
    pub consumer: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ParkedAction {
    /// Lists the parked rows, oldest first.
    List,
    /// Gives them back to the relay, which publishes them in order like new ones.
    Retry(Selection),
    /// Deletes them: the events are never published.
    Discard(Selection),
}

/// Which rows a command acts on: one event's, or every open one.
#[derive(Debug, Args)]
pub struct Selection {
    /// The event id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub event_id: Option<Uuid>,
    /// Every open one.
    #[arg(long)]
    pub all: bool,
}

/// Parses an `events` command line without its first word (`["dead-letters", "list"]`).
///
/// # Errors
/// When the arguments are not a command (the error is clap's usage message).
pub fn parse<I, T>(args: I) -> Result<EventsCommand, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    #[derive(clap::Parser)]
    #[command(name = "events")]
    struct Line {
        #[command(subcommand)]
        command: EventsCommand,
    }
    let line =
        std::iter::once(std::ffi::OsString::from("events")).chain(args.into_iter().map(Into::into));
    <Line as clap::Parser>::try_parse_from(line).map(|line| line.command)
}

/// Runs `command` on the subgraph database `pool`; returns what to print.
///
/// # Errors
/// When the database cannot be read or written.
pub async fn run(pool: &PgPool, command: &EventsCommand) -> anyhow::Result<String> {
    Ok(match command {
        EventsCommand::DeadLetters { action } => match action {
            DeadLetterAction::List { consumer } => {
                render_dead_letters(&open_dead_letters(pool, consumer.as_deref()).await?)
            }
            DeadLetterAction::Replay(letters) => {
                let asked = request_replay(pool, letters).await?;
                format!("{asked} dead letter(s) to be replayed by their consumer\n")
            }
            DeadLetterAction::Discard(letters) => {
                let discarded = discard_dead_letters(pool, letters).await?;
                format!("{discarded} dead letter(s) discarded\n")
            }
        },
        EventsCommand::Parked { action } => match action {
            ParkedAction::List => render_parked(&parked(pool).await?),
            ParkedAction::Retry(selection) => {
                let retried = retry_parked(pool, selection.event_id).await?;
                format!("{retried} parked event(s) given back to the relay\n")
            }
            ParkedAction::Discard(selection) => {
                let discarded = discard_parked(pool, selection.event_id).await?;
                format!("{discarded} parked event(s) deleted\n")
            }
        },
    })
}

/// Dead letters neither replayed nor discarded (of `consumer`, when given), oldest first.
///
/// # Errors
/// When the database cannot be read.
pub async fn open_dead_letters(
    pool: &PgPool,
    consumer: Option<&str>,
) -> sqlx::Result<Vec<DeadLetter>> {
    sqlx::query_as!(
        DeadLetter,
        "select * from dead_letters
         where replayed_at is null and discarded_at is null and ($1::text is null or consumer = $1)
         order by failed_at, event_id",
        consumer,
    )
    .fetch_all(pool)
    .await
}

/// Marks the selected open dead letters for replay; returns how many.
///
/// # Errors
/// When the database cannot be written.
pub async fn request_replay(pool: &PgPool, letters: &DeadLetters) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "update dead_letters set replay_requested_at = now()
         where replayed_at is null and discarded_at is null
           and ($1::uuid is null or event_id = $1) and ($2::text is null or consumer = $2)",
        letters.selection.event_id,
        letters.consumer.as_deref(),
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Discards the selected open dead letters; returns how many.
///
/// # Errors
/// When the database cannot be written.
pub async fn discard_dead_letters(pool: &PgPool, letters: &DeadLetters) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "update dead_letters set discarded_at = now(), replay_requested_at = null
         where replayed_at is null and discarded_at is null
           and ($1::uuid is null or event_id = $1) and ($2::text is null or consumer = $2)",
        letters.selection.event_id,
        letters.consumer.as_deref(),
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// An outbox row the relay passed over.
#[derive(Debug, Clone)]
pub struct ParkedEvent {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The envelope's size in bytes.
    pub size: i32,
}

/// The parked outbox rows, oldest first.
///
/// # Errors
/// When the database cannot be read.
pub async fn parked(pool: &PgPool) -> sqlx::Result<Vec<ParkedEvent>> {
    sqlx::query_as!(
        ParkedEvent,
        r#"select id, organisation_id, event_type, created_at, attempts, last_error,
                  octet_length(envelope::text) as "size!"
           from outbox where parked_at is not null and published_at is null
           order by created_at, id"#,
    )
    .fetch_all(pool)
    .await
}

/// Gives the parked row `id` (every parked row when `None`) back to the relay, with its
/// refusals forgotten, and wakes the relay; returns how many.
///
/// # Errors
/// When the database cannot be written.
pub async fn retry_parked(pool: &PgPool, id: Option<Uuid>) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    let retried = sqlx::query!(
        "update outbox set parked_at = null, attempts = 0
         where parked_at is not null and published_at is null and ($1::uuid is null or id = $1)",
        id,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!("select pg_notify('outbox', '')")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(retried)
}

/// Deletes the parked row `id` (every parked row when `None`); returns how many.
///
/// # Errors
/// When the database cannot be written.
pub async fn discard_parked(pool: &PgPool, id: Option<Uuid>) -> sqlx::Result<u64> {
    let discarded = sqlx::query!(
        "delete from outbox
         where parked_at is not null and published_at is null and ($1::uuid is null or id = $1)
         returning id, event_type",
        id,
    )
    .fetch_all(pool)
    .await?;
    for row in &discarded {
        tracing::warn!(event_id = %row.id, event_type = %row.event_type, "parked event discarded by an operator");
    }
    Ok(discarded.len() as u64)
}

fn render_dead_letters(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "no dead letters\n".into();
    }
    let mut out = String::new();
    for letter in letters {
        let organisation = letter
            .envelope
            .get("organisation_id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?");
        let requested = if letter.replay_requested_at.is_some() {
            "  (replay asked)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{}  {}  {}  organisation {organisation}  failed {} after {} attempt(s){requested}\n    {}",
            letter.consumer,
            letter.event_id,
            letter.event_type,
            letter.failed_at.format("%Y-%m-%d %H:%M:%S UTC"),
            letter.attempts,
            one_line(&letter.error),
        );
    }
    out
}

fn render_parked(rows: &[ParkedEvent]) -> String {
    if rows.is_empty() {
        return "no parked events\n".into();
    }
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(
            out,
            "{}  {}  organisation {}  recorded {}  {} bytes  {} refusal(s)\n    {}",
            row.id,
            row.event_type,
            row.organisation_id,
            row.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            row.size,
            row.attempts,
            one_line(row.last_error.as_deref().unwrap_or("")),
        );
    }
    out
}

/// An error on one line, at most 200 characters.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_shown_on_one_bounded_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        let long = "é".repeat(300);
        let shown = one_line(&long);
        assert_eq!(shown.chars().count(), 201);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_selection_is_one_event_or_all() {
        assert!(parse(["dead-letters", "replay"]).is_err());
        assert!(parse([
            "dead-letters",
            "replay",
            "--all",
            "6f9619ff-8b86-d011-b42d-00c04fc964ff"
        ])
        .is_err());
        assert!(parse(["parked", "retry", "not-a-uuid"]).is_err());
        let all = parse(["dead-letters", "discard", "--all", "--consumer", "c"]);
        assert!(matches!(
            all,
            Ok(EventsCommand::DeadLetters {
                action: DeadLetterAction::Discard(DeadLetters {
                    selection: Selection {
                        all: true,
                        event_id: None
                    },
                    consumer: Some(_),
                })
            })
        ));
    }
}
