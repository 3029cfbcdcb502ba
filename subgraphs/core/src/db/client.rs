//! Clients: creation, updates, soft delete, lookups by id (batched) and the paged search.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, Keyset, PageRequest};
use uuid::Uuid;

use super::like_escape;
use crate::domain::client::{ClientFields, ClientKind, ClientStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub kind: ClientKind,
    pub status: ClientStatus,
    pub name: String,
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub societe_id: Option<Uuid>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub payment_terms_days: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The unique index that carries the duplicate rule.
pub const DUPLICATE_CONSTRAINT: &str = "clients_phone_name_key";
/// The foreign key that ties a client to a société of the same organisation.
pub const SOCIETE_CONSTRAINT: &str = "clients_societe_fkey";

type ClientQuery<'q> = sqlx::query::QueryAs<'q, Postgres, ClientRow, sqlx::postgres::PgArguments>;

/// Binds a client's fields as `$3…$13`, in the column order both statements below use.
fn bind_fields<'q>(
    query: ClientQuery<'q>,
    societe_id: Option<Uuid>,
    c: &'q ClientFields,
) -> ClientQuery<'q> {
    query
        .bind(c.kind)
        .bind(c.status)
        .bind(&c.name)
        .bind(&c.first_name)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(c.birth_date)
        .bind(societe_id)
        .bind(&c.siren)
        .bind(&c.vat_number)
        .bind(c.payment_terms_days)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    societe_id: Option<Uuid>,
    c: &ClientFields,
) -> sqlx::Result<ClientRow> {
    let query = sqlx::query_as(
        "insert into clients (id, organisation_id, kind, status, name, first_name, email, phone,
                              birth_date, societe_id, siren, vat_number, payment_terms_days)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning *",
    )
    .bind(id)
    .bind(organisation_id);
    bind_fields(query, societe_id, c).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    societe_id: Option<Uuid>,
    c: &ClientFields,
) -> sqlx::Result<Option<ClientRow>> {
    let query = sqlx::query_as(
        "update clients set kind = $3, status = $4, name = $5, first_name = $6, email = $7,
                phone = $8, birth_date = $9, societe_id = $10, siren = $11, vat_number = $12,
                payment_terms_days = $13, updated_at = now()
         where organisation_id = $1 and id = $2 and deleted_at is null returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_fields(query, societe_id, c).fetch_optional(db).await
}

/// A client of the organisation, deleted or not, locked for an update.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as("select * from clients where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A live (not deleted) client of the organisation.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as(
        "select * from clients where organisation_id = $1 and id = $2 and deleted_at is null",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Live clients among `ids`: the one statement behind an `_entities` batch.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn clients_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ClientRow>> {
    sqlx::query_as(
        "select * from clients where organisation_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(organisation_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// The live client that a (phone, name) pair collides with.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_duplicate(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    phone: &str,
    name: &str,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as(
        "select * from clients
         where organisation_id = $1 and phone = $2 and lower(name) = lower($3) and deleted_at is null",
    )
    .bind(organisation_id)
    .bind(phone)
    .bind(name)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_deleted(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    deleted: bool,
) -> sqlx::Result<ClientRow> {
    sqlx::query_as(
        "update clients set deleted_at = case when $3 then now() end, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(deleted)
    .fetch_one(db)
    .await
}

/// Filters of the client list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct ClientListFilter {
    pub search: Option<String>,
    pub status: Option<ClientStatus>,
    pub kind: Option<ClientKind>,
    pub societe_id: Option<Uuid>,
    /// List deleted clients (the bin) instead of live ones.
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

impl ClientSort {
    fn column(self) -> &'static str {
        match self {
            ClientSort::Name => "lower(name)",
            ClientSort::CreatedAt => "created_at",
            ClientSort::UpdatedAt => "updated_at",
        }
    }

    /// The cursor key of a row under this order.
    pub fn keyset(self, row: &ClientRow) -> Keyset {
        let key = match self {
            ClientSort::Name => serde_json::Value::String(row.name.to_lowercase()),
            ClientSort::CreatedAt => serde_json::Value::String(row.created_at.to_rfc3339()),
            ClientSort::UpdatedAt => serde_json::Value::String(row.updated_at.to_rfc3339()),
        };
        Keyset { key, id: row.id }
    }
}

fn push_filter(
    q: &mut QueryBuilder<'_, Postgres>,
    organisation_id: Uuid,
    filter: &ClientListFilter,
) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    q.push(if filter.deleted {
        " and deleted_at is not null"
    } else {
        " and deleted_at is null"
    });
    and_eq(q, "status", filter.status);
    and_eq(q, "kind", filter.kind);
    and_eq(q, "societe_id", filter.societe_id);
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", like_escape(search));
        q.push(" and (name ilike ").push_bind(pattern.clone());
        q.push(" or first_name ilike ").push_bind(pattern.clone());
        q.push(" or (coalesce(first_name, '') || ' ' || name) ilike ")
            .push_bind(pattern.clone());
        q.push(" or email ilike ").push_bind(pattern);
        // Phones are stored in E.164; match what was typed digit for digit, and a French
        // national prefix ("06…") against its international form ("+336…").
        let digits: String = search.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 3
            && digits.len() * 2 >= search.chars().filter(|c| !c.is_whitespace()).count()
        {
            let national = digits.strip_prefix('0').map(|rest| format!("33{rest}"));
            q.push(" or phone like ").push_bind(format!("%{digits}%"));
            if let Some(national) = national {
                q.push(" or phone like ").push_bind(format!("+{national}%"));
            }
        }
        q.push(")");
    }
}

/// One page of clients in `sort` order, plus the total matching the filters.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_clients_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &ClientListFilter,
    sort: ClientSort,
    descending: bool,
    page: &PageRequest,
) -> sqlx::Result<(Vec<ClientRow>, i64)> {
    let mut count = QueryBuilder::new("select count(*) from clients");
    push_filter(&mut count, organisation_id, filter);
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;

    let column = sort.column();
    let mut q = QueryBuilder::new("select * from clients");
    push_filter(&mut q, organisation_id, filter);
    if let Some(after) = &page.after {
        let key = after.key.as_str().unwrap_or_default().to_owned();
        q.push(format_args!(
            " and ({column}, id) {} (",
            if descending { "<" } else { ">" }
        ));
        match sort {
            ClientSort::Name => {
                q.push_bind(key);
            }
            ClientSort::CreatedAt | ClientSort::UpdatedAt => {
                let at = DateTime::parse_from_rfc3339(&key)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default();
                q.push_bind(at);
            }
        }
        q.push(", ").push_bind(after.id).push(")");
    }
    let direction = if descending { "desc" } else { "asc" };
    q.push(format_args!(
        " order by {column} {direction}, id {direction} limit "
    ))
    .push_bind(page.fetch_limit());
    let rows = q.build_query_as().fetch_all(db).await?;
    Ok((rows, total))
}
