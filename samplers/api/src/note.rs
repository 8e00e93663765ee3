use serde::{Deserialize, Serialize};

/// What a sampler did in one epoch, reported to the harness for logs and checks.
///
/// `hard_ratio` and `hardness_k` are the share of each batch the sampler intends to fill with
/// a pivot and its nearest neighbours, and how many neighbours it draws from; both are 0 for a
/// purely random epoch. The harness measures the realised share against them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochNote {
    /// Short label of the active behaviour, e.g. `random`, `hard`, `stage 2`.
    pub stage: String,
    pub hard_ratio: f64,
    pub hardness_k: usize,
}

impl EpochNote {
    /// A purely random epoch.
    pub fn random() -> Self {
        EpochNote {
            stage: "random".into(),
            hard_ratio: 0.0,
            hardness_k: 0,
        }
    }

    /// An epoch of semantics-aware batches.
    pub fn hard(stage: impl Into<String>, hard_ratio: f64, hardness_k: usize) -> Self {
        EpochNote {
            stage: stage.into(),
            hard_ratio,
            hardness_k,
        }
    }
}
