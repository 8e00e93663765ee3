//! RDKit's default aromaticity model on the kekulé structure: a ring, or a fused group of up to
//! six rings, is aromatic when its atoms can donate 4n+2 pi electrons (Hückel). Rings count as
//! fused only when they share exactly one bond, so a porphyrin's inner macrocycle is judged on
//! its own and not together with the pyrroles it shares two bonds with.

use crate::elements::{self, more_electronegative};
use crate::graph::{BondOrder, Molecule};
use crate::rings::Rings;

/// Rings larger than this are not fused with their neighbours (a bit more than a porphyrin).
const MAX_FUSED_RING_SIZE: usize = 24;
/// At most this many rings are combined when testing a fused system.
const MAX_FUSED_RINGS: usize = 6;

/// How many pi electrons an atom can put into a ring (RDKit's ElectronDonorType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Donor {
    Vacant,
    One,
    Two,
    Any,
    None,
}

impl Donor {
    /// Fewest and most electrons the atom may contribute.
    fn electron_range(self) -> (i32, i32) {
        match self {
            Donor::Any => (0, 2),
            Donor::One => (1, 1),
            Donor::Two => (2, 2),
            Donor::Vacant | Donor::None => (0, 0),
        }
    }
}

/// RDKit's `countAtomElec`: electrons available for a pi system, or -1 if none can be.
pub(crate) fn available_pi_electrons(molecule: &Molecule, atom: usize) -> i32 {
    let current = &molecule.atoms[atom];
    let default = elements::element(current.atomic_number)
        .default_valence()
        .map_or(-1, i32::from);
    if default <= 1 {
        return -1;
    }
    let degree = i32::try_from(molecule.total_degree(atom)).unwrap_or(i32::MAX);
    if degree > 3 {
        return -1;
    }
    let outer = i32::from(elements::element(current.atomic_number).outer_electrons);
    let lone_pair_electrons = (outer - default - i32::from(current.formal_charge)).max(0);
    let electrons = (default - degree) + lone_pair_electrons - i32::from(current.radical_electrons);
    let unsaturations =
        current.explicit_valence - i32::try_from(molecule.degree(atom)).unwrap_or(0);
    // A triple bond (or two double bonds) leaves only one electron for the ring.
    if electrons > 1 && unsaturations > 1 {
        1
    } else {
        electrons
    }
}

pub(crate) fn perceive(molecule: &mut Molecule, rings: &Rings) {
    let mut donors: Vec<Option<(Donor, bool)>> = vec![None; molecule.atoms.len()];
    let mut candidate_rings = Vec::new();
    for (index, ring) in rings.rings.iter().enumerate() {
        let mut all_candidates = true;
        for &atom in &ring.atoms {
            let (_, candidate) = *donors[atom].get_or_insert_with(|| {
                let donor = donor_type(molecule, rings, atom);
                (donor, is_candidate(molecule, atom, donor))
            });
            all_candidates &= candidate;
        }
        let all_dummies = ring
            .atoms
            .iter()
            .all(|&atom| molecule.atoms[atom].atomic_number == 0);
        if all_candidates && !all_dummies {
            candidate_rings.push(index);
        }
    }
    if candidate_rings.is_empty() {
        return;
    }
    let donor_of = |atom: usize| donors[atom].map_or(Donor::None, |(donor, _)| donor);
    let ring_atoms = |ring: usize| &rings.rings[candidate_rings[ring]].atoms;
    let ring_bonds = |ring: usize| &rings.rings[candidate_rings[ring]].bonds;

    let count = candidate_rings.len();
    let mut neighbours = vec![Vec::new(); count];
    for first in 0..count {
        for second in first + 1..count {
            let small = ring_bonds(first).len() <= MAX_FUSED_RING_SIZE
                && ring_bonds(second).len() <= MAX_FUSED_RING_SIZE;
            let shared = ring_bonds(first)
                .iter()
                .filter(|bond| ring_bonds(second).contains(bond))
                .count();
            if small && shared == 1 {
                neighbours[first].push(second);
                neighbours[second].push(first);
            }
        }
    }
    let mut picked = vec![false; count];
    while let Some(start) = picked.iter().position(|&done| !done) {
        let mut system = Vec::new();
        pick_fused(start, &neighbours, &mut picked, &mut system);
        let mut system_bonds = members_sorted(&system, ring_bonds);
        system_bonds.dedup();
        let mut done_bonds = Vec::new();
        for size in 1..=system.len().min(MAX_FUSED_RINGS) {
            // Once every bond of the system is aromatic, larger combinations add nothing.
            if done_bonds.len() >= system_bonds.len() {
                break;
            }
            for combination in combinations(system.len(), size) {
                let chosen: Vec<usize> = combination.iter().map(|&index| system[index]).collect();
                if !is_connected(&chosen, &neighbours) {
                    continue;
                }
                let atoms = members_sorted(&chosen, ring_atoms);
                // Electrons of atoms buried in three or more of the rings do not count
                // (the centre of acepentalene).
                let counted = atoms.chunk_by(|a, b| a == b).filter(|run| run.len() <= 2);
                if !obeys_huckel(counted.map(|run| donor_of(run[0]))) {
                    continue;
                }
                for &atom in &atoms {
                    molecule.atoms[atom].aromatic = true;
                }
                for bond in mark_outer_bonds(molecule, chosen.iter().map(|&ring| ring_bonds(ring)))
                {
                    if !done_bonds.contains(&bond) {
                        done_bonds.push(bond);
                    }
                }
            }
        }
    }
}

