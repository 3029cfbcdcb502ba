//! Logging setup shared by the binaries: `RUST_LOG`-style filters, text for people and JSON
//! for machines (`LOG_FORMAT=json`). Text has colours on a terminal only (never in files or
//! pipes), and never with `NO_COLOR` set.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber once; later calls are no-ops (tests call it freely).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(fmt::layer().json().with_current_span(true))
            .try_init()
    } else {
        let colours = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        registry
            .with(fmt::layer().compact().with_ansi(colours))
            .try_init()
    };
    // Already installed: keep the first one.
    drop(result);
}
