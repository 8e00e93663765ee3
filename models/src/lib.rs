//! The fixed training and evaluation protocol that batch samplers are compared under: a
//! dual-encoder MLP trained with symmetric InfoNCE and AdamW, scored by retrieval on held-out
//! pairs.

mod error;
mod evaluate;
mod loss;
mod metrics;
mod model;
mod protocol;
mod split_tensors;
mod tower;
mod trainer;

pub use error::{ModelError, Result};
pub use evaluate::Evaluation;
pub use loss::{LinearTemperature, symmetric_info_nce};
pub use metrics::{DirectionMetrics, ranks_of_block, retrieval_metrics};
pub use model::{DualEncoder, DualEncoderConfig};
pub use protocol::{PROTOCOL_VERSION, ProtocolConfig};
pub use tower::{Tower, TowerConfig};
pub use trainer::{EpochStats, Trainer};
