//! Router plugins of the CRM.
//!
//! `crm_identity`: hive-router validates tokens, but with `require_authentication: false`
//! (needed: sign-up, login and invitation answers are anonymous) it treats a token that fails
//! validation as no token at all. A client sending a forged or expired token must be told so,
//! at the edge, before anything is planned or sent to a subgraph: this plugin refuses such
//! requests with `401 UNAUTHENTICATED` — subscriptions too, over SSE and WebSocket.
//!
//! `crm_request_id`: hive-router gives every request an id (the client's `x-request-id` when
//! it sends a sane one, else a UUIDv7) and logs with it, but does not pass it on. This plugin
//! sends it to every subgraph request and back to the client, so one id ties together the
//! gateway's logs, each subgraph's logs and, later, the correlation id of the events a
//! mutation produces.

use hive_router::{
    async_trait,
    http::{HeaderName, HeaderValue, StatusCode},
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
            on_query_plan::{OnQueryPlanStartHookPayload, OnQueryPlanStartHookResult},
            on_subgraph_http_request::{
                OnSubgraphHttpRequestHookPayload, OnSubgraphHttpRequestHookResult,
            },
        },
        plugin_trait::{EndHookPayload, RouterPlugin, StartHookPayload},
    },
    telemetry::logging::request_id::REQUEST_IDENTIFIERS,
    GraphQLError,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIdConfig {
    /// Header carrying the id to subgraphs and back to the client.
    #[serde(default = "default_header")]
    pub header: String,
}

fn default_header() -> String {
    "x-request-id".to_owned()
}

pub struct RequestIdPlugin {
    header: HeaderName,
}

fn current_request_id() -> Option<String> {
    REQUEST_IDENTIFIERS
        .try_with(|ids| ids.req_id().to_owned())
        .ok()
}

#[async_trait]
impl RouterPlugin for RequestIdPlugin {
    fn plugin_name() -> &'static str {
        "crm_request_id"
    }

    type Config = RequestIdConfig;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        let header = HeaderName::from_bytes(config.header.as_bytes())?;
        payload.initialize_plugin(Self { header })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        let id = current_request_id();
        let name = self.header.as_str().to_owned();
        Box::pin(async move {
            payload.on_end(move |end| {
                end.map_response(|mut response| {
                    if let (Some(id), Ok(name)) = (
                        id,
                        hive_router::ntex::http::header::HeaderName::from_bytes(name.as_bytes()),
                    ) {
                        if let Ok(value) =
                            hive_router::ntex::http::header::HeaderValue::from_str(&id)
                        {
                            response.headers_mut().insert(name, value);
                        }
                    }
                    response
                })
                .proceed()
            })
        })
    }

    async fn on_subgraph_http_request<'exec>(
        &'exec self,
        mut payload: OnSubgraphHttpRequestHookPayload<'exec>,
    ) -> OnSubgraphHttpRequestHookResult<'exec> {
        if let Some(value) = current_request_id().and_then(|id| HeaderValue::from_str(&id).ok()) {
            payload
                .execution_request
                .headers
                .insert(self.header.clone(), value);
        }
        payload.proceed()
    }
}

/// Refuses requests whose bearer token is present but was not validated.
pub struct IdentityPlugin;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {}

#[async_trait]
impl RouterPlugin for IdentityPlugin {
    fn plugin_name() -> &'static str {
        "crm_identity"
    }

    type Config = IdentityConfig;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _config: IdentityConfig = payload.config()?;
        payload.initialize_plugin(Self)
    }

    /// Planning is the first step every operation goes through after its token was checked —
    /// queries and mutations, and subscriptions over SSE or WebSocket alike (for which the
    /// router calls no `on_execute`); over WebSocket, the headers are the `connection_init`
    /// payload's.
    async fn on_query_plan<'exec>(
        &'exec self,
        payload: OnQueryPlanStartHookPayload<'exec>,
    ) -> OnQueryPlanStartHookResult<'exec> {
        let sent_token = payload
            .router_http_request
            .headers
            .contains_key("authorization");
        let validated = payload
            .request_context
            .read()
            .ok()
            .and_then(|context| context.authentication().jwt_status().copied());
        if sent_token && validated != Some(true) {
            return payload.end_with_graphql_error(
                GraphQLError::from_message_and_code(
                    "the access token is invalid or has expired",
                    "UNAUTHENTICATED",
                ),
                StatusCode::UNAUTHORIZED,
            );
        }
        payload.proceed()
    }
}
