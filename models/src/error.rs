/// Why the protocol could not set up, train or evaluate.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A protocol setting is out of range.
    #[error("invalid protocol setting `{field}`: {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    /// The paired data does not fit together.
    #[error("invalid paired data: {0}")]
    InvalidData(String),
    /// A batch names a row outside the train split.
    #[error("batch {batch} names row {row}, beyond the {n_train} training pairs")]
    RowOutOfRange {
        batch: usize,
        row: u32,
        n_train: usize,
    },
    /// A CUDA device was asked for that libtorch cannot use (a CPU-only build, or no such GPU).
    #[error("device cuda:{index} was requested but libtorch can use {available} cuda devices")]
    CudaUnavailable { index: usize, available: usize },
    /// libtorch refused an operation.
    #[error("libtorch failed")]
    Torch(#[from] tch::TchError),
    /// Only CPU and CUDA are supported.
    #[error("unsupported device {0:?}: use the CPU or a CUDA device")]
    UnsupportedDevice(tch::Device),
    /// A TorchScript tower could not be loaded or run, or returned the wrong shape.
    #[error("{file}: {message}")]
    Script { file: String, message: String },
    /// The two towers embed into spaces of different widths.
    #[error(
        "the item tower {item} returns {item_width} values per row but the text side {text} returns {text_width}: they must match (frozen and projection keep the text features' width, mlp gives the shared width 64, a TorchScript text tower its own)"
    )]
    TowerWidths {
        item: String,
        item_width: i64,
        text: String,
        text_width: i64,
    },
    /// A score matrix handed to the metrics has the wrong size or a NaN.
    #[error("invalid score matrix: {0}")]
    InvalidScores(String),
}

/// Result of the models crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
