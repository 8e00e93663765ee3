//! SMILES grammar: turns the string into atoms and bonds in RDKit's order, nothing more.
//!
//! RDKit adds chain bonds as it reads them and appends ring-closure bonds at the very end, sorted
//! by ring number (then in closing order); the later steps rely on that order.

use crate::elements;
use crate::error::SmilesError;
use crate::graph::{BondOrder, ChiralTag, Direction};
use std::collections::HashMap;

/// A neighbour as written around an atom, which is what `@`/`@@` refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WrittenNeighbour {
    Atom(usize),
    /// A hydrogen inside the atom's brackets (or, later, a removed `[H]` atom).
    Hydrogen,
}

#[derive(Debug, Clone)]
pub(crate) struct ParsedAtom {
    pub atomic_number: u8,
    pub isotope: u16,
    pub formal_charge: i8,
    pub bracket: bool,
    pub hydrogens: u8,
    /// Written in lowercase.
    pub aromatic: bool,
    /// `@` is anticlockwise, `@@` clockwise, relative to `written_neighbours`.
    pub chirality: ChiralTag,
    pub position: usize,
    pub written_neighbours: Vec<WrittenNeighbour>,
}

#[derive(Debug, Clone)]
pub(crate) struct ParsedBond {
    pub begin: usize,
    pub end: usize,
    pub order: BondOrder,
    pub direction: Option<Direction>,
}

/// The parse result: atoms in SMILES order, bonds in RDKit order.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSmiles {
    pub atoms: Vec<ParsedAtom>,
    pub bonds: Vec<ParsedBond>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BondSymbol {
    Single,
    Double,
    Triple,
    Quadruple,
    Aromatic,
    Directed(Direction),
}

impl BondSymbol {
    fn order(self) -> BondOrder {
        match self {
            BondSymbol::Single | BondSymbol::Directed(_) => BondOrder::Single,
            BondSymbol::Double => BondOrder::Double,
            BondSymbol::Triple => BondOrder::Triple,
            BondSymbol::Quadruple => BondOrder::Quadruple,
            BondSymbol::Aromatic => BondOrder::Aromatic,
        }
    }

