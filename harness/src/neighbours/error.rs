//! Why a neighbour table could not be computed; the CLI adds advice and file names.

/// A neighbour-table failure.
#[derive(Debug, thiserror::Error)]
pub enum NeighbourError {
    /// The embeddings' length is not a multiple of the dimension (or the dimension is 0).
    #[error("embeddings of length {len} are not rows of dimension {dim}")]
    Shape { len: usize, dim: usize },
    /// The two sides of a paired table have different numbers of values.
    #[error("{texts} text values and {items} item values do not pair up row by row")]
    Unpaired { texts: usize, items: usize },
    /// A table of width `k` needs more than `k` items.
    #[error("k ({k}) must be smaller than the number of items ({n})")]
    KTooLarge { k: usize, n: usize },
    /// Item indices are stored as u32.
    #[error("{n} items do not fit the table's u32 indices")]
    TooManyItems { n: usize },
    /// A row whose squared norm is not finite (or so large that dot products could overflow).
    #[error(
        "embedding row {row} has a non-finite value or a norm too large for float32 dot products"
    )]
    NotFinite { row: usize },
    /// A GPU was asked for that this harness cannot use now (a CPU-only build, no GPU).
    #[error(transparent)]
    DeviceUnusable(#[from] crate::device::DeviceUnusable),
    /// libtorch refused an operation.
    #[error("libtorch failed while computing similarities")]
    Torch(#[from] tch::TchError),
    /// A worker thread of the CPU method panicked.
    #[error("a neighbour worker panicked")]
    WorkerPanicked,
}

/// Result of the neighbour-table code.
pub type Result<T, E = NeighbourError> = std::result::Result<T, E>;
