//! RDKit's legacy stereo perception as `MolFromSmiles` runs it (`assignStereochemistry` with
//! cleanIt, force and flagPossibleStereoCenters): keeps `@`/`@@` only on real stereocentres and
//! turns `/` `\` marks into E/Z on double bonds, iterating while new R/S or E/Z labels split ties.

use crate::cip_ranks;
use crate::elements::{ARSENIC, NITROGEN, PHOSPHORUS, SELENIUM, SULFUR};
use crate::graph::{BondOrder, BondStereo, ChiralTag, Direction, Hybridization, Molecule};
use crate::rings::Rings;

/// Double bonds in rings smaller than this get no E/Z.
const MIN_RING_SIZE_FOR_DOUBLE_BOND_STEREO: usize = 8;

/// Legacy R/S label, only used to split ties when re-ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cip {
    R,
    S,
}

struct Perception<'a> {
    molecule: &'a mut Molecule,
    rings: &'a Rings,
    ranks: Option<Vec<u32>>,
    cip: Vec<Option<Cip>>,
}

pub(crate) fn perceive(molecule: &mut Molecule, rings: &Rings) {
    // Sanitisation's cleanupChirality: tetrahedral tags only on sp3 atoms.
    for atom in &mut molecule.atoms {
        if atom.hybridization != Hybridization::Sp3 {
            atom.chiral_tag = ChiralTag::Unspecified;
        }
    }
    let atoms = molecule.atoms.len();
    let mut perception = Perception {
        molecule,
        rings,
        ranks: None,
        cip: vec![None; atoms],
    };
    perception.assign();
    perception.drop_tags_off_stereocentres();
}

