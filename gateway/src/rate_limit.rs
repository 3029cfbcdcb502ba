//! `crm_rate_limit`: requests per client address, counted at the edge.
//!
//! - Every request to the GraphQL endpoint (and below it) counts towards a wide budget,
//!   before anything is parsed: `429 RATE_LIMITED` with `Retry-After` beyond.
//! - Every operation that checks a secret or mints a token (`login`, `signUp`,
//!   `acceptInvitation`…: `credential_fields`) counts towards a tight one, whatever token it
//!   carries and whether it came over HTTP or a WebSocket (each message is planned, and
//!   planning is where it is counted): `RATE_LIMITED` with `extensions.retryAfter` beyond.
//!   This bounds password guessing across many e-mails and sign-up floods from one address;
//!   core's per-e-mail back-off (`db::login_failures`) still applies behind it.
//!
//! The client address is the connection's peer, or — when that peer is one of the configured
//! `trusted_proxies` — the nearest `X-Forwarded-For` hop that is not a trusted proxy: a
//! client cannot pick its own address by sending the header. IPv6 clients are counted per
//! /64 (one host has billions of addresses).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

use hive_router::{
    async_trait,
    http::StatusCode as HttpStatus,
    ntex::http::{Response, StatusCode},
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
            on_query_plan::{OnQueryPlanStartHookPayload, OnQueryPlanStartHookResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
    query_planner::ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    sonic_rs, GraphQLError,
};
use serde::Deserialize;

/// The length of a counting window.
const WINDOW: Duration = Duration::from_secs(60);
/// Above this many addresses tracked, windows that ended are forgotten (at most every 10 s).
const SWEEP_ABOVE: usize = 10_000;
const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per address and minute.
    pub per_minute: u32,
    /// Operations selecting a credential field, per address and minute.
    pub credential_operations_per_minute: u32,
    /// The root fields that check a secret or mint a token.
    pub credential_fields: Vec<String>,
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
    requests: u32,
    credentials: u32,
}

#[derive(Debug)]
struct Windows {
    by_client: HashMap<IpAddr, Window>,
    swept: Instant,
}

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Requests,
    Credentials,
}

/// The client address of a request, as the HTTP hook found it (for the planning hook).
#[derive(Debug, Clone, Copy)]
struct ClientAddress(IpAddr);

pub struct RateLimitPlugin {
    config: RateLimitConfig,
    windows: Mutex<Windows>,
}

