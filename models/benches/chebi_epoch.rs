//! One training epoch on the ChEBI-20 train split (3,301 molecules, random batches of 32,
//! 2 threads) for the graph transformer and the fingerprint tower, against frozen MiniLM
//! description embeddings; plus one full evaluation on the test split.
//!
//! Reads `../shared/data/chebi20` relative to the repository root; prints a message and measures
//! nothing when that folder is absent. The reference (PyTorch + PyTorch Geometric, same machine)
//! takes a median 5.8 s per graph-transformer epoch.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use models::{ItemEncoderKind, ProtocolConfig, TextTowerKind, Trainer};
use paired_data::{ItemFeatures, PairedData, PairedSplit};
use sampler_api::rng::Rng;

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chebi20")
}

/// The rows of a ChEBI-20 split whose SMILES parse, with their MiniLM embeddings.
fn split(name: &str) -> PairedSplit {
    let table = std::fs::read_to_string(folder().join(format!("{name}.tsv"))).unwrap();
    let npy = std::fs::read(folder().join(format!("{name}.minilm.npy"))).unwrap();
    // Version 1.0 header: 8 bytes of magic and version, 2 of length, then the dict.
    let data = &npy[10 + usize::from(u16::from_le_bytes([npy[8], npy[9]]))..];
    let embeddings: Vec<f32> = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let dim = 384;
    let mut graphs = Vec::new();
    let mut texts = Vec::new();
    for (row, line) in table.lines().skip(1).enumerate() {
        let smiles = line.split('\t').nth(1).unwrap();
        if let Ok(graph) = molecules::parse_smiles(smiles) {
            graphs.push(graph);
            texts.extend_from_slice(&embeddings[row * dim..(row + 1) * dim]);
        }
    }
    PairedSplit {
        n: graphs.len(),
        items: ItemFeatures::Graphs(graphs),
        texts,
        text_dim: dim,
    }
}

fn chebi_epoch(c: &mut Criterion) {
    if !folder().join("train.tsv").is_file() {
        eprintln!(
            "skipping the ChEBI-20 benchmarks: {} is absent",
            folder().display()
        );
        return;
    }
    let data = PairedData {
        name: "chebi20".into(),
        train: split("train"),
        test: split("test"),
    };
    let mut order: Vec<u32> = (0..data.train.n as u32).collect();
    Rng::for_stream(0, &[]).shuffle(&mut order);
    for encoder in [
        ItemEncoderKind::GraphTransformer,
        ItemEncoderKind::FingerprintMlp,
    ] {
        let protocol = ProtocolConfig {
            item_encoder: encoder.clone(),
            text_tower: TextTowerKind::Frozen,
            threads: 2,
            ..ProtocolConfig::default()
        };
        let batch_size = protocol.batch_size;
        let mut trainer = Trainer::new(protocol, &data, 0).expect("the protocol is valid");
        let mut group = c.benchmark_group(format!("chebi20/{encoder}"));
        // Flat sampling: each of the 10 samples runs the epoch once (or a few times when fast).
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(40));
        group.bench_function(format!("train_epoch/{}/batch-32", data.train.n), |b| {
            b.iter(|| {
                trainer
                    .train_epoch(0, order.chunks(batch_size))
                    .expect("rows are in range")
            })
        });
        group.bench_function(format!("evaluate/{}", data.test.n), |b| {
            b.iter(|| trainer.evaluate().expect("scores are finite"))
        });
        group.finish();
    }
}

criterion_group!(benches, chebi_epoch);
criterion_main!(benches);
