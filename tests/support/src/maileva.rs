//! A local server speaking Maileva's API (OAuth2 token, `mail/v2` and `registered_mail/v2`
//! sendings, multipart documents, recipients, submit, delivery statuses; the notification
//! center's subscriptions), with Maileva's error codes: logistics' adapter is tested against
//! it with its real HTTP client. It keeps what it was sent, can answer 503 to the next calls,
//! and can cut the next creation's answer mid-body after recording the sending (a request
//! killed mid-way).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

/// The account the fake accepts.
pub const CLIENT_ID: &str = "crm-client";
pub const CLIENT_SECRET: &str = "crm-client-secret";
pub const USERNAME: &str = "acme-poste";
pub const PASSWORD: &str = "acme-poste-password";

/// A sending as the fake keeps it.
#[derive(Debug, Clone)]
pub struct FakeSending {
    pub id: String,
    /// `mail/v2` or `registered_mail/v2`.
    pub api: String,
    pub body: Value,
    pub status: String,
    /// The documents' bytes and metadata, in upload order.
    pub documents: Vec<(String, Vec<u8>, Value)>,
    pub recipients: Vec<Value>,
    pub delivery_statuses: Vec<Value>,
    /// A registered letter's proofs once Maileva has them (`download_deposit_proof`,
    /// `download_acknowledgement_of_receipt`): the file name's suffix → the PDF.
    pub proofs: HashMap<String, Vec<u8>>,
}

#[derive(Default)]
struct Inner {
    sendings: Vec<FakeSending>,
    subscriptions: Vec<Value>,
    tokens: Vec<String>,
}

#[derive(Clone, Default)]
struct Fake {
    inner: Arc<Mutex<Inner>>,
    unavailable: Arc<AtomicUsize>,
    cut_creations: Arc<AtomicUsize>,
}

/// The running fake; stops when dropped.
pub struct FakeMaileva {
    pub url: String,
    fake: Fake,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMaileva {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"errors": [{"code": code, "message": message}]})),
    )
        .into_response()
}

impl Fake {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// 401 without a token it issued; 503 while told to be unavailable.
    fn refuse(&self, headers: &HeaderMap) -> Option<Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if !token.is_some_and(|t| self.lock().tokens.contains(&t)) {
            return Some(
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"code": "UNAUTHORIZED", "message": "invalid token"})),
                )
                    .into_response(),
            );
        }
        let left = self.unavailable.load(Ordering::SeqCst);
        if left > 0 {
            self.unavailable.store(left - 1, Ordering::SeqCst);
            return Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "try later",
            ));
        }
        None
    }
}

