//! A deliberately broken sampler for the harness's tests. Its file name does not follow the
//! `*_sampler` convention, so plugin discovery never picks it up: tests load it by path.
//!
//! Configuration `{"fault": "..."}` chooses the misbehaviour; without one it shuffles nothing
//! and returns items in order, which is a valid (if useless) sampler. `{"after": N}` lets the
//! first N `epoch` calls of an instance behave before an epoch fault shows, like a plugin that
//! starts failing mid-run.

use std::sync::atomic::{AtomicU32, Ordering};

use sampler_api::{
    BatchSink, EpochNote, EpochResult, SamplerData, SamplerError, SamplerPlugin, export_sampler,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The misbehaviours on offer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[default]
    None,
    PanicOnCreate,
    PanicOnEpoch,
    ErrorOnEpoch,
    OutOfRange,
    Duplicate,
    DropItem,
    Malformed,
    /// Announces a false-negative cap (`max_similarity` 0.5) that its batches do not keep.
    IgnoresCap,
}

/// Settings of the faulty sampler.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// which misbehaviour to show
    fault: Fault,
    /// `epoch` calls of an instance that behave before the fault shows
    after: u32,
}

/// Puts items in index order and then breaks the result as configured.
pub struct FaultySampler {
    config: Config,
    epoch_calls: AtomicU32,
}

impl SamplerPlugin for FaultySampler {
    type Config = Config;

    fn new(config: Config) -> Result<Self, SamplerError> {
        if config.fault == Fault::PanicOnCreate {
            deliberate_panic("deliberate panic in create");
        }
        Ok(FaultySampler {
            config,
            epoch_calls: AtomicU32::new(0),
        })
    }

    fn epoch(&self, data: &SamplerData<'_>, _epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        let n = data.n_items() as u32;
        let mut items: Vec<u32> = (0..n).collect();
        let call = self.epoch_calls.fetch_add(1, Ordering::Relaxed) + 1;
        let fault = if call > self.config.after {
            self.config.fault
        } else {
            Fault::None
        };
        match fault {
            Fault::PanicOnEpoch => deliberate_panic("deliberate panic in epoch"),
            Fault::ErrorOnEpoch => {
                return Err(SamplerError::Failed("deliberate failure in epoch".into()));
            }
            Fault::OutOfRange => items[0] = n + 7,
            Fault::Duplicate => items[1] = items[0],
            Fault::DropItem => {
                items.pop();
            }
            Fault::Malformed => return Ok(EpochNote::hard("malformed", f64::NAN, 0)),
            Fault::None | Fault::PanicOnCreate | Fault::IgnoresCap => {}
        }
        for batch in items.chunks(data.batch_size()) {
            if data.drop_last() && batch.len() < data.batch_size() {
                break;
            }
            sink.push_batch(batch)?;
        }
        let cap = (fault == Fault::IgnoresCap).then_some(0.5);
        Ok(EpochNote::random().with_max_similarity(cap))
    }
}

export_sampler!(
    FaultySampler,
    name = "faulty",
    version = "0.0.1",
    description = "test fixture that misbehaves on request",
);

/// Panics with `message` without the default hook's report on stderr: the panic is the point of
/// the test, and the harness reports it from the shim's error text (tests stay quiet).
fn deliberate_panic(message: &'static str) -> ! {
    std::panic::set_hook(Box::new(|_| {}));
    std::panic::panic_any(message)
}
