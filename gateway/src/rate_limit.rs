//! `crm_rate_limit`: requests per client address, counted at the edge before anything is
//! parsed. Requests without a token can only sign up, log in or answer an invitation, so
//! they get a tight budget (password guessing across many e-mails, sign-up floods); every
//! request counts towards a wider one. Beyond either, the answer is `429` with a
//! `RATE_LIMITED` GraphQL error and `Retry-After`. Core's per-account back-off
//! (`db::login_failures`) still applies behind it.
//!
//! The client address is the connection's peer, or — when that peer is one of the configured
//! `trusted_proxies` — the last address of `X-Forwarded-For` that is not a trusted proxy
//! itself: a client cannot pick its own address by sending the header.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use hive_router::{
    async_trait,
    ntex::http::{Response, StatusCode},
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
};
use serde::Deserialize;

/// The length of a counting window.
const WINDOW: Duration = Duration::from_secs(60);
/// Above this many addresses tracked, windows that ended are forgotten.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests without a token per address and minute.
    pub anonymous_per_minute: u32,
    /// Requests per address and minute, with or without a token.
    pub per_minute: u32,
    /// Reverse proxies in front of the gateway, whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// The GraphQL endpoint (other paths — GraphiQL's assets, health — are not counted).
    #[serde(default = "default_endpoint")]
    pub graphql_endpoint: String,
}

fn default_endpoint() -> String {
    "/graphql".to_owned()
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    anonymous: u32,
    all: u32,
}

pub struct RateLimitPlugin {
    config: RateLimitConfig,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl RateLimitPlugin {
    fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `client` at `now`; `Err(seconds)` when it is over a budget.
    fn admit(&self, client: IpAddr, anonymous: bool, now: Instant) -> Result<(), u64> {
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(()); // a poisoned counter never takes the gateway down
        };
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, window| now.duration_since(window.started) < WINDOW);
        }
        let window = windows.entry(client).or_insert(Window {
            started: now,
            anonymous: 0,
            all: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                anonymous: 0,
                all: 0,
            };
        }
        window.all = window.all.saturating_add(1);
        if anonymous {
            window.anonymous = window.anonymous.saturating_add(1);
        }
        if window.all > self.config.per_minute
            || (anonymous && window.anonymous > self.config.anonymous_per_minute)
        {
            let left = WINDOW.saturating_sub(now.duration_since(window.started));
            return Err(left.as_secs().max(1));
        }
        Ok(())
    }

    /// The client's address: the peer, or what trusted proxies say they forward for.
    fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.config.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = forwarded_for.unwrap_or_default();
        forwarded
            .rsplit(',')
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .find(|hop| !self.config.trusted_proxies.contains(hop))
            .or(Some(peer))
    }
}

fn too_many(retry_after: u64) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": format!("too many requests from this address: try again in {retry_after} s"),
            "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
        }]
    });
    Response::build(StatusCode::TOO_MANY_REQUESTS)
        .header("content-type", "application/json")
        .header("retry-after", retry_after.to_string())
        .body(body.to_string())
}

#[async_trait]
impl RouterPlugin for RateLimitPlugin {
    fn plugin_name() -> &'static str {
        "crm_rate_limit"
    }

    type Config = RateLimitConfig;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: RateLimitConfig = payload.config()?;
        payload.initialize_plugin(Self::new(config))
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        let request = &payload.router_http_request;
        let verdict = if request.path() == self.config.graphql_endpoint {
            let headers = request.headers();
            let anonymous = !headers.contains_key("authorization");
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok());
            match self.client(request.peer_addr().map(|a| a.ip()), forwarded) {
                Some(client) => self.admit(client, anonymous, Instant::now()),
                None => Ok(()),
            }
        } else {
            Ok(())
        };
        Box::pin(async move {
            match verdict {
                Ok(()) => payload.proceed(),
                Err(retry_after) => payload.end_with_response(too_many(retry_after)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(trusted: &[&str]) -> RateLimitPlugin {
        RateLimitPlugin::new(RateLimitConfig {
            anonymous_per_minute: 3,
            per_minute: 5,
            trusted_proxies: trusted.iter().map(|ip| ip.parse().unwrap()).collect(),
            graphql_endpoint: default_endpoint(),
        })
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn each_address_has_its_budgets_and_they_renew_each_minute() {
        let limiter = plugin(&[]);
        let start = Instant::now();
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..3 {
            assert_eq!(limiter.admit(a, true, start), Ok(()));
        }
        assert_eq!(limiter.admit(a, true, start), Err(60));
        // With a token, the wider budget: two more, then refused too.
        assert_eq!(limiter.admit(a, false, start), Ok(()));
        assert!(limiter.admit(a, false, start).is_err());
        // Another address is untouched.
        assert_eq!(limiter.admit(b, true, start), Ok(()));
        // Thirty seconds in, thirty to wait; a minute in, a new window.
        let later = start + Duration::from_secs(30);
        assert_eq!(limiter.admit(a, true, later), Err(30));
        assert_eq!(limiter.admit(a, true, start + WINDOW), Ok(()));
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let direct = plugin(&[]);
        assert_eq!(
            direct.client(Some(ip("192.0.2.9")), Some("203.0.113.5")),
            Some(ip("192.0.2.9")),
            "a client cannot choose its address"
        );
        let proxied = plugin(&["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            proxied.client(
                Some(ip("10.0.0.1")),
                Some("198.51.100.7, 203.0.113.5, 10.0.0.2")
            ),
            Some(ip("203.0.113.5")),
            "the last hop before our proxies, not what the client wrote first"
        );
        assert_eq!(
            proxied.client(Some(ip("10.0.0.1")), None),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            proxied.client(Some(ip("10.0.0.1")), Some("garbage")),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn a_refusal_is_a_coded_graphql_error_with_retry_after() {
        let response = too_many(42);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get("retry-after").unwrap(), "42");
    }
}
