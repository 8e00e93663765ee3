//! Variable-size molecular graphs batched without padding: atoms of all molecules are
//! concatenated, edge indices are offset by the atoms before them, and every atom records which
//! molecule it belongs to (for pooling by scatter). A split's graphs are staged on the training
//! device once and batches are collated there.

use molecules::MolGraph;
use tch::{Device, IValue, Kind, Tensor};

use super::features::{
    ATOM_SLOTS, BOND_SLOTS, atom_rows, bond_kind, bond_kind_rows, degree_row, first_rows,
};
use crate::ragged::{BatchRows, RaggedRows, queued_copy};

/// A split's molecules featurised once into flat arrays on the training device.
#[derive(Debug)]
pub(crate) struct GraphStore {
    /// Atoms of every molecule.
    atoms: RaggedRows,
    /// `atoms x 9` atom-table rows, atoms of all molecules one after another.
    atom_rows: Tensor,
    /// Degree-embedding row per atom.
    degrees: Tensor,
    /// Directed edges (each bond both ways) of every molecule.
    edges: RaggedRows,
    /// Source atom of every edge, numbered within its molecule.
    source: Tensor,
    /// Target atom of every edge, numbered within its molecule.
    target: Tensor,
    /// Bond kind of every edge.
    edge_kind: Tensor,
}

/// One batch of molecules as index tensors on the training device.
#[derive(Debug)]
pub struct GraphBatch {
    /// `atoms x 9` atom-table rows, flattened (bags of nine for `embedding_bag`).
    pub(crate) atom_rows: Tensor,
    /// Start of each atom's bag in `atom_rows`.
    pub(crate) bag_offsets: Tensor,
    /// Degree-embedding row per atom.
    pub(crate) degrees: Tensor,
    /// Source atom of every directed edge (index into the batch's atoms).
    pub(crate) source: Tensor,
    /// Target atom of every directed edge: messages flow source -> target.
    pub(crate) target: Tensor,
    /// Bond kind of every directed edge.
    pub(crate) edge_kind: Tensor,
    /// Molecule (0-based position in the batch) of every atom.
    pub(crate) molecule: Tensor,
    /// Atoms in the batch.
    pub(crate) n_atoms: i64,
    /// Molecules in the batch.
    pub(crate) n_molecules: i64,
}

impl GraphStore {
    /// Featurises `graphs` onto `device`; their bonds must name atoms of their own molecule.
    pub fn new(graphs: &[MolGraph], device: Device) -> Self {
        let mut atom_table = Vec::new();
        let mut degrees = Vec::new();
        let mut edges = Vec::new();
        for graph in graphs {
            for atom in &graph.atoms {
                atom_table.extend(atom_rows(atom));
                degrees.push(degree_row(atom));
            }
            for bond in &graph.bonds {
                let (begin, end, kind) =
                    (i64::from(bond.begin), i64::from(bond.end), bond_kind(bond));
                edges.extend([[begin, end, kind], [end, begin, kind]]);
            }
        }
        let tensor = |values: &[i64]| Tensor::from_slice(values).to_device(device);
        let edge_column =
            |column: usize| tensor(&edges.iter().map(|e| e[column]).collect::<Vec<_>>());
        GraphStore {
            atoms: RaggedRows::new(graphs.iter().map(|g| g.atoms.len()), device),
            atom_rows: tensor(&atom_table).view([-1, 9]),
            degrees: tensor(&degrees),
            edges: RaggedRows::new(graphs.iter().map(|g| 2 * g.bonds.len()), device),
            source: edge_column(0),
            target: edge_column(1),
            edge_kind: edge_column(2),
        }
    }

    /// The molecules `rows` (in that order) as one batch, gathered on the store's device.
    pub fn collate(&self, rows: BatchRows<'_>) -> GraphBatch {
        let atoms = self.atoms.gather(rows);
        let edges = self.edges.gather(rows);
        // Atoms of the batch before each edge's molecule.
        let atom_offset = atoms.batch_starts.index_select(0, &edges.position);
        let endpoint = |local: &Tensor| local.index_select(0, &edges.elements) + &atom_offset;
        GraphBatch {
            atom_rows: self.atom_rows.index_select(0, &atoms.elements).view([-1]),
            bag_offsets: Tensor::arange_start_step(
                0,
                9 * atoms.total,
                9,
                (Kind::Int64, self.degrees.device()),
            ),
            degrees: self.degrees.index_select(0, &atoms.elements),
            source: endpoint(&self.source),
            target: endpoint(&self.target),
            edge_kind: self.edge_kind.index_select(0, &edges.elements),
            molecule: atoms.position,
            n_atoms: atoms.total,
            n_molecules: rows.host.len() as i64,
        }
    }

