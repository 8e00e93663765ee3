//! Description embeddings computed in-process with all-MiniLM-L6-v2 (`models::minilm`), cached
//! on disk by content fingerprint as the neighbour tables are.
//!
//! # Cache
//! `$SAMPLER_HARNESS_CACHE/embeddings/` (`off` disables it), else
//! `${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness/embeddings/`. One float32 `.npy` file per
//! request, named `minilm-{key}.npy`, where the key is FNV-1a 64 over the format tag
//! `minilm-mean-l2/256`, the bytes of the model's `tokenizer.json` and `model.safetensors`, and
//! every text (its byte length, then its bytes). A file is used only when it parses as a
//! `texts x 384` matrix whose rows are finite and of unit norm; anything else is reported in one
//! line on stderr, recomputed and replaced. Files are written to a temporary name and renamed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use models::minilm::{EMBEDDING_DIM, MAX_TOKENS, SentenceEmbedder, default_model_dir};

use crate::fnv::Fnv1a;
use crate::neighbours::cache::default_dir;

/// Texts per forward pass: long enough to keep the GEMMs efficient, short enough that a batch of
/// similar lengths (they are sorted) pads little.
pub const DEFAULT_BATCH: usize = 64;

/// What an embedding request is run with.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// The model folder; `None`: `$SAMPLER_HARNESS_MINILM` or the installed model.
    pub model: Option<PathBuf>,
    /// Texts per batch.
    pub batch_size: usize,
    /// The cache folder; `None`: computed, never stored.
    pub cache: Option<PathBuf>,
    /// Draw a progress bar on stderr (on a terminal).
    pub progress: bool,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            model: None,
            batch_size: DEFAULT_BATCH,
            cache: default_cache_dir(),
            progress: true,
        }
    }
}

/// The default cache folder of embeddings (see the module documentation).
pub fn default_cache_dir() -> Option<PathBuf> {
    default_dir(|name| std::env::var_os(name), "embeddings")
}

/// Embeddings of some texts and how they were obtained.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Row-major `texts x EMBEDDING_DIM`, unit rows.
    pub values: Vec<f32>,
    /// The model folder used.
    pub model: PathBuf,
    /// Read from this cache file (nothing computed), or `None`.
    pub cache_hit: Option<PathBuf>,
    /// Texts cut at `MAX_TOKENS` word pieces (0 on a cache hit: not tokenised).
    pub truncated: usize,
    /// Seconds spent in the model (0 on a cache hit).
    pub seconds: f64,
}

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No model folder was given and none is installed.
    #[error(
        "no MiniLM model: install it with scripts/setup-minilm.sh, or name a folder holding tokenizer.json and model.safetensors (--model DIR, a manifest's \"text_model\", or ${var})",
        var = models::minilm::MODEL_ENV
    )]
    NoModel,
    /// A model file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] models::minilm::TextModelError),
}

/// Unit-norm MiniLM embeddings of `texts`, from the cache when a valid file exists.
pub fn embed(texts: &[&str], options: &EmbedOptions) -> Result<Embedded, EmbedError> {
    let model = match &options.model {
        Some(model) => model.clone(),
        None => default_model_dir()
            .filter(|dir| dir.join("model.safetensors").is_file())
            .ok_or(EmbedError::NoModel)?,
    };
    let cache_file = match &options.cache {
        Some(dir) => Some(dir.join(format!("minilm-{:016x}.npy", cache_key(&model, texts)?))),
        None => None,
    };
    if let Some(path) = &cache_file {
        match read_cached(path, texts.len()) {
            Ok(Some(values)) => {
                return Ok(Embedded {
                    values,
                    model,
                    cache_hit: Some(path.clone()),
                    truncated: 0,
                    seconds: 0.0,
                });
            }
            Ok(None) => {}
            Err(reason) => eprintln!(
                "embedding cache: ignoring {}: {reason}; recomputing",
                path.display()
            ),
        }
    }
    let embedder = SentenceEmbedder::load(&model, tch::Device::Cpu)?;
    let started = Instant::now();
    let bar = progress_bar(texts.len(), options.progress);
    let embedded = embedder.embed(texts, options.batch_size, |done| bar.inc(done as u64))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let values = embedded.values;
    if let Some(path) = &cache_file
        && let Err(error) = store(path, texts.len(), &values)
    {
        eprintln!(
            "embedding cache: could not store {}: {error}",
            path.display()
        );
    }
    Ok(Embedded {
        values,
        model,
        cache_hit: None,
        truncated: embedded.truncated_rows.len(),
        seconds,
    })
}

fn progress_bar(texts: usize, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(texts as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} texts embedded, eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// The cache key (see the module documentation).
fn cache_key(model: &Path, texts: &[&str]) -> Result<u64, EmbedError> {
    let mut hash = Fnv1a::new();
    hash.feed(format!("minilm-mean-l2/{MAX_TOKENS}").as_bytes());
    for name in ["tokenizer.json", "model.safetensors"] {
        let path = model.join(name);
        let bytes = std::fs::read(&path).map_err(|source| EmbedError::Io { path, source })?;
        hash.feed(&(bytes.len() as u64).to_le_bytes());
        hash.feed(&bytes);
    }
    for text in texts {
        hash.feed(&(text.len() as u64).to_le_bytes());
        hash.feed(text.as_bytes());
    }
    Ok(hash.value())
}

/// `Ok(None)` when there is no file, `Err(reason)` when there is one that must not be used.
fn read_cached(path: &Path, rows: usize) -> Result<Option<Vec<f32>>, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("unreadable ({error})")),
    };
    let matrix = crate::npy::parse_npy(&bytes)?;
    let dim = EMBEDDING_DIM as usize;
    if (matrix.rows, matrix.cols) != (rows, dim) {
        return Err(format!(
            "holds {} x {}, expected {rows} x {dim}",
            matrix.rows, matrix.cols
        ));
    }
    for (row, values) in matrix.values.chunks_exact(dim).enumerate() {
        let norm = values.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
        if !(norm.is_finite() && (norm - 1.0).abs() < 1e-4) {
            return Err(format!("row {row} is not a finite unit vector"));
        }
    }
    Ok(Some(matrix.values))
}

fn store(path: &Path, rows: usize, values: &[f32]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("embeddings"),
        std::process::id()
    ));
    crate::npy::write_f32(&temporary, rows, EMBEDDING_DIM as usize, values)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })?;
    Ok(())
}
