//! The one error type of the crate: what is wrong with a SMILES and where (0-based byte offset).

/// Why a SMILES string could not be turned into a molecule graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmilesError {
    #[error("empty smiles: no atoms")]
    Empty,
    #[error("unexpected character {found:?} at position {position}")]
    UnexpectedCharacter { position: usize, found: char },
    #[error("unknown element {symbol:?} at position {position}")]
    UnknownElement { position: usize, symbol: String },
    #[error("bracket atom opened at position {position} is never closed")]
    UnclosedBracket { position: usize },
    #[error("bad bracket atom at position {position}: {problem}")]
    BadBracketAtom {
        position: usize,
        problem: &'static str,
    },
    #[error("unsupported chirality {spec:?} at position {position} (only @ and @@ are supported)")]
    UnsupportedChirality { position: usize, spec: String },
    #[error("ring bond {ring} opened at position {position} is never closed")]
    UnclosedRing { position: usize, ring: u32 },
    #[error("ring bond {ring} at position {position} closes onto the atom that opened it")]
    RingClosesOnItself { position: usize, ring: u32 },
    #[error("ring bond {ring} at position {position} repeats an existing bond")]
    DuplicateBond { position: usize, ring: u32 },
    #[error("ring bond {ring} at position {position} has bond symbols that disagree")]
    ConflictingRingBond { position: usize, ring: u32 },
    #[error("branch opened at position {position} is never closed")]
    UnclosedParenthesis { position: usize },
    #[error("closing parenthesis at position {position} has no opening one")]
    UnmatchedParenthesis { position: usize },
    #[error("empty branch at position {position}")]
    EmptyBranch { position: usize },
    #[error("{what} at position {position} has no preceding atom")]
    NothingToAttach { position: usize, what: &'static str },
    #[error("bond symbol at position {position} is not followed by an atom")]
    DanglingBond { position: usize },
    #[error("atom at position {position} has valence {valence}, more than its element allows")]
    ValenceExceeded { position: usize, valence: i32 },
    #[error("cannot kekulize the aromatic system containing the atom at position {position}")]
    Kekulization { position: usize },
}