    fn direction(self) -> Option<Direction> {
        match self {
            BondSymbol::Directed(direction) => Some(direction),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PendingBond {
    symbol: BondSymbol,
    position: usize,
}

#[derive(Debug, Clone, Copy)]
struct OpenRing {
    atom: usize,
    symbol: Option<BondSymbol>,
    position: usize,
    /// Where the partner goes in the opening atom's written neighbours.
    slot: usize,
}

#[derive(Debug, Clone, Copy)]
struct OpenBranch {
    atom: usize,
    position: usize,
    atoms_before: usize,
}

/// Parses a SMILES string. A doubled backslash counts as one `\` (ChEBI-20 escapes them).
pub(crate) fn parse(smiles: &str) -> Result<ParsedSmiles, SmilesError> {
    let mut parser = Parser {
        text: smiles,
        bytes: smiles.as_bytes(),
        position: 0,
        atoms: Vec::new(),
        chain_bonds: Vec::new(),
        ring_bonds: Vec::new(),
        open_rings: HashMap::new(),
        branches: Vec::new(),
        previous: None,
        pending: None,
    };
    parser.run()?;
    parser.finish()
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    atoms: Vec<ParsedAtom>,
    chain_bonds: Vec<ParsedBond>,
    /// Closed ring bonds with their ring number.
    ring_bonds: Vec<(u32, ParsedBond)>,
    open_rings: HashMap<u32, OpenRing>,
    branches: Vec<OpenBranch>,
    previous: Option<usize>,
    pending: Option<PendingBond>,
}

impl Parser<'_> {
    fn run(&mut self) -> Result<(), SmilesError> {
        while let Some(&byte) = self.bytes.get(self.position) {
            let start = self.position;
            match byte {
                b'(' => self.open_branch(start)?,
                b')' => self.close_branch(start)?,
                b'.' => {
                    self.expect_no_pending_bond()?;
                    self.previous = None;
                    self.position += 1;
                }
                b'-' | b'=' | b'#' | b'$' | b':' | b'/' | b'\\' => self.read_bond(byte, start)?,
                b'0'..=b'9' => {
                    self.position += 1;
                    self.ring_bond(u32::from(byte - b'0'), start)?;
                }
                b'%' => {
                    let ring = self.read_percent_ring(start)?;
                    self.ring_bond(ring, start)?;
                }
                b'[' => self.bracket_atom(start)?,
                _ => self.organic_atom(start)?,
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<ParsedSmiles, SmilesError> {
        if let Some(pending) = self.pending {
            return Err(SmilesError::DanglingBond {
                position: pending.position,
            });
        }
        if let Some(branch) = self.branches.first() {
            return Err(SmilesError::UnclosedParenthesis {
                position: branch.position,
            });
        }
        if let Some((&ring, open)) = self.open_rings.iter().min_by_key(|(_, open)| open.position) {
            return Err(SmilesError::UnclosedRing {
                position: open.position,
                ring,
            });
        }
        if self.atoms.is_empty() {
            return Err(SmilesError::Empty);
        }
        let mut ring_bonds = self.ring_bonds;
        ring_bonds.sort_by_key(|&(ring, _)| ring);
        let mut bonds = self.chain_bonds;
        bonds.extend(ring_bonds.into_iter().map(|(_, bond)| bond));
        Ok(ParsedSmiles {
            atoms: self.atoms,
            bonds,
        })
    }

    fn unexpected(&self, position: usize) -> SmilesError {
        SmilesError::UnexpectedCharacter {
            position,
            found: self.text[position..].chars().next().unwrap_or('?'),
        }
    }

    fn expect_no_pending_bond(&self) -> Result<(), SmilesError> {
        match self.pending {
            Some(pending) => Err(SmilesError::DanglingBond {
                position: pending.position,
            }),
            None => Ok(()),
        }
    }

    fn open_branch(&mut self, start: usize) -> Result<(), SmilesError> {
        let atom = self.previous.ok_or(SmilesError::NothingToAttach {
            position: start,
            what: "branch",
        })?;
        self.expect_no_pending_bond()?;
        self.branches.push(OpenBranch {
            atom,
            position: start,
            atoms_before: self.atoms.len(),
        });
        self.position += 1;
        Ok(())
    }

    fn close_branch(&mut self, start: usize) -> Result<(), SmilesError> {
        self.expect_no_pending_bond()?;
        let branch = self
            .branches
            .pop()
            .ok_or(SmilesError::UnmatchedParenthesis { position: start })?;
        if self.atoms.len() == branch.atoms_before {
            return Err(SmilesError::EmptyBranch {
                position: branch.position,
            });
        }
        self.previous = Some(branch.atom);
        self.position += 1;
        Ok(())
    }

    fn read_bond(&mut self, byte: u8, start: usize) -> Result<(), SmilesError> {
        self.expect_no_pending_bond()?;
        let symbol = match byte {
            b'-' => BondSymbol::Single,
            b'=' => BondSymbol::Double,
            b'#' => BondSymbol::Triple,
            b'$' => BondSymbol::Quadruple,
            b':' => BondSymbol::Aromatic,
            b'/' => BondSymbol::Directed(Direction::Up),
            _ => BondSymbol::Directed(Direction::Down),
        };
        self.position += 1;
        // ChEBI-20 writes every `\` twice; read the pair as one symbol.
        if byte == b'\\' && self.bytes.get(self.position) == Some(&b'\\') {
            self.position += 1;
        }
        self.pending = Some(PendingBond {
            symbol,
            position: start,
        });
        Ok(())
    }

    fn read_percent_ring(&mut self, start: usize) -> Result<u32, SmilesError> {
        let digits = self.bytes.get(start + 1..start + 3);
        match digits {
            Some(&[tens @ b'0'..=b'9', units @ b'0'..=b'9']) => {
                self.position = start + 3;
                Ok(u32::from(tens - b'0') * 10 + u32::from(units - b'0'))
            }
            _ => Err(self.unexpected(start)),
        }
    }

    fn ring_bond(&mut self, ring: u32, start: usize) -> Result<(), SmilesError> {
        let atom = self.previous.ok_or(SmilesError::NothingToAttach {
            position: start,
            what: "ring bond",
        })?;
        let symbol = self.pending.take().map(|pending| pending.symbol);
        let Some(open) = self.open_rings.remove(&ring) else {
            let slot = self.atoms[atom].written_neighbours.len();
            // Placeholder until the ring closes and the partner is known.
            self.atoms[atom]
                .written_neighbours
                .push(WrittenNeighbour::Hydrogen);
            self.open_rings.insert(
                ring,
                OpenRing {
                    atom,
                    symbol,
                    position: start,
                    slot,
                },
            );
            return Ok(());
        };
        if open.atom == atom {
            return Err(SmilesError::RingClosesOnItself {
                position: start,
                ring,
            });
        }
        let duplicate = self
            .chain_bonds
            .iter()
            .chain(self.ring_bonds.iter().map(|(_, bond)| bond))
            .any(|bond| {
                (bond.begin == atom && bond.end == open.atom)
                    || (bond.begin == open.atom && bond.end == atom)
            });
        if duplicate {
            return Err(SmilesError::DuplicateBond {
                position: start,
                ring,
            });
        }
        let order = match (open.symbol, symbol) {
            (Some(opening), Some(closing)) if opening.order() != closing.order() => {
                return Err(SmilesError::ConflictingRingBond {
                    position: start,
                    ring,
                });
            }
            (_, Some(written)) | (Some(written), None) => written.order(),
            (None, None) => self.default_order(open.atom, atom),
        };
        // RDKit makes the bond at the closing atom, from it, unless a bond-order symbol was
        // written at the opening atom. A `/` or `\` points away from the atom it is written
        // after; the closing atom's mark wins when both ends carry one.
        let (begin, end) = if open
            .symbol
            .is_some_and(|written| written.direction().is_none())
        {
            (open.atom, atom)
        } else {
            (atom, open.atom)
        };
        let marked = match (symbol.and_then(BondSymbol::direction), open.symbol) {
            (Some(direction), _) => Some((atom, direction)),
            (None, Some(opening)) => opening.direction().map(|direction| (open.atom, direction)),
            (None, None) => None,
        };
        let direction = marked.map(|(from, direction)| {
            if from == begin {
                direction
            } else {
                direction.flipped()
            }
        });
        self.ring_bonds.push((
            ring,
            ParsedBond {
                begin,
                end,
                order,
                direction,
            },
        ));
        self.atoms[open.atom].written_neighbours[open.slot] = WrittenNeighbour::Atom(atom);
        self.atoms[atom]
            .written_neighbours
            .push(WrittenNeighbour::Atom(open.atom));
        Ok(())
    }

    fn default_order(&self, first: usize, second: usize) -> BondOrder {
        if self.atoms[first].aromatic && self.atoms[second].aromatic {
            BondOrder::Aromatic
        } else {
            BondOrder::Single
        }
    }

    fn organic_atom(&mut self, start: usize) -> Result<(), SmilesError> {
        let rest = &self.bytes[start..];
        let (symbol, aromatic) = match rest {
            [b'C', b'l', ..] => ("Cl", false),
            [b'B', b'r', ..] => ("Br", false),
            [
                b'B' | b'C' | b'N' | b'O' | b'P' | b'S' | b'F' | b'I' | b'*',
                ..,
            ] => (&self.text[start..start + 1], false),
            [b'b', ..] => ("B", true),
            [b'c', ..] => ("C", true),
            [b'n', ..] => ("N", true),
            [b'o', ..] => ("O", true),
            [b'p', ..] => ("P", true),
            [b's', ..] => ("S", true),
            [letter, ..] if letter.is_ascii_alphabetic() => {
                return Err(SmilesError::UnknownElement {
                    position: start,
                    symbol: char::from(*letter).to_string(),
                });
            }
            _ => return Err(self.unexpected(start)),
        };
        self.position += if aromatic { 1 } else { symbol.len() };
        let atomic_number = elements::atomic_number(symbol).unwrap_or(0);
        self.add_atom(ParsedAtom {
            atomic_number,
            isotope: 0,
            formal_charge: 0,
            bracket: false,
            hydrogens: 0,
            aromatic,
            chirality: ChiralTag::Unspecified,
            position: start,
            written_neighbours: Vec::new(),
        });
        Ok(())
    }

    fn bracket_atom(&mut self, start: usize) -> Result<(), SmilesError> {
        let close = self.bytes[start..]
            .iter()
            .position(|&byte| byte == b']')
            .map(|offset| start + offset)
            .ok_or(SmilesError::UnclosedBracket { position: start })?;
        let atom = BracketReader {
            text: self.text,
            position: start + 1,
            end: close,
        }
        .read(start)?;
        self.position = close + 1;
        self.add_atom(atom);
        Ok(())
    }

    fn add_atom(&mut self, mut atom: ParsedAtom) {
        let index = self.atoms.len();
        if let Some(previous) = self.previous {
            let pending = self.pending.take();
            let order = match pending {
                Some(pending) => pending.symbol.order(),
                None if self.atoms[previous].aromatic && atom.aromatic => BondOrder::Aromatic,
                None => BondOrder::Single,
            };
            self.chain_bonds.push(ParsedBond {
                begin: previous,
                end: index,
                order,
                direction: pending.and_then(|pending| pending.symbol.direction()),
            });
            self.atoms[previous]
                .written_neighbours
                .push(WrittenNeighbour::Atom(index));
            atom.written_neighbours
                .push(WrittenNeighbour::Atom(previous));
        }
        // A bracket hydrogen sits right after the preceding atom in the chirality order.
        for _ in 0..atom.hydrogens {
            atom.written_neighbours.push(WrittenNeighbour::Hydrogen);
        }
        self.atoms.push(atom);
        self.previous = Some(index);
    }
}

/// Reads the inside of `[...]`: isotope, symbol, chirality, hydrogens, charge, atom class.
struct BracketReader<'a> {
    text: &'a str,
    position: usize,
    end: usize,
}

impl BracketReader<'_> {
    fn peek(&self) -> Option<u8> {
        (self.position < self.end).then(|| self.text.as_bytes()[self.position])
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.position;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.position += 1;
        }
        (self.position > start).then(|| {
            self.text[start..self.position]
                .parse::<u32>()
                .unwrap_or(u32::MAX)
        })
    }

    fn bad(&self, problem: &'static str) -> SmilesError {
        SmilesError::BadBracketAtom {
            position: self.position,
            problem,
        }
    }

    fn read(mut self, open: usize) -> Result<ParsedAtom, SmilesError> {
        let isotope = match self.number() {
            Some(mass) => u16::try_from(mass).map_err(|_| self.bad("isotope out of range"))?,
            None => 0,
        };
        let (atomic_number, aromatic) = self.symbol()?;
        let chirality = self.chirality()?;
        let hydrogens = self.hydrogens()?;
        let formal_charge = self.charge()?;
        if self.peek() == Some(b':') {
            self.position += 1;
            self.number()
                .ok_or_else(|| self.bad("atom class needs digits"))?;
        }
        if self.position < self.end {
            return Err(self.bad("unexpected character inside brackets"));
        }
        Ok(ParsedAtom {
            atomic_number,
            isotope,
            formal_charge,
            bracket: true,
            hydrogens,
            aromatic,
            chirality,
            position: open,
            written_neighbours: Vec::new(),
        })
    }

    fn symbol(&mut self) -> Result<(u8, bool), SmilesError> {
        let start = self.position;
        let bytes = &self.text.as_bytes()[start..self.end];
        let unknown = |length: usize| SmilesError::UnknownElement {
            position: start,
            symbol: self.text[start..start + length].to_string(),
        };
        match bytes {
            [b'*', ..] => {
                self.position += 1;
                Ok((0, false))
            }
            [first, second, ..] if first.is_ascii_uppercase() && second.is_ascii_lowercase() => {
                let number = elements::atomic_number(&self.text[start..start + 2])
                    .ok_or_else(|| unknown(2))?;
                self.position += 2;
                Ok((number, false))
            }
            [first, ..] if first.is_ascii_uppercase() => {
                let number = elements::atomic_number(&self.text[start..start + 1])
                    .ok_or_else(|| unknown(1))?;
                self.position += 1;
                Ok((number, false))
            }
            [b's', b'e', ..] | [b't', b'e', ..] | [b'a', b's', ..] => {
                let symbol = match bytes[0] {
                    b's' => "Se",
                    b't' => "Te",
                    _ => "As",
                };
                self.position += 2;
                Ok((elements::atomic_number(symbol).unwrap_or(0), true))
            }
            [lower @ (b'b' | b'c' | b'n' | b'o' | b'p' | b's'), ..] => {
                let symbol = char::from(lower.to_ascii_uppercase()).to_string();
                self.position += 1;
                Ok((elements::atomic_number(&symbol).unwrap_or(0), true))
            }
            [other, ..] if other.is_ascii_alphabetic() => Err(unknown(1)),
            _ => Err(self.bad("missing element symbol")),
        }
    }

    fn chirality(&mut self) -> Result<ChiralTag, SmilesError> {
        if self.peek() != Some(b'@') {
            return Ok(ChiralTag::Unspecified);
        }
        let start = self.position;
        self.position += 1;
        if self.peek() == Some(b'@') {
            self.position += 1;
            return Ok(ChiralTag::Clockwise);
        }
        let rest = &self.text[self.position..self.end];
        if rest.starts_with("TH1") || rest.starts_with("TH2") {
            self.position += 3;
            return Ok(if rest.starts_with("TH1") {
                ChiralTag::Anticlockwise
            } else {
                ChiralTag::Clockwise
            });
        }
        if rest.starts_with(['T', 'A', 'S', 'O']) {
            let length = rest
                .find(|letter: char| !letter.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            return Err(SmilesError::UnsupportedChirality {
                position: start,
                spec: self.text[start..self.position + length].to_string(),
            });
        }
        Ok(ChiralTag::Anticlockwise)
    }

    fn hydrogens(&mut self) -> Result<u8, SmilesError> {
        if self.peek() != Some(b'H') {
            return Ok(0);
        }
        self.position += 1;
        match self.number() {
            Some(count) => u8::try_from(count).map_err(|_| self.bad("too many hydrogens")),
            None => Ok(1),
        }
    }

    fn charge(&mut self) -> Result<i8, SmilesError> {
        let sign: i32 = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Ok(0),
        };
        let sign_byte = self.text.as_bytes()[self.position];
        self.position += 1;
        let magnitude = match self.number() {
            Some(magnitude) => i32::try_from(magnitude).unwrap_or(i32::MAX),
            None => {
                let mut repeats = 1;
                while self.peek() == Some(sign_byte) {
                    self.position += 1;
                    repeats += 1;
                }
                repeats
            }
        };
        i8::try_from(sign * magnitude).map_err(|_| self.bad("charge out of range"))
    }
}