impl RateLimitPlugin {
    fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            windows: Mutex::new(Windows {
                by_client: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// Counts one use of `budget` by `client` at `now`; `Err(seconds)` when over it.
    fn admit(&self, client: IpAddr, budget: Budget, now: Instant) -> Result<(), u64> {
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(()); // a poisoned counter never takes the gateway down
        };
        if windows.by_client.len() > SWEEP_ABOVE && now.duration_since(windows.swept) >= SWEEP_EVERY
        {
            windows
                .by_client
                .retain(|_, window| now.duration_since(window.started) < WINDOW);
            windows.swept = now;
        }
        let fresh = Window {
            started: now,
            requests: 0,
            credentials: 0,
        };
        let window = windows.by_client.entry(client).or_insert(fresh);
        if now.duration_since(window.started) >= WINDOW {
            *window = fresh;
        }
        let (used, limit) = match budget {
            Budget::Requests => (&mut window.requests, self.config.per_minute),
            Budget::Credentials => (
                &mut window.credentials,
                self.config.credential_operations_per_minute,
            ),
        };
        *used = used.saturating_add(1);
        if *used > limit {
            let left = WINDOW.saturating_sub(now.duration_since(window.started));
            // Rounded up: a client that waits as told finds the new window.
            return Err(left.as_secs() + u64::from(left.subsec_nanos() > 0));
        }
        Ok(())
    }

    /// The client's address: the peer, or what trusted proxies say they forward for.
    fn client(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.config.trusted_proxies.contains(ip);
        let mut client = peer?.to_canonical();
        if !trusted(&client) {
            return Some(per_host(client));
        }
        // The hops, nearest last; each trusted hop vouches for the one before it.
        let hops = forwarded_for.join(",");
        for hop in hops.rsplit(',') {
            let Some(ip) = parse_hop(hop.trim()) else {
                break; // what a trusted proxy did not write cannot be believed
            };
            client = ip;
            if !trusted(&client) {
                break;
            }
        }
        Some(per_host(client))
    }

    /// Whether `path` is the GraphQL endpoint or below it (the router serves both).
    fn counts(&self, path: &str) -> bool {
        let endpoint = self.config.graphql_endpoint.trim_end_matches('/');
        path == endpoint
            || path
                .strip_prefix(endpoint)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    fn selects_credential(&self, set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match item {
            SelectionItem::Field(field) => self.config.credential_fields.contains(&field.name),
            SelectionItem::InlineFragment(fragment) => {
                self.selects_credential(&fragment.selections)
            }
            SelectionItem::FragmentSpread(_) => false,
        })
    }
}

/// A forwarded hop: an address, with or without a port (`203.0.113.5:4711`, `[2001:db8::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// IPv6 addresses by their /64: the smallest block one host is given.
fn per_host(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

fn message(retry_after: u64) -> String {
    format!("too many requests from this address: try again in {retry_after} s")
}

fn too_many(retry_after: u64) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message(retry_after),
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
        let mut verdict = Ok(());
        if self.counts(request.path()) {
            let forwarded: Vec<&str> = request
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|value| value.to_str().ok())
                .collect();
            if let Some(client) = self.client(request.peer_addr().map(|a| a.ip()), &forwarded) {
                payload.context.insert(ClientAddress(client));
                verdict = self.admit(client, Budget::Requests, Instant::now());
            }
        }
        Box::pin(async move {
            match verdict {
                Ok(()) => payload.proceed(),
                Err(retry_after) => payload.end_with_response(too_many(retry_after)),
            }
        })
    }

    async fn on_query_plan<'exec>(
        &'exec self,
        payload: OnQueryPlanStartHookPayload<'exec>,
    ) -> OnQueryPlanStartHookResult<'exec> {
        if !self.selects_credential(&payload.filtered_operation_for_plan.selection_set) {
            return payload.proceed();
        }
        let client = payload.context.get_ref::<ClientAddress>().map(|c| c.0);
        let Some(client) = client else {
            return payload.proceed();
        };
        match self.admit(client, Budget::Credentials, Instant::now()) {
            Ok(()) => payload.proceed(),
            Err(retry_after) => {
                let mut error =
                    GraphQLError::from_message_and_code(message(retry_after), "RATE_LIMITED");
                error
                    .extensions
                    .set("retryAfter".to_owned(), sonic_rs::Value::from(retry_after));
                payload.end_with_graphql_error(error, HttpStatus::TOO_MANY_REQUESTS)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(trusted: &[&str]) -> RateLimitPlugin {
        RateLimitPlugin::new(RateLimitConfig {
            per_minute: 5,
            credential_operations_per_minute: 3,
            credential_fields: vec!["login".into()],
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
            assert_eq!(limiter.admit(a, Budget::Credentials, start), Ok(()));
        }
        assert_eq!(limiter.admit(a, Budget::Credentials, start), Err(60));
        // The request budget is separate: five, then refused too.
        for _ in 0..5 {
            assert_eq!(limiter.admit(a, Budget::Requests, start), Ok(()));
        }
        assert!(limiter.admit(a, Budget::Requests, start).is_err());
        // Another address is untouched.
        assert_eq!(limiter.admit(b, Budget::Credentials, start), Ok(()));
        // Thirty and a half seconds in, 30 s (rounded up) to wait; a minute in, a new window.
        let later = start + Duration::from_millis(29_500);
        assert_eq!(limiter.admit(a, Budget::Credentials, later), Err(31));
        assert_eq!(
            limiter.admit(a, Budget::Credentials, start + WINDOW),
            Ok(())
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let direct = plugin(&[]);
        assert_eq!(
            direct.client(Some(ip("192.0.2.9")), &["203.0.113.5"]),
            Some(ip("192.0.2.9")),
            "a client cannot choose its address"
        );
        let proxied = plugin(&["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            proxied.client(
                Some(ip("10.0.0.1")),
                &["198.51.100.7, 203.0.113.5, 10.0.0.2"]
            ),
            Some(ip("203.0.113.5")),
            "the nearest hop before our proxies, not what the client wrote first"
        );
        assert_eq!(
            proxied.client(Some(ip("10.0.0.1")), &["198.51.100.7", "203.0.113.5:4711"]),
            Some(ip("203.0.113.5")),
            "every header line, ports allowed"
        );
        assert_eq!(
            proxied.client(Some(ip("::ffff:10.0.0.1")), &["203.0.113.5"]),
            Some(ip("203.0.113.5")),
            "an IPv4-mapped peer is the IPv4 proxy"
        );
        assert_eq!(
            proxied.client(Some(ip("10.0.0.1")), &["198.51.100.7, garbage"]),
            Some(ip("10.0.0.1")),
            "nothing left of a hop no proxy wrote is believed"
        );
        assert_eq!(
            proxied.client(Some(ip("10.0.0.1")), &[]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            direct.client(Some(ip("2001:db8:1:2:aaaa::1")), &[]),
            direct.client(Some(ip("2001:db8:1:2:bbbb::2")), &[]),
            "one /64, one client"
        );
    }

    #[test]
    fn the_endpoint_and_what_is_below_it_count() {
        let limiter = plugin(&[]);
        assert!(limiter.counts("/graphql"));
        assert!(limiter.counts("/graphql/"));
        assert!(limiter.counts("/graphql/anything"));
        assert!(!limiter.counts("/graphqlx"));
        assert!(!limiter.counts("/graphiql/crm-1/index.js"));
        assert!(!limiter.counts("/health"));
    }

    #[test]
    fn a_refusal_is_a_coded_graphql_error_with_retry_after() {
        let response = too_many(42);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get("retry-after").unwrap(), "42");
    }
}
