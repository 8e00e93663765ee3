//! Kekulisation of lowercase (aromatic) input: every aromatic bond becomes single or double so
//! that each atom short of its valence gets exactly one double bond. Aromaticity is perceived
//! afresh afterwards, as RDKit does.

use crate::elements::allowed_valences;
use crate::error::SmilesError;
use crate::graph::{BondOrder, Molecule};

pub(crate) fn kekulize(molecule: &mut Molecule) -> Result<(), SmilesError> {
    let aromatic_bonds: Vec<usize> = (0..molecule.bonds.len())
        .filter(|&bond| molecule.bonds[bond].order == BondOrder::Aromatic)
        .collect();
    if !aromatic_bonds.is_empty() {
        let needs_double: Vec<bool> = (0..molecule.atoms.len())
            .map(|atom| needs_double_bond(molecule, atom))
            .collect();
        let mut partner = vec![None; molecule.atoms.len()];
        if !match_atoms(molecule, &needs_double, &mut partner) {
            let stuck = (0..molecule.atoms.len())
                .find(|&atom| needs_double[atom] && partner[atom].is_none())
                .unwrap_or(0);
            return Err(SmilesError::Kekulization {
                position: molecule.atoms[stuck].position,
            });
        }
        for bond in aromatic_bonds {
            let current = &mut molecule.bonds[bond];
            current.order = if partner[current.begin] == Some(current.end) {
                BondOrder::Double
            } else {
                BondOrder::Single
            };
        }
    }
    for atom in &mut molecule.atoms {
        atom.aromatic = false;
    }
    Ok(())
}

/// An aromatic atom needs a double bond when its single bonds and hydrogens leave it short of
/// the next valence its element (adjusted for charge) allows.
fn needs_double_bond(molecule: &Molecule, atom: usize) -> bool {
    let mut aromatic_bonds = 0;
    let mut other_orders = 0;
    for &bond in &molecule.incident[atom] {
        match molecule.bonds[bond].order {
            BondOrder::Aromatic => aromatic_bonds += 1,
            BondOrder::Single => other_orders += 1,
            // An exocyclic double bond already uses the atom's spare valence.
            _ => return false,
        }
    }
    if aromatic_bonds == 0 {
        return false;
    }
    let current = &molecule.atoms[atom];
    let used = aromatic_bonds + other_orders + i32::from(current.total_hydrogens());
    allowed_valences(current.atomic_number, current.formal_charge)
        .iter()
        .map(|&valence| i32::from(valence))
        .find(|&valence| valence >= used)
        .is_some_and(|valence| valence > used)
}

/// Perfect matching of the atoms that need a double bond, along aromatic bonds (backtracking,
/// most constrained atom first; aromatic systems are small).
fn match_atoms(molecule: &Molecule, needs_double: &[bool], partner: &mut [Option<usize>]) -> bool {
    let candidates = |atom: usize, partner: &[Option<usize>]| -> Vec<usize> {
        molecule
            .neighbours(atom)
            .filter(|&(other, bond)| {
                molecule.bonds[bond].order == BondOrder::Aromatic
                    && needs_double[other]
                    && partner[other].is_none()
            })
            .map(|(other, _)| other)
            .collect()
    };
    let next = (0..molecule.atoms.len())
        .filter(|&atom| needs_double[atom] && partner[atom].is_none())
        .min_by_key(|&atom| candidates(atom, partner).len());
    let Some(atom) = next else {
        return true;
    };
    for other in candidates(atom, partner) {
        partner[atom] = Some(other);
        partner[other] = Some(atom);
        if match_atoms(molecule, needs_double, partner) {
            return true;
        }
        partner[atom] = None;
        partner[other] = None;
    }
    false
}
