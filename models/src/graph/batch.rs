//! Variable-size molecular graphs batched without padding: atoms of all molecules are
//! concatenated, edge indices are offset by the atoms before them, and every atom records which
//! molecule it belongs to (for pooling by scatter).

use molecules::MolGraph;
use tch::{Device, IValue, Kind, Tensor};

use super::features::{
    ATOM_SLOTS, BOND_SLOTS, atom_rows, bond_kind, bond_kind_rows, degree_row, first_rows,
};

/// A split's molecules featurised once into flat arrays (on the CPU), ready to collate.
#[derive(Debug, Clone)]
pub(crate) struct GraphStore {
    /// Nine atom-table rows per atom, atoms of all molecules one after another.
    atom_rows: Vec<i64>,
    /// Degree-embedding row per atom.
    degrees: Vec<i64>,
    /// Molecule `m` holds atoms `atom_start[m]..atom_start[m + 1]`.
    atom_start: Vec<usize>,
    /// Directed edges (each bond both ways) as (source, target) atom numbers local to their
    /// molecule, with the bond kind.
    edges: Vec<(i64, i64, i64)>,
    /// Molecule `m` holds edges `edge_start[m]..edge_start[m + 1]`.
    edge_start: Vec<usize>,
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
    /// Featurises `graphs`; their bonds must name atoms of their own molecule.
    pub fn new(graphs: &[MolGraph]) -> Self {
        let mut store = GraphStore {
            atom_rows: Vec::new(),
            degrees: Vec::new(),
            atom_start: vec![0],
            edges: Vec::new(),
            edge_start: vec![0],
        };
        for graph in graphs {
            for atom in &graph.atoms {
                store.atom_rows.extend(atom_rows(atom));
                store.degrees.push(degree_row(atom));
            }
            for bond in &graph.bonds {
                let (begin, end, kind) =
                    (i64::from(bond.begin), i64::from(bond.end), bond_kind(bond));
                store.edges.push((begin, end, kind));
                store.edges.push((end, begin, kind));
            }
            store.atom_start.push(store.degrees.len());
            store.edge_start.push(store.edges.len());
        }
        store
    }

    /// The molecules `rows` (in that order) as one batch on `device`.
    pub fn collate(&self, rows: &[usize], device: Device) -> GraphBatch {
        let n_atoms: usize = rows
            .iter()
            .map(|&m| self.atom_start[m + 1] - self.atom_start[m])
            .sum();
        let n_edges: usize = rows
            .iter()
            .map(|&m| self.edge_start[m + 1] - self.edge_start[m])
            .sum();
        let mut atom_rows = Vec::with_capacity(9 * n_atoms);
        let mut degrees = Vec::with_capacity(n_atoms);
        let mut molecule = Vec::with_capacity(n_atoms);
        let mut source = Vec::with_capacity(n_edges);
        let mut target = Vec::with_capacity(n_edges);
        let mut edge_kind = Vec::with_capacity(n_edges);
        for (position, &m) in rows.iter().enumerate() {
            let offset = degrees.len() as i64;
            let atoms = self.atom_start[m]..self.atom_start[m + 1];
            atom_rows.extend_from_slice(&self.atom_rows[9 * atoms.start..9 * atoms.end]);
            degrees.extend_from_slice(&self.degrees[atoms.clone()]);
            molecule.extend(std::iter::repeat_n(position as i64, atoms.len()));
            for &(from, to, kind) in &self.edges[self.edge_start[m]..self.edge_start[m + 1]] {
                source.push(from + offset);
                target.push(to + offset);
                edge_kind.push(kind);
            }
        }
        let tensor = |values: &[i64]| Tensor::from_slice(values).to_device(device);
        GraphBatch {
            atom_rows: tensor(&atom_rows),
            bag_offsets: Tensor::arange_start_step(0, 9 * n_atoms as i64, 9, (Kind::Int64, device)),
            degrees: tensor(&degrees),
            source: tensor(&source),
            target: tensor(&target),
            edge_kind: tensor(&edge_kind),
            molecule: tensor(&molecule),
            n_atoms: n_atoms as i64,
            n_molecules: rows.len() as i64,
        }
    }
}

impl GraphBatch {
    /// Two ethanol molecules: what a TorchScript graph tower is first run on, to learn its
    /// output width.
    pub(crate) fn probe(device: Device) -> GraphBatch {
        let ethanol = molecules::parse_smiles("CCO").expect("CCO is valid SMILES");
        GraphStore::new(&[ethanol.clone(), ethanol]).collate(&[0, 1], device)
    }

    /// The batch as the TorchScript graph contract's arguments `(x, edge_index, edge_attr,
    /// batch, num_graphs)`: `x` int64 `[atoms, 9]` with each atom feature's slot (column `f` in
    /// `0..ATOM_SLOTS[f]`), `edge_index` int64 `[2, edges]` (source row, target row),
    /// `edge_attr` int64 `[edges, 3]` with each bond feature's slot (`0..BOND_SLOTS[f]`),
    /// `batch` int64 `[atoms]` (each atom's molecule) and `num_graphs` an int.
    pub(crate) fn script_inputs(&self) -> [IValue; 5] {
        let device = self.atom_rows.device();
        // Table rows minus each feature's first row are the features' own slots.
        let slots = |rows: Tensor, first: &[i64]| {
            let first = Tensor::from_slice(first).to_device(rows.device());
            (rows.view([-1, first.size()[0]]) - first).to_device(device)
        };
        let x = slots(self.atom_rows.shallow_clone(), &first_rows(ATOM_SLOTS));
        let kind_slots = slots(
            Tensor::from_slice(&bond_kind_rows()),
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
        let store = GraphStore::new(&[chain(3), chain(1), chain(2)]);
        // Molecules in batch order 2, 0, 1: atoms 0-1 are molecule 2, 2-4 molecule 0, 5 molecule 1.
        let batch = store.collate(&[2, 0, 1], Device::Cpu);
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

    #[test]
    fn an_empty_batch_is_empty() {
        let batch = GraphStore::new(&[chain(2)]).collate(&[], Device::Cpu);
        assert_eq!((batch.n_atoms, batch.n_molecules), (0, 0));
        assert_eq!(batch.source.size(), [0]);
    }

    #[test]
    fn script_inputs_hold_each_features_own_slot() {
        let batch = GraphStore::new(&[chain(3), chain(1)]).collate(&[1, 0], Device::Cpu);
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
