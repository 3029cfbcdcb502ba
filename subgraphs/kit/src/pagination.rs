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

/// What a page of `first` items costs, `child` being the cost of one item: the subgraph's
/// complexity of a paged field (`#[graphql(complexity = "pagination::cost(first, child_complexity)")]`),
/// so that a query multiplying pages is refused before it runs. The gateway prices the same
/// fields alike from their `@listSize` ([`crate::cost::paged`]).
pub fn cost(first: Option<i32>, child: usize) -> usize {
    let items = first.map_or(DEFAULT_PAGE_SIZE, |n| i64::from(n).clamp(0, MAX_PAGE_SIZE));
    usize::try_from(items)
        .unwrap_or(0)
        .saturating_mul(child)
        .saturating_add(1)
}

/// How the children of a parent are ordered, so that they can be paged by keyset.
#[derive(Debug, Clone, Copy)]
pub enum Order {
    /// Newest first by an instant column that is never null (`column desc, id desc`).
    NewestFirst(&'static str),
    /// Soonest first by a nullable instant column, rows without one last
    /// (`coalesce(column, 'infinity'), id`).
    SoonestFirst(&'static str),
}

impl Order {
    /// The position of a row: its sort instant (null past the end for `SoonestFirst`) and id.
    pub fn keyset(self, at: Option<DateTime<Utc>>, id: Uuid) -> Keyset {
        Keyset {
            key: at.map_or(serde_json::Value::Null, |at| {
                serde_json::Value::String(at.to_rfc3339())
            }),
            id,
        }
    }

    fn sql(self) -> (String, &'static str, &'static str) {
        match self {
            Order::NewestFirst(column) => (column.to_owned(), "desc", "<"),
            Order::SoonestFirst(column) => (format!("coalesce({column}, 'infinity')"), "asc", ">"),
        }
    }
}

/// A list of children of a parent entity (a client's invoices, say), paged like a root list:
/// the subgraph says where they are and how they are ordered; [`child_page`] serves one parent's
/// page and [`ChildPages`] loads the pages of all the parents of a request in one statement.
pub trait Children: Send + Sync + 'static {
    type Row: for<'r> sqlx::FromRow<'r, PgRow> + Clone + Send + Sync + Unpin + 'static;
    /// The table (a trusted name), scoped by its `organisation_id`.
    const TABLE: &'static str;
    /// The column naming the parent (trusted).
    const PARENT: &'static str;
    const ORDER: Order;
    /// The row's sort instant and id.
    fn position(row: &Self::Row) -> (Option<DateTime<Utc>>, Uuid);
}

/// One parent's page: which parent, how many rows and after which position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChildPageKey {
    pub parent: Uuid,
    /// Rows to fetch (one more than the page).
    pub fetch: i64,
    pub after: Option<(Option<DateTime<Utc>>, Uuid)>,
}

/// The DataLoader of the pages of `C`, bound to one organisation (see [`crate::graphql::Loaders::with_children`]):
/// the parents asking for the same page size and position share one statement, and one more
/// counts the children of them all.
pub struct ChildPages<C> {
    pool: PgPool,
    organisation_id: Uuid,
    children: std::marker::PhantomData<C>,
}

impl<C> ChildPages<C> {
    pub fn new(pool: PgPool, organisation_id: Uuid) -> Self {
        Self {
            pool,
            organisation_id,
            children: std::marker::PhantomData,
        }
    }
}

/// A child row and the parent it was fetched for.
struct WithParent<R> {
    parent: Uuid,
    row: R,
}

impl<'r, R: sqlx::FromRow<'r, PgRow>> sqlx::FromRow<'r, PgRow> for WithParent<R> {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        Ok(Self {
            parent: row.try_get("page_parent")?,
            row: R::from_row(row)?,
        })
    }
}

