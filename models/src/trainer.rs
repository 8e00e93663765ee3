use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use paired_data::{ItemFeatures, PairedData};
use tch::{nn, nn::OptimizerConfig};

use crate::dropout::{DropoutRng, Mode};
use crate::evaluate::{Evaluation, embed_split, evaluate};
use crate::loss::symmetric_info_nce;
use crate::model::{DualEncoder, DualEncoderConfig};
use crate::protocol::ProtocolConfig;
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
        let train = SplitTensors::new(&data.train, &config.item_encoder, config.device);
        let test = SplitTensors::new(&data.test, &config.item_encoder, config.device);
        Ok(Trainer {
            config,
            model,
            optimizer,
            train,
            test,
            dropout_rng: DropoutRng::new(seed),
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
        let mut loss_sum = 0.0;
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
                loss_sum += self.step(batch, temperature)?;
                stats.seconds_in_steps += started.elapsed().as_secs_f64();
                stats.steps += 1;
                stats.items += batch.len();
                Ok(())
            });
        self.model.set_training(false);
        trained?;
        stats.mean_loss = (stats.steps > 0).then(|| loss_sum / stats.steps as f64);
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

    /// One clipped AdamW step on the given rows (dropout on); returns the loss before the step.
    fn step(&mut self, rows: &[u32], temperature: f64) -> Result<f64> {
        let rows: Vec<usize> = rows.iter().map(|&row| row as usize).collect();
        let items = self.train.item_batch(&rows);
        let texts = self.train.texts.index_select(0, &self.train.index(&rows));
        let mut mode = Mode::Train(&mut self.dropout_rng);
        let (item_emb, text_emb) = self.model.forward(&items, &texts, &mut mode)?;
        let loss = symmetric_info_nce(&item_emb, &text_emb, temperature);
        self.optimizer
            .backward_step_clip_norm(&loss, self.config.grad_clip_norm);
        Ok(loss.double_value(&[]))
    }
}
