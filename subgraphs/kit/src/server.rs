//! Serving a subgraph over HTTP: `/graphql` (POST and GET, with the caller's identity verified
//! before anything runs), `/health`, `/readiness`; plus the request context resolvers read.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use async_graphql::{Data, ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    http::{
        header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER},
        HeaderMap, StatusCode,
    },
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer};
use uuid::Uuid;

use crate::{
    auth::{bearer_token, AuthError, Identity, TokenVerifier},
    error::{coded, ErrorCode, RETRY_AFTER_EXTENSION},
    graphql::Loaders,
    Role,
};

/// Where a subgraph listens.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one (tests).
    #[serde(deserialize_with = "crate::settings::lenient")]
    pub port: u16,
    /// Largest request body accepted, in bytes; a larger one gets 413.
    #[serde(
        default = "default_max_body_bytes",
        deserialize_with = "crate::settings::lenient"
    )]
    pub max_body_bytes: usize,
    /// Longest a request may take, in seconds, before it is answered 503 (WebSocket
    /// subscriptions are not bound by it once upgraded).
    #[serde(
        default = "default_request_timeout",
        deserialize_with = "crate::settings::lenient"
    )]
    pub request_timeout_seconds: u64,
}

/// Twice the gateway's `limits.max_request_body_size`: what the gateway forwards may be a
/// little larger than what it received.
fn default_max_body_bytes() -> usize {
    2 * 1024 * 1024
}

fn default_request_timeout() -> u64 {
    30
}

impl HttpSettings {
    /// Loopback on `port`.
    pub fn local(port: u16) -> Self {
        Self {
            host: "127.0.0.1".into(),
            port,
            max_body_bytes: default_max_body_bytes(),
            request_timeout_seconds: default_request_timeout(),
        }
    }

    /// Wraps `router` in the limits every request meets: body size (413), multipart
    /// refused (415: no operation takes uploads), and the request timeout (503).
    pub fn limit(&self, router: Router) -> Router {
        router
            .layer(axum::middleware::from_fn(refuse_multipart))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(self.request_timeout_seconds),
            ))
            .layer(RequestBodyLimitLayer::new(self.max_body_bytes))
    }

    /// Binds the listener.
    pub async fn bind(&self) -> anyhow::Result<TcpListener> {
        let address = format!("{}:{}", self.host, self.port);
        TcpListener::bind(&address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))
    }
}

async fn refuse_multipart(request: axum::extract::Request, next: Next) -> Response {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    if multipart {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "multipart requests are not accepted: send application/json",
        )
            .into_response();
    }
    next.run(request).await
}

/// Header carrying the id that ties a request's logs across the gateway and subgraphs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every resolver may know about the request it serves.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The verified caller, `None` for anonymous requests.
    pub identity: Option<Identity>,
    /// Correlates logs (and, later, events) with the request.
    pub request_id: String,
    /// The caller's verified token, for calls made on the caller's behalf (the directory's
    /// read-through to core). Never logged.
    pub token: Option<SecretString>,
}

/// The caller acting inside an organisation: whom every query and mutation is scoped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
}

/// Why the request context refuses an operation.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("this operation needs an active organisation: switch to one first")]
    NoOrganisation,
    #[error("this operation needs the {0:?} role or higher")]
    Forbidden(Role),
}

impl AccessError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AccessError::Unauthenticated => ErrorCode::Unauthenticated,
            AccessError::NoOrganisation | AccessError::Forbidden(_) => ErrorCode::Forbidden,
        }
    }
}

impl RequestContext {
    /// The caller, or `Unauthenticated`.
    pub fn identity(&self) -> Result<&Identity, AccessError> {
        self.identity.as_ref().ok_or(AccessError::Unauthenticated)
    }

    /// The caller's organisation and role, for reads.
    pub fn tenant(&self) -> Result<Tenant, AccessError> {
        let identity = self.identity()?;
        let membership = identity.membership.ok_or(AccessError::NoOrganisation)?;
        Ok(Tenant {
            organisation_id: membership.organisation_id,
            user_id: identity.user_id,
            role: membership.role,
        })
    }