impl<C: Children> ChildPages<C> {
    /// The rows of each of `parents`, up to `fetch` each after `after`.
    async fn rows(
        &self,
        parents: &[Uuid],
        fetch: i64,
        after: Option<(Option<DateTime<Utc>>, Uuid)>,
    ) -> sqlx::Result<Vec<WithParent<C::Row>>> {
        let (sort, direction, beyond) = C::ORDER.sql();
        // `with ordinality` and the outer order: rows come back parent by parent, each in its
        // list's order, whatever plan PostgreSQL picks.
        let mut query = QueryBuilder::new("select p.parent as page_parent, c.* from unnest(");
        query
            .push_bind(parents.to_vec())
            .push(format!(
                "::uuid[]) with ordinality as p(parent, ord) cross join lateral \
                 (select * from {} where organisation_id = ",
                C::TABLE
            ))
            .push_bind(self.organisation_id)
            .push(format!(" and {} = p.parent", C::PARENT));
        if let Some((at, id)) = after {
            let at_sql = match C::ORDER {
                Order::NewestFirst(_) => "",
                Order::SoonestFirst(_) => "coalesce(",
            };
            query.push(format!(" and ({sort}, id) {beyond} ({at_sql}"));
            query.push_bind(at).push("::timestamptz");
            if matches!(C::ORDER, Order::SoonestFirst(_)) {
                query.push(", 'infinity')");
            }
            query.push(", ").push_bind(id).push(")");
        }
        query
            .push(format!(
                " order by {sort} {direction}, id {direction} limit "
            ))
            .push_bind(fetch)
            .push(format!(
                ") c order by p.ord, {sort} {direction}, c.id {direction}"
            ));
        query.build_query_as().fetch_all(&self.pool).await
    }

    /// How many children each of `parents` has.
    async fn counts(&self, parents: &[Uuid]) -> sqlx::Result<std::collections::HashMap<Uuid, i64>> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
            "select {parent}, count(*) from {table} where organisation_id = $1 and {parent} = any($2)
             group by {parent}",
            parent = C::PARENT,
            table = C::TABLE,
        ))
        .bind(self.organisation_id)
        .bind(parents)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

impl<C: Children> async_graphql::dataloader::Loader<ChildPageKey> for ChildPages<C> {
    type Value = (Vec<C::Row>, i64);
    type Error = std::sync::Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[ChildPageKey],
    ) -> Result<std::collections::HashMap<ChildPageKey, Self::Value>, Self::Error> {
        let mut parents: Vec<Uuid> = keys.iter().map(|k| k.parent).collect();
        parents.sort_unstable();
        parents.dedup();
        let counts = self.counts(&parents).await?;
        let mut groups: std::collections::HashMap<_, Vec<&ChildPageKey>> = Default::default();
        for key in keys {
            groups.entry((key.fetch, key.after)).or_default().push(key);
        }
        let mut pages = std::collections::HashMap::with_capacity(keys.len());
        for ((fetch, after), keys) in groups {
            let parents: Vec<Uuid> = keys.iter().map(|k| k.parent).collect();
            let mut rows: std::collections::HashMap<Uuid, Vec<C::Row>> = Default::default();
            for child in self.rows(&parents, fetch, after).await? {
                rows.entry(child.parent).or_default().push(child.row);
            }
            for key in keys {
                let page = rows.remove(&key.parent).unwrap_or_default();
                let total = counts.get(&key.parent).copied().unwrap_or(0);
                pages.insert(key.clone(), (page, total));
            }
        }
        Ok(pages)
    }
}

/// One parent's page of its children `C` (`first`/`after` as a root list takes them), loaded
/// with the other parents' pages of the request.
pub async fn child_page<C, N>(
    ctx: &async_graphql::Context<'_>,
    parent: Uuid,
    first: Option<i32>,
    after: Option<String>,
    node: impl Fn(C::Row) -> N,
) -> crate::Result<Page<N>>
where
    C: Children,
    N: async_graphql::OutputType,
{
    let request = PageRequest::parse(first, after)?;
    let loader = crate::graphql::loader_of::<ChildPages<C>>(ctx)?;
    let after = request
        .after
        .as_ref()
        .map(|keyset| (keyset.instant_key(), keyset.id));
    let key = ChildPageKey {
        parent,
        fetch: request.fetch_limit(),
        after,
    };
    let (rows, total) = loader
        .load_one(key)
        .await
        .map_err(crate::graphql::load_failed)?
        .unwrap_or_default();
    Ok(build_page(
        &request,
        rows,
        total,
        |row| {
            let (at, id) = C::position(row);
            C::ORDER.keyset(at, id)
        },
        node,
    ))
}

/// Declares the [`Children`] `$name`: rows `$row` of table `$table` under column `$parent`,
/// in `$order`, each at the position `$position` gives (`|row| (instant, id)`).
#[macro_export]
macro_rules! children {
    ($(#[$doc:meta])* $name:ident, $row:ty, $table:literal, $parent:literal, $order:expr, $position:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::pagination::Children for $name {
            type Row = $row;
            const TABLE: &'static str = $table;
            const PARENT: &'static str = $parent;
            const ORDER: $crate::pagination::Order = $order;
            fn position(row: &$row) -> (Option<::chrono::DateTime<::chrono::Utc>>, ::uuid::Uuid) {
                let position: fn(&$row) -> (Option<::chrono::DateTime<::chrono::Utc>>, ::uuid::Uuid) =
                    $position;
                position(row)
            }
        }
    };
}
