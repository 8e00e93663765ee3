use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use paired_data::{ItemFeatures, PairedData};
use tch::{Kind, Tensor, nn, nn::OptimizerConfig};

use crate::dropout::{DropoutRng, Mode};
use crate::evaluate::{Evaluation, embed_split, evaluate};
use crate::loss::symmetric_info_nce;
use crate::model::{DualEncoder, DualEncoderConfig};
use crate::protocol::ProtocolConfig;
use crate::ragged::BatchRows;
use crate::split_tensors::{SplitTensors, check_paired_data};
use crate::{ModelError, Result};

#[cfg(test)]
mod reference_parity;

/// Serialises model construction: `tch::manual_seed` seeds one process-wide generator, so two
/// trainers built at once on different threads would otherwise interleave its draws. (Other
/// libtorch random draws made on other threads meanwhile would still disturb it.)
static SEEDED_INIT: Mutex<()> = Mutex::new(());

/// Runs `init` with libtorch's generator seeded by `seed`, holding the lock that keeps other
/// seeded initialisations from interleaving their draws.
pub(crate) fn seeded<T>(seed: u64, init: impl FnOnce() -> T) -> T {
    let _guard = SEEDED_INIT.lock().unwrap_or_else(PoisonError::into_inner);
    // Bit-for-bit reinterpretation: every u64 seed names a distinct libtorch seed.
    tch::manual_seed(seed as i64);
    init()
}

/// What one training epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochStats {
    /// Mean InfoNCE loss over the optimiser steps; `None` when no step was taken.
    pub mean_loss: Option<f64>,
    /// Optimiser steps taken (one per batch of at least two pairs).
    pub steps: usize,
    /// Batches of fewer than two pairs, skipped because InfoNCE needs a negative.
    pub skipped_batches: usize,
    /// Pairs in the batches that were stepped on.
    pub items: usize,
    /// Wall time spent gathering, forward, backward and stepping (excludes producing batches).
    pub seconds_in_steps: f64,
    /// InfoNCE temperature used this epoch.
    pub temperature: f64,
}

/// Embeddings of one split: row `i` of `items` and of `texts` belong to pair `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitEmbeddings {
    /// Row-major `n x dim`, unit rows.
    pub items: Vec<f32>,
    /// Row-major `n x dim`, unit rows.
    pub texts: Vec<f32>,
    pub dim: usize,
}

/// The fixed protocol: one freshly initialised dual encoder, its AdamW optimiser and the data.
pub struct Trainer {
    config: ProtocolConfig,
    model: DualEncoder,
    optimizer: nn::Optimizer,
    train: SplitTensors,
    test: SplitTensors,
    /// Draws the dropout masks of training steps.
    dropout_rng: DropoutRng,
    /// The optimiser's variables, in its order (the order the gradient norm sums them in).
    parameters: Vec<Tensor>,
    /// The gradient-norm bound as a float64 scalar on the device.
    grad_clip_norm: Tensor,
    // Owns the variables the model and optimiser refer to.
    _variables: nn::VarStore,
}

impl Trainer {
    /// A trainer whose initial weights depend only on `seed` and the sizes in `config` and
    /// `data` (not on the sampler), and whose dropout masks depend only on `seed` and the batches.
    /// Sets libtorch's process-wide thread count.
    pub fn new(config: ProtocolConfig, data: &PairedData, seed: u64) -> Result<Self> {
        config.validate()?;
        check_paired_data(data, &config.item_encoder)?;
        // `validate` bounds `threads` to i32.
        tch::set_num_threads(config.threads as i32);
        let shape = DualEncoderConfig {
            item_encoder: config.item_encoder.clone(),
            text_tower: config.text_tower.clone(),
            item_dim: match &data.train.items {
                ItemFeatures::Dense { dim, .. } => Some(*dim as i64),
                ItemFeatures::Graphs(_) => None,
            },
            text_dim: data.train.text_dim as i64,
            hidden: config.hidden,
            shared_dim: config.shared_dim,
            dropout: config.dropout,
            graph_layers: config.graph_layers,
            attention_heads: config.attention_heads,
        };
        let (variables, model) = seeded(seed, || {
            let variables = nn::VarStore::new(config.device);
            let model = DualEncoder::new(variables.root(), &shape);
            (variables, model)
        });
        let model = model?;
        let adamw = nn::AdamW {
            beta1: config.beta1,
            beta2: config.beta2,
            wd: config.weight_decay,
            ..nn::AdamW::default()
        };
        let optimizer = adamw.build(&variables, config.learning_rate)?;
        let parameters = optimizer.trainable_variables();
        let grad_clip_norm = Tensor::from(config.grad_clip_norm).to_device(config.device);
        let train = SplitTensors::new(&data.train, &config.item_encoder, config.device);
        let test = SplitTensors::new(&data.test, &config.item_encoder, config.device);
        Ok(Trainer {
            config,
            model,
            optimizer,
            train,
            test,
            dropout_rng: DropoutRng::new(seed),
            parameters,
            grad_clip_norm,
            _variables: variables,
        })
    }

