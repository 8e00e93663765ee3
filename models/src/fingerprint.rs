//! The quick molecule tower: a hashed circular (Morgan/ECFP-style) fingerprint computed once per
//! molecule in Rust, then an MLP whose first layer is a sum of the rows of the set bits.

use molecules::MolGraph;
use sampler_api::rng::SplitMix64;
use tch::{Device, Tensor, nn};

use crate::dropout::Mode;
use crate::head::ProjectionHead;
use crate::ragged::{BatchRows, RaggedRows};

/// Bits of the fingerprint.
pub const FINGERPRINT_BITS: u32 = 2048;
/// Bond hops each atom environment covers (radius 2 = ECFP4-like).
pub const FINGERPRINT_RADIUS: u32 = 2;

/// A well-mixed 64-bit hash of `value`: SplitMix64's first draw from state `value`.
fn mix(value: u64) -> u64 {
    SplitMix64::new(value).next_u64()
}

/// Hash of a sequence of values (order matters).
fn hash_all(values: impl IntoIterator<Item = u64>) -> u64 {
    values
        .into_iter()
        .fold(0x1F1F_0B17_5EED_0002, |hash, value| mix(hash ^ mix(value)))
}

/// Sorted set bits of the hashed circular fingerprint of `graph`: every atom environment of radius
/// 0 to `radius` is hashed (radius 0 from the atom's element, degree, hydrogens, charge, ring
/// membership and aromaticity; each further radius from the previous identifiers of the atom and
/// of its bonded neighbours, with bond types, in sorted order) and sets bit `hash % bits`.
pub fn circular_fingerprint(graph: &MolGraph, radius: u32, bits: u32) -> Vec<u32> {
    let n = graph.atoms.len();
    let mut neighbours: Vec<Vec<(u64, usize)>> = vec![Vec::new(); n];
    for bond in &graph.bonds {
        let (a, b) = (bond.begin as usize, bond.end as usize);
        if a < n && b < n {
            neighbours[a].push((u64::from(bond.bond_type), b));
            neighbours[b].push((u64::from(bond.bond_type), a));
        }
    }
    let mut ids: Vec<u64> = graph
        .atoms
        .iter()
        .map(|atom| {
            hash_all([
                u64::from(atom.atomic_number),
                u64::from(atom.degree),
                u64::from(atom.total_hydrogens),
                atom.formal_charge as u64,
                u64::from(atom.in_ring),
                u64::from(atom.aromatic),
            ])
        })
        .collect();
    let mut set: Vec<u32> = ids
        .iter()
        .map(|&id| (id % u64::from(bits)) as u32)
        .collect();
    for round in 1..=radius {
        ids = (0..n)
            .map(|atom| {
                let mut around: Vec<(u64, u64)> = neighbours[atom]
                    .iter()
                    .map(|&(bond_type, other)| (bond_type, ids[other]))
                    .collect();
                around.sort_unstable();
                hash_all(
                    [u64::from(round), ids[atom]]
                        .into_iter()
                        .chain(around.into_iter().flat_map(|(t, id)| [t, id])),
                )
            })
            .collect();
        set.extend(ids.iter().map(|&id| (id % u64::from(bits)) as u32));
    }
    set.sort_unstable();
    set.dedup();
    set
}

/// A split's fingerprints (set bits), computed once and staged on the training device.
#[derive(Debug)]
pub(crate) struct FingerprintStore {
    /// Set bits of every molecule.
    molecules: RaggedRows,
    /// Set bits, molecules one after another.
    bits: Tensor,
}

/// A batch of fingerprints as bags of set bits on the training device.
#[derive(Debug)]
pub struct FingerprintBatch {
    pub(crate) bits: Tensor,
    pub(crate) offsets: Tensor,
}

impl FingerprintStore {
    /// Fingerprints of `graphs` with the protocol's bits and radius, on `device`.
    pub fn new(graphs: &[MolGraph], device: Device) -> Self {
        let sets: Vec<Vec<u32>> = graphs
            .iter()
            .map(|graph| circular_fingerprint(graph, FINGERPRINT_RADIUS, FINGERPRINT_BITS))
            .collect();
        let bits: Vec<i64> = sets.iter().flatten().map(|&bit| i64::from(bit)).collect();
        FingerprintStore {
            molecules: RaggedRows::new(sets.iter().map(Vec::len), device),
            bits: Tensor::from_slice(&bits).to_device(device),
        }
    }

    /// The molecules `rows` (in that order) as one batch, gathered on the store's device.
    pub fn collate(&self, rows: BatchRows<'_>) -> FingerprintBatch {
        let gathered = self.molecules.gather(rows);
        FingerprintBatch {
            bits: self.bits.index_select(0, &gathered.elements),
            offsets: gathered.batch_starts,
        }
    }
}

