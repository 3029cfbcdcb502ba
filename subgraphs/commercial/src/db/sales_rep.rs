//! Sales reps (apporteurs).

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

pub const USER_KEY: &str = "sales_reps_user_key";

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "sales_rep_kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SalesRepKind {
    /// VRP.
    Rep,
    Manager,
    Director,
    /// An outside introducer.
    Partner,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SalesRepRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub kind: SalesRepKind,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<Uuid>,
    pub societe_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SalesRepFields {
    pub kind: SalesRepKind,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<Uuid>,
    pub societe_id: Option<Uuid>,
    pub active: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_sales_rep(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    f: &SalesRepFields,
) -> sqlx::Result<SalesRepRow> {
    sqlx::query_as(
        "insert into sales_reps (id, organisation_id, kind, first_name, last_name, email, phone,
                                 user_id, societe_id, active)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(f.kind)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(f.user_id)
    .bind(f.societe_id)
    .bind(f.active)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_sales_rep(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &SalesRepFields,
) -> sqlx::Result<Option<SalesRepRow>> {
    sqlx::query_as(
        "update sales_reps set kind = $3, first_name = $4, last_name = $5, email = $6, phone = $7,
                user_id = $8, societe_id = $9, active = $10, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(f.kind)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(f.user_id)
    .bind(f.societe_id)
    .bind(f.active)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_sales_rep(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<SalesRepRow>> {
    sqlx::query_as("select * from sales_reps where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn sales_reps_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<SalesRepRow>> {
    sqlx::query_as("select * from sales_reps where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn sales_reps_of_users(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_ids: &[Uuid],
) -> sqlx::Result<Vec<SalesRepRow>> {
    sqlx::query_as("select * from sales_reps where organisation_id = $1 and user_id = any($2)")
        .bind(organisation_id)
        .bind(user_ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_sales_reps(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    active: Option<bool>,
    kind: Option<SalesRepKind>,
) -> sqlx::Result<Vec<SalesRepRow>> {
    sqlx::query_as(
        "select * from sales_reps
         where organisation_id = $1 and ($2::boolean is null or active = $2)
           and ($3::sales_rep_kind is null or kind = $3)
         order by last_name, first_name, id",
    )
    .bind(organisation_id)
    .bind(active)
    .bind(kind)
    .fetch_all(db)
    .await
}
