//! Ring perception: which atoms and bonds lie on a cycle, and the set of smallest rings.
//!
//! The ring set is the set of relevant cycles (every cycle not expressible through shorter
//! ones). It equals RDKit's symmetrised SSSR on fused, bridged and cage systems alike (e.g. three
//! six-rings for bicyclo[2.2.2]octane, six four-rings for cubane), which is what RDKit's
//! aromaticity and stereo code read.

use crate::graph::Molecule;
use std::collections::{HashSet, VecDeque};

#[derive(Debug, Clone)]
pub(crate) struct Ring {
    pub atoms: Vec<usize>,
    pub bonds: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rings {
    pub bond_in_ring: Vec<bool>,
    pub atom_in_ring: Vec<bool>,
    pub rings: Vec<Ring>,
}

impl Rings {
    pub fn perceive(molecule: &Molecule) -> Rings {
        let bond_in_ring = cycle_bonds(molecule);
        let mut atom_in_ring = vec![false; molecule.atoms.len()];
        for (bond, _) in bond_in_ring.iter().enumerate().filter(|(_, ring)| **ring) {
            atom_in_ring[molecule.bonds[bond].begin] = true;
            atom_in_ring[molecule.bonds[bond].end] = true;
        }
        let mut rings = Vec::new();
        for component in ring_systems(molecule, &bond_in_ring) {
            rings.extend(relevant_cycles(molecule, &bond_in_ring, &component));
        }
        Rings {
            bond_in_ring,
            atom_in_ring,
            rings,
        }
    }

    /// Size of the smallest ring through the bond (RDKit's `minBondRingSize`), 0 if none.
    pub fn smallest_ring_with_bond(&self, bond: usize) -> usize {
        self.rings
            .iter()
            .filter(|ring| ring.bonds.contains(&bond))
            .map(|ring| ring.bonds.len())
            .min()
            .unwrap_or(0)
    }

    pub fn atom_in_ring_of_size(&self, atom: usize, size: usize) -> bool {
        self.rings
            .iter()
            .any(|ring| ring.atoms.len() == size && ring.atoms.contains(&atom))
    }

