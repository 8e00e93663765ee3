//! Categorical atom and bond features as rows of one embedding table per side.
//!
//! Each feature has a fixed number of slots; a value outside a feature's range goes to that
//! feature's last slot ("other") instead of being clamped onto a real value. The formal charge is
//! offset by [`CHARGE_OFFSET`] so negative charges keep their own slots (the reference clamps them
//! all to 0).

use molecules::{AtomFeatures, BondFeatures};

/// Formal charges from `-CHARGE_OFFSET` to `+CHARGE_OFFSET` get their own slots.
pub(crate) const CHARGE_OFFSET: i64 = 5;

/// Slots per atom feature, "other" included, in the order of [`atom_slots`]: atomic number
/// (0-118), chirality tag (0-8), degree (0-10), formal charge (-5..=5), total hydrogens (0-8),
/// radical electrons (0-4), hybridisation (0-8), aromatic, in ring.
pub(crate) const ATOM_SLOTS: [i64; 9] = [120, 10, 12, 2 * CHARGE_OFFSET + 2, 10, 6, 10, 2, 2];

/// Slots of the degree embedding added as a positional encoding (degree 0-10, other).
pub(crate) const DEGREE_SLOTS: i64 = 12;

/// Slots per bond feature: type (single, aromatic, double, triple, other), stereo (0-7, other),
/// conjugated.
pub(crate) const BOND_SLOTS: [i64; 3] = [5, 9, 2];

/// Number of distinct bond feature combinations ([`bond_kind`] values).
pub(crate) const BOND_KINDS: i64 = BOND_SLOTS[0] * BOND_SLOTS[1] * BOND_SLOTS[2];

/// `value` when it is below `slots - 1`, else the "other" slot.
fn slot(value: i64, slots: i64) -> i64 {
    if (0..slots - 1).contains(&value) {
        value
    } else {
        slots - 1
    }
}

/// First table row of each feature in a table holding all features' slots one after another.
pub(crate) fn first_rows<const N: usize>(slots: [i64; N]) -> [i64; N] {
    let mut first = [0; N];
    for f in 1..N {
        first[f] = first[f - 1] + slots[f - 1];
    }
    first
}

/// Table row of every feature of `atom`, in the table of all [`ATOM_SLOTS`].
pub(crate) fn atom_rows(atom: &AtomFeatures) -> [i64; 9] {
    let values = [
        i64::from(atom.atomic_number),
        i64::from(atom.chirality),
        i64::from(atom.degree),
        i64::from(atom.formal_charge) + CHARGE_OFFSET,
        i64::from(atom.total_hydrogens),
        i64::from(atom.radical_electrons),
        i64::from(atom.hybridization),
        i64::from(atom.aromatic),
        i64::from(atom.in_ring),
    ];
    let first = first_rows(ATOM_SLOTS);
    std::array::from_fn(|f| first[f] + slot(values[f], ATOM_SLOTS[f]))
}

/// Row of the degree embedding of `atom`.
pub(crate) fn degree_row(atom: &AtomFeatures) -> i64 {
    slot(i64::from(atom.degree), DEGREE_SLOTS)
}

/// The bond's feature combination, in `0..BOND_KINDS`; [`bond_kind_rows`] inverts it.
pub(crate) fn bond_kind(bond: &BondFeatures) -> i64 {
    let bond_type = match bond.bond_type {
        2 => 0, // single
        3 => 1, // aromatic
        4 => 2, // double
        6 => 3, // triple
        _ => 4, // other
    };
    let stereo = slot(i64::from(bond.stereo), BOND_SLOTS[1]);
    (bond_type * BOND_SLOTS[1] + stereo) * BOND_SLOTS[2] + i64::from(bond.conjugated)
}

/// Table rows (in the table of all [`BOND_SLOTS`]) of every bond kind, three per kind, kinds in
/// order: the bond encoder runs once per kind, and edges gather its output.
pub(crate) fn bond_kind_rows() -> Vec<i64> {
    let first = first_rows(BOND_SLOTS);
    (0..BOND_KINDS)
        .flat_map(|kind| {
            let conjugated = kind % BOND_SLOTS[2];
            let stereo = (kind / BOND_SLOTS[2]) % BOND_SLOTS[1];
            let bond_type = kind / (BOND_SLOTS[2] * BOND_SLOTS[1]);
            [
                first[0] + bond_type,
                first[1] + stereo,
                first[2] + conjugated,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(atomic_number: u8, formal_charge: i8) -> AtomFeatures {
        AtomFeatures {
            atomic_number,
            chirality: 0,
            degree: 2,
            formal_charge,
            total_hydrogens: 1,
            radical_electrons: 0,
            hybridization: 3,
            aromatic: true,
            in_ring: false,
        }
    }

    #[test]
    fn negative_charges_stay_distinct_and_out_of_range_goes_to_other() {
        let charge_row = |charge| atom_rows(&atom(6, charge))[3];
        let base = first_rows(ATOM_SLOTS)[3];
        assert_eq!(base, 120 + 10 + 12);
        let rows: Vec<i64> = [-2, -1, 0, 1, 5].into_iter().map(charge_row).collect();
        assert_eq!(rows, [base + 3, base + 4, base + 5, base + 6, base + 10]);
        // Beyond the range: the "other" slot, not the nearest real charge.
        assert_eq!(charge_row(-6), base + 11);
        assert_eq!(charge_row(7), base + 11);
        assert_eq!(atom_rows(&atom(200, 0))[0], 119);
        let total: i64 = ATOM_SLOTS.iter().sum();
        assert!(atom_rows(&atom(200, 100)).iter().all(|&r| r < total));
    }

    #[test]
    fn bond_kinds_round_trip() {
        let rows = bond_kind_rows();
        assert_eq!(rows.len() as i64, 3 * BOND_KINDS);
        let bond = BondFeatures {
            begin: 0,
            end: 1,
            bond_type: 4,
            stereo: 3,
            conjugated: true,
        };
        let kind = bond_kind(&bond) as usize;
        assert_eq!(rows[3 * kind..3 * kind + 3], [2, 5 + 3, 14 + 1]);
        let odd = BondFeatures {
            bond_type: 9,
            stereo: 42,
            ..bond
        };
        let kind = bond_kind(&odd) as usize;
        assert_eq!(rows[3 * kind..3 * kind + 3], [4, 5 + 8, 14 + 1]);
    }
}