/// The members (atoms or bonds) of the rings `chosen`, sorted, once per ring they belong to.
fn members_sorted<'a>(chosen: &[usize], members: impl Fn(usize) -> &'a Vec<usize>) -> Vec<usize> {
    let mut all: Vec<usize> = chosen
        .iter()
        .flat_map(|&ring| members(ring))
        .copied()
        .collect();
    all.sort_unstable();
    all
}

/// Depth-first collection of a fused ring system, in RDKit's order.
fn pick_fused(
    ring: usize,
    neighbours: &[Vec<usize>],
    picked: &mut [bool],
    system: &mut Vec<usize>,
) {
    picked[ring] = true;
    system.push(ring);
    for &next in &neighbours[ring] {
        if !picked[next] {
            pick_fused(next, neighbours, picked, system);
        }
    }
}

fn is_connected(chosen: &[usize], neighbours: &[Vec<usize>]) -> bool {
    let mut reached = vec![chosen[0]];
    let mut frontier = vec![chosen[0]];
    while let Some(ring) = frontier.pop() {
        for next in &neighbours[ring] {
            if chosen.contains(next) && !reached.contains(next) {
                reached.push(*next);
                frontier.push(*next);
            }
        }
    }
    reached.len() == chosen.len()
}

/// All `size`-subsets of `0..items` in lexicographic order, generated lazily because large
/// fused systems have millions of them.
fn combinations(items: usize, size: usize) -> impl Iterator<Item = Vec<usize>> {
    let mut next = (size <= items).then(|| (0..size).collect::<Vec<usize>>());
    std::iter::from_fn(move || {
        let current = next.take()?;
        if let Some(position) = (0..size).rev().find(|&i| current[i] < items - size + i) {
            let mut following = current.clone();
            following[position] += 1;
            for later in position + 1..size {
                following[later] = following[later - 1] + 1;
            }
            next = Some(following);
        }
        Some(current)
    })
}

fn obeys_huckel(donors: impl Iterator<Item = Donor>) -> bool {
    let (low, high) = donors
        .map(Donor::electron_range)
        .fold((0, 0), |(low, high), (l, h)| (low + l, high + h));
    if high >= 6 {
        (low..=high).any(|electrons| (electrons - 2) % 4 == 0)
    } else {
        high == 2
    }
}

