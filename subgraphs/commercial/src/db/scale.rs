//! Commission scales (barèmes) in immutable versions, and their tiers.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{
    commission::{Calculation, CommissionBase, Scale, Tier},
    product::ProductCategory,
};

pub const VERSION_KEY: &str = "commission_scales_version_key";
pub const NO_OVERLAP: &str = "commission_scales_no_overlap";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScaleRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub code: String,
    pub version: i32,
    pub name: String,
    pub description: Option<String>,
    pub calculation: Calculation,
    pub base: CommissionBase,
    pub rate: Option<Decimal>,
    pub fixed_amount: Option<Decimal>,
    pub product_category: Option<ProductCategory>,
    pub societe_id: Option<Uuid>,
    pub sales_channel: Option<String>,
    pub clawback_months: i32,
    pub clawback_rate: Decimal,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub active: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TierRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub scale_id: Uuid,
    pub position: i32,
    pub threshold_min: Decimal,
    pub threshold_max: Option<Decimal>,
    pub bonus: Decimal,
}

/// The terms of one version, valid.
#[derive(Debug, Clone)]
pub struct ScaleTerms {
    pub name: String,
    pub description: Option<String>,
    pub calculation: Calculation,
    pub base: CommissionBase,
    pub rate: Option<Decimal>,
    pub fixed_amount: Option<Decimal>,
    pub product_category: Option<ProductCategory>,
    pub societe_id: Option<Uuid>,
    pub sales_channel: Option<String>,
    pub clawback_months: i32,
    pub clawback_rate: Decimal,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub tiers: Vec<Tier>,
}

/// Inserts version `version` of scale `code` with its tiers.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_version(
    db: &mut PgConnection,
    organisation_id: Uuid,
    code: &str,
    version: i32,
    t: &ScaleTerms,
    by: Uuid,
    reason: Option<&str>,
) -> sqlx::Result<ScaleRow> {
    let row: ScaleRow = sqlx::query_as(
        "insert into commission_scales (id, organisation_id, code, version, name, description,
                calculation, base, rate, fixed_amount, product_category, societe_id, sales_channel,
                clawback_months, clawback_rate, effective_from, effective_to, created_by, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(code)
    .bind(version)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.calculation)
    .bind(t.base)
    .bind(t.rate)
    .bind(t.fixed_amount)
    .bind(t.product_category)
    .bind(t.societe_id)
    .bind(&t.sales_channel)
    .bind(t.clawback_months)
    .bind(t.clawback_rate)
    .bind(t.effective_from)
    .bind(t.effective_to)
    .bind(by)
    .bind(reason)
    .fetch_one(&mut *db)
    .await?;
    for (position, tier) in t.tiers.iter().enumerate() {
        sqlx::query(
            "insert into commission_tiers (id, organisation_id, scale_id, position, threshold_min,
                                           threshold_max, bonus)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(organisation_id)
        .bind(row.id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(tier.min)
        .bind(tier.max)
        .bind(tier.bonus)
        .execute(&mut *db)
        .await?;
    }
    Ok(row)
}

/// Versions of `code`, latest first, locked (a revision serialises with another).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_versions(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    code: &str,
) -> sqlx::Result<Vec<ScaleRow>> {
    sqlx::query_as(
        "select * from commission_scales where organisation_id = $1 and code = $2
         order by version desc for update",
    )
    .bind(organisation_id)
    .bind(code)
    .fetch_all(db)
    .await
}

/// Ends a version's validity the day before its successor starts: the one change a
/// version ever receives; its terms stay as they were.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn close_version(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    effective_to: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "update commission_scales set effective_to = $3 where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(effective_to)
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_active(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    active: bool,
) -> sqlx::Result<Option<ScaleRow>> {
    sqlx::query_as(
        "update commission_scales set active = $3 where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(active)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_scale(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ScaleRow>> {
    sqlx::query_as("select * from commission_scales where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_scales(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    code: Option<&str>,
    active: Option<bool>,
) -> sqlx::Result<Vec<ScaleRow>> {
    sqlx::query_as(
        "select * from commission_scales
         where organisation_id = $1 and ($2::text is null or code = $2)
           and ($3::boolean is null or active = $3)
         order by code, version desc",
    )
    .bind(organisation_id)
    .bind(code)
    .bind(active)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn tiers(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    scale_ids: &[Uuid],
) -> sqlx::Result<Vec<TierRow>> {
    sqlx::query_as(
        "select * from commission_tiers where organisation_id = $1 and scale_id = any($2)
         order by scale_id, position",
    )
    .bind(organisation_id)
    .bind(scale_ids)
    .fetch_all(db)
    .await
}

/// Every active version in force on `on`, with its tiers, for the selection rule to choose.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn candidates(
    db: &mut PgConnection,
    organisation_id: Uuid,
    on: NaiveDate,
) -> sqlx::Result<Vec<(ScaleRow, Scale)>> {
    let rows: Vec<ScaleRow> = sqlx::query_as(
        "select * from commission_scales
         where organisation_id = $1 and active and effective_from <= $2
           and (effective_to is null or $2 <= effective_to)",
    )
    .bind(organisation_id)
    .bind(on)
    .fetch_all(&mut *db)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let tiers = tiers(&mut *db, organisation_id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let scale = Scale {
                id: row.id,
                code: row.code.clone(),
                version: row.version,
                calculation: row.calculation,
                base: row.base,
                rate: row.rate,
                fixed_amount: row.fixed_amount,
                product_category: row.product_category,
                societe_id: row.societe_id,
                sales_channel: row.sales_channel.clone(),
                effective_from: row.effective_from,
                effective_to: row.effective_to,
                active: row.active,
                tiers: tiers
                    .iter()
                    .filter(|t| t.scale_id == row.id)
                    .map(|t| Tier {
                        min: t.threshold_min,
                        max: t.threshold_max,
                        bonus: t.bonus,
                    })
                    .collect(),
            };
            (row, scale)
        })
        .collect())
}
