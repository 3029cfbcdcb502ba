//! `GET /invoices/{id}/pdf`: an issued invoice's PDF/A-3, for members of its organisation
//! only (the bearer token is verified here as on `/graphql`). Another organisation's invoice
//! is a 404, like one that does not exist.
//!
//! `GET /internal/invoices/{id}/pdf`: the same for our own services, with the deployment's
//! internal token and the organisation named in `X-Crm-Organisation` (`subgraph_kit::internal`).

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sqlx::PgPool;
use subgraph_kit::{
    auth::TokenVerifier,
    internal::{route_internal_organisation, InternalToken},
    server::{route_organisation, MembershipCheck},
    storage::{DocumentStore, LocalStore},
};
use uuid::Uuid;

use crate::db;

#[derive(Clone)]
struct Downloads {
    pool: PgPool,
    verifier: TokenVerifier,
    store: Arc<LocalStore>,
    internal: Option<InternalToken>,
}

pub fn routes(
    pool: PgPool,
    verifier: TokenVerifier,
    store: Arc<LocalStore>,
    internal: Option<InternalToken>,
) -> Router {
    Router::new()
        .route("/invoices/{id}/pdf", get(download))
        .route("/internal/invoices/{id}/pdf", get(internal_download))
        .with_state(Downloads {
            pool,
            verifier,
            store,
            internal,
        })
}

/// Where an invoice's PDF downloads from.
pub fn pdf_url(public_url: &str, id: Uuid) -> String {
    format!("{}/invoices/{id}/pdf", public_url.trim_end_matches('/'))
}

async fn download(
    State(d): State<Downloads>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let organisation_id = match route_organisation(
        &d.verifier,
        Some((&MembershipCheck::PROJECTED, &d.pool)),
        &headers,
    )
    .await
    {
        Ok(organisation_id) => organisation_id,
        Err(refusal) => return refusal,
    };
    pdf(&d, organisation_id, &id).await
}

async fn internal_download(
    State(d): State<Downloads>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match route_internal_organisation(d.internal.as_ref(), &headers) {
        Ok(organisation_id) => pdf(&d, organisation_id, &id).await,
        Err(refusal) => refusal.into_response(),
    }
}

async fn pdf(d: &Downloads, organisation_id: Uuid, id: &str) -> Response {
    let not_found = (StatusCode::NOT_FOUND, "invoice not found").into_response();
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found;
    };
    let invoice = match db::invoice::find_invoice(&d.pool, organisation_id, id).await {
        Ok(Some(invoice)) => invoice,
        Ok(None) => return not_found,
        Err(err) => {
            tracing::error!(error = %err, "cannot load an invoice");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let (Some(key), Some(number)) = (invoice.pdf_key, invoice.number) else {
        return not_found;
    };
    match d.store.get(&key).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{number}.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, key, "an issued invoice's document is missing");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
