//! RDKit's `cleanUp`: rewrites hypervalent nitro, azide, P=O and halogen-oxide groups into their
//! charge-separated forms before valences are checked, e.g. `CN(=O)=O` -> `C[N+](=O)[O-]`.

use crate::elements::{CARBON, NITROGEN, OXYGEN, PHOSPHORUS};
use crate::graph::{BondOrder, Molecule};

pub(crate) fn separate_charges(molecule: &mut Molecule) {
    separate_nitrogen_charges(molecule);
    for atom in 0..molecule.atoms.len() {
        match molecule.atoms[atom].atomic_number {
            PHOSPHORUS => separate_phosphorus_charge(molecule, atom),
            17 | 35 | 53 => separate_halogen_charges(molecule, atom),
            _ => {}
        }
    }
}

/// Moves one bond order from `atom=partner` onto charges: `atom+` and `partner-`.
fn shift_to_charges(molecule: &mut Molecule, atom: usize, partner: usize, bond: usize) {
    let order = &mut molecule.bonds[bond].order;
    *order = match *order {
        BondOrder::Triple => BondOrder::Double,
        _ => BondOrder::Single,
    };
    molecule.atoms[atom].formal_charge += 1;
    molecule.atoms[partner].formal_charge -= 1;
}

fn neutral_partner_with(
    molecule: &Molecule,
    atom: usize,
    element: u8,
    order: BondOrder,
) -> Option<(usize, usize)> {
    molecule.neighbours(atom).find(|&(partner, bond)| {
        let other = &molecule.atoms[partner];
        other.atomic_number == element
            && other.formal_charge == 0
            && molecule.bonds[bond].order == order
    })
}

fn separate_nitrogen_charges(molecule: &mut Molecule) {
    let five_valent: Vec<usize> = (0..molecule.atoms.len())
        .filter(|&atom| {
            let nitrogen = &molecule.atoms[atom];
            nitrogen.atomic_number == NITROGEN
                && nitrogen.formal_charge == 0
                && molecule.valence_from_bonds(atom) == 5
        })
        .collect();
    for &atom in &five_valent {
        if let Some((oxygen, bond)) =
            neutral_partner_with(molecule, atom, OXYGEN, BondOrder::Double)
        {
            shift_to_charges(molecule, atom, oxygen, bond);
        }
    }
    // Azides: N=N#N -> N=[N+]=[N-].
    for &atom in &five_valent {
        if let Some((nitrogen, bond)) =
            neutral_partner_with(molecule, atom, NITROGEN, BondOrder::Triple)
        {
            shift_to_charges(molecule, atom, nitrogen, bond);
        }
    }
}

/// `C=P(=O)X` -> `C=[P+]([O-])X`; RDKit takes the last doubly bonded oxygen it sees.
fn separate_phosphorus_charge(molecule: &mut Molecule, atom: usize) {
    if molecule.atoms[atom].formal_charge != 0
        || molecule.valence_from_bonds(atom) != 5
        || molecule.degree(atom) != 3
    {
        return;
    }
    let mut oxygen = None;
    let mut double_to_carbon_or_nitrogen = false;
    for (partner, bond) in molecule.neighbours(atom) {
        let other = &molecule.atoms[partner];
        let double = molecule.bonds[bond].order == BondOrder::Double;
        if other.atomic_number == OXYGEN && other.formal_charge == 0 && double {
            oxygen = Some((partner, bond));
        } else if matches!(other.atomic_number, CARBON | NITROGEN)
            && molecule.degree(partner) >= 2
            && double
        {
            double_to_carbon_or_nitrogen = true;
        }
    }
    if let (Some((oxygen, bond)), true) = (oxygen, double_to_carbon_or_nitrogen) {
        shift_to_charges(molecule, atom, oxygen, bond);
    }
}

/// `X(=O)(=O)(=O)O` -> `[X+3]([O-])([O-])([O-])O` for Cl, Br and I bonded only to oxygens.
fn separate_halogen_charges(molecule: &mut Molecule, atom: usize) {
    let valence = molecule.valence_from_bonds(atom);
    let only_oxygens = molecule
        .neighbours(atom)
        .all(|(partner, _)| molecule.atoms[partner].atomic_number == OXYGEN);
    if molecule.atoms[atom].formal_charge != 0 || !matches!(valence, 3 | 5 | 7) || !only_oxygens {
        return;
    }
    let doubles: Vec<(usize, usize)> = molecule
        .neighbours(atom)
        .filter(|&(_, bond)| molecule.bonds[bond].order == BondOrder::Double)
        .collect();
    for (oxygen, bond) in doubles {
        molecule.bonds[bond].order = BondOrder::Single;
        molecule.atoms[atom].formal_charge += 1;
        // RDKit sets the oxygen to -1 rather than decrementing it.
        molecule.atoms[oxygen].formal_charge = -1;
    }
}
