//! Every root field of the composed schema, called through the gateway by an organisation's
//! owner with hostile argument values (extreme numbers, impossible dates, malformed decimals
//! and ids, odd text): each answer is a coded client error or data — never `INTERNAL`, never
//! a 5xx. The fields come from introspection, so a new operation is covered the day it lands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::collections::HashMap;

use crm_e2e::harness::Stack;
use serde_json::{json, Value};

const INTROSPECTION: &str = "query {
  __schema {
    queryType { name } mutationType { name }
    types { kind name enumValues { name }
      inputFields { name type { ...T } }
      fields { name args { name type { ...T } } type { ...T } } }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

/// Calls per field: at least the longest list of hostile values below.
const VARIANTS: usize = 10;

/// Hostile values by scalar; each call of a field takes the `n`th of every list (cycling).
fn hostile(scalar: &str, ids: &[String]) -> Vec<Value> {
    let long = "é".repeat(3_000);
    match scalar {
        "String" => vec![
            json!(""),
            json!("'; drop table clients; --"),
            json!(long),
            json!("%_\\*?"),
            json!("😀🇫🇷\u{FEFF}\u{200B}"),
            json!("../../etc/passwd"),
            json!("nul\u{0}byte"),
            json!(" "),
            json!("\u{202E}fdp.exe"),
        ],
        "ID" => {
            let mut values = vec![
                json!(""),
                json!("not-an-id"),
                json!("00000000-0000-0000-0000-000000000000"),
                json!("ffffffff-ffff-ffff-ffff-ffffffffffff"),
                json!(uuid::Uuid::new_v4().to_string()),
            ];
            values.extend(ids.iter().map(|id| json!(id)));
            values
        }
        "Int" => vec![json!(0), json!(-1), json!(i32::MAX), json!(i32::MIN)],
        "Float" => vec![json!(0.0), json!(-1.5), json!(1e308)],
        "Boolean" => vec![json!(true), json!(false)],
        "Decimal" => vec![
            json!("0"),
            json!("-0.01"),
            json!("1e30"),
            json!("99999999999999999999999999999"),
            json!("NaN"),
            json!("abc"),
            json!("0.000000000000000000001"),
        ],
        "NaiveDate" => vec![
            json!("2026-02-30"),
            json!("0001-01-01"),
            json!("9999-12-31"),
            json!("not-a-date"),
            json!("2026-13-01"),
        ],
        "DateTime" => vec![
            json!("1970-01-01T00:00:00Z"),
            json!("9999-12-31T23:59:59Z"),
            json!("0001-01-01T00:00:00+14:00"),
            json!("yesterday"),
            json!("2026-02-30T00:00:00Z"),
        ],
        "JSON" => vec![
            json!({}),
            json!({"a": [1, {"b": null}]}),
            json!("x"),
            json!([]),
        ],
        _ => vec![json!(null)],
    }
}

struct Schema {
    types: HashMap<String, Value>,
    ids: Vec<String>,
}

impl Schema {
    /// A value of the type `ty`, the `n`th variant.
    fn value(&self, ty: &Value, n: usize, depth: usize) -> Value {
        match ty["kind"].as_str().unwrap_or_default() {
            "NON_NULL" => self.value(&ty["ofType"], n, depth),
            "LIST" => match n % 3 {
                0 => json!([]),
                _ => json!([self.value(&ty["ofType"], n, depth)]),
            },
            "ENUM" => {
                let values = self.types[ty["name"].as_str().unwrap()]["enumValues"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                values[n % values.len()]["name"].clone()
            }
            "INPUT_OBJECT" => {
                let definition = &self.types[ty["name"].as_str().unwrap()];
                let mut object = serde_json::Map::new();
                for field in definition["inputFields"].as_array().unwrap() {
                    let required = field["type"]["kind"] == "NON_NULL";
                    // Optional fields of nested inputs only now and then, to stay small.
                    if required || depth < 2 && n.is_multiple_of(2) {
                        let name = field["name"].as_str().unwrap().to_owned();
                        object.insert(
                            name,
                            self.value(&field["type"], n + object.len(), depth + 1),
                        );
                    }
                }
                Value::Object(object)
            }
            _ => {
                let values = hostile(ty["name"].as_str().unwrap_or_default(), &self.ids);
                values[n % values.len()].clone()
            }
        }
    }
}

/// `String!`, `[ID!]`… as written in a variable definition.
fn type_name(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap_or_default() {
        "NON_NULL" => format!("{}!", type_name(&ty["ofType"])),
        "LIST" => format!("[{}]", type_name(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap_or_default().to_owned(),
    }
}

fn named(ty: &Value) -> &Value {
    match ty["kind"].as_str() {
        Some("NON_NULL" | "LIST") => named(&ty["ofType"]),
        _ => ty,
    }
}

#[tokio::test]
async fn no_hostile_argument_on_any_root_field_is_internal() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@hostile.test", "Hostile").await;
    // A few real ids among the hostile ones, so that some calls get past "not found".
    let client = owner
        .run(
            "mutation { createClient(input: {kind: COMPANY, name: \"Cible SA\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let societe = owner
        .run(
            "mutation { createSociete(input: {name: \"Cible Holding\", siren: \"443061841\"}) { id } }",
            json!({}),
        )
        .await;
    let ids = [
        &client.body["data"]["createClient"]["id"],
        &societe.body["data"]["createSociete"]["id"],
    ]
    .iter()
    .filter_map(|id| id.as_str().map(str::to_owned))
    .collect();
    let introspection = owner.run(INTROSPECTION, json!({})).await;
    let schema_json = &introspection.data()["__schema"];
    let types: HashMap<String, Value> = schema_json["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    let schema = Schema { types, ids };

    let mut calls = 0;
    let mut failures = Vec::new();
    for (operation, root) in [("query", "Query"), ("mutation", "Mutation")] {
        let mut fields = schema.types[root]["fields"].as_array().cloned().unwrap();
        // What could lock the owner out goes last.
        fields.sort_by_key(|f| {
            let name = f["name"].as_str().unwrap_or_default();
            ["delete", "remove", "leave", "transfer", "switch", "revoke"]
                .iter()
                .any(|p| name.starts_with(p))
        });
        for field in &fields {
            let name = field["name"].as_str().unwrap();
            let args = field["args"].as_array().cloned().unwrap_or_default();
            let returned = &schema.types[named(&field["type"])["name"].as_str().unwrap()];
            let selection = match returned["kind"].as_str() {
                Some("OBJECT" | "INTERFACE" | "UNION") => " { __typename }",
                _ => "",
            };
            for variant in 0..VARIANTS {
                let mut definitions = Vec::new();
                let mut arguments = Vec::new();
                let mut variables = serde_json::Map::new();
                for (i, arg) in args.iter().enumerate() {
                    let arg_name = arg["name"].as_str().unwrap();
                    definitions.push(format!("$a{i}: {}", type_name(&arg["type"])));
                    arguments.push(format!("{arg_name}: $a{i}"));
                    variables.insert(format!("a{i}"), schema.value(&arg["type"], variant + i, 0));
                }
                let document = if args.is_empty() {
                    format!("{operation} {{ {name}{selection} }}")
                } else {
                    format!(
                        "{operation}({}) {{ {name}({}){selection} }}",
                        definitions.join(", "),
                        arguments.join(", ")
                    )
                };
                let response = owner.run(&document, Value::Object(variables.clone())).await;
                calls += 1;
                let internal = response.errors().iter().any(|e| {
                    e["extensions"]["code"] == "INTERNAL" || e["extensions"]["code"].is_null()
                });
                if response.status >= 500 || internal {
                    failures.push(format!(
                        "{name} ({}) {}: {}",
                        response.status,
                        Value::Object(variables),
                        response.body
                    ));
                }
            }
        }
    }
    assert!(calls > 800, "only {calls} calls: introspection went wrong");
    assert!(
        failures.is_empty(),
        "{} of {calls} calls failed on our side:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