impl Perception<'_> {
    /// RDKit computes the CIP ranks on first need and keeps them until re-ranking.
    fn ensure_ranks(&mut self) {
        let molecule = &*self.molecule;
        self.ranks.get_or_insert_with(|| {
            cip_ranks::refine(molecule, &cip_ranks::initial_invariants(molecule), false)
        });
    }

    fn ranks(&self) -> &[u32] {
        self.ranks.as_deref().unwrap_or_default()
    }

    fn detects_double_bond_stereo(&self, bond: usize) -> bool {
        !self.rings.bond_in_ring[bond]
            || self.rings.smallest_ring_with_bond(bond) >= MIN_RING_SIZE_FOR_DOUBLE_BOND_STEREO
    }

    fn assign(&mut self) {
        let mut stereo_atoms = true;
        let mut stereo_bonds = (0..self.molecule.bonds.len()).any(|bond| {
            let current = &self.molecule.bonds[bond];
            current.order == BondOrder::Double
                && self.detects_double_bond_stereo(bond)
                && [current.begin, current.end].iter().any(|&end| {
                    self.molecule.incident[end]
                        .iter()
                        .any(|&other| self.molecule.bonds[other].direction.is_some())
                })
        });
        loop {
            let mut changed = false;
            if stereo_atoms {
                let (unassigned, assigned) = self.assign_atom_labels();
                stereo_atoms = unassigned;
                changed |= assigned;
            }
            if stereo_bonds {
                let (unassigned, assigned) = self.assign_bond_labels();
                stereo_bonds = unassigned;
                changed |= assigned;
            }
            if !((stereo_atoms || stereo_bonds) && changed) {
                return;
            }
            self.rerank();
        }
    }

    /// Returns (some possible centre is still unlabelled, some label was assigned).
    fn assign_atom_labels(&mut self) -> (bool, bool) {
        let mut unassigned = 0usize;
        let mut assigned = false;
        for atom in 0..self.molecule.atoms.len() {
            if self.cip[atom].is_some() {
                continue;
            }
            self.ensure_ranks();
            let Some(distinct) = self.potential_centre(atom) else {
                continue;
            };
            unassigned += 1;
            let tag = self.molecule.atoms[atom].chiral_tag;
            if !distinct || tag == ChiralTag::Unspecified {
                continue;
            }
            unassigned -= 1;
            assigned = true;
            self.cip[atom] = Some(self.cip_label(atom, tag));
        }
        (unassigned > 0, assigned)
    }

    /// R or S from the tag and the neighbours' ranks (RDKit's legacy rule).
    fn cip_label(&self, atom: usize, tag: ChiralTag) -> Cip {
        let ranks = self.ranks();
        let bonds = &self.molecule.incident[atom];
        let mut by_rank: Vec<usize> = (0..bonds.len()).collect();
        by_rank.sort_by_key(|&position| ranks[self.molecule.bonds[bonds[position]].other(atom)]);
        let mut odd = crate::chirality::permutation_is_odd(&by_rank);
        if bonds.len() == 3 && self.molecule.atoms[atom].total_hydrogens() == 1 {
            odd = !odd;
        }
        let tag = if odd { tag.inverted() } else { tag };
        if tag == ChiralTag::Anticlockwise {
            Cip::S
        } else {
            Cip::R
        }
    }

    /// `None` if the atom cannot be a tetrahedral centre, else whether its neighbours all rank
    /// differently (RDKit's `isAtomPotentialChiralCenter`).
    fn potential_centre(&self, atom: usize) -> Option<bool> {
        let molecule = &*self.molecule;
        let current = &molecule.atoms[atom];
        let degree = molecule.degree(atom);
        let hydrogens = usize::from(current.total_hydrogens());
        let number = current.atomic_number;
        let phosphine_like = matches!(number, PHOSPHORUS | ARSENIC);
        let legal = match (degree + hydrogens, degree) {
            (total, _) if !(3..=4).contains(&total) => false,
            (_, degree) if degree < 3 && !phosphine_like => false,
            (_, 3) if hydrogens == 1 => !molecule.neighbours(atom).any(|(other, _)| {
                molecule.atoms[other].atomic_number == 1 && molecule.atoms[other].isotope == 0
            }),
            (_, 3) => match number {
                NITROGEN => {
                    self.rings.atom_in_ring_of_size(atom, 3)
                        || self.rings.is_bridgehead(molecule, atom)
                }
                PHOSPHORUS | ARSENIC => true,
                SULFUR | SELENIUM => {
                    current.explicit_valence == 4
                        || (current.explicit_valence == 3 && current.formal_charge == 1)
                }
                _ => false,
            },
            _ => true,
        };
        if !legal {
            return None;
        }
        let ranks = self.ranks();
        let mut seen: Vec<u32> = molecule
            .neighbours(atom)
            .map(|(other, _)| ranks[other])
            .collect();
        seen.sort_unstable();
        Some(seen.windows(2).all(|pair| pair[0] != pair[1]))
    }

    /// Returns (some candidate double bond is still unlabelled, some bond was decided).
    fn assign_bond_labels(&mut self) -> (bool, bool) {
        let mut unassigned = 0usize;
        let mut assigned = false;
        let mut clear_directions = Vec::new();
        for bond in 0..self.molecule.bonds.len() {
            let current = &self.molecule.bonds[bond];
            if current.order != BondOrder::Double || current.stereo != BondStereo::None {
                continue;
            }
            let (begin, end) = (current.begin, current.end);
            self.ensure_ranks();
            if !self.detects_double_bond_stereo(bond) {
                continue;
            }
            let degree_ok = |atom: usize| matches!(self.molecule.degree(atom), 2 | 3);
            if !degree_ok(begin) || !degree_ok(end) {
                continue;
            }
            unassigned += 1;
            let begin_marks = self.neighbour_marks(begin, bond);
            let end_marks = self.neighbour_marks(end, bond);
            if begin_marks.is_empty() || end_marks.is_empty() {
                continue;
            }
            unassigned -= 1;
            assigned = true;
            let conflicting =
                |marks: &[(usize, usize, Direction)]| marks.len() == 2 && marks[0].2 == marks[1].2;
            if conflicting(&begin_marks) || conflicting(&end_marks) {
                for marks in [&begin_marks, &end_marks] {
                    if conflicting(marks) {
                        clear_directions.extend(marks.iter().map(|&(_, via, _)| via));
                    }
                }
                continue;
            }
            let begin_direction = self.highest_ranked(&begin_marks);
            let end_direction = self.highest_ranked(&end_marks);
            // Marks are read as single bonds leaving the double bond: same way means cis.
            self.molecule.bonds[bond].stereo = if begin_direction == end_direction {
                BondStereo::Z
            } else {
                BondStereo::E
            };
        }
        for bond in clear_directions {
            self.molecule.bonds[bond].direction = None;
        }
        (unassigned > 0, assigned)
    }

    fn highest_ranked(&self, marks: &[(usize, usize, Direction)]) -> Direction {
        let ranks = self.ranks();
        if marks.len() == 1 || ranks[marks[0].0] > ranks[marks[1].0] {
            marks[0].2
        } else {
            marks[1].2
        }
    }

    /// `(neighbour, bond, mark seen from the atom)` for the atom's other bonds, empty when no
    /// bond carries a mark or the two substituents rank the same; an unmarked partner gets the
    /// opposite of the marked one (RDKit's `findAtomNeighborDirHelper`).
    fn neighbour_marks(&self, atom: usize, double_bond: usize) -> Vec<(usize, usize, Direction)> {
        let molecule = &*self.molecule;
        let mut marks: Vec<(usize, usize, Option<Direction>)> = molecule
            .neighbours(atom)
            .filter(|&(_, bond)| bond != double_bond)
            .map(|(other, bond)| {
                let direction = molecule.bonds[bond].direction.map(|direction| {
                    if molecule.bonds[bond].begin == atom {
                        direction
                    } else {
                        direction.flipped()
                    }
                });
                (other, bond, direction)
            })
            .collect();
        let ranks = self.ranks();
        let any_marked = marks.iter().any(|mark| mark.2.is_some());
        if !any_marked || (marks.len() == 2 && ranks[marks[0].0] == ranks[marks[1].0]) {
            return Vec::new();
        }
        if marks.len() == 2 {
            match (marks[0].2, marks[1].2) {
                (None, Some(direction)) => marks[0].2 = Some(direction.flipped()),
                (Some(direction), None) => marks[1].2 = Some(direction.flipped()),
                _ => {}
            }
        }
        marks
            .into_iter()
            .filter_map(|(other, bond, direction)| Some((other, bond, direction?)))
            .collect()
    }

    /// RDKit's `rerankAtoms`: old ranks scaled, plus R/S and E/Z of incident double bonds.
    fn rerank(&mut self) {
        let atoms = self.molecule.atoms.len();
        let mut factor = 100i64;
        while factor < i64::try_from(atoms).unwrap_or(i64::MAX) {
            factor *= 10;
        }
        self.ensure_ranks();
        let ranks = self.ranks().to_vec();
        let invariants: Vec<i64> = (0..atoms)
            .map(|atom| {
                let mut invariant = i64::from(ranks[atom]) * factor;
                invariant += match self.cip[atom] {
                    Some(Cip::S) => 10,
                    Some(Cip::R) => 20,
                    None => 0,
                };
                for &bond in &self.molecule.incident[atom] {
                    let current = &self.molecule.bonds[bond];
                    if current.order == BondOrder::Double {
                        invariant += match current.stereo {
                            BondStereo::E => 1,
                            BondStereo::Z => 2,
                            BondStereo::None => 0,
                        };
                    }
                }
                invariant
            })
            .collect();
        self.ranks = Some(cip_ranks::refine(self.molecule, &invariants, true));
    }

    /// The cleanIt pass: tags stay only on labelled centres and on ring atoms that pair up with
    /// another tagged ring atom (cis/trans ring stereo such as 1,4-dimethylcyclohexane).
    fn drop_tags_off_stereocentres(&mut self) {
        let ring_stereo = self.ring_stereo_atoms();
        for ((atom, cip), keep) in self
            .molecule
            .atoms
            .iter_mut()
            .zip(&self.cip)
            .zip(ring_stereo)
        {
            if cip.is_none() && !keep {
                atom.chiral_tag = ChiralTag::Unspecified;
            }
        }
    }

    fn is_unlabelled_tagged(&self, atom: usize) -> bool {
        self.molecule.atoms[atom].chiral_tag != ChiralTag::Unspecified && self.cip[atom].is_none()
    }

    /// RDKit's `findChiralAtomSpecialCases`: a breadth-first walk along ring bonds from each
    /// unlabelled tagged ring atom, pairing it with the others it reaches.
    fn ring_stereo_atoms(&self) -> Vec<bool> {
        let molecule = &*self.molecule;
        let atoms = molecule.atoms.len();
        let mut special = vec![false; atoms];
        let mut atoms_seen = vec![false; atoms];
        let mut atoms_queued = vec![false; atoms];
        let mut bonds_seen = vec![false; molecule.bonds.len()];
        for start in 0..atoms {
            if atoms_seen[start]
                || !self.is_unlabelled_tagged(start)
                || !self.ring_stereo_candidate(start)
            {
                continue;
            }
            let mut queue = std::collections::VecDeque::new();
            for (other, bond) in molecule.neighbours(start) {
                if !bonds_seen[bond] {
                    bonds_seen[bond] = true;
                    if self.rings.bond_in_ring[bond] && !atoms_seen[other] {
                        queue.push_back(other);
                        atoms_queued[other] = true;
                    }
                }
            }
            let mut paired = false;
            while let Some(atom) = queue.pop_front() {
                atoms_seen[atom] = true;
                if self.is_unlabelled_tagged(atom) && self.ring_stereo_candidate(atom) {
                    special[atom] = true;
                    paired = true;
                }
                for (other, bond) in molecule.neighbours(atom) {
                    if !bonds_seen[bond] {
                        bonds_seen[bond] = true;
                        if self.rings.bond_in_ring[bond]
                            && !atoms_seen[other]
                            && !atoms_queued[other]
                        {
                            queue.push_back(other);
                            atoms_queued[other] = true;
                        }
                    }
                }
            }
            special[start] |= paired;
            atoms_seen[start] = true;
        }
        special
    }

    /// RDKit's `atomIsCandidateForRingStereochem`.
    fn ring_stereo_candidate(&self, atom: usize) -> bool {
        let molecule = &*self.molecule;
        if !self.rings.atom_in_ring[atom] {
            return false;
        }
        if molecule.atoms[atom].atomic_number == NITROGEN
            && molecule.total_degree(atom) == 3
            && !self.rings.atom_in_ring_of_size(atom, 3)
            && !self.rings.is_bridgehead(molecule, atom)
        {
            return false;
        }
        let ranks = self.ranks();
        let neighbours_via = |in_ring: bool| -> Vec<usize> {
            molecule
                .neighbours(atom)
                .filter(|&(_, bond)| self.rings.bond_in_ring[bond] == in_ring)
                .map(|(other, _)| other)
                .collect()
        };
        let (ring, chain) = (neighbours_via(true), neighbours_via(false));
        let mut ring_ranks: Vec<u32> = ring.iter().map(|&other| ranks[other]).collect();
        ring_ranks.sort_unstable();
        ring_ranks.dedup();
        match chain.len() {
            2 => ranks[chain[0]] != ranks[chain[1]],
            1 => ring.len() >= 2,
            0 => {
                (ring.len() == 4 && ring_ranks.len() == 3)
                    || (ring.len() == 3 && ring_ranks.len() == 2)
            }
            _ => false,
        }
    }
}