    /// The tenant, provided their role is at least `minimum` (for mutations).
    pub fn tenant_with_role(&self, minimum: Role) -> Result<Tenant, AccessError> {
        let tenant = self.tenant()?;
        if tenant.role < minimum {
            return Err(AccessError::Forbidden(minimum));
        }
        Ok(tenant)
    }
}

/// Where a subgraph reads the caller's current membership, so that a token whose role was
/// changed or whose membership was removed since it was issued is refused — within the time
/// core's `member.*` event takes to arrive, not at the token's expiry.
#[derive(Debug, Clone, Copy)]
pub struct MembershipCheck {
    /// `$1` organisation, `$2` user → one row `(role text, removed bool)`, role upper-case.
    query: &'static str,
    /// Whether no row means "removed" (the source of truth) or "not projected yet".
    missing_is_removed: bool,
}

impl MembershipCheck {
    /// The kit directory's `members` projection: a tombstone or another role refuses; a
    /// member not projected yet (the event is on its way) passes on the token's word.
    pub const PROJECTED: Self = Self {
        query: "select role, deleted from members where organisation_id = $1 and user_id = $2",
        missing_is_removed: false,
    };

    /// The source of truth (core's own table): no row means removed.
    pub const fn authoritative(query: &'static str) -> Self {
        Self {
            query,
            missing_is_removed: true,
        }
    }

    /// Why `tenant`'s token no longer holds, if it does not.
    async fn refusal(&self, pool: &PgPool, tenant: &Tenant) -> Option<AuthError> {
        let row: Result<Option<(String, bool)>, _> = sqlx::query_as(self.query)
            .bind(tenant.organisation_id)
            .bind(tenant.user_id)
            .fetch_optional(pool)
            .await;
        match row {
            Ok(Some((_, true))) => Some(AuthError::MembershipChanged),
            Ok(Some((role, false))) => (Role::parse(&role.to_lowercase()) != Some(tenant.role))
                .then_some(AuthError::MembershipChanged),
            Ok(None) => self
                .missing_is_removed
                .then_some(AuthError::MembershipChanged),
            Err(err) => {
                tracing::error!(error = %err, "the membership check failed");
                Some(AuthError::MembershipsUnavailable)
            }
        }
    }
}

/// The shared state of a subgraph's GraphQL endpoint.
pub struct GraphqlEndpoint<Q, M, S> {
    pub schema: Schema<Q, M, S>,
    pub verifier: TokenVerifier,
    /// The DataLoaders each request with a tenant gets, over `pool`.
    pub loaders: Arc<Loaders>,
    pub pool: PgPool,
    /// Where the caller's membership is checked against the token's, if anywhere.
    pub memberships: Option<MembershipCheck>,
}

impl<Q, M, S> Clone for GraphqlEndpoint<Q, M, S> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema.clone(),
            verifier: self.verifier.clone(),
            loaders: self.loaders.clone(),
            pool: self.pool.clone(),
            memberships: self.memberships,
        }
    }
}

impl<Q, M, S> GraphqlEndpoint<Q, M, S> {
    /// Verifies `token` and, when it names an organisation, that the membership still holds.
    async fn identify(&self, token: &str) -> Result<Identity, AuthError> {
        let identity = self.verifier.verify(token).await?;
        if let (Some(check), Some(membership)) = (&self.memberships, identity.membership) {
            let tenant = Tenant {
                organisation_id: membership.organisation_id,
                user_id: identity.user_id,
                role: membership.role,
            };
            if let Some(refusal) = check.refusal(&self.pool, &tenant).await {
                return Err(refusal);
            }
        }
        Ok(identity)
    }
}

