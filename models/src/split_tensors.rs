use fixtures::{PairedData, PairedSplit};
use tch::{Device, Tensor};

use crate::{ModelError, Result};

/// One split's features as `n x dim` float tensors on the training device, built once.
#[derive(Debug)]
pub(crate) struct SplitTensors {
    pub items: Tensor,
    pub texts: Tensor,
    pub n: usize,
}

impl SplitTensors {
    /// Copies a checked split (see [`check_paired_data`]) to `device`.
    pub fn new(split: &PairedSplit, device: Device) -> Self {
        // Vec lengths fit in i64 on every 64-bit target libtorch supports.
        let matrix = |values: &[f32], dim: usize| {
            Tensor::from_slice(values)
                .reshape([split.n as i64, dim as i64])
                .to_device(device)
        };
        SplitTensors {
            items: matrix(&split.items, split.item_dim),
            texts: matrix(&split.texts, split.text_dim),
            n: split.n,
        }
    }
}

/// Checks that both splits are non-empty, consistently shaped and finite.
pub(crate) fn check_paired_data(data: &PairedData) -> Result<()> {
    let invalid = |message: String| Err(ModelError::InvalidData(message));
    for (name, split) in [("train", &data.train), ("test", &data.test)] {
        if split.n == 0 || split.item_dim == 0 || split.text_dim == 0 {
            return invalid(format!(
                "the {name} split has no pairs or a zero-width view"
            ));
        }
        if split.items.len() != split.n * split.item_dim {
            return invalid(format!(
                "the {name} split has {} item values, not {} x {}",
                split.items.len(),
                split.n,
                split.item_dim
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
        if split
            .items
            .iter()
            .chain(&split.texts)
            .any(|v| !v.is_finite())
        {
            return invalid(format!("the {name} split has a NaN or infinite value"));
        }
    }
    if (data.train.item_dim, data.train.text_dim) != (data.test.item_dim, data.test.text_dim) {
        return invalid("the train and test splits have different feature widths".into());
    }
    Ok(())
}
