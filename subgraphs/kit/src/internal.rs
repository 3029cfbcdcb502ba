//! Calls between our own services that no user makes: logistics posting an invoice it heard
//! was issued fetches the invoice's PDF from finance, in no one's session. Such a call
//! presents the deployment's internal token (a secret both sides are configured with, never
//! stored in a database nor put on the bus) and names the organisation it acts for in
//! [`ORGANISATION_HEADER`]; the serving route answers within that organisation only, as its
//! user-facing twin does for a member's token.

use axum::http::{header::AUTHORIZATION, HeaderMap, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::bearer_token;

/// The header naming the organisation an internal call acts for.
pub const ORGANISATION_HEADER: &str = "x-crm-organisation";

/// The deployment's internal token, as a route checks it.
#[derive(Clone)]
pub struct InternalToken(SecretString);

impl std::fmt::Debug for InternalToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InternalToken(..)")
    }
}

impl InternalToken {
    /// # Errors
    /// When the token is shorter than 32 characters (it must not be guessable).
    pub fn new(token: SecretString) -> anyhow::Result<Self> {
        let trimmed = token.expose_secret().trim().to_owned();
        anyhow::ensure!(
            trimmed.len() >= 32,
            "the internal token must have at least 32 characters (`openssl rand -hex 32`)"
        );
        Ok(Self(SecretString::from(trimmed)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether `presented` is this token, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        crate::digest::same_secret(self.0.expose_secret().as_bytes(), presented.as_bytes())
    }
}

/// Why an internal call is refused: the route's response (`into_response()`).
pub type Refusal = (StatusCode, &'static str);

/// The organisation an internal call acts for. A refusal is the route's response: 404 when
/// the deployment has no internal token (the route does not exist), 401 without the token,
/// 400 without a valid organisation header.
pub fn route_internal_organisation(
    token: Option<&InternalToken>,
    headers: &HeaderMap,
) -> Result<Uuid, Refusal> {
    let Some(token) = token else {
        return Err((StatusCode::NOT_FOUND, "not found"));
    };
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    if !presented.is_some_and(|p| token.matches(p)) {
        return Err((StatusCode::UNAUTHORIZED, "internal token required"));
    }
    headers
        .get(ORGANISATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or((
            StatusCode::BAD_REQUEST,
            "send the organisation in X-Crm-Organisation",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str, organisation: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header"),
        );
        headers.insert(ORGANISATION_HEADER, organisation.parse().expect("header"));
        headers
    }

    #[test]
    fn only_the_token_with_an_organisation_passes() {
        let secret = "0123456789abcdef0123456789abcdef";
        let token = InternalToken::new(SecretString::from(secret)).expect("long enough");
        let org = Uuid::new_v4();
        let ok = route_internal_organisation(Some(&token), &headers(secret, &org.to_string()));
        assert_eq!(ok.ok(), Some(org));
        let status = |r: Result<Uuid, Refusal>| r.err().map(|r| r.0);
        assert_eq!(
            status(route_internal_organisation(
                Some(&token),
                &headers("nope", &org.to_string())
            )),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            status(route_internal_organisation(
                Some(&token),
                &headers(secret, "x")
            )),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(route_internal_organisation(
                None,
                &headers(secret, &org.to_string())
            )),
            Some(StatusCode::NOT_FOUND)
        );
        assert!(InternalToken::new(SecretString::from("short")).is_err());
    }
}