/// Fingerprint -> Linear (as a sum of rows of set bits) to `2 hidden` -> the projection head.
#[derive(Debug)]
pub struct FingerprintMlp {
    /// `bits x 2 hidden` weight of the first layer.
    rows: Tensor,
    bias: Tensor,
    head: ProjectionHead,
}

impl FingerprintMlp {
    /// A tower whose variables live under `path`, initialised like a `Linear(bits, 2 hidden)`.
    pub fn new(path: nn::Path, hidden: i64, output_dim: i64, dropout: f64) -> Self {
        let bound = 1.0 / f64::from(FINGERPRINT_BITS).sqrt();
        let uniform = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        FingerprintMlp {
            rows: path.var("rows", &[i64::from(FINGERPRINT_BITS), 2 * hidden], uniform),
            bias: path.var("bias", &[2 * hidden], uniform),
            head: ProjectionHead::new(&path / "head", hidden, output_dim, dropout),
        }
    }

    /// Unit-norm `molecules x output_dim` embeddings of a batch.
    pub fn forward(&self, batch: &FingerprintBatch, mode: &mut Mode<'_>) -> Tensor {
        let (wide, _, _, _) = Tensor::embedding_bag(
            &self.rows,
            &batch.bits,
            &batch.offsets,
            false,
            0, // sum
            false,
            None::<Tensor>,
            false,
        );
        self.head.forward(&(wide + &self.bias), mode)
    }
}

#[cfg(test)]
mod tests {
    use molecules::{AtomFeatures, BondFeatures};

    use super::*;

    fn atom(atomic_number: u8, degree: u8, total_hydrogens: u8) -> AtomFeatures {
        AtomFeatures {
            atomic_number,
            chirality: 0,
            degree,
            formal_charge: 0,
            total_hydrogens,
            radical_electrons: 0,
            hybridization: 4,
            aromatic: false,
            in_ring: false,
        }
    }

    fn single(begin: u32, end: u32) -> BondFeatures {
        BondFeatures {
            begin,
            end,
            bond_type: 2,
            stereo: 0,
            conjugated: false,
        }
    }

    /// Ethanol, C-C-O, with atoms listed in the given order.
    fn ethanol(order: [usize; 3]) -> MolGraph {
        let atoms = [atom(6, 1, 3), atom(6, 2, 2), atom(8, 1, 1)];
        let position = |original: usize| order.iter().position(|&o| o == original).unwrap() as u32;
        MolGraph {
            atoms: order.iter().map(|&o| atoms[o]).collect(),
            bonds: vec![
                single(position(0), position(1)),
                single(position(1), position(2)),
            ],
        }
    }

    #[test]
    fn fingerprints_ignore_atom_order_and_see_radius() {
        let a = circular_fingerprint(&ethanol([0, 1, 2]), 2, 2048);
        let b = circular_fingerprint(&ethanol([2, 0, 1]), 2, 2048);
        assert_eq!(a, b);
        // Three atoms, three radii: at most nine environments, at least the three atom types.
        assert!((3..=9).contains(&a.len()), "{a:?}");
        assert!(a.iter().all(|&bit| bit < 2048));
        let shallow = circular_fingerprint(&ethanol([0, 1, 2]), 0, 2048);
        assert_eq!(shallow.len(), 3);
        assert!(shallow.iter().all(|bit| a.contains(bit)));
    }

    #[test]
    fn collation_keeps_each_molecules_bits() {
        let graphs = [
            ethanol([0, 1, 2]),
            MolGraph {
                atoms: vec![atom(8, 0, 2)],
                bonds: vec![],
            },
        ];
        let store = FingerprintStore::new(&graphs, Device::Cpu);
        let bits = |graph| -> Vec<i64> {
            circular_fingerprint(graph, FINGERPRINT_RADIUS, FINGERPRINT_BITS)
                .into_iter()
                .map(i64::from)
                .collect()
        };
        let (ethanol, water) = (bits(&graphs[0]), bits(&graphs[1]));
        let mut rng = sampler_api::rng::Rng::for_stream(3, &[]);
        for _ in 0..50 {
            let rows: Vec<usize> = (0..rng.below(6)).map(|_| rng.below(2)).collect();
            let index = crate::ragged::row_index(&rows, Device::Cpu);
            let batch = store.collate(BatchRows {
                host: &rows,
                index: &index,
            });
            let (mut expected_bits, mut expected_offsets): (Vec<i64>, _) = (vec![], vec![]);
            for &row in &rows {
                expected_offsets.push(expected_bits.len() as i64);
                expected_bits.extend(if row == 0 { &ethanol } else { &water });
            }
            assert_eq!(Vec::<i64>::try_from(&batch.bits).unwrap(), expected_bits);
            assert_eq!(
                Vec::<i64>::try_from(&batch.offsets).unwrap(),
                expected_offsets
            );
        }
    }
}
