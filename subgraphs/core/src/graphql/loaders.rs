//! DataLoaders: each turns a batch of keys into one `where id = any($1)` statement scoped
//! by the organisation the loader was created for (one set of loaders per request).

use subgraph_kit::{by_id_loader, grouped_loader};

use crate::db::{address, client, societe, user};

by_id_loader!(
    /// Live clients by id.
    ClientLoader,
    client::ClientRow,
    client::clients_by_ids
);
by_id_loader!(
    /// Addresses by id.
    AddressLoader,
    address::AddressRow,
    address::addresses_by_ids
);
grouped_loader!(
    /// All addresses of each client, by client id.
    ClientAddressesLoader,
    address::AddressRow,
    address::addresses_of_clients,
    client_id
);
by_id_loader!(
    /// Sociétés by id.
    SocieteLoader,
    societe::SocieteRow,
    societe::societes_by_ids
);
by_id_loader!(
    /// Users who are members of the organisation, by id.
    UserLoader,
    user::UserRow,
    user::users_in_organisation
);
