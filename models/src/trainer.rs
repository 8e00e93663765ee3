use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use fixtures::PairedData;
use tch::{Tensor, nn, nn::OptimizerConfig};

use crate::evaluate::{Evaluation, evaluate};
use crate::loss::symmetric_info_nce;
use crate::model::{DualEncoder, DualEncoderConfig};
use crate::protocol::ProtocolConfig;
use crate::split_tensors::{SplitTensors, check_paired_data};
use crate::{ModelError, Result};

/// Serialises model construction: `tch::manual_seed` seeds one process-wide generator, so two
/// trainers built at once on different threads would otherwise interleave its draws. (Other
/// libtorch random draws made on other threads meanwhile would still disturb it.)
static SEEDED_INIT: Mutex<()> = Mutex::new(());

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

/// The fixed protocol: one freshly initialised dual encoder, its AdamW optimiser and the data.
pub struct Trainer {
    config: ProtocolConfig,
    model: DualEncoder,
    optimizer: nn::Optimizer,
    train: SplitTensors,
    test: SplitTensors,
    // Owns the variables the model and optimiser refer to.
    _variables: nn::VarStore,
}

impl Trainer {
    /// A trainer whose initial weights depend only on `seed` and the sizes in `config` and
    /// `data` (not on the sampler). Sets libtorch's process-wide thread count.
    pub fn new(config: ProtocolConfig, data: &PairedData, seed: u64) -> Result<Self> {
        config.validate()?;
        check_paired_data(data)?;
        // `validate` bounds `threads` to i32.
        tch::set_num_threads(config.threads as i32);
        let shape = DualEncoderConfig {
            item_dim: data.train.item_dim as i64,
            text_dim: data.train.text_dim as i64,
            hidden: config.hidden,
            shared_dim: config.shared_dim,
        };
        let (variables, model) = {
            let _guard = SEEDED_INIT.lock().unwrap_or_else(PoisonError::into_inner);
            // Bit-for-bit reinterpretation: every u64 seed names a distinct libtorch seed.
            tch::manual_seed(seed as i64);
            let variables = nn::VarStore::new(config.device);
            let model = DualEncoder::new(variables.root(), &shape);
            (variables, model)
        };
        let adamw = nn::AdamW {
            beta1: config.beta1,
            beta2: config.beta2,
            wd: config.weight_decay,
            ..nn::AdamW::default()
        };
        let optimizer = adamw.build(&variables, config.learning_rate)?;
        Ok(Trainer {
            config,
            model,
            optimizer,
            train: SplitTensors::new(&data.train, config.device),
            test: SplitTensors::new(&data.test, config.device),
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
        for (index, batch) in batches.into_iter().enumerate() {
            self.check_rows(index, batch)?;
            if batch.len() < 2 {
                stats.skipped_batches += 1;
                continue;
            }
            let started = Instant::now();
            loss_sum += self.step(batch, temperature);
            stats.seconds_in_steps += started.elapsed().as_secs_f64();
            stats.steps += 1;
            stats.items += batch.len();
        }
        stats.mean_loss = (stats.steps > 0).then(|| loss_sum / stats.steps as f64);
        Ok(stats)
    }

    /// Text-to-item and item-to-text retrieval on the whole held-out split.
    pub fn evaluate(&self) -> Result<Evaluation> {
        evaluate(&self.model, &self.test)
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

    /// One clipped AdamW step on the given rows; returns the loss before the step.
    fn step(&mut self, rows: &[u32], temperature: f64) -> f64 {
        let rows: Vec<i64> = rows.iter().map(|&row| i64::from(row)).collect();
        let rows = Tensor::from_slice(&rows).to_device(self.config.device);
        let items = self.train.items.index_select(0, &rows);
        let texts = self.train.texts.index_select(0, &rows);
        let (item_emb, text_emb) = self.model.forward(&items, &texts);
        let loss = symmetric_info_nce(&item_emb, &text_emb, temperature);
        self.optimizer
            .backward_step_clip_norm(&loss, self.config.grad_clip_norm);
        loss.double_value(&[])
    }
}
