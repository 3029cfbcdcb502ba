//! Documents over plain HTTP, for members of their organisation only (the bearer token is
//! verified here as on `/graphql`; another organisation's document is a 404, like one that
//! does not exist):
//! - `POST /documents?fileName=letter.pdf` (members): the body is a PDF (at most 20 MB and
//!   45 sheets with the address sheet), checked, stored and answered `201` with its id, which
//!   `createShipment(input: { documentId })` takes;
//! - `GET /documents/{id}`: a letter's document or a carrier's proof, as PDF.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use subgraph_kit::{
    auth::TokenVerifier,
    server::{route_tenant, MembershipCheck, Tenant},
    storage::{DocumentStore, LocalStore},
    Role,
};
use uuid::Uuid;

use crate::{
    db,
    domain::status::DocumentKind,
    ops::document::{keep, NewDocument},
};

#[derive(Clone)]
struct Documents {
    pool: PgPool,
    verifier: TokenVerifier,
    store: Arc<LocalStore>,
}

pub fn routes(pool: PgPool, verifier: TokenVerifier, store: Arc<LocalStore>) -> Router {
    Router::new()
        .route("/documents", post(upload))
        .route("/documents/{id}", get(download))
        .with_state(Documents {
            pool,
            verifier,
            store,
        })
}

/// Where a document downloads from.
pub fn url(public_url: &str, id: Uuid) -> String {
    format!("{}/documents/{id}", public_url.trim_end_matches('/'))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadQuery {
    file_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Uploaded {
    id: Uuid,
    file_name: String,
    pages: Option<i32>,
    size_bytes: i32,
    sha256: String,
}

/// The caller, their token verified and their membership current.
async fn caller(d: &Documents, headers: &HeaderMap) -> Result<Tenant, Response> {
    route_tenant(
        &d.verifier,
        Some((&MembershipCheck::PROJECTED, &d.pool)),
        headers,
    )
    .await
}

/// A client error as JSON, with the same codes as GraphQL's `extensions.code`.
fn refused(status: StatusCode, code: &str, field: Option<&str>, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "field": field, "message": message });
    (status, Json(body)).into_response()
}

/// A file name kept for display only: its last path segment, printable, at most 120
/// characters.
fn clean_name(name: Option<String>) -> String {
    let name = name.unwrap_or_default();
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    if cleaned.trim().is_empty() {
        "document.pdf".to_owned()
    } else {
        cleaned.trim().to_owned()
    }
}

async fn upload(
    State(d): State<Documents>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match caller(&d, &headers).await {
        Ok(tenant) => tenant,
        Err(refusal) => return refusal,
    };
    if tenant.role < Role::Member {
        return refused(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            None,
            "uploading needs the MEMBER role",
        );
    }
    let file_name = clean_name(query.file_name);
    let new = NewDocument {
        id: Uuid::now_v7(),
        kind: DocumentKind::Upload,
        file_name: &file_name,
        uploaded_by: Some(tenant.user_id),
    };
    match keep(
        &d.pool,
        &d.store,
        tenant.organisation_id,
        "document",
        new,
        body.to_vec(),
    )
    .await
    {
        Ok(row) => (
            StatusCode::CREATED,
            Json(Uploaded {
                id: row.id,
                file_name: row.file_name,
                pages: row.pages,
                size_bytes: row.size_bytes,
                sha256: row.sha256,
            }),
        )
            .into_response(),
        Err(subgraph_kit::error::Error::Invalid(invalid)) => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION",
            Some(&invalid.field),
            &invalid.message,
        ),
        Err(err) => {
            tracing::error!(error = ?err, "cannot keep an uploaded document");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn download(
    State(d): State<Documents>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tenant = match caller(&d, &headers).await {
        Ok(tenant) => tenant,
        Err(refusal) => return refusal,
    };
    let not_found = (StatusCode::NOT_FOUND, "document not found").into_response();
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found;
    };
    let document = match db::document::find(&d.pool, tenant.organisation_id, id).await {
        Ok(Some(document)) => document,
        Ok(None) => return not_found,
        Err(err) => {
            tracing::error!(error = %err, "cannot load a document");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    match d.store.get(&document.storage_key).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, document.content_type.clone()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}\"",
                        document.file_name.replace('"', "")
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, key = document.storage_key, "a document is missing from the store");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
