//! The compose deployment, run without Docker: every service of `compose/docker-compose.yml`
//! started from this build's binaries with exactly the environment and command compose gives
//! it — secrets made by `compose/make-secrets.sh`, databases and roles by
//! `compose/postgres/provision.sql`, NATS by the service's own shell command over the generated
//! `nats.conf` — translating only what Docker provides: host names and ports become loopback
//! ones, `/run/secrets/<name>` the made file, volumes temporary directories. Every health check
//! passes, and a person signs up through the production gateway, confirms with the e-mailed
//! link, and creates a client whose welcome e-mail is delivered.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crm_e2e::{
    catalogue::repo_root,
    gateway::{binary, free_port},
};
use crm_test_support::{
    db::ProvisionedDatabase, mailbox::Mailbox, smtp::SmtpSink, wait_for, GraphqlClient, PASSWORD,
};
use serde_json::json;
use serde_yaml::Value;

const SUBGRAPHS: [&str; 5] = ["core", "commercial", "finance", "engagement", "logistics"];

/// Children killed when the test ends, whatever happens.
struct Processes(Vec<(String, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What Docker provides, on this machine: each service's loopback port, the secrets'
/// files, the volumes' directories, the provisioned databases.
struct Docker {
    root: PathBuf,
    /// `/run/secrets` of every container (the files named as compose names the secrets).
    run_secrets: PathBuf,
    ports: HashMap<&'static str, u16>,
    databases: HashMap<&'static str, ProvisionedDatabase>,
    smtp_port: u16,
}

impl Docker {
    /// `value` as this machine has it.
    fn translate(&self, value: &str) -> String {
        let mut value = value.replace("$$", "$");
        for (service, database) in &self.databases {
            // postgres://crm_<service>[_migrator]@postgres:5432/crm_<service>
            let db = format!("crm_{service}");
            for (role, ours) in [
                (format!("{db}_migrator"), &database.migrator_role),
                (db.clone(), &database.app_role),
            ] {
                value = value.replace(
                    &format!("postgres://{role}@postgres:5432/{db}"),
                    &format!("postgres://{ours}@127.0.0.1:5432/{}", database.name),
                );
            }
        }
        for (service, port) in &self.ports {
            let compose_port = compose_port(service);
            value = value
                .replace(
                    &format!("http://{service}:{compose_port}"),
                    &format!("http://127.0.0.1:{port}"),
                )
                .replace(
                    &format!("http://127.0.0.1:{compose_port}/"),
                    &format!("http://127.0.0.1:{port}/"),
                );
        }
        let documents = self.root.join("finance-documents");
        let letters = self.root.join("logistics-documents");
        value
            .replace(
                "nats://nats:4222",
                &format!("nats://127.0.0.1:{}", self.ports["nats"]),
            )
            .replace("/run/secrets", &self.run_secrets.display().to_string())
            .replace(
                "/var/lib/crm/finance-documents",
                &documents.display().to_string(),
            )
            .replace(
                "/var/lib/crm/logistics-documents",
                &letters.display().to_string(),
            )
            .replace(
                "/etc/nats/nats.conf",
                &repo_root()
                    .join("compose/nats/nats.conf")
                    .display()
                    .to_string(),
            )
            .replace(
                "'\"/data\"'",
                &format!("'\"{}\"'", self.root.join("nats-data").display()),
            )
            .replace(
                "-p 4222",
                &format!("-a 127.0.0.1 -p {}", self.ports["nats"]),
            )
            .replace("-m 8222", &format!("-m {}", self.ports["nats-monitor"]))
            .replace(
                "/app/router.production.yaml",
                &repo_root()
                    .join("gateway/router.production.yaml")
                    .display()
                    .to_string(),
            )
            .replace(
                "/app/schema/",
                &format!("{}/", repo_root().join("schema").display()),
            )
            .replace("0.0.0.0", "127.0.0.1")
    }

    /// A service's environment, as compose sets it, translated; its own port.
    fn environment(&self, service: &Value, name: &'static str) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = service["environment"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
                };
                (k.as_str().unwrap().to_owned(), self.translate(&value))
            })
            .collect();
        let port = self.ports[name].to_string();
        for (key, value) in &mut env {
            if key.ends_with("__HTTP__PORT") || key == "PORT" {
                value.clone_from(&port);
            }
            if key == "ENGAGEMENT__EMAIL__SMTP_HOST" {
                "127.0.0.1".clone_into(value);
            }
            if key == "ENGAGEMENT__EMAIL__SMTP_PORT" {
                *value = self.smtp_port.to_string();
            }
        }
        env
    }
}

/// The port a service listens on inside compose's network.
fn compose_port(service: &str) -> u16 {
    match service {
        "gateway" => 4000,
        "core" => 4001,
        "commercial" => 4002,
        "finance" => 4003,
        "engagement" => 4004,
        "logistics" => 4005,
        "nats" => 4222,
        _ => 8222,
    }
}

