//! Builds the working molecule from the parse, folding `[H]` atoms into their heavy neighbour the
//! way RDKit's `removeHs` does after `MolFromSmiles`.
//!
//! RDKit keeps a hydrogen as a graph node when it has an isotope (`[2H]`), no neighbour or more
//! than one (`[H+]`), a hydrogen neighbour (`[H][H]`) or a dummy neighbour (`[H]*`).

use crate::chirality;
use crate::graph::{
    Atom, Bond, BondOrder, BondStereo, ChiralTag, Direction, Hybridization, Molecule,
};
use crate::syntax::{ParsedBond, ParsedSmiles, WrittenNeighbour};

/// The molecule with removable hydrogens folded away, chirality tags in RDKit's bond order.
pub(crate) fn build_molecule(mut parsed: ParsedSmiles) -> Molecule {
    let removable = removable_hydrogens(&parsed);
    let folded: Vec<(usize, usize, usize)> = parsed
        .bonds
        .iter()
        .enumerate()
        .flat_map(|(index, bond)| [(index, bond.begin, bond.end), (index, bond.end, bond.begin)])
        .filter(|&(_, hydrogen, _)| removable[hydrogen])
        .collect();
    for (bond_index, hydrogen, heavy) in folded {
        parsed.atoms[heavy].hydrogens = parsed.atoms[heavy].hydrogens.saturating_add(1);
        for neighbour in &mut parsed.atoms[heavy].written_neighbours {
            if *neighbour == WrittenNeighbour::Atom(hydrogen) {
                *neighbour = WrittenNeighbour::Hydrogen;
            }
        }
        let bond = &parsed.bonds[bond_index];
        if let Some(direction) = bond.direction {
            let seen_from_heavy = if bond.begin == heavy {
                direction
            } else {
                direction.flipped()
            };
            move_direction(&mut parsed.bonds, bond_index, heavy, seen_from_heavy);
        }
    }

    let new_index: Vec<Option<usize>> = {
        let mut next = 0;
        removable
            .iter()
            .map(|&removed| {
                (!removed).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let bonds: Vec<Bond> = parsed
        .bonds
        .iter()
        .filter_map(|bond| {
            Some(Bond {
                begin: new_index[bond.begin]?,
                end: new_index[bond.end]?,
                order: bond.order,
                direction: bond.direction,
                aromatic: false,
                conjugated: false,
                stereo: BondStereo::None,
            })
        })
        .collect();
    let atoms: Vec<Atom> = parsed
        .atoms
        .iter()
        .zip(&removable)
        .filter(|(_, removed)| !**removed)
        .map(|(atom, _)| Atom {
            atomic_number: atom.atomic_number,
            isotope: atom.isotope,
            formal_charge: atom.formal_charge,
            no_implicit: atom.bracket,
            explicit_hydrogens: atom.hydrogens,
            implicit_hydrogens: 0,
            explicit_valence: 0,
            radical_electrons: 0,
            chiral_tag: ChiralTag::Unspecified,
            aromatic: atom.aromatic,
            hybridization: Hybridization::Unspecified,
            position: atom.position,
        })
        .collect();
    let mut molecule = Molecule::new(atoms, bonds);

    for (old, parsed_atom) in parsed.atoms.iter().enumerate() {
        let Some(index) = new_index[old] else {
            continue;
        };
        let written: Vec<WrittenNeighbour> = parsed_atom
            .written_neighbours
            .iter()
            .map(|neighbour| match *neighbour {
                WrittenNeighbour::Atom(other) => new_index[other]
                    .map(WrittenNeighbour::Atom)
                    .unwrap_or(WrittenNeighbour::Hydrogen),
                WrittenNeighbour::Hydrogen => WrittenNeighbour::Hydrogen,
            })
            .collect();
        let partners: Vec<usize> = molecule.neighbours(index).map(|(other, _)| other).collect();
        molecule.atoms[index].chiral_tag =
            chirality::tag_in_bond_order(parsed_atom.chirality, &written, &partners);
    }
    molecule
}

fn removable_hydrogens(parsed: &ParsedSmiles) -> Vec<bool> {
    let mut partners = vec![Vec::new(); parsed.atoms.len()];
    for bond in &parsed.bonds {
        partners[bond.begin].push(bond.end);
        partners[bond.end].push(bond.begin);
    }
    parsed
        .atoms
        .iter()
        .zip(&partners)
        .map(|(atom, partners)| {
            atom.atomic_number == 1
                && atom.isotope == 0
                && partners.len() == 1
                && !matches!(parsed.atoms[partners[0]].atomic_number, 0 | 1)
        })
        .collect()
}

/// A removed hydrogen carried a `/` or `\`; RDKit keeps the double-bond geometry by giving
/// another unmarked single bond of the heavy atom the opposite mark.
fn move_direction(
    bonds: &mut [ParsedBond],
    hydrogen_bond: usize,
    heavy: usize,
    seen_from_heavy: Direction,
) {
    let touches = |bond: &ParsedBond| bond.begin == heavy || bond.end == heavy;
    let on_double_bond = bonds
        .iter()
        .any(|bond| touches(bond) && bond.order == BondOrder::Double);
    bonds[hydrogen_bond].direction = None;
    if !on_double_bond {
        return;
    }
    let replacement = bonds.iter().enumerate().position(|(index, bond)| {
        index != hydrogen_bond
            && touches(bond)
            && bond.direction.is_none()
            && bond.order == BondOrder::Single
    });
    if let Some(index) = replacement {
        let wanted = seen_from_heavy.flipped();
        let bond = &mut bonds[index];
        bond.direction = Some(if bond.begin == heavy {
            wanted
        } else {
            wanted.flipped()
        });
    }
}