impl FakeMaileva {
    /// Starts on a free port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        let fake = Fake::default();
        let apis = Router::new()
            .route("/sendings", get(list_sendings).post(create_sending))
            .route("/sendings/{id}", get(get_sending))
            .route(
                "/sendings/{id}/documents",
                get(list_documents).post(upload_document),
            )
            .route(
                "/sendings/{id}/recipients",
                get(list_recipients).post(add_recipient),
            )
            .route("/sendings/{id}/submit", post(submit))
            .route(
                "/sendings/{id}/recipients/{rid}/delivery_statuses",
                get(delivery_statuses),
            )
            .route(
                "/sendings/{id}/recipients/{rid}/{file}",
                get(download_proof),
            );
        let router = Router::new()
            .route(
                "/auth/realms/services/protocol/openid-connect/token",
                post(token),
            )
            .nest("/{api}/v2", apis)
            .route("/notification_center/v2/subscriptions", post(subscribe))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind the fake Maileva: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            fake,
            task,
        }
    }

    /// What the fake was sent.
    pub fn sendings(&self) -> Vec<FakeSending> {
        self.fake.lock().sendings.clone()
    }

    pub fn subscriptions(&self) -> Vec<Value> {
        self.fake.lock().subscriptions.clone()
    }

    /// Answers 503 to the next `calls` API calls (tokens are still issued).
    pub fn unavailable_for(&self, calls: usize) {
        self.fake.unavailable.store(calls, Ordering::SeqCst);
    }

    /// Records the next sending created, then cuts its answer mid-body.
    pub fn cut_next_creation(&self) {
        self.fake.cut_creations.store(1, Ordering::SeqCst);
    }

    /// Notifies as Maileva does: `event_type` on `resource_id` (a sending's id, with its
    /// custom id), POSTed to the callback of every subscription to that event, with the
    /// subscription's Basic credentials. Returns the statuses the callbacks answered.
    ///
    /// # Panics
    /// When a callback is unreachable.
    pub async fn notify(
        &self,
        event_type: &str,
        resource_id: &str,
        resource_custom_id: Option<&str>,
        event_date: &str,
    ) -> Vec<u16> {
        let subscriptions: Vec<Value> = self
            .subscriptions()
            .into_iter()
            .filter(|s| s["event_type"] == event_type)
            .collect();
        let http = reqwest::Client::new();
        let mut answers = Vec::new();
        for s in subscriptions {
            let url = s["callback_url"].as_str().unwrap_or_default().to_owned();
            let basic = &s["authentication"]["basic"];
            let body = json!({
                "event_type": event_type,
                "resource_type": s["resource_type"],
                "event_date": event_date,
                "resource_id": resource_id,
                "resource_custom_id": resource_custom_id,
                "resource_location": format!("{}/{resource_id}", s["resource_type"].as_str().unwrap_or_default()),
            });
            let response = http
                .post(&url)
                .basic_auth(
                    basic["login"].as_str().unwrap_or_default(),
                    basic["password"].as_str(),
                )
                .json(&body)
                .send()
                .await
                .unwrap_or_else(|err| panic!("the callback {url} is unreachable: {err}"));
            answers.push(response.status().as_u16());
        }
        answers
    }

    /// Makes a registered letter's proof available: `deposit_proof` or
    /// `acknowledgement_of_receipt`.
    pub fn set_proof(&self, sending_id: &str, proof: &str, pdf: &[u8]) {
        let mut inner = self.fake.lock();
        if let Some(s) = inner.sendings.iter_mut().find(|s| s.id == sending_id) {
            s.proofs.insert(proof.to_owned(), pdf.to_vec());
        }
    }

    /// Sets the delivery statuses of a sending's recipients (`[{status, label, date}]`).
    pub fn set_delivery_statuses(&self, sending_id: &str, statuses: Value) {
        let mut inner = self.fake.lock();
        if let Some(s) = inner.sendings.iter_mut().find(|s| s.id == sending_id) {
            s.delivery_statuses = statuses.as_array().cloned().unwrap_or_default();
        }
    }
}

async fn token(State(fake): State<Fake>, headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let grant = form.get("grant_type").map(String::as_str) == Some("password")
        && form.get("username").map(String::as_str) == Some(USERNAME)
        && form.get("password").map(String::as_str) == Some(PASSWORD);
    if basic != Some(expected.as_str()) || !grant {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": [{"code": "CLIENT_ERROR", "message": "Authentication failed"}]})),
        )
            .into_response();
    }
    let token = uuid::Uuid::new_v4().to_string();
    fake.lock().tokens.push(token.clone());
    // Maileva's own example gives `expires_in` as a string.
    Json(json!({"access_token": token, "expires_in": "3600"})).into_response()
}

fn sending_json(s: &FakeSending) -> Value {
    let mut body = s.body.clone();
    body["id"] = json!(s.id);
    body["status"] = json!(s.status);
    body
}

async fn list_sendings(
    State(fake): State<Fake>,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    let start: usize = q
        .get("start_index")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let count: usize = q
        .get("count")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .min(500);
    let inner = fake.lock();
    let all: Vec<Value> = inner
        .sendings
        .iter()
        .filter(|s| s.api == format!("{api}/v2"))
        .map(sending_json)
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(start.saturating_sub(1))
        .take(count)
        .cloned()
        .collect();
    Json(json!({"sendings": page, "paging": {"total_results": all.len()}})).into_response()
}