    /// [`GraphStore::collate`] with the index copied from `rows`.
    #[cfg(test)]
    pub fn collate_rows(&self, rows: &[usize]) -> GraphBatch {
        let index = crate::ragged::row_index(rows, self.degrees.device());
        self.collate(BatchRows {
            host: rows,
            index: &index,
        })
    }
}

impl GraphBatch {
    /// Two ethanol molecules: what a TorchScript graph tower is first run on, to learn its
    /// output width.
    pub(crate) fn probe(device: Device) -> GraphBatch {
        let ethanol = molecules::parse_smiles("CCO").expect("CCO is valid SMILES");
        let index = Tensor::arange(2, (Kind::Int64, device));
        GraphStore::new(&[ethanol.clone(), ethanol], device).collate(BatchRows {
            host: &[0, 1],
            index: &index,
        })
    }

    /// The batch as the TorchScript graph contract's arguments `(x, edge_index, edge_attr,
    /// batch, num_graphs)`: `x` int64 `[atoms, 9]` with each atom feature's slot (column `f` in
    /// `0..ATOM_SLOTS[f]`), `edge_index` int64 `[2, edges]` (source row, target row),
    /// `edge_attr` int64 `[edges, 3]` with each bond feature's slot (`0..BOND_SLOTS[f]`),
    /// `batch` int64 `[atoms]` (each atom's molecule) and `num_graphs` an int.
    pub(crate) fn script_inputs(&self) -> [IValue; 5] {
        let device = self.atom_rows.device();
        // Table rows minus each feature's first row are the features' own slots.
        let slots = |rows: &Tensor, first: &[i64]| {
            rows.view([-1, first.len() as i64]) - queued_copy(first, device)
        };
        let x = slots(&self.atom_rows, &first_rows(ATOM_SLOTS));
        let kind_slots = slots(
            &queued_copy(&bond_kind_rows(), device),
            &first_rows(BOND_SLOTS),
        );
        let edge_attr = kind_slots.index_select(0, &self.edge_kind);
        let edge_index = Tensor::stack(&[&self.source, &self.target], 0);
        [
            IValue::Tensor(x),
            IValue::Tensor(edge_index),
            IValue::Tensor(edge_attr),
            IValue::Tensor(self.molecule.shallow_clone()),
            IValue::Int(self.n_molecules),
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use molecules::{AtomFeatures, BondFeatures};

    use super::*;

    pub(crate) fn carbon() -> AtomFeatures {
        AtomFeatures {
            atomic_number: 6,
            chirality: 0,
            degree: 1,
            formal_charge: 0,
            total_hydrogens: 3,
            radical_electrons: 0,
            hybridization: 4,
            aromatic: false,
            in_ring: false,
        }
    }

    /// A chain of `atoms` carbons (alkane-like): `atoms - 1` single bonds.
    pub(crate) fn chain(atoms: usize) -> MolGraph {
        MolGraph {
            atoms: (0..atoms)
                .map(|i| AtomFeatures {
                    atomic_number: if i % 3 == 2 { 8 } else { 6 },
                    degree: if atoms == 1 {
                        0
                    } else if i == 0 || i + 1 == atoms {
                        1
                    } else {
                        2
                    },
                    ..carbon()
                })
                .collect(),
            bonds: (1..atoms as u32)
                .map(|i| BondFeatures {
                    begin: i - 1,
                    end: i,
                    bond_type: if i % 2 == 0 { 4 } else { 2 },
                    stereo: 0,
                    conjugated: i % 2 == 0,
                })
                .collect(),
        }
    }

    fn values(tensor: &Tensor) -> Vec<i64> {
        Vec::<i64>::try_from(tensor).unwrap()
    }

    #[test]
    fn collation_offsets_edges_by_the_atoms_before_them() {
        let store = GraphStore::new(&[chain(3), chain(1), chain(2)], Device::Cpu);
        // Molecules in batch order 2, 0, 1: atoms 0-1 are molecule 2, 2-4 molecule 0, 5 molecule 1.
        let batch = store.collate_rows(&[2, 0, 1]);
        assert_eq!((batch.n_atoms, batch.n_molecules), (6, 3));
        assert_eq!(values(&batch.molecule), [0, 0, 1, 1, 1, 2]);
        assert_eq!(values(&batch.source), [0, 1, 2, 3, 3, 4]);
        assert_eq!(values(&batch.target), [1, 0, 3, 2, 4, 3]);
        assert_eq!(values(&batch.atom_rows).len(), 6 * 9);
        assert_eq!(values(&batch.bag_offsets), [0, 9, 18, 27, 36, 45]);
        assert_eq!(values(&batch.degrees), [1, 1, 1, 2, 1, 0]);
        // Both directions of a bond share its kind.
        let kinds = values(&batch.edge_kind);
        assert_eq!(kinds[2], kinds[3]);
        assert_ne!(kinds[2], kinds[4]);
    }

    /// The batch of `rows` built on the host, molecule by molecule, straight from the graphs:
    /// what the device collation must reproduce.
    fn host_batch(graphs: &[MolGraph], rows: &[usize]) -> [Vec<i64>; 7] {
        let [mut atoms, mut degrees, mut molecule] = [vec![], vec![], vec![]];
        let [mut source, mut target, mut kinds] = [vec![], vec![], vec![]];
        for (position, &row) in rows.iter().enumerate() {
            let offset = degrees.len() as i64;
            for atom in &graphs[row].atoms {
                atoms.extend(atom_rows(atom));
                degrees.push(degree_row(atom));
                molecule.push(position as i64);
            }
            for bond in &graphs[row].bonds {
                let (begin, end) = (i64::from(bond.begin) + offset, i64::from(bond.end) + offset);
                source.extend([begin, end]);
                target.extend([end, begin]);
                kinds.extend([bond_kind(bond); 2]);
            }
        }
        let offsets = (0..degrees.len() as i64).map(|atom| 9 * atom).collect();
        [atoms, offsets, degrees, source, target, kinds, molecule]
    }

    #[test]
    fn device_collation_equals_host_collation() {
        let smiles = [
            "c1ccccc1O",
            "CC(=O)[O-].[Na+]",
            "[Cl-]",
            "C#N",
            "O=C1NC(=O)C=C1",
        ];
        let mut graphs: Vec<MolGraph> = smiles
            .iter()
            .map(|s| molecules::parse_smiles(s).unwrap())
            .collect();
        // Molecules without bonds (one atom, three atoms) and a chain.
        let loose = MolGraph {
            bonds: vec![],
            ..chain(3)
        };
        graphs.extend([chain(1), loose, chain(7)]);
        let store = GraphStore::new(&graphs, Device::Cpu);
        let mut rng = sampler_api::rng::Rng::for_stream(11, &[]);
        for trial in 0..200 {
            let len = rng.below(12);
            // Repeated rows are allowed (a sampler may pick a molecule twice).
            let rows: Vec<usize> = (0..len).map(|_| rng.below(graphs.len())).collect();
            let batch = store.collate_rows(&rows);
            let device = [
                &batch.atom_rows,
                &batch.bag_offsets,
                &batch.degrees,
                &batch.source,
                &batch.target,
                &batch.edge_kind,
                &batch.molecule,
            ]
            .map(|t| {
                assert_eq!((t.kind(), t.dim()), (Kind::Int64, 1), "trial {trial}");
                values(t)
            });
            let host = host_batch(&graphs, &rows);
            assert_eq!(device, host, "trial {trial}, rows {rows:?}");
            assert_eq!(batch.n_atoms, host[2].len() as i64);
            assert_eq!(batch.n_molecules, rows.len() as i64);
        }
    }

    #[test]
    fn an_empty_batch_is_empty() {
        let batch = GraphStore::new(&[chain(2)], Device::Cpu).collate_rows(&[]);
        assert_eq!((batch.n_atoms, batch.n_molecules), (0, 0));
        assert_eq!(batch.source.size(), [0]);
    }

    #[test]
    fn script_inputs_hold_each_features_own_slot() {
        let batch = GraphStore::new(&[chain(3), chain(1)], Device::Cpu).collate_rows(&[1, 0]);
        let tensor = |value: &IValue| match value {
            IValue::Tensor(tensor) => (tensor.size(), values(&tensor.flatten(0, -1))),
            other => panic!("{other:?} is not a tensor"),
        };
        let [x, edge_index, edge_attr, molecule, graphs] = batch.script_inputs();
        // A lone carbon (degree 0, charge 0 at slot 5, 3 hydrogens, sp3), then C-C=O.
        let (x_size, x) = tensor(&x);
        assert_eq!(x_size, [4, 9]);
        assert_eq!(x[..9], [6, 0, 0, 5, 3, 0, 4, 0, 0]);
        assert_eq!(x[2 * 9..3 * 9], [6, 0, 2, 5, 3, 0, 4, 0, 0]);
        assert_eq!(x[3 * 9], 8);
        assert_eq!(
            tensor(&edge_index),
            (vec![2, 4], vec![1, 2, 2, 3, 2, 1, 3, 2])
        );
        // Single, not conjugated; double (type slot 2), conjugated; both directions alike.
        let attr = [0, 0, 0, 0, 0, 0, 2, 0, 1, 2, 0, 1];
        assert_eq!(tensor(&edge_attr), (vec![4, 3], attr.to_vec()));
        assert_eq!(tensor(&molecule), (vec![4], vec![0, 1, 1, 1]));
        assert!(matches!(graphs, IValue::Int(2)));
    }
}
