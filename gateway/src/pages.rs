//! `crm_pages`: static pages served by the gateway from files compiled into its binary, so
//! they work with no internet and under a strict CSP — GraphiQL first (the router's own
//! laboratory loads from a CDN and stays off), the live dashboard next.
//!
//! GraphiQL is `@graphql-yoga/graphiql` (the UI the router shows), vendored from the npm
//! registry under `assets/graphiql/<version>/` with its licences (`assets/THIRD-PARTY-NOTICES.md`).
//! Its files are served under versioned paths, cached for a year as immutable; the page itself
//! is never cached. `GET <graphql endpoint>` answers the page only when the request negotiates
//! HTML and is not an operation by document id; everything else goes on to the router.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
};

use hive_router::{
    async_trait,
    ntex::{
        http::{
            header::{HeaderName, HeaderValue},
            Method, Response, StatusCode,
        },
        util::Bytes,
        web::WebResponse,
    },
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{EndHookPayload, RouterPlugin, StartHookPayload},
    },
};
use serde::Deserialize;

/// The vendored GraphiQL distribution.
pub const GRAPHIQL_VERSION: &str = "4.5.0";

/// Cached forever: the path changes whenever the content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages are small and must pick up new asset paths at once.
const NO_CACHE: &str = "no-cache";

/// What the page may load: its own origin only (inline styles for the editor; workers and
/// data URIs for Monaco).
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
                        connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

macro_rules! vendored {
    ($file:literal) => {
        include_bytes!(concat!("../assets/graphiql/4.5.0/", $file))
    };
}

/// The GraphiQL distribution's files, by their name under the versioned path.
const GRAPHIQL_FILES: &[(&str, &[u8])] = &[
    ("yoga-graphiql.umd.js", vendored!("yoga-graphiql.umd.js")),
    ("graphiql.css", vendored!("graphiql.css")),
    (
        "monacoeditorwork/editor.worker.bundle.js",
        vendored!("monacoeditorwork/editor.worker.bundle.js"),
    ),
    (
        "monacoeditorwork/json.worker.bundle.js",
        vendored!("monacoeditorwork/json.worker.bundle.js"),
    ),
    (
        "monacoeditorwork/graphql.worker.bundle.js",
        vendored!("monacoeditorwork/graphql.worker.bundle.js"),
    ),
];

const PAGE_TEMPLATE: &str = include_str!("../assets/page/graphiql.html");
const INIT_SCRIPT: &[u8] = include_bytes!("../assets/page/crm-graphiql.js");
const FAVICON: &[u8] = include_bytes!("../assets/page/favicon.svg");
const NOTICES: &[u8] = include_bytes!("../assets/THIRD-PARTY-NOTICES.md");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesConfig {
    /// Serve GraphiQL at the GraphQL endpoint (to browsers).
    #[serde(default = "default_true")]
    pub graphiql: bool,
    /// The router's GraphQL endpoint (`http.graphql_endpoint`).
    #[serde(default = "default_endpoint")]
    pub graphql_endpoint: String,
}

fn default_true() -> bool {
    true
}

fn default_endpoint() -> String {
    "/graphql".to_owned()
}

/// A file served as it is.
struct Asset {
    content_type: &'static str,
    cache: &'static str,
    body: Bytes,
}

