//! RDKit's `setConjugation`: aromatic bonds, and pairs of bonds around an sp2-like atom where one
//! is a multiple bond to another candidate and the far atom of the other has pi electrons to
//! share.

use crate::aromaticity::available_pi_electrons;
use crate::elements;
use crate::graph::{BondOrder, Molecule};

pub(crate) fn perceive(molecule: &mut Molecule) {
    for bond in &mut molecule.bonds {
        bond.conjugated = bond.aromatic;
    }
    let candidates: Vec<bool> = (0..molecule.atoms.len())
        .map(|atom| can_conjugate(molecule, atom))
        .collect();
    let substituents =
        |atom: usize| molecule.degree(atom) + usize::from(molecule.atoms[atom].total_hydrogens());
    let mut conjugated = Vec::new();
    for atom in 0..molecule.atoms.len() {
        if !candidates[atom] || !(2..=3).contains(&substituents(atom)) {
            continue;
        }
        for &multiple in &molecule.incident[atom] {
            // Valence contribution of at least 1.5: aromatic, double or triple.
            let partner = molecule.bonds[multiple].other(atom);
            if molecule.bonds[multiple].order == BondOrder::Single || !candidates[partner] {
                continue;
            }
            for (partner, other) in molecule.neighbours(atom) {
                if other != multiple && substituents(partner) <= 3 && candidates[partner] {
                    conjugated.extend([multiple, other]);
                }
            }
        }
    }
    for bond in conjugated {
        molecule.bonds[bond].conjugated = true;
    }
}

/// RDKit's `isAtomConjugCand`: not hypervalent, a first-row atom or a heavier one outside the
/// N and O groups (except terminal chalcogens), with pi electrons available.
fn can_conjugate(molecule: &Molecule, atom: usize) -> bool {
    let current = &molecule.atoms[atom];
    let number = current.atomic_number;
    let element = elements::element(number);
    let hypervalent = current.formal_charge == 0
        && element.valences[0] >= 0
        && molecule.total_valence(atom) > i32::from(element.valences[0]);
    if hypervalent {
        return false;
    }
    let outer = element.outer_electrons;
    let allowed = number <= 10
        || (outer != 5 && outer != 6)
        || (outer == 6 && molecule.total_degree(atom) < 2);
    allowed && available_pi_electrons(molecule, atom) > 0
}
