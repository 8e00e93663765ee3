//! The BERT encoder of all-MiniLM-L6-v2 (6 layers, width 384, 12 heads, GELU feed-forward of
//! 1,536, post-LayerNorm with eps 1e-12), run from its safetensors weights without gradients.

use std::collections::HashMap;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::TextModelError;

/// Width of the hidden states (and of the sentence embeddings).
pub const HIDDEN: i64 = 384;
const LAYERS: usize = 6;
const HEADS: i64 = 12;
const FEED_FORWARD: i64 = 1536;
const POSITIONS: i64 = 512;
const LAYER_NORM_EPS: f64 = 1e-12;

/// A linear layer's weight (`out x in`) and bias.
#[derive(Debug)]
struct Dense {
    weight: Tensor,
    bias: Tensor,
}

/// A LayerNorm's scale and shift.
#[derive(Debug)]
struct Norm {
    weight: Tensor,
    bias: Tensor,
}

#[derive(Debug)]
struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attention_output: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// The encoder's weights.
#[derive(Debug)]
pub struct Bert {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    /// Row 0 of the token-type table: every token is of type 0 for a single sentence.
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// Takes the named tensors out of a safetensors file, checking each one's shape.
struct Weights<'a> {
    path: &'a Path,
    tensors: HashMap<String, Tensor>,
    device: Device,
}

impl Weights<'_> {
    fn take(&mut self, name: &str, shape: &[i64]) -> Result<Tensor, TextModelError> {
        let tensor = self
            .tensors
            .remove(name)
            .ok_or_else(|| TextModelError::Weights {
                path: self.path.to_path_buf(),
                message: format!("has no tensor `{name}` (is it all-MiniLM-L6-v2's BERT?)"),
            })?;
        if tensor.size() != shape || tensor.kind() != Kind::Float {
            return Err(TextModelError::Weights {
                path: self.path.to_path_buf(),
                message: format!(
                    "tensor `{name}` is {:?} of shape {:?}, expected Float of shape {shape:?} (all-MiniLM-L6-v2: 6 layers, width 384)",
                    tensor.kind(),
                    tensor.size()
                ),
            });
        }
        Ok(tensor.to_device(self.device))
    }

    fn dense(&mut self, prefix: &str, out: i64, input: i64) -> Result<Dense, TextModelError> {
        Ok(Dense {
            weight: self.take(&format!("{prefix}.weight"), &[out, input])?,
            bias: self.take(&format!("{prefix}.bias"), &[out])?,
        })
    }

    fn norm(&mut self, prefix: &str) -> Result<Norm, TextModelError> {
        Ok(Norm {
            weight: self.take(&format!("{prefix}.weight"), &[HIDDEN])?,
            bias: self.take(&format!("{prefix}.bias"), &[HIDDEN])?,
        })
    }
}

impl Dense {
    fn apply(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

impl Norm {
    fn apply(&self, x: &Tensor) -> Tensor {
        x.layer_norm(
            [HIDDEN],
            Some(&self.weight),
            Some(&self.bias),
            LAYER_NORM_EPS,
            false,
        )
    }
}

impl Bert {
    /// Reads the weights of `model.safetensors`; `vocabulary` is the tokenizer's size, which the
    /// word-embedding table must match.
    pub fn load(path: &Path, vocabulary: i64, device: Device) -> Result<Self, TextModelError> {
        let tensors = Tensor::read_safetensors(path).map_err(|e| TextModelError::Weights {
            path: path.to_path_buf(),
            message: format!("is not a readable safetensors file: {e}"),
        })?;
        let mut weights = Weights {
            path,
            tensors: tensors.into_iter().collect(),
            device,
        };
        let word_embeddings =
            weights.take("embeddings.word_embeddings.weight", &[vocabulary, HIDDEN])?;
        let position_embeddings = weights.take(
            "embeddings.position_embeddings.weight",
            &[POSITIONS, HIDDEN],
        )?;
        let token_type = weights
            .take("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?
            .get(0);
        let embedding_norm = weights.norm("embeddings.LayerNorm")?;
        let layers = (0..LAYERS)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: weights.dense(&format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                    key: weights.dense(&format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                    value: weights.dense(&format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                    attention_output: weights.dense(
                        &format!("{p}.attention.output.dense"),
                        HIDDEN,
                        HIDDEN,
                    )?,
                    attention_norm: weights.norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: weights.dense(
                        &format!("{p}.intermediate.dense"),
                        FEED_FORWARD,
                        HIDDEN,
                    )?,
                    output: weights.dense(&format!("{p}.output.dense"), HIDDEN, FEED_FORWARD)?,
                    output_norm: weights.norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<_, TextModelError>>()?;
        if weights
            .tensors
            .contains_key(&format!("encoder.layer.{LAYERS}.output.dense.weight"))
        {
            return Err(TextModelError::Weights {
                path: path.to_path_buf(),
                message: format!("has more than {LAYERS} layers: it is not all-MiniLM-L6-v2"),
            });
        }
        Ok(Bert {
            word_embeddings,
            position_embeddings,
            token_type,
            embedding_norm,
            layers,
        })
    }

    /// Hidden states `[batch, length, 384]` of `ids` (`[batch, length]`, int64) where `mask`
    /// (`[batch, length]`, bool) marks the real tokens; padded positions attend to nothing and
    /// are attended by nothing.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let (batch, length) = ids.size2().expect("ids are [batch, length]");
        let words = self
            .word_embeddings
            .index_select(0, &ids.flatten(0, -1))
            .view([batch, length, HIDDEN]);
        let positions = self.position_embeddings.narrow(0, 0, length);
        let mut x = self
            .embedding_norm
            .apply(&(words + positions + &self.token_type));
        let attend = mask.view([batch, 1, 1, length]);
        let heads = |t: Tensor| {
            t.view([batch, length, HEADS, HIDDEN / HEADS])
                .transpose(1, 2)
        };
        for layer in &self.layers {
            let context = Tensor::scaled_dot_product_attention(
                &heads(layer.query.apply(&x)),
                &heads(layer.key.apply(&x)),
                &heads(layer.value.apply(&x)),
                Some(&attend),
                0.0,
                false,
                None,
                false,
            )
            .transpose(1, 2)
            .reshape([batch, length, HIDDEN]);
            x = layer
                .attention_norm
                .apply(&(layer.attention_output.apply(&context) + &x));
            let feed_forward = layer
                .output
                .apply(&layer.intermediate.apply(&x).gelu("none"));
            x = layer.output_norm.apply(&(feed_forward + &x));
        }
        x
    }
}
