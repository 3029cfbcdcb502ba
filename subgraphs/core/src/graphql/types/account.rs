//! Accounts without a token: sign-up in two steps (ask, then confirm with the e-mailed link)
//! and password reset (ask, then set a new one with the e-mailed link). Asking answers the
//! same whether or not an account has the e-mail (see `ops::account`).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use subgraph_kit::Role;

use super::identity::{auth_payload, AuthPayload};
use crate::{
    domain::{clean_text, contact::Email, password},
    error::{Error, Result},
    graphql::parts,
    ops::{self, account},
};

#[derive(InputObject)]
pub struct SignUpInput {
    pub email: String,
    /// At least 10 characters; asked again with the confirmation.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub organisation_name: String,
}

/// A sign-up asked for: the e-mail on its way.
#[derive(SimpleObject)]
pub struct SignUpPayload {
    /// Where the confirmation link went (normalised). Whoever holds the address gets it;
    /// when an account has it already, its owner is told instead (this answer is the same).
    pub email: String,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Asks for an account and its organisation: a confirmation link is e-mailed, valid 24
    /// hours, and `confirmSignUp` with it creates them. The answer is the same whether or not
    /// an account has the e-mail (its owner is told instead), so it tells nobody which
    /// accounts exist. Asking again replaces the earlier link (at most one e-mail a minute).
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<SignUpPayload> {
        let (state, request) = parts(ctx);
        let email = Email::parse("email", &input.email)?;
        let pass = password::Password::parse("password", &input.password)?;
        let first_name = clean_text("firstName", &input.first_name, 100)?;
        let last_name = clean_text("lastName", &input.last_name, 100)?;
        let organisation_name = clean_text("organisationName", &input.organisation_name, 200)?;
        // Hashed whatever the e-mail, so that both answers take as long.
        let password_hash = ops::password::hash(pass).await?;
        let answer = SignUpPayload {
            email: email.as_str().to_owned(),
        };
        let mut tx = state.pool.begin().await?;
        let asked = account::SignUpRequest {
            email,
            password_hash,
            first_name,
            last_name,
            organisation_name,
        };
        account::request_sign_up(&mut tx, &state.mail, &request.request_id, asked).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Confirms a sign-up with the e-mailed link's token and the password chosen with it:
    /// the account and its organisation are created, the caller is its owner, and this is
    /// their first session. The link works once; `EXPIRED` after 24 hours.
    async fn confirm_sign_up(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> Result<AuthPayload> {
        let (state, request) = parts(ctx);
        // The token first: a wrong one costs a lookup, never a password check.
        let mut conn = state.pool.acquire().await?;
        let pending = account::pending_sign_up(&mut conn, &token).await?;
        drop(conn);
        let stored = Some(pending.password_hash.clone());
        if !ops::password::check(&state.pool, &pending.email, stored, password).await? {
            return Err(Error::invalid(
                "password",
                "is not the password chosen when signing up",
            ));
        }
        let mut tx = state.pool.begin().await?;
        let confirmed =
            account::confirm_sign_up(&mut tx, &token, pending.id, &request.request_id).await?;
        let active = Some((confirmed.organisation, Role::Owner));
        let payload = auth_payload(state, &mut tx, confirmed.user, active).await?;
        tx.commit().await?;
        Ok(payload)
    }

    /// Asks for a password reset link for `email`, valid an hour. Always true: whether an
    /// account has the e-mail is never told. At most three links an hour reach one account;
    /// each new link ends the earlier ones.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        let (state, request) = parts(ctx);
        let email = Email::parse("email", &email)?;
        let mut tx = state.pool.begin().await?;
        account::request_password_reset(&mut tx, &state.mail, &request.request_id, &email).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets a new password with a reset link's token. The link works once; every session
    /// of the account ends (log in again with the new password) and its failed logins are
    /// forgotten. `NOT_FOUND` for a link that is unknown, used, replaced or expired.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> Result<bool> {
        let (state, _) = parts(ctx);
        let new = password::Password::parse("newPassword", &new_password)?;
        // The token before the hash: a wrong one costs a lookup.
        let mut conn = state.pool.acquire().await?;
        account::reset_link_user(&mut conn, &token).await?;
        drop(conn);
        let hash = ops::password::hash(new).await?;
        let mut tx = state.pool.begin().await?;
        account::reset_password(&mut tx, &token, &hash).await?;
        tx.commit().await?;
        Ok(true)
    }
}
