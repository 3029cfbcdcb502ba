//! `POST /webhooks/maileva/{account}`: Maileva's notifications about an account's sendings
//! and recipients. Maileva authenticates with HTTP Basic — the account's id as login and the
//! password logistics gave it when subscribing, of which only a SHA-256 is kept —, there is no
//! body signature. Wrong credentials: 401, nothing recorded. Each notification has one effect
//! per resource, event type and date however often it is delivered (a receipt keyed so), and
//! is answered 201, which Maileva needs to stop retrying. A notification about a resource the
//! account does not have is kept as a receipt and changes nothing.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use subgraph_kit::digest::{same_secret, sha256_hex};
use uuid::Uuid;

use crate::{
    db::{self, account::AccountRow, shipment::ShipmentRow},
    domain::status::TrackingSource,
    ops::tracking::{apply, CarrierNews},
};

/// The SHA-256 (hex) of a webhook password, as accounts keep it.
pub fn password_digest(password: &str) -> String {
    sha256_hex(password.as_bytes())
}

pub fn routes(pool: PgPool) -> Router {
    Router::new()
        .route("/webhooks/maileva/{account}", post(receive))
        .with_state(pool)
}

/// Maileva's callback body.
#[derive(Debug, Deserialize)]
struct Notification {
    event_type: String,
    resource_type: Option<String>,
    event_date: DateTime<Utc>,
    event_location: Option<String>,
    resource_id: String,
    resource_custom_id: Option<String>,
}

/// Whether the request's Basic credentials are the account's, compared in constant time.
fn authenticated(account: &AccountRow, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Some(decoded) = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return false;
    };
    let Some((login, password)) = decoded.split_once(':') else {
        return false;
    };
    let given = password_digest(password);
    same_secret(given.as_bytes(), account.webhook_password_sha256.as_bytes())
        && login == account.id.to_string()
}

async fn receive(
    State(pool): State<PgPool>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unauthorized = (StatusCode::UNAUTHORIZED, "wrong credentials").into_response();
    let Ok(account_id) = Uuid::parse_str(&account) else {
        return unauthorized;
    };
    let account = match db::account::find_for_webhook(&pool, account_id).await {
        Ok(Some(account)) => account,
        Ok(None) => return unauthorized,
        Err(err) => return internal(&err),
    };
    if !authenticated(&account, &headers) {
        tracing::warn!(account = %account_id, "a Maileva notification with wrong credentials");
        return unauthorized;
    }
    let Ok(raw) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let Ok(notification) = serde_json::from_value::<Notification>(raw.clone()) else {
        return (StatusCode::BAD_REQUEST, "not a Maileva notification").into_response();
    };
    match record(&pool, &account, &notification, raw).await {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(err) => internal(&err),
    }
}

fn internal(err: &dyn std::fmt::Debug) -> Response {
    tracing::error!(error = ?err, "a Maileva notification could not be recorded");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The account's shipment a notification is about: by the carrier's id, else by our custom
/// id (the sending's is the shipment id, the recipient's the id without hyphens).
async fn shipment_of(
    tx: &mut sqlx::PgConnection,
    account: &AccountRow,
    n: &Notification,
) -> sqlx::Result<Option<ShipmentRow>> {
    let custom = n
        .resource_custom_id
        .as_deref()
        .and_then(|c| Uuid::parse_str(c).ok());
    let id: Option<Uuid> = sqlx::query_scalar(
        "select id from shipments
         where organisation_id = $1 and carrier_account_id = $2
           and (carrier_sending_id = $3 or carrier_recipient_id = $3 or id = $4)
         limit 1",
    )
    .bind(account.organisation_id)
    .bind(account.id)
    .bind(&n.resource_id)
    .bind(custom)
    .fetch_optional(&mut *tx)
    .await?;
    match id {
        Some(id) => db::shipment::find(&mut *tx, account.organisation_id, id).await,
        None => Ok(None),
    }
}

async fn record(
    pool: &PgPool,
    account: &AccountRow,
    n: &Notification,
    raw: serde_json::Value,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let shipment = shipment_of(&mut tx, account, n).await?;
    let first = sqlx::query(
        "insert into webhook_receipts (carrier_account_id, resource_id, event_type, event_date,
                                       organisation_id, shipment_id, body)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
    )
    .bind(account.id)
    .bind(&n.resource_id)
    .bind(&n.event_type)
    .bind(n.event_date)
    .bind(account.organisation_id)
    .bind(shipment.as_ref().map(|s| s.id))
    .bind(&raw)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if let (true, Some(shipment)) = (first, shipment) {
        let news = CarrierNews {
            source: TrackingSource::Webhook,
            code: &n.event_type,
            label: None,
            occurred_at: n.event_date,
            location: n.event_location.as_deref(),
            raw,
        };
        apply(&mut tx, &shipment, &news)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tracing::info!(shipment = %shipment.id, event = %n.event_type, resource = ?n.resource_type, "a Maileva notification");
    }
    tx.commit().await?;
    Ok(())
}