/// Bonds in exactly one of the chosen rings become aromatic; fusion bonds are left to the
/// single-ring tests (which is why azulene's central bond stays single). Returns those bonds.
fn mark_outer_bonds<'a>(
    molecule: &mut Molecule,
    ring_bonds: impl Iterator<Item = &'a Vec<usize>>,
) -> Vec<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for bonds in ring_bonds {
        for &bond in bonds {
            match counts.iter_mut().find(|(seen, _)| *seen == bond) {
                Some((_, count)) => *count += 1,
                None => counts.push((bond, 1)),
            }
        }
    }
    let outer: Vec<usize> = counts
        .into_iter()
        .filter(|&(_, count)| count == 1)
        .map(|(bond, _)| bond)
        .collect();
    for &bond in &outer {
        let current = &mut molecule.bonds[bond];
        current.aromatic = true;
        if matches!(current.order, BondOrder::Single | BondOrder::Double) {
            current.order = BondOrder::Aromatic;
        }
    }
    outer
}

fn donor_type(molecule: &Molecule, rings: &Rings, atom: usize) -> Donor {
    let current = &molecule.atoms[atom];
    if current.atomic_number == 0 {
        return Donor::Any;
    }
    let exocyclic_partner = molecule.neighbours(atom).find_map(|(other, bond)| {
        (!rings.bond_in_ring[bond] && molecule.bonds[bond].order.twice() >= 4).then_some(other)
    });
    let pulls_electrons = |partner: usize| {
        more_electronegative(molecule.atoms[partner].atomic_number, current.atomic_number)
    };
    match available_pi_electrons(molecule, atom) {
        electrons if electrons < 0 => Donor::None,
        0 => {
            let cyclic_multiple = molecule.neighbours(atom).any(|(_, bond)| {
                rings.bond_in_ring[bond] && molecule.bonds[bond].order.twice() >= 4
            });
            if exocyclic_partner.is_some() {
                Donor::Vacant
            } else if cyclic_multiple {
                Donor::One
            } else {
                Donor::None
            }
        }
        1 => match exocyclic_partner {
            Some(partner) if pulls_electrons(partner) => Donor::Vacant,
            Some(_) => Donor::One,
            None if has_multiple_bond(molecule, atom) => Donor::One,
            // Tropylium and cyclopropenyl cations.
            None if current.formal_charge == 1 => Donor::Vacant,
            None => Donor::None,
        },
        mut electrons => {
            if exocyclic_partner.is_some_and(pulls_electrons) {
                electrons -= 1;
            }
            if electrons % 2 == 1 {
                Donor::One
            } else {
                Donor::Two
            }
        }
    }
}

/// RDKit's `incidentMultipleBond`: bond orders exceed the bond count.
fn has_multiple_bond(molecule: &Molecule, atom: usize) -> bool {
    let plain = molecule.degree(atom) + usize::from(molecule.atoms[atom].explicit_hydrogens);
    molecule.atoms[atom].explicit_valence != i32::try_from(plain).unwrap_or(i32::MAX)
}

/// RDKit's `isAtomCandForArom` with the default model's settings.
fn is_candidate(molecule: &Molecule, atom: usize, donor: Donor) -> bool {
    let current = &molecule.atoms[atom];
    let number = current.atomic_number;
    if (number > 18 && number != 34 && number != 52) || donor == Donor::None {
        return false;
    }
    // Atoms above the default valence of their isoelectronic element are shut out.
    let has_default = elements::element(number)
        .default_valence()
        .is_some_and(|v| v > 0);
    let isoelectronic = i16::from(number) - i16::from(current.formal_charge);
    let isoelectronic_default = u8::try_from(isoelectronic)
        .ok()
        .filter(|&n| n <= 118)
        .and_then(|n| elements::element(n).default_valence())
        .map_or(-1, i32::from);
    if has_default && molecule.total_valence(atom) > isoelectronic_default {
        return false;
    }
    // Radicals shut out heteroatoms and charged carbons.
    if current.radical_electrons > 0 && (number != 6 || current.formal_charge != 0) {
        return false;
    }
    let unsaturations =
        molecule.atoms[atom].explicit_valence - i32::try_from(molecule.degree(atom)).unwrap_or(0);
    if unsaturations > 1 {
        let multiple = molecule.incident[atom]
            .iter()
            .filter(|&&bond| {
                matches!(
                    molecule.bonds[bond].order,
                    BondOrder::Double | BondOrder::Triple
                )
            })
            .count();
        if multiple > 1 {
            return false;
        }
    }
    true
}
