use paired_data::{ItemFeatures, PairedData, PairedSplit};
use tch::{Device, Kind, Tensor};

use crate::fingerprint::FingerprintStore;
use crate::graph::GraphStore;
use crate::model::ItemBatch;
use crate::protocol::ItemEncoderKind;
use crate::ragged::{BatchRows, row_index};
use crate::{ModelError, Result};

/// Molecules per batch when a split's graphs are embedded for evaluation.
pub(crate) const GRAPH_EVAL_BATCH: usize = 64;

/// A split's items in the form the item encoder reads, built once.
#[derive(Debug)]
pub(crate) enum ItemStore {
    /// `n x dim` features on the training device.
    Dense(Tensor),
    /// Featurised graphs on the training device, collated there per batch.
    Graphs(GraphStore),
    /// Fingerprints on the training device, collated there per batch.
    Fingerprints(FingerprintStore),
}

/// One split's items and `n x text_dim` text features, built once.
#[derive(Debug)]
pub(crate) struct SplitTensors {
    pub items: ItemStore,
    pub texts: Tensor,
    pub n: usize,
    device: Device,
}

impl SplitTensors {
    /// Prepares a checked split (see [`check_paired_data`]) for `encoder` on `device`.
    pub fn new(split: &PairedSplit, encoder: &ItemEncoderKind, device: Device) -> Self {
        // Vec lengths fit in i64 on every 64-bit target libtorch supports.
        let matrix = |values: &[f32], dim: usize| {
            Tensor::from_slice(values)
                .reshape([split.n as i64, dim as i64])
                .to_device(device)
        };
        let items = match (&split.items, encoder) {
            (ItemFeatures::Dense { values, dim }, _) => ItemStore::Dense(matrix(values, *dim)),
            (ItemFeatures::Graphs(graphs), ItemEncoderKind::FingerprintMlp) => {
                ItemStore::Fingerprints(FingerprintStore::new(graphs, device))
            }
            (ItemFeatures::Graphs(graphs), _) => ItemStore::Graphs(GraphStore::new(graphs, device)),
        };
        SplitTensors {
            items,
            texts: matrix(&split.texts, split.text_dim),
            n: split.n,
            device,
        }
    }

    /// The items `rows` (in that order) as one batch, gathered on the device.
    pub fn item_batch(&self, rows: BatchRows<'_>) -> ItemBatch {
        match &self.items {
            ItemStore::Dense(matrix) => ItemBatch::Dense(matrix.index_select(0, rows.index)),
            ItemStore::Graphs(store) => ItemBatch::Graphs(store.collate(rows)),
            ItemStore::Fingerprints(store) => ItemBatch::Fingerprints(store.collate(rows)),
        }
    }

    /// Rows `first..first + count` as one batch.
    pub fn item_range(&self, first: usize, count: usize) -> ItemBatch {
        match &self.items {
            ItemStore::Dense(matrix) => {
                ItemBatch::Dense(matrix.narrow(0, first as i64, count as i64))
            }
            _ => {
                let host: Vec<usize> = (first..first + count).collect();
                let end = (first + count) as i64;
                let index = Tensor::arange_start(first as i64, end, (Kind::Int64, self.device));
                self.item_batch(BatchRows {
                    host: &host,
                    index: &index,
                })
            }
        }
    }

    /// `rows` as an index tensor on the device (see [`row_index`]).
    pub fn index(&self, rows: &[usize]) -> Tensor {
        row_index(rows, self.device)
    }

    /// Rows embedded at once when the whole split is embedded. Graphs go in consecutive batches
    /// of [`GRAPH_EVAL_BATCH`] rows: the graph transformer's batch LayerNorm makes an embedding
    /// depend on its batch, so the batches are fixed (the reference evaluates in batches of 64).
    pub fn embedding_chunk(&self) -> usize {
        match self.items {
            ItemStore::Dense(_) => self.n.max(1),
            ItemStore::Graphs(_) => GRAPH_EVAL_BATCH,
            ItemStore::Fingerprints(_) => 256,
        }
    }
}

/// Checks that both splits are non-empty, consistently shaped and finite, and that their items
/// are what `encoder` reads.
pub(crate) fn check_paired_data(data: &PairedData, encoder: &ItemEncoderKind) -> Result<()> {
    let invalid = |message: String| Err(ModelError::InvalidData(message));
    for (name, split) in [("train", &data.train), ("test", &data.test)] {
        if split.n == 0 || split.text_dim == 0 {
            return invalid(format!(
                "the {name} split has no pairs or a zero-width view"
            ));
        }
        if split.texts.len() != split.n * split.text_dim {
            return invalid(format!(
                "the {name} split has {} text values, not {} x {}",
                split.texts.len(),
                split.n,
                split.text_dim
            ));
        }
        if split.texts.iter().any(|v| !v.is_finite()) {
            return invalid(format!("the {name} split has a NaN or infinite value"));
        }
        if !encoder.reads(matches!(split.items, ItemFeatures::Graphs(_))) {
            return invalid(format!(
                "the item encoder {encoder} cannot read the {name} split's {}",
                split.items.kind()
            ));
        }
        match &split.items {
            ItemFeatures::Dense { values, dim } => {
                if *dim == 0 {
                    return invalid(format!(
                        "the {name} split has no pairs or a zero-width view"
                    ));
                }
                if values.len() != split.n * dim {
                    return invalid(format!(
                        "the {name} split has {} item values, not {} x {dim}",
                        values.len(),
                        split.n,
                    ));
                }
                if values.iter().any(|v| !v.is_finite()) {
                    return invalid(format!("the {name} split has a NaN or infinite value"));
                }
            }
            ItemFeatures::Graphs(graphs) => {
                if graphs.len() != split.n {
                    return invalid(format!(
                        "the {name} split has {} molecules for {} pairs",
                        graphs.len(),
                        split.n
                    ));
                }
                for (row, graph) in graphs.iter().enumerate() {
                    let atoms = graph.atoms.len();
                    if atoms == 0 {
                        return invalid(format!("molecule {row} of the {name} split has no atoms"));
                    }
                    if let Some(bond) = graph
                        .bonds
                        .iter()
                        .find(|b| b.begin as usize >= atoms || b.end as usize >= atoms)
                    {
                        return invalid(format!(
                            "molecule {row} of the {name} split has a bond {}-{} beyond its {atoms} atoms",
                            bond.begin, bond.end
                        ));
                    }
                }
            }
        }
    }
    let item_width = |split: &PairedSplit| match split.items {
        ItemFeatures::Dense { dim, .. } => dim,
        ItemFeatures::Graphs(_) => 0,
    };
    if (item_width(&data.train), data.train.text_dim)
        != (item_width(&data.test), data.test.text_dim)
    {
        return invalid("the train and test splits have different feature widths".into());
    }
    Ok(())
}
