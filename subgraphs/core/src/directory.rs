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

use crate::MEMBERSHIPS;
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

/// Answers a lookup of `id` in the caller's organisation with what `find` finds: 401/403
/// without a valid token and organisation, 404 when not found (or not an id), 500 on failure.
async fn lookup<T, F, Fut>(d: Directory, headers: HeaderMap, id: String, find: F) -> Response
where
    T: serde::Serialize,
    F: FnOnce(Directory, Uuid, Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, crate::error::Error>>,
{
    let organisation_id =
        match route_organisation(&d.verifier, Some((&MEMBERSHIPS, &d.pool)), &headers).await {
            Ok(organisation_id) => organisation_id,
            Err(refusal) => return refusal,
        };
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found();
    };
    match find(d, organisation_id, id).await {
        Ok(Some(value)) => Json(value).into_response(),
        Ok(None) => not_found(),
        Err(err) => {
            tracing::error!(error = ?err, "a directory lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn client(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    lookup(d, headers, id, |d, org, id| async move {
        let mut conn = d.pool.acquire().await?;
        match db::client::find_client(&mut *conn, org, id).await? {
            Some(row) => Ok(Some(events::client_snapshot(&mut conn, &row).await?)),
            None => Ok(None),
        }
    })
    .await
}

async fn societe(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    lookup(d, headers, id, |d, org, id| async move {
        let row = db::societe::find_societe(&d.pool, org, id).await?;
        Ok(row.as_ref().map(events::societe_snapshot))
    })
    .await
}

async fn member(
    State(d): State<Directory>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    lookup(d, headers, id, |d, org, id| async move {
        let row = db::membership::find_membership(&d.pool, org, id).await?;
        Ok(row.map(|m| crm_events::directory::MemberSnapshot {
            user_id: m.user_id,
            role: events::member_role(m.role),
        }))
    })
    .await
}
