//! `GET /invoices/{id}/pdf`: an issued invoice's PDF/A-3, for members of its organisation
//! only (the bearer token is verified here as on `/graphql`). Another organisation's invoice
//! is a 404, like one that does not exist.

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
    server::{route_organisation, MembershipCheck},
};
use uuid::Uuid;

use crate::{
    db,
    storage::{DocumentStore, LocalStore},
};

#[derive(Clone)]
struct Downloads {
    pool: PgPool,
    verifier: TokenVerifier,
    store: Arc<LocalStore>,
}

pub fn routes(pool: PgPool, verifier: TokenVerifier, store: Arc<LocalStore>) -> Router {
    Router::new()
        .route("/invoices/{id}/pdf", get(download))
        .with_state(Downloads {
            pool,
            verifier,
            store,
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
    let not_found = (StatusCode::NOT_FOUND, "invoice not found").into_response();
    let Ok(id) = Uuid::parse_str(&id) else {
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
