//! Secrets that must reach one other service through the bus — an invitation's token, a
//! password reset's — travel sealed for that service alone, so that no outbox row, JetStream
//! message, dead letter or log line ever holds them in clear.
//!
//! A sealed box (libsodium's `crypto_box_seal`: X25519 with an ephemeral key, XSalsa20-Poly1305)
//! is opened only with the recipient's private key; the sender holds the public key, which is
//! not a secret. Keys are PEM, as OpenSSL writes them:
//!
//! ```text
//! openssl genpkey -algorithm x25519 -out mail-opening-key.pem       # the recipient's
//! openssl pkey -in mail-opening-key.pem -pubout -out mail-sealing-key.pem   # the sender's
//! ```

use base64::{engine::general_purpose::STANDARD, Engine};
use crypto_box::{aead::OsRng, PublicKey, SecretKey};
use secrecy::{ExposeSecret, SecretString};

/// What a sealed value starts with: the scheme and its version.
const PREFIX: &str = "sealed.v1.";
/// DER of a PKCS#8 X25519 private key before its 32 bytes (RFC 8410).
const PRIVATE_DER_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];
/// DER of an X25519 SubjectPublicKeyInfo before its 32 bytes (RFC 8410).
const PUBLIC_DER_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
];

/// Why a key or a sealed value is refused.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "not an X25519 {0} key in PEM (generate one with `openssl genpkey -algorithm x25519`)"
    )]
    Key(&'static str),
    #[error("not a value sealed for this key")]
    Open,
    #[error("cannot seal: {0}")]
    Seal(String),
}

/// Seals secrets for the holder of the matching [`OpeningKey`].
#[derive(Clone)]
pub struct SealingKey(PublicKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey")
    }
}

/// Opens what was sealed with the matching [`SealingKey`].
#[derive(Clone)]
pub struct OpeningKey(SecretKey);

impl std::fmt::Debug for OpeningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpeningKey(..)")
    }
}

impl SealingKey {
    /// The public key of a PEM `PUBLIC KEY` block.
    ///
    /// # Errors
    /// When `pem` is not an X25519 public key.
    pub fn from_pem(pem: &str) -> Result<Self, SealError> {
        let bytes =
            der_key(pem, "PUBLIC KEY", &PUBLIC_DER_PREFIX).ok_or(SealError::Key("public"))?;
        Ok(Self(PublicKey::from(bytes)))
    }

    /// The PEM `PUBLIC KEY` block of this key.
    pub fn to_pem(&self) -> String {
        pem("PUBLIC KEY", &PUBLIC_DER_PREFIX, self.0.as_bytes())
    }

    /// `secret`, sealed: `sealed.v1.<base64>`.
    ///
    /// # Errors
    /// Only if the system's random source fails.
    pub fn seal(&self, secret: &str) -> Result<String, SealError> {
        let sealed = self
            .0
            .seal(&mut OsRng, secret.as_bytes())
            .map_err(|e| SealError::Seal(e.to_string()))?;
        Ok(format!("{PREFIX}{}", STANDARD.encode(sealed)))
    }
}

impl OpeningKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(SecretKey::generate(&mut OsRng))
    }

    /// The private key of a PEM `PRIVATE KEY` block.
    ///
    /// # Errors
    /// When `pem` is not an X25519 private key.
    pub fn from_pem(pem: &SecretString) -> Result<Self, SealError> {
        let bytes = der_key(pem.expose_secret(), "PRIVATE KEY", &PRIVATE_DER_PREFIX)
            .ok_or(SealError::Key("private"))?;
        Ok(Self(SecretKey::from(bytes)))
    }

    /// The PEM `PRIVATE KEY` block of this key.
    pub fn to_pem(&self) -> SecretString {
        SecretString::from(pem("PRIVATE KEY", &PRIVATE_DER_PREFIX, &self.0.to_bytes()))
    }

    /// The key that seals for this one.
    pub fn sealing_key(&self) -> SealingKey {
        SealingKey(self.0.public_key())
    }

    /// The secret inside `sealed`.
    ///
    /// # Errors
    /// When `sealed` was not sealed for this key, or was altered.
    pub fn open(&self, sealed: &str) -> Result<SecretString, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Open)?;
        let bytes = STANDARD.decode(body).map_err(|_| SealError::Open)?;
        let opened = self.0.unseal(&bytes).map_err(|_| SealError::Open)?;
        String::from_utf8(opened)
            .map(SecretString::from)
            .map_err(|_| SealError::Open)
    }
}

/// What a missing mail key's error says: `setting` names the file setting to set.
pub fn missing_key(setting: &str) -> String {
    format!(
        "no mail key: set {setting} to an X25519 PEM file (`openssl genpkey -algorithm x25519`; \
         `cargo xtask dev` generates one in .dev/)"
    )
}

/// The 32 key bytes of the PEM block `label` whose DER is `prefix` + key.
fn der_key(pem: &str, label: &str, prefix: &[u8]) -> Option<[u8; 32]> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].split_whitespace().collect();
    let der = STANDARD.decode(body).ok()?;
    let key = der.strip_prefix(prefix)?;
    key.try_into().ok()
}

fn pem(label: &str, prefix: &[u8], key: &[u8]) -> String {
    let der = [prefix, key].concat();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(der)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_with_the_matching_key_only() {
        let key = OpeningKey::generate();
        let sealed = key.sealing_key().seal("crm_inv_secret").unwrap();
        assert!(sealed.starts_with("sealed.v1."));
        assert!(!sealed.contains("crm_inv_secret"));
        assert_eq!(key.open(&sealed).unwrap().expose_secret(), "crm_inv_secret");
        // Sealing twice never gives the same value (ephemeral keys).
        assert_ne!(sealed, key.sealing_key().seal("crm_inv_secret").unwrap());
        let other = OpeningKey::generate();
        assert!(other.open(&sealed).is_err());
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(&altered).is_err());
        assert!(key.open("crm_inv_secret").is_err());
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = OpeningKey::generate();
        let again = OpeningKey::from_pem(&key.to_pem()).unwrap();
        let public = SealingKey::from_pem(&key.sealing_key().to_pem()).unwrap();
        assert_eq!(
            again
                .open(&public.seal("x").unwrap())
                .unwrap()
                .expose_secret(),
            "x"
        );
        assert!(
            SealingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(OpeningKey::from_pem(&SecretString::from(key.sealing_key().to_pem())).is_err());
    }

    #[test]
    fn keys_written_by_openssl_are_read() {
        // `openssl genpkey -algorithm x25519` and `openssl pkey -pubout` of that key.
        let private = SecretString::from(
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIKA2Q1luco7W08WO7mTC5J8G+SA29cw2GsVAUs9roQpU\n-----END PRIVATE KEY-----\n",
        );
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAUC0iX2nDHbgvToLYL8stw3EYHGh1jIdv/y5S1BNvRlY=\n-----END PUBLIC KEY-----\n";
        let key = OpeningKey::from_pem(&private).unwrap();
        assert_eq!(key.sealing_key().to_pem(), public);
    }
}
