//! Translates `@`/`@@` from the written neighbour order to RDKit's bond order.
//!
//! RDKit stores the tag relative to the order of the atom's bonds, with a lone hydrogen counted
//! last; SMILES states it relative to the written order (preceding atom, bracket hydrogen, ring
//! closures, branches). The tag flips when the two orders differ by an odd permutation.

use crate::graph::ChiralTag;
use crate::syntax::WrittenNeighbour;

/// The RDKit tag for an atom given its written neighbours and its bonded partners in bond order.
pub(crate) fn tag_in_bond_order(
    written_tag: ChiralTag,
    written: &[WrittenNeighbour],
    partners_in_bond_order: &[usize],
) -> ChiralTag {
    let hydrogens = written
        .iter()
        .filter(|&&neighbour| neighbour == WrittenNeighbour::Hydrogen)
        .count();
    let mut reference: Vec<WrittenNeighbour> = partners_in_bond_order
        .iter()
        .map(|&partner| WrittenNeighbour::Atom(partner))
        .collect();
    if hydrogens == 1 {
        reference.push(WrittenNeighbour::Hydrogen);
    }
    // Two hydrogens (or an odd neighbour list) cannot be a stereocentre; stereo perception
    // removes the tag later, so the orientation does not matter.
    if hydrogens > 1 || reference.len() != written.len() {
        return written_tag;
    }
    let positions: Option<Vec<usize>> = written
        .iter()
        .map(|neighbour| {
            reference
                .iter()
                .position(|candidate| candidate == neighbour)
        })
        .collect();
    match positions {
        Some(positions) if permutation_is_odd(&positions) => written_tag.inverted(),
        _ => written_tag,
    }
}

/// Whether a permutation (given as target positions) has an odd number of inversions.
pub(crate) fn permutation_is_odd(positions: &[usize]) -> bool {
    let mut inversions = 0usize;
    for (index, &first) in positions.iter().enumerate() {
        inversions += positions[index + 1..]
            .iter()
            .filter(|&&later| later < first)
            .count();
    }
    inversions % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use WrittenNeighbour::{Atom, Hydrogen};

    #[test]
    fn hydrogen_counts_last_in_rdkit_order() {
        // F[C@H](Cl)Br: written F, H, Cl, Br; RDKit keeps @ (anticlockwise).
        let tag = tag_in_bond_order(
            ChiralTag::Anticlockwise,
            &[Atom(0), Hydrogen, Atom(2), Atom(3)],
            &[0, 2, 3],
        );
        assert_eq!(tag, ChiralTag::Anticlockwise);
        // [C@H](F)(Cl)Br: written H first, an odd move to the end.
        let tag = tag_in_bond_order(
            ChiralTag::Anticlockwise,
            &[Hydrogen, Atom(1), Atom(2), Atom(3)],
            &[1, 2, 3],
        );
        assert_eq!(tag, ChiralTag::Clockwise);
    }

    #[test]
    fn inversion_parity() {
        assert!(!permutation_is_odd(&[0, 1, 2, 3]));
        assert!(permutation_is_odd(&[1, 0, 2, 3]));
        assert!(!permutation_is_odd(&[1, 2, 0]));
    }
}
