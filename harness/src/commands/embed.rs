//! `harness embed`: MiniLM embeddings of a pairs table's descriptions, written as the float32
//! `.npy` a dataset manifest names (row i embeds the description of table row i).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::dataset::table::{detect_layout, parse_table};
use crate::text_embeddings::{self, DEFAULT_BATCH, EmbedOptions};

/// Arguments of `harness embed`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmbedArgs {
    /// Pairs table (.tsv or .csv): `id, description` or `id, SMILES, description` after a header.
    #[arg(long, value_name = "TABLE")]
    pub input: PathBuf,
    /// Where to write the `rows x 384` float32 .npy.
    #[arg(long, value_name = "FILE.npy")]
    pub output: PathBuf,
    /// Model folder with tokenizer.json and model.safetensors [default: $SAMPLER_HARNESS_MINILM,
    /// else the one scripts/setup-minilm.sh installs].
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Texts per forward pass (texts are sorted by length first, so batches pad little).
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    pub batch_size: usize,
    /// libtorch threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Compute even when the embedding cache holds these texts (and do not store them).
    #[arg(long)]
    pub no_cache: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command and returns its report.
pub fn run(args: &EmbedArgs) -> Result<String> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if args.threads == 0 || i32::try_from(args.threads).is_err() {
        bail!("--threads must be between 1 and {}", i32::MAX);
    }
    if args
        .output
        .parent()
        .is_some_and(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        bail!(
            "--output: the folder of {} does not exist",
            args.output.display()
        );
    }
    let bytes = std::fs::read(&args.input)
        .with_context(|| format!("--input: cannot read {}", args.input.display()))?;
    let rows = parse_table(&args.input, &bytes, detect_layout(&args.input, &bytes)).map_err(
        |(line, message)| match line {
            0 => anyhow::anyhow!("{}: {message}", args.input.display()),
            line => anyhow::anyhow!("{}:{line}: {message}", args.input.display()),
        },
    )?;
    let texts: Vec<&str> = rows.iter().map(|row| row.description.as_str()).collect();
    tch::set_num_threads(args.threads as i32);
    let options = EmbedOptions {
        model: args.model.clone(),
        batch_size: args.batch_size,
        cache: if args.no_cache {
            None
        } else {
            text_embeddings::default_cache_dir()
        },
        progress: !args.quiet,
    };
    let embedded = text_embeddings::embed(&texts, &options)?;
    crate::npy::write_f32(
        &args.output,
        texts.len(),
        models::minilm::EMBEDDING_DIM as usize,
        &embedded.values,
    )?;
    let how = match &embedded.cache_hit {
        Some(file) => format!("from the cache ({})", file.display()),
        None => format!(
            "in {:.2} s ({:.0} texts/s, batch {}, {} threads); {} cut at {} word pieces",
            embedded.seconds,
            texts.len() as f64 / embedded.seconds.max(1e-9),
            args.batch_size,
            args.threads,
            embedded.truncated,
            models::minilm::MAX_TOKENS
        ),
    };
    Ok(format!(
        "embedded {} descriptions of {} with all-MiniLM-L6-v2 ({}) {how}\nwrote {} ({} x {} float32)\n",
        texts.len(),
        args.input.display(),
        embedded.model.display(),
        args.output.display(),
        texts.len(),
        models::minilm::EMBEDDING_DIM
    ))
}