/// The routes every subgraph serves: `/graphql` (HTTP), `/ws` (subscriptions over
/// graphql-transport-ws), `/health`, `/readiness`. Subgraph-specific routes are merged by the
/// caller.
pub fn router<Q, M, S>(endpoint: GraphqlEndpoint<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let pool = endpoint.pool.clone();
    Router::new()
        .route(
            "/graphql",
            get(graphql_handler::<Q, M, S>).post(graphql_handler::<Q, M, S>),
        )
        .route("/ws", get(websocket_handler::<Q, M, S>))
        .with_state(endpoint)
        .merge(
            Router::new()
                .route("/health", get(|| async { "ok" }))
                .route("/readiness", get(readiness))
                .with_state(pool),
        )
}

async fn readiness(State(pool): State<PgPool>) -> Response {
    match sqlx::query!(r#"select 1 as "one!""#).fetch_one(&pool).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn graphql_handler<Q, M, S>(
    State(endpoint): State<GraphqlEndpoint<Q, M, S>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let span = tracing::info_span!("graphql", request_id = %request_id);

    // A token that is present must be valid: a bad token is refused outright rather than
    // silently treated as anonymous.
    let (identity, token) = match headers.get(AUTHORIZATION) {
        None => (None, None),
        Some(value) => {
            let token = value.to_str().ok().and_then(bearer_token);
            let verified = match token {
                Some(token) => endpoint.identify(token).await,
                None => Err(AuthError::Invalid),
            };
            match verified {
                Ok(identity) => (
                    Some(identity),
                    token.map(|t| SecretString::from(t.to_owned())),
                ),
                Err(err) => return unauthenticated(&err),
            }
        }
    };
    let context = RequestContext {
        identity,
        request_id,
        token,
    };
    let mut request = request.into_inner();
    if let Ok(tenant) = context.tenant() {
        request = endpoint
            .loaders
            .attach(request, &endpoint.pool, tenant.organisation_id);
    }
    let request = request.data(context);
    let mut response =
        tracing::Instrument::instrument(endpoint.schema.execute(request), span).await;
    let mut retry_after = None;
    for error in &mut response.errors {
        // Errors raised by async-graphql itself (parsing, validation, input coercion) carry
        // no code; give them the one our clients expect for bad input.
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::Validation.as_str());
        }
        if let Some(async_graphql::Value::Number(seconds)) = extensions.get(RETRY_AFTER_EXTENSION) {
            retry_after = retry_after.max(seconds.as_u64());
        }
    }
    let mut answer = GraphQLResponse::from(response).into_response();
    if let Some(seconds) = retry_after {
        answer
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    }
    answer
}

/// Subscriptions: the identity comes from the `connection_init` payload (the gateway puts the
/// propagated `authorization` header there), verified like any token; without one the
/// connection is refused. The connection is closed when that token expires (a client renews
/// its token and subscribes again) and, where memberships are checked, within
/// [`MEMBERSHIP_RECHECK`] of the membership being removed or changed. Closing the socket
/// drops the subscription streams.
async fn websocket_handler<Q, M, S>(
    State(endpoint): State<GraphqlEndpoint<Q, M, S>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let schema = endpoint.schema.clone();
    let (pool, loaders) = (endpoint.pool.clone(), endpoint.loaders.clone());
    let memberships = endpoint.memberships;
    let watch_pool = pool.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let (opened, identity) = tokio::sync::oneshot::channel();
            let serve = GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let (mut data, context) = connection_data(&endpoint, &payload).await?;
                    if let Ok(tenant) = context.tenant() {
                        loaders.install(&mut data, &pool, tenant.organisation_id);
                    }
                    if let Some(identity) = &context.identity {
                        let _ = opened.send((identity.expires_at, context.tenant().ok()));
                    }
                    data.insert(context);
                    data.insert(crate::guard::SubscriptionSlots::default());
                    Ok(data)
                })
                .serve();
            tokio::select! {
                () = serve => {}
                reason = lapse(identity, memberships, watch_pool) => {
                    tracing::info!(reason, "subscription connection closed");
                }
            }
        })
}

/// How often an open subscription connection re-checks its caller's membership.
pub const MEMBERSHIP_RECHECK: Duration = Duration::from_secs(5);

