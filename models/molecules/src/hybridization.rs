//! RDKit's `setHybridization`: count bonds plus lone pairs, then downgrade sp3 atoms with a
//! conjugated bond (like the hydroxyl O of an acid) to sp2.

use crate::elements;
use crate::graph::{ChiralTag, Hybridization, Molecule};

pub(crate) fn perceive(molecule: &mut Molecule) {
    for atom in 0..molecule.atoms.len() {
        let hybridization = hybridization_of(molecule, atom);
        molecule.atoms[atom].hybridization = hybridization;
    }
}

fn hybridization_of(molecule: &Molecule, atom: usize) -> Hybridization {
    let current = &molecule.atoms[atom];
    let total_degree = molecule.total_degree(atom);
    if current.atomic_number == 0 {
        return Hybridization::Unspecified;
    }
    // A tetrahedral tag on a four-coordinate atom settles it before any counting.
    if current.chiral_tag != ChiralTag::Unspecified && total_degree == 4 {
        return Hybridization::Sp3;
    }
    let orbitals = if current.atomic_number < 89 {
        bonds_plus_lone_pairs(molecule, atom)
    } else {
        i32::try_from(total_degree).unwrap_or(i32::MAX)
    };
    match orbitals {
        0 | 1 => Hybridization::S,
        2 => Hybridization::Sp,
        3 => Hybridization::Sp2,
        4 => {
            let conjugated = molecule.incident[atom]
                .iter()
                .any(|&bond| molecule.bonds[bond].conjugated);
            if total_degree > 3 || !conjugated {
                Hybridization::Sp3
            } else {
                Hybridization::Sp2
            }
        }
        5 => Hybridization::Sp3d,
        6 => Hybridization::Sp3d2,
        _ => Hybridization::Unspecified,
    }
}

/// RDKit's `numBondsPlusLonePairs`.
fn bonds_plus_lone_pairs(molecule: &Molecule, atom: usize) -> i32 {
    let current = &molecule.atoms[atom];
    let degree = i32::try_from(molecule.total_degree(atom)).unwrap_or(i32::MAX);
    if current.atomic_number <= 1 {
        return degree;
    }
    let outer = i32::from(elements::element(current.atomic_number).outer_electrons);
    let valence = molecule.total_valence(atom);
    let charge = i32::from(current.formal_charge);
    let free_electrons = outer - (valence + charge);
    if valence + outer - charge < 8 {
        // Below an octet the radicals occupy orbitals of their own.
        let radicals = i32::from(current.radical_electrons);
        degree + (free_electrons - radicals) / 2 + radicals
    } else {
        degree + free_electrons / 2
    }
}