async fn create_sending(
    State(fake): State<Fake>,
    Path(api): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    let api = format!("{api}/v2");
    let custom_id = body["custom_id"].as_str().unwrap_or_default();
    if custom_id.chars().count() > 38 {
        return error(
            StatusCode::BAD_REQUEST,
            "CUSTOM_ID_WRONG_FORMAT",
            "custom_id too long",
        );
    }
    if api == "registered_mail/v2"
        && (body["name"].as_str().is_none() || body["notification_email"].as_str().is_none())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "EMPTY_NAME",
            "name and notification_email are required",
        );
    }
    let sending = FakeSending {
        id: uuid::Uuid::new_v4().to_string(),
        api,
        body,
        status: "DRAFT".into(),
        documents: Vec::new(),
        recipients: Vec::new(),
        delivery_statuses: Vec::new(),
        proofs: HashMap::new(),
    };
    let answer = sending_json(&sending).to_string();
    fake.lock().sendings.push(sending);
    if fake.cut_creations.swap(0, Ordering::SeqCst) > 0 {
        // The sending exists; its answer never arrives whole.
        let half = answer[..answer.len() / 2].to_owned();
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from(half)),
            Err(std::io::Error::other("connection killed")),
        ];
        return Response::builder()
            .status(StatusCode::CREATED)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures_stream(chunks)))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        answer,
    )
        .into_response()
}

fn futures_stream(
    chunks: Vec<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::iter(chunks)
}

/// Runs `f` on the sending of `api` with `id`, or answers 404.
fn with_sending(
    fake: &Fake,
    api: &str,
    id: &str,
    f: impl FnOnce(&mut FakeSending) -> Response,
) -> Response {
    let mut inner = fake.lock();
    match inner
        .sendings
        .iter_mut()
        .find(|s| s.id == id && s.api == format!("{api}/v2"))
    {
        Some(sending) => f(sending),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "SENDING_NOT_FOUND", "message": "no such sending"})),
        )
            .into_response(),
    }
}

fn not_draft() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "SENDING_STATUS_IS_NOT_DRAFT",
        "the sending is not a draft",
    )
}

async fn get_sending(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    with_sending(&fake, &api, &id, |s| Json(sending_json(s)).into_response())
}

async fn list_documents(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    with_sending(&fake, &api, &id, |s| {
        let documents: Vec<Value> = s
            .documents
            .iter()
            .map(|(id, _, m)| json!({"id": id, "name": m["name"]}))
            .collect();
        Json(json!({"documents": documents, "paging": {"total_results": documents.len()}}))
            .into_response()
    })
}

/// The parts of a `multipart/form-data` body: name → bytes.
fn multipart(content_type: &str, body: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut parts = HashMap::new();
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return parts;
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let delimiter = delimiter.as_bytes();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter) {
        rest = &rest[start + delimiter.len()..];
        let Some(headers_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..headers_end]).to_string();
        let content = &rest[headers_end + 4..];
        let Some(end) = find(content, delimiter) else {
            break;
        };
        let value = content[..end.saturating_sub(2)].to_vec();
        if let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        {
            parts.insert(name.to_owned(), value);
        }
        rest = &content[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn upload_document(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parts = multipart(content_type, &body);
    let (Some(document), Some(metadata)) = (parts.get("document"), parts.get("metadata")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "EMPTY_METADATA",
            "document and metadata are required",
        );
    };
    let Ok(metadata) = serde_json::from_slice::<Value>(metadata) else {
        return error(
            StatusCode::BAD_REQUEST,
            "METADATA_WRONG_FORMAT",
            "metadata is not JSON",
        );
    };
    if document.len() > 20 * 1024 * 1024 {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_DOCUMENT_SIZE",
            "over 20 MB",
        );
    }
    if !document.starts_with(b"%PDF-") {
        return error(
            StatusCode::BAD_REQUEST,
            "DOCUMENT_TYPE_NOT_ACCEPTED",
            "not a PDF",
        );
    }
    let document = document.clone();
    with_sending(&fake, &api, &id, move |s| {
        if s.status != "DRAFT" {
            return not_draft();
        }
        let doc_id = uuid::Uuid::new_v4().to_string();
        let size = document.len();
        s.documents
            .push((doc_id.clone(), document, metadata.clone()));
        (
            StatusCode::CREATED,
            Json(json!({"id": doc_id, "name": metadata["name"], "priority": metadata["priority"], "type": "application/pdf", "size": size})),
        )
            .into_response()
    })
}

