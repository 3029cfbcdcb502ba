//! Issuing access tokens. Core signs them with an Ed25519 key from configuration and
//! publishes the public half as a JWKS (`/.well-known/jwks.json`), which the gateway and every
//! subgraph use to verify them. An external OIDC provider can take this role: point the
//! verifiers at its JWKS and have it emit the `org_id` and `role` claims.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
    SigningKey,
};
use jsonwebtoken::{encode, jwk::JwkSet, Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subgraph_kit::{
    auth::{Claims, TokenPolicy, TokenVerifier},
    Role,
};
use uuid::Uuid;

/// Signs access tokens and knows the JWKS that verifies them.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    jwks: JwkSet,
    policy: TokenPolicy,
    ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl TokenIssuer {
    /// Builds the issuer from a PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(
        pem: &SecretString,
        policy: TokenPolicy,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let signing = SigningKey::from_pkcs8_pem(pem.expose_secret())
            .map_err(|e| anyhow::anyhow!("the signing key is not a PKCS#8 Ed25519 PEM key: {e}"))?;
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("cannot encode the signing key: {e}"))?;
        let public = signing.verifying_key().to_bytes();
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(public),
                "kid": kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        }))?;
        Ok(Self {
            key: EncodingKey::from_ed_der(der.as_bytes()),
            kid,
            jwks,
            policy,
            ttl,
        })
    }

    /// The public keys, as served on `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// A verifier for the tokens this issuer signs.
    pub fn verifier(&self) -> anyhow::Result<TokenVerifier> {
        TokenVerifier::from_jwks(self.policy.clone(), &self.jwks)
    }

    /// Signs a token for `user_id`, acting in `membership` when given.
    pub fn issue(
        &self,
        user_id: Uuid,
        membership: Option<(Uuid, Role)>,
    ) -> anyhow::Result<IssuedToken> {
        let now = Utc::now();
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: user_id,
            org_id: membership.map(|(org, _)| org),
            role: membership.map(|(_, role)| role),
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(IssuedToken {
            token: encode(&header, &claims, &self.key)?,
            expires_at,
        })
    }
}

/// A new random Ed25519 private key as PKCS#8 PEM (development set-up and tests).
pub fn generate_signing_key_pem() -> anyhow::Result<SecretString> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode a new signing key: {e}"))?;
    Ok(SecretString::from(pem.to_string()))
}
