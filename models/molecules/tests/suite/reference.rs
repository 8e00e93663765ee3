//! Reading the RDKit reference featurisation and scoring `parse_smiles` against it.

use molecules::{MolGraph, parse_smiles};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// Elements counted as "organic" in the agreement table: H B C N O F Si P S Cl Se Br I.
const ORGANIC: [u8; 13] = [1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53];

/// One molecule: its TSV row and RDKit's features from the matching JSONL line.
pub struct Reference {
    pub cid: u64,
    pub smiles: String,
    /// `[atomic number, chiral tag, degree, charge, total Hs, radicals, hybridisation,
    /// aromatic, in ring]` per atom.
    pub atoms: Vec<[i64; 9]>,
    /// `[begin, end, type * 2, stereo, conjugated]` per bond.
    pub bonds: Vec<[i64; 5]>,
}

/// Reads a `CID<TAB>SMILES<TAB>description` TSV and its `*.rdkit.jsonl`, row by row.
pub fn read_references(tsv: &Path, jsonl: &Path) -> Vec<Reference> {
    let rows = std::fs::read_to_string(tsv).unwrap_or_else(|e| panic!("{}: {e}", tsv.display()));
    let lines =
        std::fs::read_to_string(jsonl).unwrap_or_else(|e| panic!("{}: {e}", jsonl.display()));
    let rows: Vec<&str> = rows.lines().skip(1).collect();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        rows.len(),
        lines.len(),
        "{} and {} differ in length",
        tsv.display(),
        jsonl.display()
    );
    rows.iter()
        .zip(&lines)
        .map(|(row, line)| {
            let mut fields = row.split('\t');
            let cid: u64 = fields
                .next()
                .and_then(|f| f.parse().ok())
                .expect("numeric CID");
            let smiles = fields.next().expect("SMILES field").to_string();
            let json: Value = serde_json::from_str(line).expect("valid JSON line");
            assert_eq!(
                json["cid"].as_u64(),
                Some(cid),
                "TSV row and JSON line disagree"
            );
            Reference {
                cid,
                smiles,
                atoms: int_rows(&json["atoms"]),
                bonds: int_rows(&json["bonds"]),
            }
        })
        .collect()
}

fn int_rows<const N: usize>(value: &Value) -> Vec<[i64; N]> {
    value
        .as_array()
        .expect("array of rows")
        .iter()
        .map(|row| {
            let numbers: Vec<i64> = row
                .as_array()
                .expect("row array")
                .iter()
                .map(|n| n.as_i64().expect("integer"))
                .collect();
            numbers.try_into().expect("row width")
        })
        .collect()
}

fn atom_row(graph: &MolGraph) -> Vec<[i64; 9]> {
    graph
        .atoms
        .iter()
        .map(|a| {
            [
                i64::from(a.atomic_number),
                i64::from(a.chirality),
                i64::from(a.degree),
                i64::from(a.formal_charge),
                i64::from(a.total_hydrogens),
                i64::from(a.radical_electrons),
                i64::from(a.hybridization),
                i64::from(a.aromatic),
                i64::from(a.in_ring),
            ]
        })
        .collect()
}

fn bond_row(graph: &MolGraph) -> Vec<[i64; 5]> {
    graph
        .bonds
        .iter()
        .map(|b| {
            [
                i64::from(b.begin),
                i64::from(b.end),
                i64::from(b.bond_type),
                i64::from(b.stereo),
                i64::from(b.conjugated),
            ]
        })
        .collect()
}

pub const ATOM_FEATURES: [&str; 9] = [
    "element",
    "chirality tag",
    "degree",
    "formal charge",
    "total H",
    "radical electrons",
    "hybridisation",
    "aromatic",
    "ring membership",
];
/// Bond columns 0 and 1 are scored together as "endpoints".
pub const BOND_FEATURES: [&str; 4] = ["endpoints", "bond type", "bond stereo", "conjugation"];