    /// Trains one epoch (0-based `epoch`, which picks the temperature) on `batches` of train-split
    /// row indices, one optimiser step per batch of at least two rows.
    ///
    /// A row beyond the train split stops the epoch with an error; earlier steps stay applied.
    pub fn train_epoch<'a>(
        &mut self,
        epoch: u32,
        batches: impl IntoIterator<Item = &'a [u32]>,
    ) -> Result<EpochStats> {
        let temperature = self.config.temperature_at(epoch);
        let mut stats = EpochStats {
            mean_loss: None,
            steps: 0,
            skipped_batches: 0,
            items: 0,
            seconds_in_steps: 0.0,
            temperature,
        };
        // Summed on the device and read once, after the last step: no step waits for the device.
        let mut loss_sum = Tensor::zeros([], (Kind::Double, self.config.device));
        // TorchScript towers train in training mode and are evaluated in evaluation mode.
        self.model.set_training(true);
        let trained: Result<()> = batches
            .into_iter()
            .enumerate()
            .try_for_each(|(index, batch)| {
                self.check_rows(index, batch)?;
                if batch.len() < 2 {
                    stats.skipped_batches += 1;
                    return Ok(());
                }
                let started = Instant::now();
                let loss = self.step(batch, temperature)?;
                let _ = loss_sum.f_add_(&loss.to_kind(Kind::Double))?;
                stats.seconds_in_steps += started.elapsed().as_secs_f64();
                stats.steps += 1;
                stats.items += batch.len();
                Ok(())
            });
        self.model.set_training(false);
        trained?;
        if stats.steps > 0 {
            // The read waits for the queued steps: their time is the steps' time.
            let started = Instant::now();
            stats.mean_loss = Some(loss_sum.f_double_value(&[])? / stats.steps as f64);
            stats.seconds_in_steps += started.elapsed().as_secs_f64();
        }
        Ok(stats)
    }

    /// Text-to-item and item-to-text retrieval on the whole held-out split.
    pub fn evaluate(&self) -> Result<Evaluation> {
        evaluate(&self.model, &self.test)
    }

    /// The model's unit-norm embeddings of the train split in evaluation mode (gradients and
    /// dropout off, batched like [`Trainer::evaluate`]), copied to the host: what model-aware
    /// samplers mine from.
    pub fn train_embeddings(&self) -> Result<SplitEmbeddings> {
        let (items, texts) = embed_split(&self.model, &self.train)?;
        let dim = items.size()[1] as usize;
        let host = |t: tch::Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                t.to_device(tch::Device::Cpu).contiguous().view(-1),
            )?)
        };
        Ok(SplitEmbeddings {
            items: host(items)?,
            texts: host(texts)?,
            dim,
        })
    }

    fn check_rows(&self, batch: usize, rows: &[u32]) -> Result<()> {
        let n_train = self.train.n;
        match rows.iter().find(|&&row| row as usize >= n_train) {
            Some(&row) => Err(ModelError::RowOutOfRange {
                batch,
                row,
                n_train,
            }),
            None => Ok(()),
        }
    }

    /// One clipped AdamW step on the given rows (dropout on); returns the loss before the step
    /// (detached, on the device). Nothing is read back from the device.
    fn step(&mut self, rows: &[u32], temperature: f64) -> Result<Tensor> {
        let rows: Vec<usize> = rows.iter().map(|&row| row as usize).collect();
        let index = self.train.index(&rows);
        let items = self.train.item_batch(BatchRows {
            host: &rows,
            index: &index,
        });
        let texts = self.train.texts.index_select(0, &index);
        let mut mode = Mode::Train(&mut self.dropout_rng);
        let (item_emb, text_emb) = self.model.forward(&items, &texts, &mut mode)?;
        let loss = symmetric_info_nce(&item_emb, &text_emb, temperature);
        self.optimizer.zero_grad();
        loss.f_backward()?;
        clip_grad_norm(&self.parameters, &self.grad_clip_norm)?;
        self.optimizer.step();
        Ok(loss.detach())
    }
}

