//! Documents kept by logistics: a PDF checked (readable, within the limits), written to the
//! document store under a key made of ids, and recorded with its hash and page count.

use chrono::Utc;
use sqlx::PgExecutor;
use subgraph_kit::{
    digest::sha256_hex,
    error::Result,
    storage::{DocumentStore, LocalStore},
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        document::{storage_key, DocumentRow},
    },
    domain::{document::check_pdf, status::DocumentKind},
};

/// What to keep.
#[derive(Debug)]
pub struct NewDocument<'a> {
    /// Its id (a caller that must keep one document per thing derives it, else a new one).
    pub id: Uuid,
    pub kind: DocumentKind,
    pub file_name: &'a str,
    pub uploaded_by: Option<Uuid>,
}

/// Checks `bytes` as a letter's PDF (`field` names it in errors), stores it and records it.
///
/// # Errors
/// `VALIDATION` when it is not a readable PDF within the limits; the store's or the
/// database's error.
pub async fn keep(
    db: impl PgExecutor<'_>,
    store: &LocalStore,
    organisation_id: Uuid,
    field: &str,
    new: NewDocument<'_>,
    bytes: Vec<u8>,
) -> Result<DocumentRow> {
    let checked = check_pdf(field, &bytes)?;
    keep_checked(db, store, organisation_id, new, bytes, Some(checked.pages)).await
}

/// Stores and records `bytes` as they are (the carrier's proofs).
///
/// # Errors
/// The store's or the database's error.
pub async fn keep_checked(
    db: impl PgExecutor<'_>,
    store: &LocalStore,
    organisation_id: Uuid,
    new: NewDocument<'_>,
    bytes: Vec<u8>,
    pages: Option<u32>,
) -> Result<DocumentRow> {
    let key = storage_key(organisation_id, new.id);
    let row = DocumentRow {
        id: new.id,
        kind: new.kind,
        file_name: new.file_name.to_owned(),
        content_type: "application/pdf".to_owned(),
        size_bytes: i32::try_from(bytes.len()).unwrap_or(i32::MAX),
        pages: pages.and_then(|p| i32::try_from(p).ok()),
        sha256: sha256_hex(&bytes),
        storage_key: key.clone(),
        uploaded_by: new.uploaded_by,
        created_at: Utc::now(),
    };
    store.put(&key, bytes).await.map_err(|e| {
        subgraph_kit::error::Error::internal(format!("cannot store a document: {e}"))
    })?;
    db::document::insert(db, organisation_id, &row).await?;
    Ok(row)
}
