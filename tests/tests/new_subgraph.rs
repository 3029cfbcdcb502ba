//! What a new subgraph costs: the whole wiring of an empty one — settings, startup, schema,
//! one entity resolved in batches, and its API-test harness — written here against the kit,
//! as CONTRIBUTING.md's checklist describes. It runs for real: core and this subgraph, their
//! databases, NATS, a signed-up session, tenancy.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test
#![allow(unreachable_pub)] // the fixture subgraph is written as its own crate would be

// ---- the subgraph: settings -------------------------------------------------------------

mod parcels {
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, ID};
    use serde::Deserialize;
    use sqlx::{PgExecutor, PgPool};
    use subgraph_kit::{
        by_id_loader,
        graphql::{entity, Loaders},
        runtime::{App, Subgraph},
        settings::{ConfigError, Defaults, ServiceSettings, SubgraphSettings},
        Result,
    };
    use uuid::Uuid;

    #[derive(Debug, Clone, Deserialize)]
    pub struct Settings {
        #[serde(flatten)]
        pub service: ServiceSettings,
    }

    impl SubgraphSettings for Settings {
        const NAME: &'static str = "parcels";
        const PORT: u16 = 4090;
        const SECTIONS: &'static [&'static str] = &[];

        fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
            &self.service.database
        }

        fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
            Ok(builder)
        }
    }

    // ---- what it does on the bus (its NATS user and permissions) -------------------------

    pub const BUS: subgraph_kit::bus::Bus = subgraph_kit::bus::Bus {
        service: "parcels",
        publishes: &[],
        consumers: &[],
        live: false,
    };

    // ---- migrations: the kit's event tables and one of its own --------------------------

    pub fn migration() -> String {
        format!(
            "{}\ncreate table parcels (organisation_id uuid not null, id uuid not null,
                 label text not null, primary key (organisation_id, id));",
            subgraph_kit::db::EVENT_TABLES_SQL
        )
    }

    pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

    // ---- db, loader, schema -------------------------------------------------------------

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct ParcelRow {
        pub id: Uuid,
        pub label: String,
    }

    pub struct Parcel(ParcelRow);

    #[Object]
    impl Parcel {
        async fn id(&self) -> ID {
            ID(self.0.id.to_string())
        }
        async fn label(&self) -> &str {
            &self.0.label
        }
    }

    pub async fn parcels_by_ids(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        ids: &[Uuid],
    ) -> sqlx::Result<Vec<ParcelRow>> {
        sqlx::query_as("select id, label from parcels where organisation_id = $1 and id = any($2)")
            .bind(organisation_id)
            .bind(ids)
            .fetch_all(db)
            .await
    }

    by_id_loader!(ParcelLoader, ParcelRow, parcels_by_ids);

    #[derive(Default)]
    pub struct Query;

    #[Object]
    impl Query {
        async fn parcel(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Parcel>> {
            Ok(entity::<ParcelLoader>(ctx, &id).await?.map(Parcel))
        }

        #[graphql(entity)]
        async fn find_parcel_by_id(
            &self,
            ctx: &Context<'_>,
            #[graphql(key)] id: ID,
        ) -> Result<Option<Parcel>> {
            Ok(entity::<ParcelLoader>(ctx, &id).await?.map(Parcel))
        }
    }

    // ---- startup ------------------------------------------------------------------------

    pub async fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<App> {
        let verifier = settings.service.auth.verifier();
        let schema = subgraph_kit::graphql::schema::<Query, EmptyMutation, EmptySubscription>(
            subgraph_kit::guard::Guard::new(),
        )
        .finish();
        Subgraph::connect(&BUS, &settings.service, &MIGRATOR, pool, verifier)
            .await?
            .graphql(schema, Loaders::new().with::<ParcelLoader>())
            .bind()
            .await
    }
}

// ---- its API-test harness -----------------------------------------------------------------

use crm_test_support::{
    harness::{start, Harness},
    TestDatabase,
};
use serde_json::json;

async fn spawn_parcels() -> (Harness, TestDatabase, subgraph_kit::runtime::Running) {
    let mut harness = Harness::start().await;
    let db = TestDatabase::create(&parcels::MIGRATOR).await;
    sqlx::raw_sql(&parcels::migration())
        .execute(&db.pool)
        .await
        .unwrap();
    let settings = parcels::Settings {
        service: harness.service(&db),
    };
    let app = start(parcels::build(settings, Some(db.pool.clone())).await);
    harness.set_target(app.url());
    (harness, db, app)
}

// ---- a test ------------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_subgraph_wired_by_the_kit_serves_its_entity_to_its_organisation_only() {
    let (harness, db, _app) = spawn_parcels().await;
    let owner = harness.sign_up("owner@example.fr", "Acme").await;
    let stranger = harness.sign_up("stranger@example.fr", "Other").await;
    let id = uuid::Uuid::new_v4();
    sqlx::query("insert into parcels (organisation_id, id, label) values ($1, $2, 'Colis 1')")
        .bind(owner.organisation())
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();

    let query = "query($id: ID!) { parcel(id: $id) { id label } }";
    let mine = owner.run(query, json!({"id": id})).await;
    assert_eq!(
        mine.data()["parcel"],
        json!({"id": id.to_string(), "label": "Colis 1"})
    );
    let theirs = stranger.run(query, json!({"id": id})).await;
    assert_eq!(theirs.data()["parcel"], serde_json::Value::Null);
    let anonymous = crm_test_support::GraphqlClient::new(owner.client.url.clone())
        .run(query, json!({"id": id}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    let sdl = owner.run("{ _service { sdl } }", json!({})).await;
    assert!(sdl.data()["_service"]["sdl"]
        .as_str()
        .unwrap()
        .contains("type Parcel @key(fields: \"id\")"));
}
