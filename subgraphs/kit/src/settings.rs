//! Layered settings, the same way for every subgraph: defaults in code, then an optional YAML
//! file named by `<PREFIX>_CONFIG_FILE`, then environment variables `<PREFIX>__SECTION__KEY`.

use anyhow::Context;
use config::{builder::DefaultState, ConfigBuilder};
use serde::de::DeserializeOwned;

/// Finishes `defaults` with the file and environment layers of `prefix` and deserialises.
pub fn load<T: DeserializeOwned>(
    defaults: ConfigBuilder<DefaultState>,
    prefix: &str,
) -> anyhow::Result<T> {
    let mut builder = defaults;
    if let Ok(file) = std::env::var(format!("{prefix}_CONFIG_FILE")) {
        builder = builder.add_source(config::File::with_name(&file));
    }
    builder
        .add_source(config::Environment::with_prefix(prefix).separator("__"))
        .build()?
        .try_deserialize()
        .with_context(|| format!("invalid {} settings", prefix.to_lowercase()))
}
