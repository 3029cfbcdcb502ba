//! Composition of the subgraphs' SDL into the Federation v2 supergraph the router serves,
//! with `graphql-composition` (Grafbase, MPL-2.0) behind this one module.
//!
//! Its known quirk, handled here: in the composed output, root types (`Query`, `Mutation`,
//! `Subscription`) lack a `@join__type(graph: …)` for the graphs that contribute root fields,
//! which the query planner needs to know where each root field can be resolved. We add them.
//! The subgraphs, on their side, name their roots `Query`/`Mutation`/`Subscription` and build
//! their schema with `enable_subscription_in_federation()`.

use std::collections::BTreeSet;

use graphql_composition::{compose as compose_graph, render_federated_sdl, Subgraphs};

/// One subgraph's SDL and where the router reaches it.
#[derive(Debug, Clone)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CompositionError {
    #[error("subgraph {name} has an invalid SDL: {message}")]
    Ingest { name: String, message: String },
    #[error("composition failed:\n{0}")]
    Compose(String),
    #[error("rendering the supergraph failed: {0}")]
    Render(String),
}

/// Composes `subgraphs` into a supergraph SDL. Warnings are fatal: a supergraph that composes
/// with warnings is one we did not mean to ship.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Result<String, CompositionError> {
    let mut ingested = Subgraphs::default();
    for subgraph in subgraphs {
        ingested
            .ingest_str(&subgraph.sdl, &subgraph.name, Some(&subgraph.url))
            .map_err(|err| CompositionError::Ingest {
                name: subgraph.name.clone(),
                message: err.to_string(),
            })?;
    }
    let graph = compose_graph(&mut ingested)
        .warnings_are_fatal()
        .into_result()
        .map_err(|diagnostics| {
            CompositionError::Compose(
                diagnostics
                    .iter_messages()
                    .map(|m| format!("- {m}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
    let sdl = render_federated_sdl(&graph).map_err(|e| CompositionError::Render(e.to_string()))?;
    Ok(add_root_join_types(&sdl))
}

/// Adds `@join__type(graph: X)` to each root type for every graph X that has a field in it.
fn add_root_join_types(sdl: &str) -> String {
    let lines: Vec<&str> = sdl.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 8);
    let mut i = 0;
    while i < lines.len() {
        if !is_root_type_start(lines[i]) {
            out.push(lines[i].to_owned());
            i += 1;
            continue;
        }
        // The header runs from `type X` to the line holding `{`; the body to the closing `}`.
        let Some(brace) = (i..lines.len()).find(|&j| lines[j].contains('{')) else {
            return sdl.to_owned();
        };
        let close = (brace + 1..lines.len())
            .find(|&j| lines[j].trim_start() == "}")
            .unwrap_or(lines.len());
        let header = &lines[i..=brace];
        let body = &lines[brace + 1..close];
        let declared: BTreeSet<String> = header
            .iter()
            .flat_map(|l| graphs_in(l, "@join__type(graph: "))
            .collect();
        let contributing: BTreeSet<String> = body
            .iter()
            .flat_map(|l| graphs_in(l, "@join__field(graph: "))
            .collect();

        out.extend(header[..header.len() - 1].iter().map(|l| (*l).to_owned()));
        let brace_line = header[header.len() - 1];
        let (before, after) = brace_line.split_at(brace_line.find('{').unwrap_or(0));
        if !before.trim().is_empty() {
            out.push(before.trim_end().to_owned());
        }
        out.extend(
            contributing
                .difference(&declared)
                .map(|graph| format!("  @join__type(graph: {graph})")),
        );
        out.push(after.to_owned());
        out.extend(body.iter().map(|l| (*l).to_owned()));
        if close < lines.len() {
            out.push(lines[close].to_owned());
        }
        i = close + 1;
    }
    let mut result = out.join("\n");
    if sdl.ends_with('\n') {
        result.push('\n');
    }
    result
}

fn is_root_type_start(line: &str) -> bool {
    ["Query", "Mutation", "Subscription"].iter().any(|root| {
        line.strip_prefix("type ")
            .and_then(|rest| rest.strip_prefix(root))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '{']))
    })
}

/// The graph names following `marker` in `line`.
fn graphs_in(line: &str, marker: &str) -> Vec<String> {
    line.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &line[at + marker.len()..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subgraph(name: &str, sdl: &str) -> SubgraphSdl {
        SubgraphSdl {
            name: name.into(),
            url: format!("http://{name}.local/graphql"),
            sdl: sdl.into(),
        }
    }

    const LINK: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n";

    #[test]
    fn root_types_name_every_graph_that_contributes_root_fields() {
        let a = subgraph("a", &format!("{LINK}type Query {{ clients: [Client!]! }}\ntype Client @key(fields: \"id\") {{ id: ID! name: String! }}"));
        let b = subgraph(
            "b",
            &format!(
                "{LINK}type Query {{ contracts: [String!]! }}\ntype Mutation {{ sign: Boolean! }}"
            ),
        );
        let sdl = compose(&[a, b]).expect("composes");
        let query = sdl.split("type Query").nth(1).expect("a Query type");
        let query_header = &query[..query.find('{').expect("a body")];
        assert!(query_header.contains("@join__type(graph: A)"), "{sdl}");
        assert!(query_header.contains("@join__type(graph: B)"), "{sdl}");
        let mutation = sdl.split("type Mutation").nth(1).expect("a Mutation type");
        let mutation_header = &mutation[..mutation.find('{').expect("a body")];
        assert!(mutation_header.contains("@join__type(graph: B)"));
        assert!(!mutation_header.contains("@join__type(graph: A)"));
    }

    #[test]
    fn the_fix_keeps_existing_directives_and_adds_only_missing_ones() {
        let sdl = "type Query\n  @join__type(graph: A)\n{\n  x: Int @join__field(graph: A)\n  y: Int @join__field(graph: B)\n}\n";
        let fixed = add_root_join_types(sdl);
        assert_eq!(
            fixed,
            "type Query\n  @join__type(graph: A)\n  @join__type(graph: B)\n{\n  x: Int @join__field(graph: A)\n  y: Int @join__field(graph: B)\n}\n"
        );
        assert_eq!(add_root_join_types(&fixed), fixed);
        let other = "type QueryResult\n{\n  x: Int @join__field(graph: A)\n}\n";
        assert_eq!(add_root_join_types(other), other);
    }

    #[test]
    fn an_invalid_subgraph_is_named_in_the_error() {
        let err = compose(&[subgraph("broken", "type Query {")]).unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
    }
}
