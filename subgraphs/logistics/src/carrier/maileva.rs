//! Maileva's API (La Poste / Docaposte): OAuth2 password grant (the token cached per account
//! until a minute before it expires, dropped on a 401), `mail/v2` for simple letters,
//! `registered_mail/v2` for registered ones, `notification_center/v2` for notifications.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{
    CarrierError, CarrierResult, Credentials, DeliveryStatus, Letter, PostalCarrier, Proof,
    RecipientState, SendingState,
};
use crate::{
    config::MailevaSettings,
    domain::{address::PostalAddress, status::ShipmentKind},
};

/// Largest page of a list Maileva returns.
const PAGE: usize = 500;
/// Pages of sendings looked through for a lost one.
const MAX_PAGES: usize = 20;
/// Notification events and the resources they concern (Maileva's notification center).
const SUBSCRIPTIONS: &[(&str, &str)] = &[
    ("ON_STATUS_ACCEPTED", "mail/v2/sendings"),
    ("ON_STATUS_REJECTED", "mail/v2/sendings"),
    ("ON_STATUS_PROCESSED", "mail/v2/sendings"),
    ("ON_STATUS_ACCEPTED", "registered_mail/v2/sendings"),
    ("ON_STATUS_REJECTED", "registered_mail/v2/sendings"),
    ("ON_STATUS_PROCESSED", "registered_mail/v2/sendings"),
    ("ON_DEPOSIT_PROOF_RECEIVED", "registered_mail/v2/sendings"),
    (
        "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED",
        "registered_mail/v2/recipients",
    ),
];

#[derive(Clone)]
struct CachedToken {
    token: SecretString,
    valid_until: DateTime<Utc>,
}

/// Maileva's HTTP client.
#[derive(Clone)]
pub struct Maileva {
    http: reqwest::Client,
    settings: MailevaSettings,
    tokens: Arc<Mutex<HashMap<Uuid, CachedToken>>>,
}

impl std::fmt::Debug for Maileva {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maileva")
            .field("api_url", &self.settings.api_url)
            .finish_non_exhaustive()
    }
}

fn api_of(kind: ShipmentKind) -> &'static str {
    match kind {
        ShipmentKind::SimpleLetter => "mail/v2",
        ShipmentKind::RegisteredLetter => "registered_mail/v2",
    }
}

fn unavailable(err: reqwest::Error) -> CarrierError {
    CarrierError::Unavailable(if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "cannot connect".to_owned()
    } else {
        // Without the URL: it carries no secret, but keep messages short and stable.
        err.without_url().to_string()
    })
}

/// Maileva's error body: `{errors: [{code, message}]}` (400) or `{code, message}` (401, 404).
fn refusal(status: reqwest::StatusCode, body: &str) -> CarrierError {
    #[derive(Deserialize)]
    struct One {
        code: Option<String>,
        message: Option<String>,
    }
    #[derive(Deserialize)]
    struct Many {
        errors: Vec<One>,
    }
    let first = serde_json::from_str::<Many>(body)
        .ok()
        .and_then(|m| m.errors.into_iter().next())
        .or_else(|| serde_json::from_str::<One>(body).ok());
    let (code, message) = match first {
        Some(One { code, message }) => (
            code.unwrap_or_else(|| status.as_u16().to_string()),
            message.unwrap_or_default(),
        ),
        None => (status.as_u16().to_string(), String::new()),
    };
    let message: String = message.chars().take(300).collect();
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
    {
        CarrierError::Unavailable(format!("{status} {code} {message}").trim().to_owned())
    } else {
        CarrierError::Refused { code, message }
    }
}

fn address_lines(address: &PostalAddress, prefix: &str) -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    for (i, line) in address.lines.iter().enumerate() {
        if let Some(line) = line {
            fields.insert(format!("{prefix}address_line_{}", i + 1), json!(line));
        }
    }
    fields.insert(format!("{prefix}country_code"), json!(address.country));
    fields
}

