//! Core's SQL. Every function takes an executor (pool, connection or transaction) so callers
//! choose the transaction; every tenant-scoped query filters on `organisation_id` first.
//! Row structs (`*Row`) mirror tables; GraphQL types are built from them in `graphql::types`.

pub mod address;
pub mod client;
pub mod invitation;
pub mod login_failures;
pub mod membership;
pub mod organisation;
pub mod password_reset;
pub mod refresh_token;
pub mod sign_up;
pub mod societe;
pub mod user;

use subgraph_kit::Role;

/// Reads a `member_role` column (selected as text).
pub(crate) fn role_from_db(value: &str) -> Result<Role, sqlx::Error> {
    Role::parse(value)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown member_role {value}").into()))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub(crate) fn like_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
