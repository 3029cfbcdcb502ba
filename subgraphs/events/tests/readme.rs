//! The README's event catalogue names exactly the event types this crate defines.

use std::collections::BTreeSet;

#[test]
fn the_readme_event_table_lists_every_event_type_and_no_other() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .unwrap_or_else(|err| panic!("cannot read the README: {err}"));
    let table = readme
        .split("| subject (`crm.events.` +) |")
        .nth(1)
        .unwrap_or_else(|| panic!("the README has no event table"));
    let mut documented = BTreeSet::new();
    for row in table.lines().skip(2) {
        let Some(first_cell) = row.strip_prefix('|').and_then(|r| r.split('|').next()) else {
            break; // the table ends at the first line that is not a row
        };
        documented.extend(first_cell.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    let defined: BTreeSet<String> = crm_events::ALL_TYPES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    assert_eq!(
        documented, defined,
        "README.md's event table and crm_events::ALL_TYPES differ"
    );
}
