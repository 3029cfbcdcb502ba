//! `GET /directory/{clients,societes,members}/{id}`: what the other subgraphs' directory
//! projections ask core on a miss (see `subgraph_kit::directory`), answered with the payload
//! types core's events carry. The caller's own token is verified as on `/graphql`, and only
//! the caller's organisation is searched: another organisation's id is a 404, like an unknown
//! one.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use sqlx::PgPool;
use subgraph_kit::{auth::TokenVerifier, server::route_organisation};
use uuid::Uuid;

use crate::{db, events};

#[derive(Clone)]
struct Directory {
    pool: PgPool,
    verifier: TokenVerifier,
}

pub fn routes(pool: PgPool, verifier: TokenVerifier) -> Router {
    Router::new()
        .route("/directory/clients/{id}", get(client))
        .route("/directory/societes/{id}", get(societe))
        .route("/directory/members/{id}", get(member))
        .with_state(Directory { pool, verifier })
}

/// The caller's organisation and the path's id, or the refusal to answer with.
async fn lookup(d: &Directory, headers: &HeaderMap, id: &str) -> Result<(Uuid, Uuid), Response> {
    let organisation_id = route_organisation(&d.verifier, headers).await?;
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    Ok((organisation_id, id))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

fn answer<T: serde::Serialize>(found: Result<Option<T>, crate::error::Error>) -> Response {
    match found {
        Ok(Some(value)) => Json(value).into_response(),
        Ok(None) => not_found(),
        Err(err) => {
            tracing::error!(error = ?err, "a directory lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn client(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (org, id) = match lookup(&d, &headers, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    answer(
        async {
            let mut conn = d.pool.acquire().await?;
            match db::client::find_client(&mut *conn, org, id).await? {
                Some(row) => Ok(Some(events::client_snapshot(&mut conn, &row).await?)),
                None => Ok(None),
            }
        }
        .await,
    )
}

async fn societe(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (org, id) = match lookup(&d, &headers, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    answer(
        db::societe::find_societe(&d.pool, org, id)
            .await
            .map(|row| row.as_ref().map(events::societe_snapshot))
            .map_err(Into::into),
    )
}

async fn member(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (org, id) = match lookup(&d, &headers, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    answer(
        db::membership::find_membership(&d.pool, org, id)
            .await
            .map(|row| {
                row.map(|m| crm_events::directory::MemberSnapshot {
                    user_id: m.user_id,
                    role: events::member_role(m.role),
                })
            })
            .map_err(Into::into),
    )
}
