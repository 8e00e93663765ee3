//! The fixed training and evaluation protocol that batch samplers are compared under: a dual
//! encoder (an MLP, the reference graph transformer or a fingerprint MLP for items; an MLP, frozen
//! features or a linear projection for texts) trained with symmetric InfoNCE and AdamW, scored by
//! retrieval on held-out pairs.

#![forbid(unsafe_code)]

mod dropout;
mod error;
mod evaluate;
mod fingerprint;
pub mod fnv;
mod graph;
mod head;
mod linear;
mod loss;
mod metrics;
pub mod minilm;
mod model;
mod protocol;
mod ragged;
mod script;
mod split_tensors;
mod tower;
mod trainer;

pub use dropout::{DropoutRng, Mode};
pub use error::{ModelError, Result};
pub use evaluate::Evaluation;
pub use fingerprint::{
    FINGERPRINT_BITS, FINGERPRINT_RADIUS, FingerprintBatch, FingerprintMlp, circular_fingerprint,
};
pub use graph::{GraphBatch, GraphEncoderConfig, GraphTransformer};
pub use loss::{LinearTemperature, symmetric_info_nce};
pub use metrics::{DirectionMetrics, ranks_of_block, retrieval_metrics};
pub use model::{DualEncoder, DualEncoderConfig, ItemBatch};
pub use protocol::{ItemEncoderKind, PROTOCOL_VERSION, ProtocolConfig, TextTowerKind};
pub use script::ScriptFile;
pub use tower::{Tower, TowerConfig};
pub use trainer::{EpochStats, SplitEmbeddings, Trainer};
