//! Valence bookkeeping: implicit hydrogens, the "too many bonds" check and radical electrons.

use crate::elements::{self, allowed_valences};
use crate::error::SmilesError;
use crate::graph::Molecule;

/// Twice RDKit's explicit valence of an atom, with the aromatic rounding RDKit applies to
/// lowercase atoms before kekulisation (a bridgehead `n` with 4.5 bond orders counts as 3).
fn twice_explicit_valence(molecule: &Molecule, atom: usize) -> i32 {
    let twice = i32::try_from(molecule.twice_bond_order_sum(atom)).unwrap_or(i32::MAX)
        + 2 * i32::from(molecule.atoms[atom].explicit_hydrogens);
    let element = elements::element(molecule.atoms[atom].atomic_number);
    let Some(default) = element.default_valence() else {
        return twice;
    };
    let charge = i32::from(molecule.atoms[atom].formal_charge);
    if !molecule.atoms[atom].aromatic || twice <= 2 * (i32::from(default) + charge) {
        return twice;
    }
    let mut below = i32::from(default) + charge;
    for &valence in element.valences {
        let shifted = i32::from(valence) + charge;
        if valence < 0 || 2 * shifted > twice {
            break;
        }
        below = shifted;
    }
    if twice - 2 * below <= 3 {
        2 * below
    } else {
        twice
    }
}

/// Sets implicit hydrogens on atoms written without brackets and rejects over-bonded atoms.
pub(crate) fn assign_implicit_hydrogens(molecule: &mut Molecule) -> Result<(), SmilesError> {
    for atom in 0..molecule.atoms.len() {
        // Half orders round up, as RDKit's `accum + 0.1` does.
        let valence = (twice_explicit_valence(molecule, atom) + 1) / 2;
        let current = &molecule.atoms[atom];
        let allowed = allowed_valences(current.atomic_number, current.formal_charge);
        if allowed.contains(&-1) || current.atomic_number == 0 {
            continue;
        }
        let Some(&largest) = allowed.last() else {
            continue;
        };
        if valence > i32::from(largest) {
            return Err(SmilesError::ValenceExceeded {
                position: current.position,
                valence,
            });
        }
        if !current.no_implicit {
            let target = allowed
                .iter()
                .map(|&allowed| i32::from(allowed))
                .find(|&allowed| allowed >= valence)
                .unwrap_or(valence);
            molecule.atoms[atom].implicit_hydrogens = u8::try_from(target - valence).unwrap_or(0);
        }
    }
    Ok(())
}

/// RDKit's `assignRadicals`: bracket atoms short of an octet (or a duet) carry radicals.
pub(crate) fn assign_radicals(molecule: &mut Molecule) {
    for atom in 0..molecule.atoms.len() {
        let current = &molecule.atoms[atom];
        if !current.no_implicit || current.atomic_number == 0 {
            continue;
        }
        let element = elements::element(current.atomic_number);
        let charge = i32::from(current.formal_charge);
        let outer = i32::from(element.outer_electrons);
        let radicals = if element.valences == [-1] {
            // Metals: only isolated atoms get the odd electron left after the charge.
            if molecule.degree(atom) > 0 {
                0
            } else {
                (outer - charge).max(0) % 2
            }
        } else {
            let valence = molecule.valence_from_bonds(atom);
            let shell = if current.atomic_number <= 2 { 2 } else { 8 };
            let mut radicals = shell - outer - valence + charge;
            if radicals < 0 {
                radicals = 0;
                if element.valences.len() > 1
                    && let Some(&allowed) = element
                        .valences
                        .iter()
                        .find(|&&allowed| i32::from(allowed) - valence + charge >= 0)
                {
                    radicals = i32::from(allowed) - valence + charge;
                }
            }
            let from_outer_shell = outer - valence - charge;
            if from_outer_shell >= 0 {
                radicals = radicals.min(from_outer_shell);
            }
            radicals
        };
        molecule.atoms[atom].radical_electrons = u8::try_from(radicals).unwrap_or(0);
    }
}
