//! Exact agreement with RDKit on the small committed data in `tests/data` (no shared folder
//! needed): 42 ChEBI-20 rows chosen for diversity, and 34 extra SMILES for input the dataset
//! never uses (lowercase aromatics, `[H]` atoms, ring-bond symbols, hypervalent forms).

use super::reference::{Agreement, read_references};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn assert_exact(tsv: &str, jsonl: &str, molecules: usize) {
    let references = read_references(&data(tsv), &data(jsonl));
    assert_eq!(references.len(), molecules);
    let mut agreement = Agreement::default();
    for reference in &references {
        agreement.add(reference);
    }
    println!("{}", agreement.table());
    assert!(
        agreement.parse_failures.is_empty() && agreement.examples.is_empty(),
        "{tsv}: failures {:?}, mismatches {:#?}",
        agreement.parse_failures,
        agreement.examples
    );
    assert_eq!(agreement.atom_count_matches, molecules);
    assert_eq!(agreement.bond_count_matches, molecules);
}

#[test]
fn chebi20_subset_matches_rdkit_exactly() {
    assert_exact("subset.tsv", "subset.rdkit.jsonl", 42);
}

#[test]
fn extra_smiles_match_rdkit_exactly() {
    assert_exact("extra.tsv", "extra.rdkit.jsonl", 34);
}