/// Scales the gradients of `parameters` so that their joint L2 norm is at most `max_norm` (a
/// float64 scalar), exactly as tch's `Optimizer::clip_grad_norm` does but without reading the norm
/// back to the host: the norm of the per-gradient norms in float32, the coefficient
/// `max_norm / (norm + 1e-6)` in float64, capped at 1 (a NaN coefficient counts as 1, as tch
/// skips scaling when the comparison fails), and every gradient multiplied by it rounded to
/// float32 (the parameters are float32). Multiplying by exactly 1 changes nothing, so the
/// gradients are bit-identical to tch's, which scales only when the coefficient is below 1.
fn clip_grad_norm(parameters: &[Tensor], max_norm: &Tensor) -> Result<()> {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = parameters
            .iter()
            .map(Tensor::grad)
            .filter(Tensor::defined)
            .collect();
        if grads.is_empty() {
            return Ok(());
        }
        let norms: Vec<Tensor> = grads.iter().map(Tensor::norm).collect();
        let total = Tensor::f_stack(&norms, 0)?.norm().to_kind(Kind::Double);
        let coefficient = (max_norm / (total + 1e-6))
            .fmin(&max_norm.ones_like())
            .to_kind(Kind::Float);
        for mut grad in grads {
            let _ = grad.f_mul_(&coefficient)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use tch::{Device, nn::OptimizerConfig};

    use super::*;

    /// Every value's float bits (NaN as one value).
    fn bits(tensors: impl IntoIterator<Item = Tensor>) -> Vec<Vec<u32>> {
        tensors
            .into_iter()
            .map(|t| {
                let grad = Vec::<f32>::try_from(t.flatten(0, -1)).unwrap();
                grad.iter()
                    .map(|g| if g.is_nan() { u32::MAX } else { g.to_bits() })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn clipping_on_the_device_gives_tchs_gradients_bit_for_bit() {
        let cases = [1e-4, 0.03, 0.3, 1.0, 3.0, 1e3, f64::INFINITY, f64::NAN];
        for (case, scale) in cases.into_iter().enumerate() {
            for max_norm in [0.5, 1.0, 5.0] {
                let variables = nn::VarStore::new(Device::Cpu);
                let root = variables.root();
                let shapes: [&[i64]; 3] = [&[7, 5], &[13], &[2, 3, 4]];
                let parameters: Vec<Tensor> = shapes
                    .iter()
                    .enumerate()
                    .map(|(i, &shape)| root.zeros(&format!("p{i}"), shape))
                    .collect();
                // A variable outside the loss has no gradient; both clips skip it.
                let _unused = root.zeros("unused", &[3]);
                let optimizer = nn::Sgd::default().build(&variables, 0.1).unwrap();
                // d/dp sum(p * g) = g: the gradients are the chosen `g`s.
                let targets: Vec<Tensor> = seeded(case as u64, || {
                    shapes
                        .iter()
                        .map(|&shape| Tensor::randn(shape, (Kind::Float, Device::Cpu)) * scale)
                        .collect()
                });
                let loss = parameters
                    .iter()
                    .zip(&targets)
                    .map(|(p, g)| (p * g).sum(Kind::Float))
                    .reduce(|a, b| a + b)
                    .unwrap();
                loss.backward();
                let unclipped: Vec<Tensor> = parameters.iter().map(|p| p.grad().copy()).collect();
                optimizer.clip_grad_norm(max_norm);
                let grads = || parameters.iter().map(Tensor::grad);
                let by_tch = bits(grads());
                tch::no_grad(|| {
                    for (p, g) in parameters.iter().zip(&unclipped) {
                        p.grad().copy_(g);
                    }
                });
                let all = optimizer.trainable_variables();
                clip_grad_norm(&all, &Tensor::from(max_norm)).unwrap();
                assert_eq!(bits(grads()), by_tch, "scale {scale}, max {max_norm}");
                if scale == 1e3 {
                    assert_ne!(by_tch, bits(unclipped));
                }
            }
        }
    }
}