/// Its health check's URL (`["CMD", "curl", "-fsS", <url>]` or NATS's `wget` one), translated.
fn health_url(docker: &Docker, service: &Value) -> String {
    let test: Vec<String> = service["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let url = test
        .iter()
        .flat_map(|part| part.split(['\'', ' ']))
        .find(|part| part.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the health check {test:?}"))
        .to_owned();
    docker.translate(&url)
}

async fn healthy(url: &str, name: &str, log: &Path) {
    let http = reqwest::Client::new();
    let ok = wait_for(Duration::from_secs(60), || async {
        let response = http.get(url).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    assert!(
        ok.is_some(),
        "{name} never passed its health check {url}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn spawn(command: &mut Command, log: &Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"))
}

#[tokio::test]
async fn the_compose_deployment_runs_as_documented() {
    let root = std::env::temp_dir().join(format!("crm-compose-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(root.join("finance-documents")).unwrap();
    std::fs::create_dir_all(root.join("logistics-documents")).unwrap();
    let compose: Value = serde_yaml::from_str(
        &std::fs::read_to_string(repo_root().join("compose/docker-compose.yml")).unwrap(),
    )
    .unwrap();

    // The secrets, as the README says to make them, then where compose mounts them.
    let made = root.join("secrets");
    let status = Command::new("bash")
        .arg(repo_root().join("compose/make-secrets.sh"))
        .arg(&made)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "make-secrets.sh failed");
    let run_secrets = root.join("run-secrets");
    std::fs::create_dir_all(&run_secrets).unwrap();
    for (name, secret) in compose["secrets"].as_mapping().unwrap() {
        let file = secret["file"].as_str().unwrap().trim_start_matches("./");
        std::fs::copy(
            made.join(file.trim_start_matches("secrets/")),
            run_secrets.join(name.as_str().unwrap()),
        )
        .unwrap_or_else(|err| panic!("the secret {name:?} ({file}) was not made: {err}"));
    }

    let mut ports = HashMap::new();
    for name in [
        "gateway",
        "core",
        "commercial",
        "finance",
        "engagement",
        "logistics",
        "nats",
        "nats-monitor",
    ] {
        ports.insert(name, free_port().unwrap());
    }
    let databases = SUBGRAPHS
        .into_iter()
        .map(|name| (name, ProvisionedDatabase::provision(None)))
        .collect();
    let smtp = SmtpSink::start().await;
    let docker = Docker {
        root: root.clone(),
        run_secrets,
        ports,
        databases,
        smtp_port: smtp.port,
    };
    let services = &compose["services"];
    let mut processes = Processes(Vec::new());

    // NATS, by the service's own command.
    let nats = &services["nats"];
    let script = nats["command"][0].as_str().unwrap();
    let log = root.join("nats.log");
    let child = spawn(
        Command::new("sh").arg("-c").arg(docker.translate(script)),
        &log,
    );
    processes.0.push(("nats".into(), child));
    healthy(&health_url(&docker, nats), "nats", &log).await;

    // The subgraphs and the gateway, in compose's order of dependencies.
    for name in [
        "core",
        "commercial",
        "finance",
        "engagement",
        "logistics",
        "gateway",
    ] {
        let service = &services[name];
        let program = service["command"][0].as_str().unwrap();
        let log = root.join(format!("{name}.log"));
        let mut command = Command::new(binary(program).unwrap());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CARGO", "1") // the gateway's "debug binary" banner is for people
            .current_dir(repo_root())
            .envs(docker.environment(service, name));
        let child = spawn(&mut command, &log);
        processes.0.push((name.into(), child));
        healthy(&health_url(&docker, service), name, &log).await;
    }

    // A person signs up through the production gateway and reads the link in their e-mail.
    let gateway = GraphqlClient::new(format!(
        "http://127.0.0.1:{}/graphql",
        docker.ports["gateway"]
    ));
    let asked = gateway
        .run(
            "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
            json!({"input": {"email": "owner@compose.test", "password": PASSWORD, "firstName": "Ada",
                   "lastName": "Owner", "organisationName": "Compose"}}),
        )
        .await;
    asked.data();
    let options: sqlx::postgres::PgConnectOptions =
        crm_test_support::db::server_url().parse().unwrap();
    let core = sqlx::PgPool::connect_with(options.database(&docker.databases["core"].name))
        .await
        .unwrap();
    let key = subgraph_kit::sealed::OpeningKey::from_pem(&secrecy::SecretString::from(
        std::fs::read_to_string(made.join("mail-opening-key.pem")).unwrap(),
    ))
    .unwrap();
    let mailbox = Mailbox {
        core: &core,
        key: &key,
    };
    let link = mailbox
        .secret(crm_test_support::mailbox::SIGN_UP, "owner@compose.test")
        .await
        .unwrap();
    let confirmed = gateway
        .run(
            "mutation($t: String!, $p: String!) { confirmSignUp(token: $t, password: $p) { token } }",
            json!({"t": link, "p": PASSWORD}),
        )
        .await;
    let token = confirmed.data()["confirmSignUp"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = gateway.with_token(token);
    owner
        .run(
            "mutation { createClient(input: {kind: PERSON, name: \"Dupont\", firstName: \"Jeanne\", email: \"jeanne@compose.test\"}) { id } }",
            json!({}),
        )
        .await
        .data();
    let delivered = wait_for(Duration::from_secs(30), || async {
        let to = |address: &str| smtp.messages().iter().any(|m| m.to == [address]);
        (to("owner@compose.test") && to("jeanne@compose.test")).then_some(())
    })
    .await;
    assert!(
        delivered.is_some(),
        "the confirmation and welcome e-mails were not delivered:\n{}",
        std::fs::read_to_string(root.join("engagement.log")).unwrap_or_default()
    );
    let listed = owner
        .run("{ clients(first: 5) { nodes { displayName } } }", json!({}))
        .await;
    assert_eq!(
        listed.data()["clients"]["nodes"][0]["displayName"],
        "Jeanne Dupont"
    );
    core.close().await;
    drop(processes);
    let _ = std::fs::remove_dir_all(&root);
}
