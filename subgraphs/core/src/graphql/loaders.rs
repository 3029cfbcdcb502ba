//! DataLoaders: each turns a batch of keys into one `where id = any($1)` statement scoped
//! by the organisation the loader was created for (one set of loaders per request).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{
    address::{self, AddressRow},
    client::{self, ClientRow},
    societe::{self, SocieteRow},
    user::{self, UserRow},
};

macro_rules! scoped_loader {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            pool: PgPool,
            organisation_id: Uuid,
        }

        impl $name {
            pub fn new(pool: PgPool, organisation_id: Uuid) -> Self {
                Self { pool, organisation_id }
            }
        }
    };
}

scoped_loader!(
    /// Live clients by id.
    ClientLoader
);
scoped_loader!(
    /// Addresses by id.
    AddressLoader
);
scoped_loader!(
    /// All addresses of each client, by client id.
    ClientAddressesLoader
);
scoped_loader!(
    /// Sociétés by id.
    SocieteLoader
);
scoped_loader!(
    /// Users who are members of the organisation, by id.
    UserLoader
);

impl Loader<Uuid> for ClientLoader {
    type Value = ClientRow;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, ClientRow>, Self::Error> {
        let rows = client::clients_by_ids(&self.pool, self.organisation_id, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

impl Loader<Uuid> for AddressLoader {
    type Value = AddressRow;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, AddressRow>, Self::Error> {
        let rows = address::addresses_by_ids(&self.pool, self.organisation_id, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

impl Loader<Uuid> for ClientAddressesLoader {
    type Value = Vec<AddressRow>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<AddressRow>>, Self::Error> {
        let rows = address::addresses_of_clients(&self.pool, self.organisation_id, keys).await?;
        let mut by_client: HashMap<Uuid, Vec<AddressRow>> = HashMap::new();
        for row in rows {
            by_client.entry(row.client_id).or_default().push(row);
        }
        Ok(by_client)
    }
}

impl Loader<Uuid> for SocieteLoader {
    type Value = SocieteRow;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, SocieteRow>, Self::Error> {
        let rows = societe::societes_by_ids(&self.pool, self.organisation_id, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = UserRow;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, UserRow>, Self::Error> {
        let rows = user::users_in_organisation(&self.pool, self.organisation_id, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Turns a loader failure into our internal error.
pub fn load_error(err: Arc<sqlx::Error>) -> crate::error::Error {
    crate::error::Error::Internal(anyhow::anyhow!("batch load failed: {err}"))
}