    /// RDKit's bridgehead test: three ring bonds, and two of the atom's rings share two bonds.
    pub fn is_bridgehead(&self, molecule: &Molecule, atom: usize) -> bool {
        let ring_bonds = molecule.incident[atom]
            .iter()
            .filter(|&&bond| self.bond_in_ring[bond])
            .count();
        if ring_bonds < 3 {
            return false;
        }
        let own: Vec<&Ring> = self
            .rings
            .iter()
            .filter(|ring| ring.atoms.contains(&atom))
            .collect();
        own.iter().enumerate().any(|(index, first)| {
            own[index + 1..].iter().any(|second| {
                first
                    .bonds
                    .iter()
                    .filter(|bond| second.bonds.contains(bond))
                    .count()
                    > 1
            })
        })
    }
}

/// Bonds that are not bridges (Tarjan's low-link, iterative).
fn cycle_bonds(molecule: &Molecule) -> Vec<bool> {
    let atoms = molecule.atoms.len();
    let mut order = vec![usize::MAX; atoms];
    let mut low = vec![0; atoms];
    let mut in_cycle = vec![true; molecule.bonds.len()];
    let mut counter = 0;
    for root in 0..atoms {
        if order[root] != usize::MAX {
            continue;
        }
        // (atom, bond it was reached by, next incident position)
        let mut stack: Vec<(usize, Option<usize>, usize)> = vec![(root, None, 0)];
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        while let Some(&mut (atom, via, ref mut next)) = stack.last_mut() {
            if let Some(&bond) = molecule.incident[atom].get(*next) {
                *next += 1;
                if Some(bond) == via {
                    continue;
                }
                let other = molecule.bonds[bond].other(atom);
                if order[other] == usize::MAX {
                    order[other] = counter;
                    low[other] = counter;
                    counter += 1;
                    stack.push((other, Some(bond), 0));
                } else {
                    low[atom] = low[atom].min(order[other]);
                }
            } else {
                stack.pop();
                if let (Some(bond), Some(&(parent, _, _))) = (via, stack.last()) {
                    low[parent] = low[parent].min(low[atom]);
                    if low[atom] > order[parent] {
                        in_cycle[bond] = false;
                    }
                }
            }
        }
    }
    in_cycle
}

/// Atoms of each connected piece of the ring-bond subgraph.
fn ring_systems(molecule: &Molecule, bond_in_ring: &[bool]) -> Vec<Vec<usize>> {
    let mut seen = vec![false; molecule.atoms.len()];
    let mut systems = Vec::new();
    for start in 0..molecule.atoms.len() {
        if seen[start] || !molecule.incident[start].iter().any(|&b| bond_in_ring[b]) {
            continue;
        }
        seen[start] = true;
        let mut system = vec![start];
        let mut queue = VecDeque::from([start]);
        while let Some(atom) = queue.pop_front() {
            for (other, bond) in molecule.neighbours(atom) {
                if bond_in_ring[bond] && !seen[other] {
                    seen[other] = true;
                    system.push(other);
                    queue.push_back(other);
                }
            }
        }
        systems.push(system);
    }
    systems
}

/// A cycle as a bit set over the molecule's bonds, plus its bond list.
struct Candidate {
    bits: Vec<u64>,
    bonds: Vec<usize>,
}

/// Horton's candidate cycles (shortest path + edge + shortest path from every atom), then keeps
/// those independent of all strictly shorter cycles: the relevant cycles.
fn relevant_cycles(molecule: &Molecule, bond_in_ring: &[bool], system: &[usize]) -> Vec<Ring> {
    let words = molecule.bonds.len().div_ceil(64);
    let system_bonds: Vec<usize> = (0..molecule.bonds.len())
        .filter(|&bond| bond_in_ring[bond] && system.contains(&molecule.bonds[bond].begin))
        .collect();
    let cyclomatic = system_bonds.len() + 1 - system.len();
    let mut unique = HashSet::new();
    let mut candidates = Vec::new();
    for &root in system {
        let parent_bond = shortest_path_tree(molecule, bond_in_ring, root);
        let path_to_root = |mut atom: usize| {
            let mut bonds = Vec::new();
            while let Some(bond) = parent_bond[atom] {
                bonds.push(bond);
                atom = molecule.bonds[bond].other(atom);
            }
            bonds
        };
        for &bond in &system_bonds {
            let (x, y) = (molecule.bonds[bond].begin, molecule.bonds[bond].end);
            if parent_bond[x] == Some(bond) || parent_bond[y] == Some(bond) {
                continue;
            }
            let (from_x, from_y) = (path_to_root(x), path_to_root(y));
            let mut bonds = from_x.clone();
            bonds.extend(&from_y);
            bonds.push(bond);
            // Paths that meet before the root do not close a simple cycle through it.
            if !bonds_form_simple_cycle(molecule, &bonds) {
                continue;
            }
            let mut bits = vec![0u64; words];
            for &path_bond in &bonds {
                bits[path_bond / 64] |= 1u64 << (path_bond % 64);
            }
            if unique.insert(bits.clone()) {
                candidates.push(Candidate { bits, bonds });
            }
        }
    }
    candidates.sort_by_key(|candidate| candidate.bonds.len());

    let mut basis: Vec<(usize, Vec<u64>)> = Vec::new();
    let mut relevant = Vec::new();
    let mut start = 0;
    while start < candidates.len() && basis.len() < cyclomatic {
        let length = candidates[start].bonds.len();
        let end = start
            + candidates[start..]
                .iter()
                .take_while(|candidate| candidate.bonds.len() == length)
                .count();
        let shorter_basis = basis.len();
        for candidate in &candidates[start..end] {
            if !reduce(&basis[..shorter_basis], &candidate.bits)
                .iter()
                .all(|&word| word == 0)
            {
                relevant.push(ring_from_bonds(molecule, &candidate.bonds));
            }
        }
        for candidate in &candidates[start..end] {
            let reduced = reduce(&basis, &candidate.bits);
            if let Some(pivot) = lowest_bit(&reduced) {
                basis.push((pivot, reduced));
            }
        }
        start = end;
    }
    relevant
}

fn shortest_path_tree(
    molecule: &Molecule,
    bond_in_ring: &[bool],
    root: usize,
) -> Vec<Option<usize>> {
    let mut reached = vec![false; molecule.atoms.len()];
    let mut parent_bond = vec![None; molecule.atoms.len()];
    reached[root] = true;
    let mut queue = VecDeque::from([root]);
    while let Some(atom) = queue.pop_front() {
        for (other, bond) in molecule.neighbours(atom) {
            if bond_in_ring[bond] && !reached[other] {
                reached[other] = true;
                parent_bond[other] = Some(bond);
                queue.push_back(other);
            }
        }
    }
    parent_bond
}

/// The atoms at both ends of every bond in `bonds`, sorted, each once per bond end.
fn bond_ends_sorted(molecule: &Molecule, bonds: &[usize]) -> Vec<usize> {
    let mut atoms: Vec<usize> = bonds
        .iter()
        .flat_map(|&bond| [molecule.bonds[bond].begin, molecule.bonds[bond].end])
        .collect();
    atoms.sort_unstable();
    atoms
}

/// Every atom on the bond list appears exactly twice: the paths only meet at the root.
fn bonds_form_simple_cycle(molecule: &Molecule, bonds: &[usize]) -> bool {
    let atoms = bond_ends_sorted(molecule, bonds);
    atoms
        .chunks(2)
        .all(|pair| pair.len() == 2 && pair[0] == pair[1])
        && atoms.windows(3).all(|triple| triple[0] != triple[2])
}

fn reduce(basis: &[(usize, Vec<u64>)], bits: &[u64]) -> Vec<u64> {
    let mut reduced = bits.to_vec();
    for (pivot, vector) in basis {
        if reduced[pivot / 64] & (1u64 << (pivot % 64)) != 0 {
            for (word, other) in reduced.iter_mut().zip(vector) {
                *word ^= other;
            }
        }
    }
    reduced
}

fn lowest_bit(bits: &[u64]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, word)| **word != 0)
        .map(|(index, word)| index * 64 + word.trailing_zeros() as usize)
}

