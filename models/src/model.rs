use tch::{Kind, Tensor, nn};

use crate::dropout::Mode;
use crate::fingerprint::{FingerprintBatch, FingerprintMlp};
use crate::graph::{GraphBatch, GraphEncoderConfig, GraphTransformer};
use crate::head::l2_normalised;
use crate::protocol::{ItemEncoderKind, TextTowerKind};
use crate::script::{ScriptInput, ScriptTower};
use crate::tower::{Tower, TowerConfig};
use crate::{ModelError, Result};

/// Architecture and sizes of the dual encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct DualEncoderConfig {
    /// The item encoder.
    pub item_encoder: ItemEncoderKind,
    /// The text side.
    pub text_tower: TextTowerKind,
    /// Width of a dense item feature vector; `None` when the items are molecular graphs.
    pub item_dim: Option<i64>,
    /// Width of a text feature vector.
    pub text_dim: i64,
    /// Hidden width of the towers and graph layers.
    pub hidden: i64,
    /// Width of the shared embedding space with the MLP text tower.
    pub shared_dim: i64,
    /// Dropout of the molecule encoders while training.
    pub dropout: f64,
    /// Graph-transformer convolution layers.
    pub graph_layers: i64,
    /// Attention heads per graph-transformer layer.
    pub attention_heads: i64,
}

impl DualEncoderConfig {
    /// Width of the built-in towers' embeddings: the text width when the text side is frozen or
    /// projected, the shared width with the MLP text tower. (A TorchScript text tower sets the
    /// width itself; see [`DualEncoder::new`].)
    pub fn output_dim(&self) -> i64 {
        match self.text_tower {
            TextTowerKind::Mlp => self.shared_dim,
            TextTowerKind::Frozen | TextTowerKind::Projection | TextTowerKind::TorchScript(_) => {
                self.text_dim
            }
        }
    }
}

/// A batch of items in the form its encoder reads.
#[derive(Debug)]
pub enum ItemBatch {
    /// `rows x item_dim` dense features (the MLP encoder or a TorchScript one).
    Dense(Tensor),
    /// Molecular graphs (the graph transformer or a TorchScript tower).
    Graphs(GraphBatch),
    /// Molecular fingerprints (the fingerprint MLP).
    Fingerprints(FingerprintBatch),
}

#[derive(Debug)]
enum ItemEncoder {
    Mlp(Tower),
    Graph(Box<GraphTransformer>),
    Fingerprint(FingerprintMlp),
    Script(ScriptTower),
}

#[derive(Debug)]
enum TextEncoder {
    Mlp(Tower),
    Frozen,
    Projection(nn::Linear),
    Script(ScriptTower),
}

/// Two towers mapping items and texts into one space where matching pairs score high.
#[derive(Debug)]
pub struct DualEncoder {
    item_encoder: ItemEncoder,
    text_encoder: TextEncoder,
}

impl DualEncoder {
    /// A dual encoder whose variables live under `path` (initialised from libtorch's generator,
    /// or read from TorchScript files). A TorchScript text tower sets the width of the item
    /// tower; a TorchScript item tower must give the width of the text side, or this is an
    /// error naming both widths.
    pub fn new(path: nn::Path, config: &DualEncoderConfig) -> Result<Self> {
        // A script text tower is loaded first to learn its width; loading draws no random
        // numbers, so the built-in towers' initial weights stay what they were.
        let text_script = match &config.text_tower {
            TextTowerKind::TorchScript(file) => {
                Some(ScriptTower::load(&path / "text_tower", file)?)
            }
            _ => None,
        };
        let device = path.device();
        let output_dim = match &text_script {
            Some(script) => {
                let probe = Tensor::zeros([2, config.text_dim], (Kind::Float, device));
                script.output_width(ScriptInput::Dense(&probe))?
            }
            None => config.output_dim(),
        };
        let tower = |input_dim| TowerConfig {
            input_dim,
            hidden: config.hidden,
            output_dim,
        };
        let item_path = &path / "item_tower";
        let item_encoder = match &config.item_encoder {
            ItemEncoderKind::Mlp => {
                let item_dim = config.item_dim.ok_or_else(|| {
                    ModelError::InvalidData("the mlp item encoder reads dense vectors".into())
                })?;
                ItemEncoder::Mlp(Tower::new(item_path, &tower(item_dim)))
            }
            ItemEncoderKind::GraphTransformer => {
                ItemEncoder::Graph(Box::new(GraphTransformer::new(
                    item_path,
                    &GraphEncoderConfig {
                        hidden: config.hidden,
                        output_dim,
                        layers: config.graph_layers,
                        heads: config.attention_heads,
                        dropout: config.dropout,
                    },
                )))
            }
            ItemEncoderKind::FingerprintMlp => ItemEncoder::Fingerprint(FingerprintMlp::new(
                item_path,
                config.hidden,
                output_dim,
                config.dropout,
            )),
            ItemEncoderKind::TorchScript(file) => {
                let script = ScriptTower::load(item_path, file)?;
                let width = match config.item_dim {
                    Some(item_dim) => {
                        let probe = Tensor::zeros([2, item_dim], (Kind::Float, device));
                        script.output_width(ScriptInput::Dense(&probe))?
                    }
                    None => script.output_width(ScriptInput::Graphs(&GraphBatch::probe(device)))?,
                };
                if width != output_dim {
                    return Err(ModelError::TowerWidths {
                        item: config.item_encoder.to_string(),
                        item_width: width,
                        text: config.text_tower.to_string(),
                        text_width: output_dim,
                    });
                }
                ItemEncoder::Script(script)
            }
        };
        let text_path = &path / "text_tower";
        let text_encoder = match (&config.text_tower, text_script) {
            (_, Some(script)) => TextEncoder::Script(script),
            (TextTowerKind::Mlp, None) => {
                TextEncoder::Mlp(Tower::new(text_path, &tower(config.text_dim)))
            }
            (TextTowerKind::Projection, None) => TextEncoder::Projection(nn::linear(
                text_path / "projection",
                config.text_dim,
                output_dim,
                Default::default(),
            )),
            (TextTowerKind::Frozen | TextTowerKind::TorchScript(_), None) => TextEncoder::Frozen,
        };
        Ok(DualEncoder {
            item_encoder,
            text_encoder,
        })
    }

