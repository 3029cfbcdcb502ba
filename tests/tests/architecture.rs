//! Checks that keep the subgraphs alike by construction: the layers below the GraphQL one
//! never reach up into it, and no subgraph depends on another (they meet through the
//! federation and the event contracts only).

use std::path::{Path, PathBuf};

use crm_e2e::catalogue::repo_root;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The subgraph crates: `subgraphs/<name>` with a `src/graphql` module.
fn subgraphs() -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(repo_root().join("subgraphs"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("src/graphql").is_dir())
                .map(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    (name.unwrap_or_default(), p)
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Lines of `file` that are code (not comments).
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(i, line)| (i + 1, line.to_owned()))
        .collect()
}

#[test]
fn db_and_domain_never_import_the_graphql_layer() {
    let subgraphs = subgraphs();
    assert!(subgraphs.len() >= 4, "found {subgraphs:?}");
    let mut offences = Vec::new();
    for (_, root) in &subgraphs {
        for layer in ["db", "domain"] {
            let mut files = rust_files(&root.join("src").join(layer));
            let single = root.join("src").join(format!("{layer}.rs"));
            if single.is_file() {
                files.push(single);
            }
            for file in files {
                for (number, line) in code_lines(&file) {
                    if line.contains("crate::graphql") || line.contains("super::graphql") {
                        offences.push(format!("{}:{number}: {}", file.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "db/ or domain/ imports graphql:\n{}",
        offences.join("\n")
    );
}

#[test]
fn no_subgraph_depends_on_another() {
    let subgraphs = subgraphs();
    let mut offences = Vec::new();
    for (name, root) in &subgraphs {
        let others: Vec<String> = subgraphs
            .iter()
            .filter(|(other, _)| other != name)
            .map(|(other, _)| other.clone())
            .collect();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
        for other in &others {
            if manifest.contains(&format!("subgraph-{other}")) {
                offences.push(format!("{name}/Cargo.toml names subgraph-{other}"));
            }
        }
        for file in rust_files(&root.join("src"))
            .into_iter()
            .chain(rust_files(&root.join("tests")))
        {
            for (number, line) in code_lines(&file) {
                for other in &others {
                    if line.contains(&format!("subgraph_{other}::")) {
                        offences.push(format!("{}:{number}: {}", file.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "a subgraph uses another:\n{}",
        offences.join("\n")
    );
}