fn ring_from_bonds(molecule: &Molecule, bonds: &[usize]) -> Ring {
    let mut atoms = bond_ends_sorted(molecule, bonds);
    atoms.dedup();
    let mut bonds = bonds.to_vec();
    bonds.sort_unstable();
    Ring { atoms, bonds }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ring sizes, sorted, as RDKit 2026.09 reports them (`GetRingInfo().AtomRings()`).
    fn ring_sizes(smiles: &str) -> Vec<usize> {
        let molecule = crate::hydrogens::build_molecule(crate::syntax::parse(smiles).unwrap());
        let mut sizes: Vec<usize> = Rings::perceive(&molecule)
            .rings
            .iter()
            .map(|ring| ring.atoms.len())
            .collect();
        sizes.sort_unstable();
        sizes
    }

    #[test]
    fn matches_rdkit_symmetrised_sssr() {
        assert_eq!(ring_sizes("C1CC2CCC1CC2"), [6, 6, 6]);
        assert_eq!(ring_sizes("C12C3C4C1C5C2C3C45"), [4; 6]);
        assert_eq!(ring_sizes("C1CC2CC1C2"), [4, 5, 5]);
        assert_eq!(ring_sizes("C1CCC2(CC1)CCCCC2"), [6, 6]);
        assert_eq!(ring_sizes("C1CC2CCC3CCCC1C23"), [5, 5, 6]);
        assert!(ring_sizes("CC(C)O").is_empty());
    }
}
