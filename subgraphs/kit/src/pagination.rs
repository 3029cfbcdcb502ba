//! Relay connections with keyset cursors.
//!
//! A cursor holds the sort key of the last edge and its id, so a page is one indexed range
//! scan (`(sort_key, id) > ($1, $2)`) however deep the client pages, and rows inserted
//! meanwhile do not shift pages. Cursors are opaque to clients.

use async_graphql::{
    connection::{Connection, CursorType, Edge, OpaqueCursor},
    SimpleObject,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{postgres::PgRow, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::error::Invalid;

/// Page size when `first` is omitted.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: i64 = 100;

/// The position after which a page starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Keyset {
    /// The sort key of the last row seen (text, number or timestamp, per sort order).
    pub key: serde_json::Value,
    pub id: Uuid,
}

impl Keyset {
    /// The position of a row in a list sorted by an instant.
    pub fn instant(at: DateTime<Utc>, id: Uuid) -> Self {
        Self {
            key: serde_json::Value::String(at.to_rfc3339()),
            id,
        }
    }

    /// The instant of a cursor made by [`Keyset::instant`]; `None` for any other key.
    pub fn instant_key(&self) -> Option<DateTime<Utc>> {
        self.key
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Continues a newest-first list (`order by <column> desc, id desc`) after `after`:
/// pushes ` and (<column>, id) < ($at, $id)`. `column` is a trusted column name.
pub fn push_after_desc(
    query: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    after: Option<&Keyset>,
) {
    if let Some(after) = after {
        query
            .push(format!(" and ({column}, id) < ("))
            .push_bind(after.instant_key())
            .push("::timestamptz, ")
            .push_bind(after.id)
            .push(")");
    }
}

/// Adds ` and <column> = <value>` to a filter when it has a value. `column` is trusted.
pub fn and_eq<'q, T>(query: &mut QueryBuilder<'q, Postgres>, column: &str, value: Option<T>)
where
    T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send,
{
    if let Some(value) = value {
        query.push(format!(" and {column} = ")).push_bind(value);
    }
}

/// A page of `table`'s rows newest first by `column` (then id), as `filter` narrows them (it
/// pushes ` where organisation_id = … and …`), and how many match over all pages. `table`
/// and `column` are trusted names.
pub async fn newest_first<R>(
    db: &PgPool,
    table: &str,
    column: &str,
    filter: impl Fn(&mut QueryBuilder<'_, Postgres>),
    page: &PageRequest,
) -> sqlx::Result<(Vec<R>, i64)>
where
    R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let mut count = QueryBuilder::new(format!("select count(*) from {table}"));
    filter(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    let mut query = QueryBuilder::new(format!("select * from {table}"));
    filter(&mut query);
    push_after_desc(&mut query, column, page.after.as_ref());
    query
        .push(format!(" order by {column} desc, id desc limit "))
        .push_bind(page.fetch_limit());
    let rows = query.build_query_as().fetch_all(db).await?;
    Ok((rows, total))
}

/// Fields every connection carries besides its edges.
#[derive(Debug, SimpleObject)]
pub struct ConnectionFields {
    /// How many nodes match the filters, over all pages.
    pub total_count: i64,
}

/// A connection of `N` nodes with keyset cursors and `totalCount`.
pub type Page<N> = Connection<OpaqueCursor<Keyset>, N, ConnectionFields>;

/// A validated `first`/`after` pair.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Rows to return.
    pub limit: i64,
    pub after: Option<Keyset>,
}

impl PageRequest {
    /// Validates the Relay arguments: `first` in 0..=100 (default 20), `after` a cursor we issued.
    pub fn parse(first: Option<i32>, after: Option<String>) -> Result<Self, Invalid> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (0..=MAX_PAGE_SIZE).contains(&i64::from(n)) => i64::from(n),
            Some(_) => {
                return Err(Invalid::new(
                    "first",
                    format!("first must be between 0 and {MAX_PAGE_SIZE}"),
                ))
            }
        };
        let after = after
            .map(|cursor| {
                OpaqueCursor::<Keyset>::decode_cursor(&cursor)
                    .map(|c| c.0)
                    .map_err(|_| Invalid::new("after", "after is not a valid cursor"))
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

/// Builds a page from up to `fetch_limit()` rows already in order.
pub fn build_page<R, N>(
    request: &PageRequest,
    mut rows: Vec<R>,
    total_count: i64,
    keyset: impl Fn(&R) -> Keyset,
    node: impl Fn(R) -> N,
) -> Page<N>
where
    N: async_graphql::OutputType,
{
    let has_next = rows.len() as i64 > request.limit;
    rows.truncate(request.limit.max(0) as usize);
    let mut page = Connection::with_additional_fields(
        request.after.is_some(),
        has_next,
        ConnectionFields { total_count },
    );
    page.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(OpaqueCursor(keyset(&row)), node(row))),
    );
    page
}
