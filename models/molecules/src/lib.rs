//! SMILES to molecule graph with RDKit-compatible atom and bond features, in pure Rust.
//!
//! [`parse_smiles`] reproduces what RDKit 2026.09's `Chem.MolFromSmiles` (default sanitisation,
//! hydrogens removed, legacy stereo perception) reports for each atom and bond, so a graph
//! encoder sees the same features as the Python reference featurisation of ChEBI-20. The steps
//! follow RDKit's order: parse, fold `[H]` atoms, charge-separate hypervalent groups, valences,
//! kekulise, radicals, rings, aromaticity, conjugation, hybridisation, stereo.

#![forbid(unsafe_code)]

mod aromaticity;
mod chirality;
mod cip_ranks;
mod cleanup;
mod conjugation;
mod elements;
mod error;
mod graph;
mod hybridization;
mod hydrogens;
mod kekulize;
mod rings;
mod stereo;
mod syntax;
mod valence;

pub use error::SmilesError;

/// Features of one graph node, with RDKit's meaning and numeric codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomFeatures {
    pub atomic_number: u8,
    /// RDKit ChiralType: 0 unspecified, 1 tetrahedral CW, 2 tetrahedral CCW.
    pub chirality: u8,
    /// Graph bonds only (implicit hydrogens excluded, hydrogen nodes included).
    pub degree: u8,
    pub formal_charge: i8,
    /// Implicit plus explicit hydrogens on the atom, not counting hydrogen graph nodes.
    pub total_hydrogens: u8,
    pub radical_electrons: u8,
    /// RDKit HybridizationType: 0 unspecified, 1 S, 2 SP, 3 SP2, 4 SP3, 6 SP3D, 7 SP3D2.
    pub hybridization: u8,
    pub aromatic: bool,
    pub in_ring: bool,
}

/// Features of one bond, with RDKit's meaning and numeric codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BondFeatures {
    pub begin: u32,
    pub end: u32,
    /// RDKit `GetBondTypeAsDouble() * 2`: single 2, aromatic 3, double 4, triple 6.
    pub bond_type: u8,
    /// RDKit BondStereo: 0 none, 2 Z, 3 E.
    pub stereo: u8,
    pub conjugated: bool,
}

/// A molecule as a graph: atoms in SMILES order (minus folded hydrogens), bonds in RDKit order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MolGraph {
    pub atoms: Vec<AtomFeatures>,
    pub bonds: Vec<BondFeatures>,
}

/// Parses a SMILES string and featurises it as RDKit's `MolFromSmiles` would.
///
/// A doubled backslash (`\\`, as ChEBI-20 stores every `\`) is read as a single `\`.
///
/// ```
/// let graph = molecules::parse_smiles("C1=CC=C(C=C1)C(=O)O")?; // benzoic acid
/// assert_eq!(graph.atoms.len(), 9);
/// assert!(graph.atoms[0].aromatic); // kekulé input is perceived as aromatic
/// assert_eq!(graph.bonds[0].bond_type, 3); // GetBondTypeAsDouble() * 2
/// # Ok::<(), molecules::SmilesError>(())
/// ```
pub fn parse_smiles(smiles: &str) -> Result<MolGraph, SmilesError> {
    let parsed = syntax::parse(smiles)?;
    let mut molecule = hydrogens::build_molecule(parsed);
    cleanup::separate_charges(&mut molecule);
    valence::assign_implicit_hydrogens(&mut molecule)?;
    kekulize::kekulize(&mut molecule)?;
    molecule.cache_explicit_valences();
    valence::assign_radicals(&mut molecule);
    let rings = rings::Rings::perceive(&molecule);
    aromaticity::perceive(&mut molecule, &rings);
    conjugation::perceive(&mut molecule);
    hybridization::perceive(&mut molecule);
    stereo::perceive(&mut molecule, &rings);
    Ok(features(&molecule, &rings))
}

fn features(molecule: &graph::Molecule, rings: &rings::Rings) -> MolGraph {
    let saturate = |value: usize| u8::try_from(value).unwrap_or(u8::MAX);
    let atoms = molecule
        .atoms
        .iter()
        .enumerate()
        .map(|(index, atom)| AtomFeatures {
            atomic_number: atom.atomic_number,
            chirality: atom.chiral_tag.code(),
            degree: saturate(molecule.degree(index)),
            formal_charge: atom.formal_charge,
            total_hydrogens: atom.total_hydrogens(),
            radical_electrons: atom.radical_electrons,
            hybridization: atom.hybridization as u8,
            aromatic: atom.aromatic,
            in_ring: rings.atom_in_ring[index],
        })
        .collect();
    let bonds = molecule
        .bonds
        .iter()
        .map(|bond| BondFeatures {
            begin: u32::try_from(bond.begin).unwrap_or(u32::MAX),
            end: u32::try_from(bond.end).unwrap_or(u32::MAX),
            bond_type: bond.order.twice(),
            stereo: bond.stereo as u8,
            conjugated: bond.conjugated,
        })
        .collect();
    MolGraph { atoms, bonds }
}
