//! Where documents live (finance's issued invoices, logistics' letters and proofs). `DocumentStore` is the interface; `LocalStore` keeps them on
//! the local filesystem (the default; an object-storage implementation would sit beside it).
//! Documents are written once, under keys made of ids only, atomically (temporary file, then
//! rename), before the issuing transaction commits: a failed commit leaves an orphan file,
//! never an issued invoice without its document.

use std::{future::Future, path::PathBuf};

/// Stores and serves documents by key (`<organisation>/<document>.pdf`).
pub trait DocumentStore: Send + Sync + 'static {
    fn put(&self, key: &str, bytes: Vec<u8>) -> impl Future<Output = std::io::Result<()>> + Send;
    fn get(&self, key: &str) -> impl Future<Output = std::io::Result<Vec<u8>>> + Send;
}

/// Documents in a directory of the local filesystem.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        // Keys are built from ids; refuse anything that could leave the root.
        let safe = !key.is_empty()
            && key
                .split('/')
                .all(|part| !part.is_empty() && part != ".." && part != ".")
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_'));
        if safe {
            Ok(self.root.join(key))
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad document key {key}"),
            ))
        }
    }
}

impl DocumentStore for LocalStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, &path).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(key)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn documents_are_kept_and_keys_cannot_escape_the_root() {
        let root = std::env::temp_dir().join(format!("store-{}", uuid::Uuid::new_v4().simple()));
        let store = LocalStore::new(root.clone());
        store
            .put("org/a.pdf", b"%PDF".to_vec())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.get("org/a.pdf").await.unwrap_or_default(), b"%PDF");
        assert!(store.put("../evil.pdf", vec![]).await.is_err());
        assert!(store.get("org/../../etc/passwd").await.is_err());
        let _ = std::fs::remove_dir_all(root);
    }
}
