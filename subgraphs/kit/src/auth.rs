//! Identity: the claims our tokens carry, and their verification against a JWKS.
//!
//! Every subgraph verifies the caller's token itself, even behind the gateway, so a subgraph
//! reached directly is never an open door. The identity is only ever taken from a token whose
//! signature, issuer, audience and expiry check out; no header other than `Authorization`
//! is trusted. Keys come from a JWK set, either held locally (core, which issues the tokens)
//! or fetched from a JWKS URL (every other subgraph, or an external OIDC provider such as
//! Keycloak configured with `org_id` and `role` claim mappers).

use std::{collections::HashMap, sync::Arc, time::Duration};

use jsonwebtoken::{
    decode, decode_header,
    jwk::{Jwk, JwkSet},
    Algorithm, DecodingKey, Validation,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use uuid::Uuid;

/// A member's role in an organisation. Roles gate mutations; every role may read.
#[derive(
    async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Read-only access.
    Viewer,
    /// Works on the organisation's data (clients, contracts, invoices…).
    Member,
    /// Also manages members, invitations, sociétés and settings.
    Admin,
    /// Also manages owners; an organisation always keeps at least one.
    Owner,
}

impl Role {
    /// The lowercase name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses the stored lowercase name (or the claim's upper-case name).
    pub fn parse(value: &str) -> Option<Role> {
        match value.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// The claims of a CRM access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The active organisation, absent for a user who belongs to none yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Uuid>,
    /// The user's role in `org_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique token id, for audit and revocation lists.
    pub jti: Uuid,
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
    /// Present when the token names an active organisation, with the caller's role in it.
    pub membership: Option<ActiveMembership>,
    /// When the token stops being valid: long-lived connections (subscriptions) end then.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The organisation a token acts in, and the caller's role there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveMembership {
    pub organisation_id: Uuid,
    pub role: Role,
}

/// Why a token was refused. The messages are safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the keys to verify tokens are unavailable")]
    KeysUnavailable,
    #[error("your membership of this organisation changed or ended since this token was issued: log in again")]
    MembershipChanged,
    #[error("memberships cannot be checked right now")]
    MembershipsUnavailable,
}

/// Expected issuer and audience of tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPolicy {
    /// The `iss` claim every token must carry.
    pub issuer: String,
    /// The `aud` claim every token must carry.
    pub audience: String,
}

enum KeySource {
    Static,
    Remote {
        url: String,
        client: reqwest::Client,
        min_refresh: Duration,
    },
}

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<tokio::time::Instant>,
}

/// Verifies access tokens against a JWK set. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    policy: Arc<TokenPolicy>,
    source: Arc<KeySource>,
    keys: Arc<RwLock<Keys>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier over a fixed key set (the issuer verifying its own tokens).
    pub fn from_jwks(policy: TokenPolicy, jwks: &JwkSet) -> anyhow::Result<Self> {
        Ok(Self {
            policy: Arc::new(policy),
            source: Arc::new(KeySource::Static),
            keys: Arc::new(RwLock::new(Keys {
                by_kid: index_keys(jwks)?,
                fetched_at: None,
            })),
        })
    }

    /// A verifier that fetches the key set from `url` on first use and again when a token
    /// names a key it does not know (key rotation), at most once per `min_refresh`.
    pub fn remote(policy: TokenPolicy, url: String, min_refresh: Duration) -> Self {
        Self {
            policy: Arc::new(policy),
            source: Arc::new(KeySource::Remote {
                url,
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default(),
                min_refresh,
            }),
            keys: Arc::new(RwLock::new(Keys {
                by_kid: HashMap::new(),
                fetched_at: None,
            })),
        }
    }

    /// Verifies `token` and returns the identity it carries.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Invalid)?;
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let (key, alg) = match self.lookup(&kid).await {
            Some(found) => found,
            None => {
                self.refresh().await?;
                self.lookup(&kid).await.ok_or(AuthError::UnknownKey)?
            }
        };
        if header.alg != alg {
            return Err(AuthError::Invalid);
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.policy.issuer]);
        validation.set_audience(&[&self.policy.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::Invalid,
        })?;
        let claims = data.claims;
        let membership = match (claims.org_id, claims.role) {
            (Some(organisation_id), Some(role)) => Some(ActiveMembership {
                organisation_id,
                role,
            }),
            (None, None) => None,
            _ => return Err(AuthError::Invalid),
        };
        Ok(Identity {
            user_id: claims.sub,
            membership,
            expires_at: chrono::DateTime::from_timestamp(claims.exp, 0)
                .ok_or(AuthError::Invalid)?,
        })
    }

    async fn lookup(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        self.keys.read().await.by_kid.get(kid).cloned()
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let KeySource::Remote {
            url,
            client,
            min_refresh,
        } = self.source.as_ref()
        else {
            return Err(AuthError::UnknownKey);
        };
        let mut keys = self.keys.write().await;
        if let Some(at) = keys.fetched_at {
            if at.elapsed() < *min_refresh {
                return Ok(());
            }
        }
        let fetched: Result<JwkSet, reqwest::Error> = async {
            client
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await;
        keys.fetched_at = Some(tokio::time::Instant::now());
        match fetched {
            Ok(jwks) => {
                keys.by_kid = index_keys(&jwks).map_err(|err| {
                    tracing::error!(%url, error = %err, "the JWKS holds an unusable key");
                    AuthError::KeysUnavailable
                })?;
                Ok(())
            }
            Err(err) => {
                tracing::error!(%url, error = %err, "cannot fetch the JWKS");
                Err(AuthError::KeysUnavailable)
            }
        }
    }
}

fn index_keys(jwks: &JwkSet) -> anyhow::Result<HashMap<String, (DecodingKey, Algorithm)>> {
    let mut by_kid = HashMap::new();
    for jwk in &jwks.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let alg = key_algorithm(jwk)?;
        by_kid.insert(kid, (DecodingKey::from_jwk(jwk)?, alg));
    }
    Ok(by_kid)
}

fn key_algorithm(jwk: &Jwk) -> anyhow::Result<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, KeyAlgorithm};
    if let Some(alg) = jwk.common.key_algorithm {
        return Ok(match alg {
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::RS384 => Algorithm::RS384,
            KeyAlgorithm::RS512 => Algorithm::RS512,
            KeyAlgorithm::PS256 => Algorithm::PS256,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::ES384 => Algorithm::ES384,
            other => anyhow::bail!("unsupported JWK algorithm {other:?}"),
        });
    }
    Ok(match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
        AlgorithmParameters::OctetKey(_) => anyhow::bail!("symmetric keys are not accepted"),
        _ => anyhow::bail!("unsupported JWK key type"),
    })
}

/// Extracts the bearer token of an `Authorization` header value.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}
