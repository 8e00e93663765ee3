use tch::{Tensor, nn};

use crate::tower::{Tower, TowerConfig};

/// Sizes of the dual encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DualEncoderConfig {
    /// Width of an item feature vector.
    pub item_dim: i64,
    /// Width of a text feature vector.
    pub text_dim: i64,
    /// Hidden width of both towers.
    pub hidden: i64,
    /// Width of the shared embedding space.
    pub shared_dim: i64,
}

/// Two towers mapping items and texts into one space where matching pairs score high.
#[derive(Debug)]
pub struct DualEncoder {
    item_tower: Tower,
    text_tower: Tower,
}

impl DualEncoder {
    /// A dual encoder whose variables live under `path` (initialised from libtorch's generator).
    pub fn new(path: nn::Path, config: &DualEncoderConfig) -> Self {
        let tower = |input_dim| TowerConfig {
            input_dim,
            hidden: config.hidden,
            output_dim: config.shared_dim,
        };
        DualEncoder {
            item_tower: Tower::new(&path / "item_tower", &tower(config.item_dim)),
            text_tower: Tower::new(&path / "text_tower", &tower(config.text_dim)),
        }
    }

    /// Unit-norm embeddings of a `rows x item_dim` batch of item features.
    pub fn embed_items(&self, items: &Tensor) -> Tensor {
        self.item_tower.forward(items)
    }

    /// Unit-norm embeddings of a `rows x text_dim` batch of text features.
    pub fn embed_texts(&self, texts: &Tensor) -> Tensor {
        self.text_tower.forward(texts)
    }

    /// Embeddings of paired rows: `(items, texts)`.
    pub fn forward(&self, items: &Tensor, texts: &Tensor) -> (Tensor, Tensor) {
        (self.embed_items(items), self.embed_texts(texts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_unit_rows_of_the_shared_width() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let config = DualEncoderConfig {
            item_dim: 6,
            text_dim: 4,
            hidden: 8,
            shared_dim: 3,
        };
        let model = DualEncoder::new(vs.root(), &config);
        let items = Tensor::randn([5, 6], (tch::Kind::Float, tch::Device::Cpu));
        let texts = Tensor::randn([5, 4], (tch::Kind::Float, tch::Device::Cpu));
        let (item_emb, text_emb) = model.forward(&items, &texts);
        for emb in [item_emb, text_emb] {
            assert_eq!(emb.size(), [5, 3]);
            let norms = emb.norm_scalaropt_dim(2.0, [-1i64], false);
            let ones = Tensor::ones([5], (tch::Kind::Float, tch::Device::Cpu));
            assert!(norms.allclose(&ones, 1e-5, 1e-6, false));
        }
    }
}