/// Agreement counts over a set of molecules.
#[derive(Default)]
pub struct Agreement {
    pub molecules: usize,
    pub parse_failures: Vec<(u64, String)>,
    pub atom_count_matches: usize,
    pub bond_count_matches: usize,
    pub atoms: usize,
    pub organic_atoms: usize,
    pub bonds: usize,
    pub atom_agree: [usize; 9],
    pub organic_agree: [usize; 9],
    pub bond_agree: [usize; 4],
    /// Up to a few described mismatches per feature, for debugging.
    pub examples: Vec<String>,
}

impl Agreement {
    pub fn add(&mut self, reference: &Reference) {
        self.molecules += 1;
        self.atoms += reference.atoms.len();
        self.bonds += reference.bonds.len();
        let organic = reference
            .atoms
            .iter()
            .filter(|a| ORGANIC.contains(&(a[0] as u8)))
            .count();
        self.organic_atoms += organic;
        let graph = match parse_smiles(&reference.smiles) {
            Ok(graph) => graph,
            Err(error) => {
                self.parse_failures.push((reference.cid, error.to_string()));
                return;
            }
        };
        let (atoms, bonds) = (atom_row(&graph), bond_row(&graph));
        self.atom_count_matches += usize::from(atoms.len() == reference.atoms.len());
        self.bond_count_matches += usize::from(bonds.len() == reference.bonds.len());
        for (ours, theirs) in atoms.iter().zip(&reference.atoms) {
            let is_organic = ORGANIC.contains(&(theirs[0] as u8));
            for feature in 0..9 {
                if ours[feature] == theirs[feature] {
                    self.atom_agree[feature] += 1;
                    self.organic_agree[feature] += usize::from(is_organic);
                } else {
                    self.note(
                        reference,
                        ATOM_FEATURES[feature],
                        ours[feature],
                        theirs[feature],
                    );
                }
            }
        }
        for (ours, theirs) in bonds.iter().zip(&reference.bonds) {
            let scores = [
                ours[..2] == theirs[..2],
                ours[2] == theirs[2],
                ours[3] == theirs[3],
                ours[4] == theirs[4],
            ];
            for (feature, agrees) in scores.into_iter().enumerate() {
                if agrees {
                    self.bond_agree[feature] += 1;
                } else {
                    let column = [0, 2, 3, 4][feature];
                    self.note(
                        reference,
                        BOND_FEATURES[feature],
                        ours[column],
                        theirs[column],
                    );
                }
            }
        }
    }

    fn note(&mut self, reference: &Reference, feature: &str, ours: i64, theirs: i64) {
        let shown = self
            .examples
            .iter()
            .filter(|e| e.starts_with(feature))
            .count();
        if shown < 5 {
            self.examples.push(format!(
                "{feature}: ours {ours} rdkit {theirs} in CID {} {}",
                reference.cid, reference.smiles
            ));
        }
    }

    pub fn atom_share(&self, feature: usize) -> f64 {
        self.atom_agree[feature] as f64 / self.atoms.max(1) as f64
    }

    pub fn bond_share(&self, feature: usize) -> f64 {
        self.bond_agree[feature] as f64 / self.bonds.max(1) as f64
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let percent = |agree: usize, total: usize| 100.0 * agree as f64 / total.max(1) as f64;
        let _ = writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9} {:>9}",
            "feature", "agree", "of", "share %", "organic %"
        );
        let molecule_rows = [
            ("atom count", self.atom_count_matches),
            ("bond count", self.bond_count_matches),
        ];
        for (name, agree) in molecule_rows {
            let _ = writeln!(
                out,
                "{name:<18} {agree:>9} {:>9} {:>9.3} {:>9}   (molecules)",
                self.molecules,
                percent(agree, self.molecules),
                "",
            );
        }
        for (feature, name) in ATOM_FEATURES.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name:<18} {:>9} {:>9} {:>9.3} {:>9.3}   (atoms)",
                self.atom_agree[feature],
                self.atoms,
                percent(self.atom_agree[feature], self.atoms),
                percent(self.organic_agree[feature], self.organic_atoms),
            );
        }
        for (feature, name) in BOND_FEATURES.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name:<18} {:>9} {:>9} {:>9.3} {:>9}   (bonds)",
                self.bond_agree[feature],
                self.bonds,
                percent(self.bond_agree[feature], self.bonds),
                "",
            );
        }
        out
    }
}