/// Resolves when the connection's token no longer holds — it expired, or its membership
/// was removed or changed — with why; never if the connection was not opened.
async fn lapse(
    identity: tokio::sync::oneshot::Receiver<(chrono::DateTime<chrono::Utc>, Option<Tenant>)>,
    memberships: Option<MembershipCheck>,
    pool: PgPool,
) -> &'static str {
    let Ok((expires_at, tenant)) = identity.await else {
        return std::future::pending().await;
    };
    let left = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    let membership = async {
        let (Some(check), Some(tenant)) = (memberships, tenant) else {
            return std::future::pending().await;
        };
        let mut every = tokio::time::interval(MEMBERSHIP_RECHECK);
        loop {
            every.tick().await;
            if let Some(AuthError::MembershipChanged) = check.refusal(&pool, &tenant).await {
                return;
            }
        }
    };
    tokio::select! {
        () = tokio::time::sleep(left) => "its token expired",
        () = membership => "its membership was removed or changed",
    }
}

/// The connection's data (without its request context yet) and request context.
async fn connection_data<Q, M, S>(
    endpoint: &GraphqlEndpoint<Q, M, S>,
    payload: &serde_json::Value,
) -> async_graphql::Result<(Data, RequestContext)> {
    let field = |name: &str| {
        payload
            .as_object()
            .and_then(|fields| {
                fields
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
            })
            .and_then(|(_, value)| value.as_str())
    };
    let token = field("authorization")
        .and_then(bearer_token)
        .ok_or_else(|| {
            coded(
                ErrorCode::Unauthenticated,
                "send `Authorization: Bearer <token>` in connection_init",
            )
        })?;
    let identity = endpoint
        .identify(token)
        .await
        .map_err(|err| coded(ErrorCode::Unauthenticated, err.to_string()))?;
    let request_id = field(REQUEST_ID_HEADER)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let context = RequestContext {
        identity: Some(identity),
        request_id,
        token: Some(SecretString::from(token.to_owned())),
    };
    Ok((Data::default(), context))
}

fn unauthenticated(err: &AuthError) -> Response {
    let status = match err {
        AuthError::KeysUnavailable | AuthError::MembershipsUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::UNAUTHORIZED,
    };
    let error = coded(ErrorCode::Unauthenticated, err.to_string());
    let body =
        async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())]);
    (status, Json(body)).into_response()
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The organisation a plain HTTP route (a download, a directory lookup) acts for: the bearer
/// token is verified as on `/graphql`, and its membership against `memberships` (over
/// `pool`) when given. A refusal is the route's response: 401 without a valid token or with
/// one whose membership changed, 403 without an active organisation.
pub async fn route_organisation(
    verifier: &TokenVerifier,
    memberships: Option<(&MembershipCheck, &PgPool)>,
    headers: &HeaderMap,
) -> Result<Uuid, Response> {
    route_tenant(verifier, memberships, headers)
        .await
        .map(|tenant| tenant.organisation_id)
}

/// The caller of a plain HTTP route, with their role (an upload needs one), checked as
/// [`route_organisation`] does.
pub async fn route_tenant(
    verifier: &TokenVerifier,
    memberships: Option<(&MembershipCheck, &PgPool)>,
    headers: &HeaderMap,
) -> Result<Tenant, Response> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let Some(token) = token else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <token>",
        )
            .into_response());
    };
    let Ok(identity) = verifier.verify(token).await else {
        return Err((StatusCode::UNAUTHORIZED, "invalid or expired token").into_response());
    };
    let Some(membership) = identity.membership else {
        return Err((StatusCode::FORBIDDEN, "switch to an organisation first").into_response());
    };
    let tenant = Tenant {
        organisation_id: membership.organisation_id,
        user_id: identity.user_id,
        role: membership.role,
    };
    if let Some((check, pool)) = memberships {
        if let Some(refusal) = check.refusal(pool, &tenant).await {
            let status = match refusal {
                AuthError::MembershipsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            return Err((status, refusal.to_string()).into_response());
        }
    }
    Ok(tenant)
}
