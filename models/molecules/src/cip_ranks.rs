//! RDKit's legacy approximate CIP ranking (`assignAtomCIPRanks`), which decides whether a
//! tagged atom is a stereocentre and which substituent names a double bond E or Z.
//!
//! Atoms start ranked by atomic number and isotope; each round appends the neighbours' ranks
//! (repeated twice the bond order, highest first) and one zero per hydrogen, then re-ranks. It
//! stops when nothing splits, every atom is unique, or after `atoms / 2 + 1` rounds, exactly as
//! RDKit does: a faster partition refinement would give different ties.

use crate::elements::{self, PHOSPHORUS};
use crate::graph::{BondOrder, Molecule};

/// Initial invariants: atomic number, then the isotope's deviation from the common mass.
pub(crate) fn initial_invariants(molecule: &Molecule) -> Vec<i64> {
    molecule
        .atoms
        .iter()
        .map(|atom| {
            let number = i64::from(atom.atomic_number % 128);
            let mut mass = 0i64;
            if atom.isotope != 0 {
                mass = i64::from(atom.isotope)
                    - i64::from(elements::element(atom.atomic_number).common_isotope);
                if mass >= 0 {
                    mass += 1;
                }
            }
            mass += 512;
            let mass = if mass < 0 { 0 } else { mass % 1024 };
            // The low ten bits would hold an atom-map number; SMILES maps are ignored here.
            ((number << 10) | mass) << 10
        })
        .collect()
}

/// Ranks (0 = lowest) refined from the invariants. With `seed_with_invariants` the invariants
/// themselves start each atom's sort key (used when re-ranking with R/S and E/Z known);
/// otherwise the atomic number and the initial rank do.
pub(crate) fn refine(
    molecule: &Molecule,
    invariants: &[i64],
    seed_with_invariants: bool,
) -> Vec<u32> {
    let atoms = molecule.atoms.len();
    let mut ranks = dense_ranks(invariants);
    let mut keys: Vec<Vec<i64>> = (0..atoms)
        .map(|atom| {
            if seed_with_invariants {
                vec![invariants[atom]]
            } else {
                vec![
                    i64::from(molecule.atoms[atom].atomic_number),
                    i64::from(ranks[atom]),
                ]
            }
        })
        .collect();
    let weights = neighbour_weights(molecule);
    let max_rounds = atoms / 2 + 1;
    let mut rounds = 0;
    let mut previous_count: Option<usize> = None;
    let mut count = rank_count(&ranks);
    while count < atoms && rounds < max_rounds && previous_count.is_none_or(|last| last < count) {
        let mut longest = 0;
        for atom in 0..atoms {
            let mut neighbours = weights[atom].clone();
            neighbours.sort_by(|first, second| ranks[second.0].cmp(&ranks[first.0]));
            let key = &mut keys[atom];
            for (neighbour, weight) in neighbours {
                let value = i64::from(ranks[neighbour]) + 1;
                key.extend(std::iter::repeat_n(value, weight));
            }
            key.extend(std::iter::repeat_n(
                0,
                usize::from(molecule.atoms[atom].total_hydrogens()),
            ));
            longest = longest.max(key.len());
        }
        for key in &mut keys {
            key.resize(longest, -1);
        }
        previous_count = Some(count);
        ranks = dense_ranks(&keys);
        count = rank_count(&ranks);
        if previous_count != Some(count) {
            for (key, &rank) in keys.iter_mut().zip(&ranks) {
                key[rounds + 1] = i64::from(rank);
                key.truncate(rounds + 2);
            }
        }
        rounds += 1;
    }
    ranks
}

/// Each atom's neighbours with their weight: twice the bond order, except that a double bond to
/// a three- or four-connected phosphorus counts once (RDKit's d-orbital convention).
fn neighbour_weights(molecule: &Molecule) -> Vec<Vec<(usize, usize)>> {
    (0..molecule.atoms.len())
        .map(|atom| {
            molecule
                .neighbours(atom)
                .map(|(neighbour, bond)| {
                    let order = molecule.bonds[bond].order;
                    let phosphorus = order == BondOrder::Double
                        && molecule.atoms[neighbour].atomic_number == PHOSPHORUS
                        && matches!(molecule.degree(neighbour), 3 | 4);
                    let weight = if phosphorus {
                        1
                    } else {
                        usize::from(order.twice())
                    };
                    (neighbour, weight)
                })
                .collect()
        })
        .collect()
}

fn rank_count(ranks: &[u32]) -> usize {
    ranks.iter().max().map_or(0, |&max| max as usize + 1)
}

/// Dense ranks: equal values share a rank, ranks are consecutive from 0.
fn dense_ranks<T: Ord>(values: &[T]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&first, &second| values[first].cmp(&values[second]));
    let mut ranks = vec![0u32; values.len()];
    let mut rank = 0u32;
    for (position, &index) in order.iter().enumerate() {
        if position > 0 && values[index] != values[order[position - 1]] {
            rank += 1;
        }
        ranks[index] = rank;
    }
    ranks
}
