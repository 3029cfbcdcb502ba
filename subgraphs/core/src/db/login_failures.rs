//! The failed-login back-off: [`MAX_FAILURES`] failures of one e-mail within a minute lock it
//! for a minute, each later lock twice as long as the one before, up to 16 minutes. The
//! e-mail is the key whether or not an account has it, so answers never tell which exist.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// Failures of one e-mail within a minute before it is locked.
pub const MAX_FAILURES: i32 = 10;

/// Until when `email` is locked, if it is now.
#[tracing::instrument(skip_all)]
pub async fn locked_until(
    executor: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "select locked_until from login_failures where email = $1 and locked_until > now()",
    )
    .bind(email)
    .fetch_optional(executor)
    .await
    .map(Option::flatten)
}

/// Counts a failure of `email`; the [`MAX_FAILURES`]th of a window locks it.
#[tracing::instrument(skip_all)]
pub async fn record_failure(conn: &mut PgConnection, email: &str) -> sqlx::Result<()> {
    let (failures, lockouts): (i32, i32) = sqlx::query_as(
        "insert into login_failures as f (email, failures, window_start)
         values ($1, 1, now())
         on conflict (email) do update set
           failures = case when f.window_start < now() - interval '1 minute' then 1
                           else f.failures + 1 end,
           window_start = case when f.window_start < now() - interval '1 minute' then now()
                               else f.window_start end,
           updated_at = now()
         returning failures, lockouts",
    )
    .bind(email)
    .fetch_one(&mut *conn)
    .await?;
    if failures >= MAX_FAILURES {
        sqlx::query(
            "update login_failures
                set locked_until = now() + make_interval(secs => 60 * power(2, least($2, 4))),
                    lockouts = lockouts + 1, failures = 0, window_start = now(),
                    updated_at = now()
              where email = $1",
        )
        .bind(email)
        .bind(lockouts)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Forgets `email`'s failures (a successful login).
#[tracing::instrument(skip_all)]
pub async fn clear(executor: impl PgExecutor<'_>, email: &str) -> sqlx::Result<()> {
    sqlx::query("delete from login_failures where email = $1")
        .bind(email)
        .execute(executor)
        .await
        .map(|_| ())
}

/// Deletes what has been idle for a day; the purge job.
#[tracing::instrument(skip_all)]
pub async fn purge(executor: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    sqlx::query(
        "delete from login_failures where updated_at < now() - interval '1 day'
           and (locked_until is null or locked_until < now())",
    )
    .execute(executor)
    .await
    .map(|done| done.rows_affected())
}
