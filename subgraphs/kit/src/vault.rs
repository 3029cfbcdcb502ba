//! Secrets kept at rest — a carrier's or a payment provider's credentials — encrypted with a
//! key from configuration (XChaCha20-Poly1305), so that a database dump or backup never holds
//! them in clear. Each value is bound to what it belongs to (its *context*, such as
//! `carrier-account:<id>`): a ciphertext copied onto another row does not open there.
//!
//! The key is 32 random bytes in base64 (`openssl rand -base64 32`).

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use secrecy::{ExposeSecret, SecretString};

/// What an encrypted value starts with: the scheme and its version.
const PREFIX: &str = "vault.v1.";
const NONCE_LEN: usize = 24;

/// Why a key or a value is refused.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the vault key must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)"
    )]
    Key,
    #[error("not a value encrypted with this key for this context")]
    Open,
    #[error("cannot encrypt")]
    Seal,
}

/// The key that encrypts and opens secrets at rest.
#[derive(Clone)]
pub struct VaultKey(XChaCha20Poly1305);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(..)")
    }
}

impl VaultKey {
    /// The key written as base64 (surrounding white space ignored).
    ///
    /// # Errors
    /// When it is not 32 bytes of base64.
    pub fn from_base64(key: &SecretString) -> Result<Self, VaultError> {
        let bytes = STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| VaultError::Key)?;
        if bytes.len() != 32 {
            return Err(VaultError::Key);
        }
        XChaCha20Poly1305::new_from_slice(&bytes)
            .map(Self)
            .map_err(|_| VaultError::Key)
    }

    /// A fresh random key, as base64 (tests, development stacks).
    pub fn generate() -> SecretString {
        SecretString::from(STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng)))
    }

    /// `secret` encrypted for `context`: `vault.v1.<base64 of nonce and ciphertext>`.
    ///
    /// # Errors
    /// When the cipher fails (it does not, for inputs of sane size).
    pub fn encrypt(&self, context: &str, secret: &[u8]) -> Result<String, VaultError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: secret,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`Self::encrypt`] made for `context`.
    ///
    /// # Errors
    /// When `value` was not encrypted with this key for this context, or was altered.
    pub fn decrypt(&self, context: &str, value: &str) -> Result<Vec<u8>, VaultError> {
        let bytes = value
            .strip_prefix(PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or(VaultError::Open)?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_with_its_key_and_context_only() {
        let key = VaultKey::from_base64(&VaultKey::generate()).expect("a generated key");
        let sealed = key.encrypt("account:1", b"p@ss").expect("encrypts");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("p@ss"));
        assert_eq!(key.decrypt("account:1", &sealed).expect("opens"), b"p@ss");
        assert!(key.decrypt("account:2", &sealed).is_err(), "another row");
        let other = VaultKey::from_base64(&VaultKey::generate()).expect("a generated key");
        assert!(other.decrypt("account:1", &sealed).is_err(), "another key");
        // One character of the ciphertext changed (in the middle: every bit of it counts).
        let middle = sealed.len() / 2;
        let mut altered = sealed.clone();
        let swapped = if &sealed[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        altered.replace_range(middle..=middle, swapped);
        assert!(key.decrypt("account:1", &altered).is_err(), "altered");
        assert_ne!(
            sealed,
            key.encrypt("account:1", b"p@ss").expect("encrypts"),
            "fresh nonce"
        );
    }

    #[test]
    fn keys_of_the_wrong_size_are_refused() {
        assert!(VaultKey::from_base64(&SecretString::from("c2hvcnQ=")).is_err());
        assert!(VaultKey::from_base64(&SecretString::from("not base64!")).is_err());
    }
}
