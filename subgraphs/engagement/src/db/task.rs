//! Tasks.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, PageRequest};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct TaskRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub kind: String,
    pub priority: String,
    pub status: String,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<Uuid>,
    pub created_by: Uuid,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task's editable fields, valid.
#[derive(Debug, Clone)]
pub struct TaskFields {
    pub title: String,
    pub description: Option<String>,
    pub kind: &'static str,
    pub priority: &'static str,
    pub due_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
}

type TaskQuery<'q> = sqlx::query::QueryAs<'q, Postgres, TaskRow, sqlx::postgres::PgArguments>;

/// Binds the editable fields as `$3…$11`, in the column order both statements use.
fn bind_fields<'q>(query: TaskQuery<'q>, t: &'q TaskFields) -> TaskQuery<'q> {
    query
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.kind)
        .bind(t.priority)
        .bind(t.due_at)
        .bind(t.assignee_id)
        .bind(t.client_id)
        .bind(t.contract_id)
        .bind(t.invoice_id)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_task(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    created_by: Uuid,
    t: &TaskFields,
) -> sqlx::Result<TaskRow> {
    let query = sqlx::query_as(
        "insert into tasks (organisation_id, id, title, description, kind, priority, due_at, assignee_id,
                            client_id, contract_id, invoice_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning *",
    )
    .bind(organisation_id)
    .bind(Uuid::now_v7());
    bind_fields(query, t).bind(created_by).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_task(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    t: &TaskFields,
) -> sqlx::Result<Option<TaskRow>> {
    let query = sqlx::query_as(
        "update tasks set title = $3, description = $4, kind = $5, priority = $6, due_at = $7,
                assignee_id = $8, client_id = $9, contract_id = $10, invoice_id = $11, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_fields(query, t).fetch_optional(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_task(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as("select * from tasks where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_task(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as("select * from tasks where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_status(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    status: &str,
) -> sqlx::Result<TaskRow> {
    sqlx::query_as(
        "update tasks set status = $3, completed_at = case when $3 = 'DONE' then now() end, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(status)
    .fetch_one(db)
    .await
}

/// Filters of the task list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<&'static str>,
    pub assignee_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    /// Open tasks due before this instant (overdue: now; due soon: now + n days).
    pub open_and_due_before: Option<DateTime<Utc>>,
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, organisation_id: Uuid, f: &TaskFilter) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    and_eq(q, "status", f.status);
    and_eq(q, "assignee_id", f.assignee_id);
    and_eq(q, "client_id", f.client_id);
    if let Some(before) = f.open_and_due_before {
        q.push(" and status in ('TODO', 'IN_PROGRESS') and due_at < ")
            .push_bind(before);
    }
}

/// A page of tasks by due date (undated last), and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_tasks_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &TaskFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<TaskRow>, i64)> {
    let mut count = QueryBuilder::new("select count(*) from tasks");
    push_filter(&mut count, organisation_id, filter);
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    // Keyset over (due_at or +infinity, id): the cursor key is the due instant or null.
    let mut q = QueryBuilder::new("select * from tasks");
    push_filter(&mut q, organisation_id, filter);
    if let Some(after) = &page.after {
        let due = after
            .key
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        q.push(" and (coalesce(due_at, 'infinity'), id) > (coalesce(")
            .push_bind(due)
            .push("::timestamptz, 'infinity'), ")
            .push_bind(after.id)
            .push(")");
    }
    q.push(" order by coalesce(due_at, 'infinity'), id limit ")
        .push_bind(page.fetch_limit());
    let rows = q.build_query_as().fetch_all(db).await?;
    Ok((rows, total))
}

/// Tasks per status, and open tasks past due.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn task_stats(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<(i64, i64, i64, i64, i64)> {
    sqlx::query_as(
        "select count(*) filter (where status = 'TODO'),
                count(*) filter (where status = 'IN_PROGRESS'),
                count(*) filter (where status = 'DONE'),
                count(*) filter (where status = 'CANCELLED'),
                count(*) filter (where status in ('TODO', 'IN_PROGRESS') and due_at < now())
         from tasks where organisation_id = $1",
    )
    .bind(organisation_id)
    .fetch_one(db)
    .await
}

/// Tasks by id: the one statement behind an `_entities` batch.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn tasks_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as("select * from tasks where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}
