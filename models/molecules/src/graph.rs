//! The working molecule that the perception steps read and annotate.

/// Bond multiplicity; `Aromatic` only appears for lowercase input before kekulisation and after
/// aromaticity perception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BondOrder {
    Single,
    Double,
    Triple,
    Quadruple,
    Aromatic,
}

impl BondOrder {
    /// Twice the bond order, so aromatic bonds (1.5) stay integral; RDKit's `getTwiceBondType`.
    pub fn twice(self) -> u8 {
        match self {
            BondOrder::Single => 2,
            BondOrder::Aromatic => 3,
            BondOrder::Double => 4,
            BondOrder::Triple => 6,
            BondOrder::Quadruple => 8,
        }
    }
}

/// A `/` or `\` mark, stored relative to the bond's begin atom as RDKit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `/`: RDKit's ENDUPRIGHT.
    Up,
    /// `\`: RDKit's ENDDOWNRIGHT.
    Down,
}

impl Direction {
    pub fn flipped(self) -> Direction {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        }
    }
}

/// Tetrahedral chirality relative to the atom's bond order (RDKit's ChiralType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChiralTag {
    Unspecified,
    Clockwise,
    Anticlockwise,
}

impl ChiralTag {
    pub fn inverted(self) -> ChiralTag {
        match self {
            ChiralTag::Clockwise => ChiralTag::Anticlockwise,
            ChiralTag::Anticlockwise => ChiralTag::Clockwise,
            ChiralTag::Unspecified => ChiralTag::Unspecified,
        }
    }

    /// RDKit's numeric ChiralType code.
    pub fn code(self) -> u8 {
        match self {
            ChiralTag::Unspecified => 0,
            ChiralTag::Clockwise => 1,
            ChiralTag::Anticlockwise => 2,
        }
    }
}

/// RDKit's HybridizationType, with its numeric codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hybridization {
    Unspecified = 0,
    S = 1,
    Sp = 2,
    Sp2 = 3,
    Sp3 = 4,
    Sp3d = 6,
    Sp3d2 = 7,
}

/// RDKit's BondStereo for double bonds; only the values a SMILES can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BondStereo {
    None = 0,
    Z = 2,
    E = 3,
}

#[derive(Debug, Clone)]
pub(crate) struct Atom {
    pub atomic_number: u8,
    /// Mass number from the SMILES, 0 when not given.
    pub isotope: u16,
    pub formal_charge: i8,
    /// Bracket atoms never receive implicit hydrogens (RDKit's noImplicit).
    pub no_implicit: bool,
    /// Hydrogens written in a bracket plus removed `[H]` neighbours.
    pub explicit_hydrogens: u8,
    pub implicit_hydrogens: u8,
    /// Explicit valence as cached right after kekulisation. RDKit computes it once and keeps
    /// the kekulé value while aromaticity, conjugation and hybridisation are perceived.
    pub explicit_valence: i32,
    pub radical_electrons: u8,
    pub chiral_tag: ChiralTag,
    pub aromatic: bool,
    pub hybridization: Hybridization,
    /// Byte offset of the atom in the SMILES, for error messages.
    pub position: usize,
}

impl Atom {
    pub fn total_hydrogens(&self) -> u8 {
        self.explicit_hydrogens + self.implicit_hydrogens
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Bond {
    pub begin: usize,
    pub end: usize,
    pub order: BondOrder,
    pub direction: Option<Direction>,
    pub aromatic: bool,
    pub conjugated: bool,
    pub stereo: BondStereo,
}

impl Bond {
    pub fn other(&self, atom: usize) -> usize {
        if self.begin == atom {
            self.end
        } else {
            self.begin
        }
    }
}

/// Atoms and bonds in RDKit order, with each atom's bonds in the order they were added.
#[derive(Debug, Clone)]
pub(crate) struct Molecule {
    pub atoms: Vec<Atom>,
    pub bonds: Vec<Bond>,
    /// Bond indices incident to each atom, ascending (RDKit's neighbour order).
    pub incident: Vec<Vec<usize>>,
}

impl Molecule {
    pub fn new(atoms: Vec<Atom>, bonds: Vec<Bond>) -> Molecule {
        let mut incident = vec![Vec::new(); atoms.len()];
        for (index, bond) in bonds.iter().enumerate() {
            incident[bond.begin].push(index);
            incident[bond.end].push(index);
        }
        Molecule {
            atoms,
            bonds,
            incident,
        }
    }

    pub fn degree(&self, atom: usize) -> usize {
        self.incident[atom].len()
    }

    /// Graph neighbours plus hydrogens on the atom (RDKit's getTotalDegree).
    pub fn total_degree(&self, atom: usize) -> usize {
        self.degree(atom) + usize::from(self.atoms[atom].total_hydrogens())
    }

    /// `(neighbour, bond index)` pairs in the atom's bond order.
    pub fn neighbours(&self, atom: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.incident[atom]
            .iter()
            .map(move |&bond| (self.bonds[bond].other(atom), bond))
    }

    /// Sum of twice the bond orders around the atom.
    pub fn twice_bond_order_sum(&self, atom: usize) -> u32 {
        self.incident[atom]
            .iter()
            .map(|&bond| u32::from(self.bonds[bond].order.twice()))
            .sum()
    }

    /// Bond orders plus hydrogens written on the atom, from the current bonds.
    pub fn valence_from_bonds(&self, atom: usize) -> i32 {
        let twice = i32::try_from(self.twice_bond_order_sum(atom)).unwrap_or(i32::MAX);
        // Rounds aromatic half-orders up, as RDKit's `accum + 0.1` does.
        (twice + 1) / 2 + i32::from(self.atoms[atom].explicit_hydrogens)
    }

    /// Caches the explicit valence of every atom from the current (kekulé) bonds.
    pub fn cache_explicit_valences(&mut self) {
        for atom in 0..self.atoms.len() {
            self.atoms[atom].explicit_valence = self.valence_from_bonds(atom);
        }
    }

    /// Cached explicit plus implicit valence.
    pub fn total_valence(&self, atom: usize) -> i32 {
        self.atoms[atom].explicit_valence + i32::from(self.atoms[atom].implicit_hydrogens)
    }
}