impl Maileva {
    /// # Errors
    /// When no HTTP client can be built.
    pub fn new(settings: MailevaSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds.max(1)))
            .build()?;
        Ok(Self {
            http,
            settings,
            tokens: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn base(&self, account: &Credentials) -> &str {
        let base = if account.sandbox {
            &self.settings.sandbox_api_url
        } else {
            &self.settings.api_url
        };
        base.trim_end_matches('/')
    }

    fn url(&self, account: &Credentials, api: &str, path: &str) -> String {
        format!("{}/{api}{path}", self.base(account))
    }

    async fn token(&self, account: &Credentials) -> CarrierResult<SecretString> {
        let mut tokens = self.tokens.lock().await;
        if let Some(cached) = tokens.get(&account.account_id) {
            if cached.valid_until > Utc::now() {
                return Ok(cached.token.clone());
            }
        }
        let auth_url = if account.sandbox {
            &self.settings.sandbox_auth_url
        } else {
            &self.settings.auth_url
        };
        let response = self
            .http
            .post(auth_url)
            .basic_auth(
                &account.client_id,
                Some(account.client_secret.expose_secret()),
            )
            .form(&[
                ("grant_type", "password"),
                ("username", account.username.as_str()),
                ("password", account.password.expose_secret()),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        let body = response.text().await.map_err(unavailable)?;
        if !status.is_success() {
            // Wrong credentials are the account's to fix: retried, never "sent".
            return Err(CarrierError::Unavailable(format!(
                "Maileva refused the account's credentials ({status})"
            )));
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: Value,
        }
        let token: Token = serde_json::from_str(&body)
            .map_err(|_| CarrierError::Unavailable("unreadable token answer".into()))?;
        // `expires_in` is a number, or a number in a string (Maileva's own example).
        let seconds = match &token.expires_in {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .unwrap_or(300);
        let cached = CachedToken {
            token: SecretString::from(token.access_token),
            valid_until: Utc::now() + chrono::Duration::seconds((seconds - 60).max(0)),
        };
        tokens.insert(account.account_id, cached.clone());
        Ok(cached.token)
    }

    async fn forget_token(&self, account: &Credentials) {
        self.tokens.lock().await.remove(&account.account_id);
    }

    /// Sends the request `build` makes with the account's token; once more with a fresh token
    /// after a 401. Returns the status and body of a success, or the carrier's refusal.
    async fn call<F>(&self, account: &Credentials, build: F) -> CarrierResult<(u16, String)>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let (status, body) = self.call_raw(account, build).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// A call whose answer is bytes (a PDF).
    async fn call_raw<F>(&self, account: &Credentials, build: F) -> CarrierResult<(u16, Vec<u8>)>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        for attempt in 0..2 {
            let token = self.token(account).await?;
            let response = build(&self.http)
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(unavailable)?;
            let status = response.status();
            let body = response.bytes().await.map_err(unavailable)?.to_vec();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.forget_token(account).await;
                continue;
            }
            if status.is_success() {
                return Ok((status.as_u16(), body));
            }
            return Err(refusal(status, &String::from_utf8_lossy(&body)));
        }
        Err(CarrierError::Unavailable(
            "Maileva refused a fresh token".into(),
        ))
    }

    async fn json<T: serde::de::DeserializeOwned, F>(
        &self,
        account: &Credentials,
        build: F,
    ) -> CarrierResult<T>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let (_, body) = self.call(account, build).await?;
        serde_json::from_str(&body)
            .map_err(|e| CarrierError::Unavailable(format!("unreadable answer from Maileva: {e}")))
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct SendingBody {
    id: Option<String>,
    custom_id: Option<String>,
    status: Option<String>,
    status_detail: Option<String>,
}

#[derive(Deserialize)]
struct Sendings {
    sendings: Vec<SendingBody>,
}

#[derive(Deserialize)]
struct Documents {
    documents: Vec<Created>,
}

#[derive(Deserialize)]
struct RecipientBody {
    id: String,
    status: String,
    registered_number: Option<String>,
    postage_price: Option<f64>,
}

#[derive(Deserialize)]
struct Recipients {
    recipients: Vec<RecipientBody>,
}

#[derive(Deserialize)]
struct DeliveryBody {
    status: String,
    label: Option<String>,
    date: String,
}

#[derive(Deserialize)]
struct DeliveryStatuses {
    delivery_statuses: Vec<DeliveryBody>,
}

impl PostalCarrier for Maileva {
    async fn find_sending(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        shipment_id: Uuid,
    ) -> CarrierResult<Option<String>> {
        let custom_id = shipment_id.to_string();
        let url = self.url(account, api_of(kind), "/sendings");
        for page in 0..MAX_PAGES {
            let start = (page * PAGE + 1).to_string();
            let count = PAGE.to_string();
            let found: Sendings = self
                .json(account, |http| {
                    http.get(&url)
                        .query(&[("start_index", start.as_str()), ("count", count.as_str())])
                })
                .await?;
            let fetched = found.sendings.len();
            if let Some(id) = found
                .sendings
                .into_iter()
                .find(|s| s.custom_id.as_deref() == Some(custom_id.as_str()))
                .and_then(|s| s.id)
            {
                return Ok(Some(id));
            }
            if fetched < PAGE {
                break;
            }
        }
        Ok(None)
    }

    async fn create_sending(
        &self,
        account: &Credentials,
        letter: &Letter<'_>,
    ) -> CarrierResult<String> {
        let mut body = address_lines(letter.sender, "sender_");
        body.insert("name".into(), json!(letter.name));
        body.insert("custom_id".into(), json!(letter.shipment_id.to_string()));
        body.insert("color_printing".into(), json!(letter.colour));
        body.insert("duplex_printing".into(), json!(letter.duplex));
        body.insert("optional_address_sheet".into(), json!(true));
        body.insert(
            "notification_email".into(),
            json!(letter.notification_email),
        );
        if letter.kind == ShipmentKind::RegisteredLetter {
            body.insert(
                "acknowledgement_of_receipt".into(),
                json!(letter.acknowledgement_of_receipt),
            );
        }
        let body = Value::Object(body);
        let url = self.url(account, api_of(letter.kind), "/sendings");
        let created: Created = self
            .json(account, |http| http.post(&url).json(&body))
            .await?;
        Ok(created.id)
    }

    async fn documents(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> CarrierResult<Vec<String>> {
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/documents"),
        );
        let found: Documents = self.json(account, |http| http.get(&url)).await?;
        Ok(found.documents.into_iter().map(|d| d.id).collect())
    }

    async fn upload_document(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        name: &str,
        pdf: Vec<u8>,
    ) -> CarrierResult<String> {
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/documents"),
        );
        let metadata = json!({"priority": 1, "name": name}).to_string();
        let created: Created = self
            .json(account, |http| {
                // Both MIME types are constants: `mime_str` cannot fail on them.
                let document =
                    reqwest::multipart::Part::bytes(pdf.clone()).file_name(format!("{name}.pdf"));
                let document = document
                    .mime_str("application/pdf")
                    .unwrap_or_else(|_| reqwest::multipart::Part::bytes(pdf.clone()));
                let part = reqwest::multipart::Part::text(metadata.clone());
                let part = part
                    .mime_str("application/json")
                    .unwrap_or_else(|_| reqwest::multipart::Part::text(metadata.clone()));
                http.post(&url).multipart(
                    reqwest::multipart::Form::new()
                        .part("document", document)
                        .part("metadata", part),
                )
            })
            .await?;
        Ok(created.id)
    }

    async fn recipients(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> CarrierResult<Vec<RecipientState>> {
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/recipients"),
        );
        let found: Recipients = self.json(account, |http| http.get(&url)).await?;
        Ok(found
            .recipients
            .into_iter()
            .map(|r| RecipientState {
                id: r.id,
                status: r.status,
                registered_number: r.registered_number,
                postage_price: r
                    .postage_price
                    .and_then(|p| Decimal::try_from(p).ok())
                    .map(|p| p.round_dp(2)),
            })
            .collect())
    }

    async fn add_recipient(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        shipment_id: Uuid,
        address: &PostalAddress,
    ) -> CarrierResult<String> {
        let mut body = address_lines(address, "");
        // Recipients' custom ids have at most 32 characters: the id without hyphens.
        body.insert("custom_id".into(), json!(shipment_id.simple().to_string()));
        let body = Value::Object(body);
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/recipients"),
        );
        let created: Created = self
            .json(account, |http| http.post(&url).json(&body))
            .await?;
        Ok(created.id)
    }

    async fn submit(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> CarrierResult<()> {
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/submit"),
        );
        match self.call(account, |http| http.post(&url)).await {
            Ok(_) => Ok(()),
            // Submitted already (the answer to an earlier submit was lost): done.
            Err(CarrierError::Refused { code, .. }) if code == "SENDING_STATUS_IS_NOT_DRAFT" => {
                let state = self.sending(account, kind, sending_id).await?;
                if state.status == "DRAFT" {
                    Err(CarrierError::Unavailable(
                        "the sending is still a draft".into(),
                    ))
                } else {
                    Ok(())
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn sending(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
    ) -> CarrierResult<SendingState> {
        let url = self.url(account, api_of(kind), &format!("/sendings/{sending_id}"));
        let found: SendingBody = self.json(account, |http| http.get(&url)).await?;
        Ok(SendingState {
            status: found.status.unwrap_or_default(),
            status_detail: found.status_detail,
        })
    }

    async fn delivery_statuses(
        &self,
        account: &Credentials,
        kind: ShipmentKind,
        sending_id: &str,
        recipient_id: &str,
    ) -> CarrierResult<Vec<DeliveryStatus>> {
        let url = self.url(
            account,
            api_of(kind),
            &format!("/sendings/{sending_id}/recipients/{recipient_id}/delivery_statuses"),
        );
        let found: DeliveryStatuses = self.json(account, |http| http.get(&url)).await?;
        Ok(found
            .delivery_statuses
            .into_iter()
            .filter_map(|d| {
                let date = DateTime::parse_from_rfc3339(&d.date)
                    .ok()?
                    .with_timezone(&Utc);
                Some(DeliveryStatus {
                    label: d.label.unwrap_or_default(),
                    code: d.status,
                    date,
                })
            })
            .collect())
    }

    async fn proof(
        &self,
        account: &Credentials,
        sending_id: &str,
        recipient_id: &str,
        proof: Proof,
    ) -> CarrierResult<Option<Vec<u8>>> {
        let file = match proof {
            Proof::Deposit => "download_deposit_proof",
            Proof::AcknowledgementOfReceipt => "download_acknowledgement_of_receipt",
        };
        let url = self.url(
            account,
            api_of(ShipmentKind::RegisteredLetter),
            &format!("/sendings/{sending_id}/recipients/{recipient_id}/{file}"),
        );
        match self
            .call_raw(account, |http| http.get(&url).header("accept", "*/*"))
            .await
        {
            Ok((_, bytes)) => Ok(Some(bytes)),
            // Not there yet (404): a deposit proof comes once posted, an AR once delivered.
            Err(CarrierError::Refused { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn subscribe(
        &self,
        account: &Credentials,
        callback_url: &str,
        login: &str,
        password: &SecretString,
    ) -> CarrierResult<()> {
        let url = self.url(account, "notification_center/v2", "/subscriptions");
        for (event_type, resource_type) in SUBSCRIPTIONS {
            let body = json!({
                "event_type": event_type,
                "resource_type": resource_type,
                "callback_url": callback_url,
                "authentication": {"basic": {"login": login, "password": password.expose_secret()}},
            });
            self.call(account, |http| http.post(&url).json(&body))
                .await?;
        }
        Ok(())
    }
}