async fn list_recipients(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    with_sending(&fake, &api, &id, |s| {
        Json(json!({"recipients": s.recipients, "paging": {"total_results": s.recipients.len()}}))
            .into_response()
    })
}

async fn add_recipient(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    for n in 1..=6 {
        if body[format!("address_line_{n}")]
            .as_str()
            .is_some_and(|l| l.chars().count() > 38)
        {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("ADDRESS_LINE_{n}_TOO_LONG"),
                "over 38 characters",
            );
        }
    }
    if body["address_line_6"].as_str().is_none_or(str::is_empty) {
        return error(
            StatusCode::BAD_REQUEST,
            "EMPTY_ADDRESS_LINE_6",
            "line 6 is required",
        );
    }
    if body["address_line_1"].as_str().is_none() && body["address_line_2"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "EMPTY_ADDRESS_LINE_1_OR_ADDRESS_LINE_2",
            "line 1 or 2",
        );
    }
    if body["custom_id"]
        .as_str()
        .is_some_and(|c| c.chars().count() > 32)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "CUSTOM_ID_WRONG_FORMAT",
            "custom_id too long",
        );
    }
    with_sending(&fake, &api, &id, move |s| {
        if s.status != "DRAFT" {
            return not_draft();
        }
        let mut recipient = body.clone();
        recipient["id"] = json!(uuid::Uuid::new_v4().to_string());
        recipient["status"] = json!("DRAFT");
        if s.api == "registered_mail/v2" {
            recipient["registered_number"] = json!(format!("1A{:011}", s.recipients.len() + 1));
        }
        s.recipients.push(recipient.clone());
        (StatusCode::CREATED, Json(recipient)).into_response()
    })
}

async fn submit(
    State(fake): State<Fake>,
    Path((api, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    with_sending(&fake, &api, &id, |s| {
        if s.status != "DRAFT" {
            return not_draft();
        }
        if s.documents.is_empty() {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_DOCUMENTS_COUNT",
                "no document",
            );
        }
        if s.recipients.is_empty() {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_RECIPIENTS_COUNT",
                "no recipient",
            );
        }
        s.status = "PENDING".into();
        for r in &mut s.recipients {
            r["status"] = json!("PENDING");
            r["postage_price"] = json!(1.29);
        }
        StatusCode::OK.into_response()
    })
}

async fn delivery_statuses(
    State(fake): State<Fake>,
    Path((api, id, _rid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    with_sending(&fake, &api, &id, |s| {
        Json(json!({"delivery_statuses": s.delivery_statuses, "paging": {"total_results": s.delivery_statuses.len()}})).into_response()
    })
}

async fn download_proof(
    State(fake): State<Fake>,
    Path((api, id, _rid, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    let Some(proof) = file.strip_prefix("download_") else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such resource");
    };
    if api != "registered_mail" {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "registered mail only");
    }
    let proof = proof.to_owned();
    with_sending(&fake, &api, &id, move |s| match s.proofs.get(&proof) {
        Some(pdf) => (
            [(header::CONTENT_TYPE, "application/pdf")],
            Body::from(pdf.clone()),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "not available yet",
        ),
    })
}

async fn subscribe(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = fake.refuse(&headers) {
        return refused;
    }
    let mut subscription = body.clone();
    subscription["id"] = json!(uuid::Uuid::new_v4().to_string());
    fake.lock().subscriptions.push(subscription.clone());
    (StatusCode::CREATED, Json(subscription)).into_response()
}