pub struct PagesPlugin {
    endpoint: String,
    /// The GraphiQL page, when enabled.
    graphiql: Option<Bytes>,
    assets: HashMap<String, Asset>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// A short digest of `bytes`, for versioning our own files' paths (the same in every build of
/// one binary, which is all a cache-busting path needs).
fn digest(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

impl PagesPlugin {
    fn new(config: &PagesConfig) -> Self {
        let mut assets = HashMap::new();
        let graphiql_base = format!("/graphiql/{GRAPHIQL_VERSION}");
        for (name, body) in GRAPHIQL_FILES {
            assets.insert(
                format!("{graphiql_base}/{name}"),
                Asset {
                    content_type: content_type(name),
                    cache: IMMUTABLE,
                    body: Bytes::from_static(body),
                },
            );
        }
        let ours = format!("/graphiql/crm-{}", digest(&[INIT_SCRIPT, FAVICON].concat()));
        let init = format!("{ours}/crm-graphiql.js");
        let favicon = format!("{ours}/favicon.svg");
        for (path, body) in [(&init, INIT_SCRIPT), (&favicon, FAVICON)] {
            assets.insert(
                path.clone(),
                Asset {
                    content_type: content_type(path),
                    cache: IMMUTABLE,
                    body: Bytes::from_static(body),
                },
            );
        }
        assets.insert(
            "/graphiql/THIRD-PARTY-NOTICES.md".to_owned(),
            Asset {
                content_type: "text/markdown; charset=utf-8",
                cache: NO_CACHE,
                body: Bytes::from_static(NOTICES),
            },
        );
        let page = PAGE_TEMPLATE
            .replace("{{assets}}", &graphiql_base)
            .replace("{{init}}", &init)
            .replace("{{favicon}}", &favicon);
        Self {
            endpoint: config.graphql_endpoint.clone(),
            graphiql: config.graphiql.then(|| Bytes::from(page)),
            // Without the IDE, none of its files either.
            assets: if config.graphiql {
                assets
            } else {
                HashMap::new()
            },
        }
    }

    /// What to answer for `GET path?query` with these `accept` values, if anything.
    fn answer(&self, method: &Method, path: &str, query: &str, accept: &str) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        if path == self.endpoint {
            let page = self.graphiql.as_ref()?;
            return (wants_html(accept) && !is_operation_by_id(query))
                .then(|| respond(content_type("page.html"), NO_CACHE, page.clone(), true));
        }
        if path == "/" && self.graphiql.is_some() {
            return Some(
                Response::build(StatusCode::SEE_OTHER)
                    .header("location", self.endpoint.as_str())
                    .finish(),
            );
        }
        let Some(asset) = self.assets.get(path) else {
            return path.starts_with("/graphiql/").then(not_found);
        };
        Some(respond(
            asset.content_type,
            asset.cache,
            asset.body.clone(),
            false,
        ))
    }
}

/// A browser navigating: `text/html` accepted, and preferred to JSON.
fn wants_html(accept: &str) -> bool {
    let position = |media: &str| accept.find(media);
    match (position("text/html"), position("json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// A GET that names a persisted document (never the page, even from a browser).
fn is_operation_by_id(query: &str) -> bool {
    query.split('&').any(|pair| {
        let key = pair.split('=').next().unwrap_or_default();
        matches!(key, "extensions" | "documentId" | "id")
    })
}

fn respond(content_type: &str, cache: &str, body: Bytes, page: bool) -> Response {
    let mut response = Response::build(StatusCode::OK)
        .header("content-type", content_type)
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff")
        .finish();
    if page {
        let headers = response.headers_mut();
        headers.insert(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(PAGE_CSP),
        );
        headers.insert(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
    }
    response.set_body(body.into())
}

#[async_trait]
impl RouterPlugin for PagesPlugin {
    fn plugin_name() -> &'static str {
        "crm_pages"
    }

    type Config = PagesConfig;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        let plugin = Self::new(&config);
        payload.initialize_plugin(plugin)
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        let request = &payload.router_http_request;
        let accept = request
            .headers()
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let path = request.path();
        let answer = self.answer(request.method(), path, request.query_string(), accept);
        let our_path = path == self.endpoint;
        Box::pin(async move {
            if let Some(response) = answer {
                return payload.end_with_response(response);
            }
            if our_path {
                return payload.proceed();
            }
            // Whatever the router answers with its landing page (every unknown path, with
            // links to CDNs) becomes a plain 404.
            payload.on_end(|end| {
                if is_landing_page(&end.response) {
                    let response = not_found();
                    return end.end_with_response(response);
                }
                end.proceed()
            })
        })
    }
}

/// The router's landing page: its default answer, the only HTML it serves with the laboratory
/// off (ours say `charset`).
fn is_landing_page(response: &WebResponse) -> bool {
    response.status() == StatusCode::OK
        && response
            .headers()
            .get("content-type")
            .is_some_and(|value| value.as_bytes() == b"text/html")
}

fn not_found() -> Response {
    Response::build(StatusCode::NOT_FOUND)
        .header("content-type", "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .body("not found\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> PagesPlugin {
        PagesPlugin::new(&PagesConfig {
            graphiql: true,
            graphql_endpoint: "/graphql".into(),
        })
    }

    #[test]
    fn the_page_goes_to_browsers_only() {
        let p = plugin();
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(p.answer(&Method::GET, "/graphql", "", browser).is_some());
        assert!(p
            .answer(&Method::GET, "/graphql", "query=%7Bme%7D", browser)
            .is_some());
        for accept in [
            "application/json",
            "application/graphql-response+json, application/json;q=0.9",
            "application/json, text/html",
            "*/*",
            "",
        ] {
            assert!(
                p.answer(&Method::GET, "/graphql", "", accept).is_none(),
                "{accept}"
            );
        }
        assert!(p
            .answer(&Method::GET, "/graphql", "documentId=abc", browser)
            .is_none());
        assert!(p
            .answer(&Method::GET, "/graphql", "extensions=%7B%7D", browser)
            .is_none());
        assert!(p.answer(&Method::POST, "/graphql", "", browser).is_none());
    }

    #[test]
    fn the_page_names_only_files_the_plugin_serves() {
        let p = plugin();
        let page =
            String::from_utf8(p.graphiql.clone().unwrap_or_default().to_vec()).unwrap_or_default();
        let base = format!("/graphiql/{GRAPHIQL_VERSION}");
        let referenced: Vec<&str> = page
            .split(['"', '\''])
            .filter(|s| s.starts_with("/graphiql/") && *s != base)
            .collect();
        assert_eq!(referenced.len(), 4, "{page}");
        assert!(page.contains(&format!("data-assets=\"{base}\"")));
        for worker in ["editor", "json", "graphql"] {
            let path = format!("{base}/monacoeditorwork/{worker}.worker.bundle.js");
            assert!(p.assets.contains_key(&path), "{path} is not served");
        }
        for path in referenced {
            assert!(p.assets.contains_key(path), "{path} is not served");
        }
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