    /// Switches the TorchScript towers' training behaviour (dropout, batch norm) on or off; the
    /// built-in towers take it per call (see [`Mode`]).
    pub fn set_training(&mut self, training: bool) {
        if let ItemEncoder::Script(script) = &mut self.item_encoder {
            script.set_training(training);
        }
        if let TextEncoder::Script(script) = &mut self.text_encoder {
            script.set_training(training);
        }
    }

    /// Unit-norm embeddings of a batch of items; `mode` switches dropout on for training.
    pub fn embed_items(&self, items: &ItemBatch, mode: &mut Mode<'_>) -> Result<Tensor> {
        match (&self.item_encoder, items) {
            (ItemEncoder::Mlp(tower), ItemBatch::Dense(features)) => Ok(tower.forward(features)),
            (ItemEncoder::Graph(encoder), ItemBatch::Graphs(batch)) => {
                Ok(encoder.forward(batch, mode))
            }
            (ItemEncoder::Fingerprint(encoder), ItemBatch::Fingerprints(batch)) => {
                Ok(encoder.forward(batch, mode))
            }
            (ItemEncoder::Script(script), ItemBatch::Dense(features)) => {
                script.forward(ScriptInput::Dense(features))
            }
            (ItemEncoder::Script(script), ItemBatch::Graphs(batch)) => {
                script.forward(ScriptInput::Graphs(batch))
            }
            _ => Err(ModelError::InvalidData(
                "the item batch is not in the form the item encoder reads".into(),
            )),
        }
    }

    /// Unit-norm embeddings of a `rows x text_dim` batch of text features.
    pub fn embed_texts(&self, texts: &Tensor) -> Result<Tensor> {
        match &self.text_encoder {
            TextEncoder::Mlp(tower) => Ok(tower.forward(texts)),
            TextEncoder::Frozen => Ok(l2_normalised(texts)),
            TextEncoder::Projection(linear) => Ok(l2_normalised(&texts.apply(linear))),
            TextEncoder::Script(script) => script.forward(ScriptInput::Dense(texts)),
        }
    }

    /// Embeddings of paired rows: `(items, texts)`.
    pub fn forward(
        &self,
        items: &ItemBatch,
        texts: &Tensor,
        mode: &mut Mode<'_>,
    ) -> Result<(Tensor, Tensor)> {
        Ok((self.embed_items(items, mode)?, self.embed_texts(texts)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::seeded;

    fn config(item_encoder: ItemEncoderKind, text_tower: TextTowerKind) -> DualEncoderConfig {
        DualEncoderConfig {
            item_encoder,
            text_tower,
            item_dim: Some(6),
            text_dim: 4,
            hidden: 8,
            shared_dim: 3,
            dropout: 0.1,
            graph_layers: 1,
            attention_heads: 2,
        }
    }

    #[test]
    fn embeddings_are_unit_rows_of_the_shared_width() {
        let (vs, model, items, texts) = seeded(0, || {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let model =
                DualEncoder::new(vs.root(), &config(ItemEncoderKind::Mlp, TextTowerKind::Mlp))
                    .unwrap();
            let items = Tensor::randn([5, 6], (tch::Kind::Float, tch::Device::Cpu));
            let texts = Tensor::randn([5, 4], (tch::Kind::Float, tch::Device::Cpu));
            (vs, model, items, texts)
        });
        let (item_emb, text_emb) = model
            .forward(&ItemBatch::Dense(items), &texts, &mut Mode::Eval)
            .unwrap();
        for emb in [item_emb, text_emb] {
            assert_eq!(emb.size(), [5, 3]);
            let norms = emb.norm_scalaropt_dim(2.0, [-1i64], false);
            let ones = Tensor::ones([5], (tch::Kind::Float, tch::Device::Cpu));
            assert!(norms.allclose(&ones, 1e-5, 1e-6, false));
        }
        drop(vs);
    }

    #[test]
    fn frozen_texts_are_only_normalised_and_have_no_variables() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let config = config(ItemEncoderKind::FingerprintMlp, TextTowerKind::Frozen);
        let model = seeded(0, || DualEncoder::new(vs.root(), &config)).unwrap();
        assert_eq!(config.output_dim(), 4);
        assert!(
            vs.variables()
                .keys()
                .all(|name| name.starts_with("item_tower"))
        );
        let texts = Tensor::from_slice(&[3.0f32, 0.0, 4.0, 0.0]).view([1, 4]);
        let expected = Tensor::from_slice(&[0.6f32, 0.0, 0.8, 0.0]).view([1, 4]);
        assert!(
            model
                .embed_texts(&texts)
                .unwrap()
                .allclose(&expected, 1e-6, 1e-7, false)
        );
    }

    #[test]
    fn a_batch_of_the_wrong_form_is_an_error() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let config = config(ItemEncoderKind::GraphTransformer, TextTowerKind::Projection);
        let model = seeded(0, || DualEncoder::new(vs.root(), &config)).unwrap();
        let dense = ItemBatch::Dense(Tensor::zeros([2, 6], (tch::Kind::Float, tch::Device::Cpu)));
        assert!(model.embed_items(&dense, &mut Mode::Eval).is_err());
    }
}
