//! One epoch of each kit algorithm at the size of the real task (33,010 items, batch 32).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sampler_api::rng::Rng;
use sampler_api::{EpochBuffers, SamplerData};
use sampler_kit::{HardBatching, shuffled_epoch};

const N_ITEMS: usize = 33_010;
const BATCH_SIZE: usize = 32;
const K: usize = 100;
/// About 200 items per cluster, as many as a realistic neighbourhood draws from.
const N_CLUSTERS: usize = 165;
const DIM: usize = 8;
const SEED: u64 = 2024;

/// A synthetic but realistic neighbour table: exact kNN at this size takes seconds, so each
/// item's neighbours are instead `K` distinct random members of its own cluster, which is what
/// an exact table of well-separated clusters holds (in another order, which batching ignores).
fn cluster_neighbour_table(labels: &[usize]) -> Vec<u32> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); N_CLUSTERS];
    for (item, &label) in labels.iter().enumerate() {
        members[label].push(item as u32);
    }
    let mut rng = Rng::for_stream(SEED, &[u64::from_le_bytes(*b"benchknn")]);
    let mut table = Vec::with_capacity(labels.len() * K);
    let mut mates = Vec::new();
    for (item, &label) in labels.iter().enumerate() {
        mates.clear();
        mates.extend(
            members[label]
                .iter()
                .copied()
                .filter(|&m| m as usize != item),
        );
        // Partial Fisher-Yates: the first K slots become a uniform random subset.
        for slot in 0..K {
            let chosen = slot + rng.below(mates.len() - slot);
            mates.swap(slot, chosen);
        }
        table.extend_from_slice(&mates[..K]);
    }
    table
}

fn epochs(c: &mut Criterion) {
    let clusters = fixtures::clustered_embeddings(N_ITEMS, N_CLUSTERS, DIM, 0.5, SEED);
    let neighbours = cluster_neighbour_table(&clusters.labels);
    let data = SamplerData::new(
        N_ITEMS,
        BATCH_SIZE,
        SEED,
        false,
        &clusters.embeddings,
        DIM,
        &neighbours,
        K,
    )
    .expect("valid benchmark inputs");
    let mut buffers = EpochBuffers::new(N_ITEMS);

    let batching = HardBatching {
        hard_ratio: 0.5,
        hardness_k: K,
    };
    c.bench_function("hard epoch (n 33010, batch 32, k 100, ratio 0.5)", |b| {
        b.iter(|| {
            let mut sink = buffers.sink();
            batching
                .fill_epoch(&data, black_box(1), &mut sink)
                .expect("hard epoch");
            black_box(sink.n_batches())
        })
    });
    c.bench_function("random epoch (n 33010, batch 32)", |b| {
        b.iter(|| {
            let mut sink = buffers.sink();
            shuffled_epoch(&data, black_box(1), &mut sink).expect("random epoch");
            black_box(sink.n_batches())
        })
    });
}

criterion_group!(benches, epochs);
criterion_main!(benches);
