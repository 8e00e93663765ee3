//! Parser errors name the problem and the 0-based byte position in the SMILES.

use molecules::{SmilesError, parse_smiles};
use proptest::prelude::*;

fn error(smiles: &str) -> SmilesError {
    parse_smiles(smiles).expect_err(smiles)
}

#[test]
fn unclosed_ring_names_where_it_opened() {
    let found = error("C1CC");
    assert_eq!(
        found,
        SmilesError::UnclosedRing {
            position: 1,
            ring: 1
        }
    );
    assert_eq!(
        found.to_string(),
        "ring bond 1 opened at position 1 is never closed"
    );
    assert_eq!(
        error("CC%12CC"),
        SmilesError::UnclosedRing {
            position: 2,
            ring: 12
        }
    );
}

#[test]
fn unbalanced_parentheses() {
    let unclosed = error("CC(C(O)C");
    assert_eq!(unclosed, SmilesError::UnclosedParenthesis { position: 2 });
    assert_eq!(
        unclosed.to_string(),
        "branch opened at position 2 is never closed"
    );
    let unmatched = error("CC)C");
    assert_eq!(unmatched, SmilesError::UnmatchedParenthesis { position: 2 });
    assert_eq!(
        unmatched.to_string(),
        "closing parenthesis at position 2 has no opening one"
    );
    assert_eq!(error("C()C"), SmilesError::EmptyBranch { position: 1 });
}

#[test]
fn unknown_elements() {
    let organic = error("CXC");
    assert_eq!(
        organic,
        SmilesError::UnknownElement {
            position: 1,
            symbol: "X".into()
        }
    );
    assert_eq!(organic.to_string(), "unknown element \"X\" at position 1");
    assert_eq!(
        error("CC[Xx]"),
        SmilesError::UnknownElement {
            position: 3,
            symbol: "Xx".into()
        }
    );
}

#[test]
fn bad_bracket_atoms() {
    assert_eq!(
        error("C[NH4+"),
        SmilesError::UnclosedBracket { position: 1 }
    );
    let stray = error("[N+x]");
    assert_eq!(
        stray,
        SmilesError::BadBracketAtom {
            position: 3,
            problem: "unexpected character inside brackets"
        }
    );
    assert_eq!(
        stray.to_string(),
        "bad bracket atom at position 3: unexpected character inside brackets"
    );
    assert_eq!(
        error("C[]"),
        SmilesError::BadBracketAtom {
            position: 2,
            problem: "missing element symbol"
        }
    );
    assert_eq!(
        error("[C@SP1](F)(Cl)(Br)I"),
        SmilesError::UnsupportedChirality {
            position: 2,
            spec: "@SP1".into()
        }
    );
}

#[test]
fn other_syntax_errors() {
    assert_eq!(error(""), SmilesError::Empty);
    assert_eq!(error("CC="), SmilesError::DanglingBond { position: 2 });
    assert_eq!(
        error("C11"),
        SmilesError::RingClosesOnItself {
            position: 2,
            ring: 1
        }
    );
    assert_eq!(
        error("C12CC12"),
        SmilesError::DuplicateBond {
            position: 6,
            ring: 2
        }
    );
    assert_eq!(
        error("C=1CC#1"),
        SmilesError::ConflictingRingBond {
            position: 6,
            ring: 1
        }
    );
    assert_eq!(
        error("C?"),
        SmilesError::UnexpectedCharacter {
            position: 1,
            found: '?'
        }
    );
}

#[test]
fn chemistry_errors() {
    assert_eq!(
        error("CN(C)(C)C"),
        SmilesError::ValenceExceeded {
            position: 1,
            valence: 4
        }
    );
    assert_eq!(error("c1cccc1"), SmilesError::Kekulization { position: 0 });
}

#[test]
fn doubled_backslash_reads_as_one() {
    let doubled = parse_smiles("F/C=C\\\\F").expect("doubled backslash");
    let single = parse_smiles("F/C=C\\F").expect("single backslash");
    assert_eq!(doubled, single);
    // Z: the marks point the same way seen from the double bond.
    assert_eq!(single.bonds[1].stereo, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Any mix of SMILES characters parses or fails with an error, never a panic.
    #[test]
    fn never_panics(smiles in r"[CNOSPFIBrlcnosp\[\]()=#$:/\\.@+\-0-9%H*a-z]{0,40}") {
        let _ = parse_smiles(&smiles);
    }

    /// Cutting a real SMILES anywhere still gives an error or a graph, never a panic.
    #[test]
    fn truncated_smiles_never_panic(cut in 0usize..120) {
        let smiles = r"C[C@H]1CC[C@]2([C@@H](C1)/C=C(\C)/C(=O)[N+](=O)[O-])C3=CC=CC=C3[2H].[Na+]";
        let _ = parse_smiles(&smiles[..cut.min(smiles.len())]);
    }
}
