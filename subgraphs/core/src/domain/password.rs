//! Passwords: the length policy (NIST 800-63B: length over composition rules) and argon2id
//! hashing. Hashing is CPU-bound, so callers run it on the blocking pool.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use super::Invalid;

/// A password that meets the policy; never logged (no Debug output of its content).
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let length = value.chars().count();
        if length < 10 {
            return Err(Invalid::new(field, "a password has at least 10 characters"));
        }
        if length > 256 {
            return Err(Invalid::new(field, "a password has at most 256 characters"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The argon2id PHC string of this password.
    pub fn hash(&self) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)?
            .to_string())
    }
}

/// Whether `candidate` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify(candidate: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that "no such user" and
/// "wrong password" take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Password("dummy password for timing".to_owned())
            .hash()
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_another_does_not() {
        let password = Password::parse("password", "correct horse battery").unwrap();
        let hash = password.hash().unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &hash));
        assert!(!verify("correct horse batterz", &hash));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("password", "short").is_err());
    }
}
