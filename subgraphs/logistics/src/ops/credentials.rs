//! A carrier account's secrets (the OAuth2 client secret and the account's password), kept
//! encrypted with the vault key and bound to the account's id.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subgraph_kit::vault::VaultKey;
use uuid::Uuid;

use crate::{carrier::Credentials, db::account::AccountRow};

#[derive(Serialize, Deserialize)]
struct Secrets {
    client_secret: String,
    password: String,
}

fn context(account_id: Uuid) -> String {
    format!("carrier-account:{account_id}")
}

/// The secrets, encrypted for `account_id`.
///
/// # Errors
/// When the cipher fails.
pub fn seal(
    vault: &VaultKey,
    account_id: Uuid,
    client_secret: &SecretString,
    password: &SecretString,
) -> anyhow::Result<String> {
    let secrets = serde_json::to_vec(&Secrets {
        client_secret: client_secret.expose_secret().to_owned(),
        password: password.expose_secret().to_owned(),
    })?;
    Ok(vault.encrypt(&context(account_id), &secrets)?)
}

/// The account's credentials, decrypted for a call.
///
/// # Errors
/// When the stored value does not open with this key for this account.
pub fn open(vault: &VaultKey, account: &AccountRow) -> anyhow::Result<Credentials> {
    let bytes = vault.decrypt(&context(account.id), &account.credentials)?;
    let secrets: Secrets = serde_json::from_slice(&bytes)?;
    Ok(Credentials {
        account_id: account.id,
        sandbox: account.sandbox,
        client_id: account.client_id.clone(),
        client_secret: SecretString::from(secrets.client_secret),
        username: account.username.clone(),
        password: SecretString::from(secrets.password),
    })
}

/// The carrier account a shipment goes through, and its credentials opened for a call.
///
/// # Errors
/// When the account cannot be read, is gone, or its credentials do not open.
pub async fn of_shipment(
    pool: &sqlx::PgPool,
    vault: &VaultKey,
    shipment: &crate::db::shipment::ShipmentRow,
) -> anyhow::Result<(AccountRow, Credentials)> {
    let account =
        crate::db::account::find(pool, shipment.organisation_id, shipment.carrier_account_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the carrier account is gone"))?;
    let credentials = open(vault, &account)?;
    Ok((account, credentials))
}
