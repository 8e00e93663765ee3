use tch::{Kind, Tensor};

/// Symmetric InfoNCE (the CLIP loss) of paired unit-norm embeddings, `rows x dim` each.
///
/// Row `i` of `item_emb` and row `i` of `text_emb` are the positive pair; every other row of the
/// batch is a negative. The logits are cosines divided by `temperature`; the loss is the mean of
/// the item-to-text and text-to-item cross-entropies. Needs at least two rows to have negatives.
pub fn symmetric_info_nce(item_emb: &Tensor, text_emb: &Tensor, temperature: f64) -> Tensor {
    let logits = item_emb.matmul(&text_emb.transpose(0, 1)) / temperature;
    let rows = logits.size()[0];
    let targets = Tensor::arange(rows, (Kind::Int64, logits.device()));
    let item_to_text = logits.cross_entropy_for_logits(&targets);
    let text_to_item = logits.transpose(0, 1).cross_entropy_for_logits(&targets);
    (item_to_text + text_to_item) / 2.0
}

/// Temperature moving linearly from `start` at the first epoch to `end` at the last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearTemperature {
    /// Temperature of the first epoch.
    pub start: f64,
    /// Temperature of the last epoch.
    pub end: f64,
}

impl Default for LinearTemperature {
    /// The reference schedule: 0.1 down to 0.07.
    fn default() -> Self {
        LinearTemperature {
            start: 0.1,
            end: 0.07,
        }
    }
}

impl LinearTemperature {
    /// Temperature of the 0-based `epoch` out of `epochs` (a single epoch uses `end`).
    pub fn at(&self, epoch: u32, epochs: u32) -> f64 {
        let progress = if epochs <= 1 {
            1.0
        } else {
            (f64::from(epoch) / f64::from(epochs - 1)).min(1.0)
        };
        self.start + (self.end - self.start) * progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_of(items: &[f32], texts: &[f32], rows: i64, temperature: f64) -> f64 {
        let items = Tensor::from_slice(items).reshape([rows, -1]);
        let texts = Tensor::from_slice(texts).reshape([rows, -1]);
        symmetric_info_nce(&items, &texts, temperature).double_value(&[])
    }

    #[test]
    fn aligned_orthogonal_pairs_cost_almost_nothing() {
        let identity = [1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let loss = loss_of(&identity, &identity, 3, 0.01);
        assert!(loss < 1e-6, "{loss}");
    }

    #[test]
    fn identical_rows_cost_ln_batch_size() {
        let rows = [0.6f32, 0.8].repeat(4);
        let loss = loss_of(&rows, &rows, 4, 0.07);
        assert!((loss - 4f64.ln()).abs() < 1e-5, "{loss}");
    }

    #[test]
    fn both_directions_count() {
        // Items 0 and 1 both point at text 0: item-to-text is unsure for row 1, text-to-item
        // is unsure for text 0; swapping the roles must give the same loss.
        let items = [1.0f32, 0.0, 1.0, 0.0];
        let texts = [1.0f32, 0.0, 0.0, 1.0];
        let forward = loss_of(&items, &texts, 2, 0.1);
        let swapped = loss_of(&texts, &items, 2, 0.1);
        assert!((forward - swapped).abs() < 1e-6);
        assert!(forward > 0.1);
    }

    #[test]
    fn linear_temperature_runs_from_start_to_end() {
        let schedule = LinearTemperature::default();
        assert_eq!(schedule.at(0, 20), 0.1);
        assert!((schedule.at(19, 20) - 0.07).abs() < 1e-12);
        assert!((schedule.at(10, 21) - 0.085).abs() < 1e-12);
        assert_eq!(schedule.at(0, 1), 0.07);
    }
}
