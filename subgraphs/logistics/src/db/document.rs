//! The documents logistics keeps: letters' contents and the carrier's proofs.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::status::DocumentKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub pages: Option<i32>,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The store key of a document: ids only.
pub fn storage_key(organisation_id: Uuid, id: Uuid) -> String {
    format!("{organisation_id}/{id}.pdf")
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    d: &DocumentRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into documents (organisation_id, id, kind, file_name, content_type, size_bytes, pages,
                                sha256, storage_key, uploaded_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(organisation_id)
    .bind(d.id)
    .bind(d.kind)
    .bind(&d.file_name)
    .bind(&d.content_type)
    .bind(d.size_bytes)
    .bind(d.pages)
    .bind(&d.sha256)
    .bind(&d.storage_key)
    .bind(d.uploaded_by)
    .bind(d.created_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DocumentRow>> {
    sqlx::query_as(
        "select id, kind, file_name, content_type, size_bytes, pages, sha256, storage_key, uploaded_by,
                created_at
         from documents where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}
