//! Sampler speed: one epoch of each built-in sampler, loaded as a plugin the way the harness
//! runs it, for N = 6,601 / 33,010 / 100,000 (batch 32, k 100, default settings, and `hard` with
//! `max_similarity` 0.95); `hard` in-process too, whose difference from the loaded plugin divided
//! by the batch count is the ABI's overhead per batch. (Only one plugin crate can be linked
//! in-process: each exports the same entry symbol.) `cluster` reuses its topics from epoch to
//! epoch; its first epoch, which clusters, is measured apart on 384-dimensional embeddings (the
//! width of ChEBI-20's description embeddings), where k-means costs what it costs in a real run.
//! Last, what the harness adds to every epoch of every sampler: the false-negative count (one dot
//! product per in-batch pair), at the synthetic task's and ChEBI-20's training sizes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use fixtures::ClusterSpec;
use harness::plugin::{ForeignSampler, PluginRegistry};
use sampler_api::rng::Rng;
use sampler_api::similarity::FalseNegativeCount;
use sampler_api::{EpochBuffers, Sampler, SamplerData, SamplerPlugin};

const SIZES: [usize; 3] = [6_601, 33_010, 100_000];
const BATCH_SIZE: usize = 32;
const K: usize = 100;
/// Clusters of about 200 items, as many as a realistic neighbourhood draws from, in 8
/// dimensions (the embeddings' width does not matter to batching).
const FIXTURE: ClusterSpec = ClusterSpec {
    items: 200,
    clusters: 1,
    dim: 8,
    spread: 0.5,
    seed: 2024,
};
const SEED: u64 = FIXTURE.seed;
/// Epoch numbers start here so that curriculum and progressive run their hard stages.
const FIRST_EPOCH: u32 = 1_000;
/// The plugins measured: label, plugin name, configuration.
const SAMPLERS: [(&str, &str, &str); 6] = [
    ("random", "random", "{}"),
    ("hard", "hard", "{}"),
    ("hard-max-similarity", "hard", r#"{"max_similarity":0.95}"#),
    ("curriculum", "curriculum", "{}"),
    ("progressive", "progressive", "{}"),
    ("cluster", "cluster", "{}"),
];
/// Items and embedding width of the clustering benchmark: ChEBI-20's 6,601 descriptions.
const CLUSTERING: ClusterSpec = ClusterSpec {
    items: 6_601,
    clusters: 33,
    dim: 384,
    ..FIXTURE
};

/// A realistic neighbour table without the seconds an exact one costs at these sizes: each
/// item's neighbours are `K` distinct random members of its own cluster, which is what an exact
/// table of well-separated clusters holds (in another order, which batching does not use).
fn cluster_neighbour_table(labels: &[usize], n_clusters: usize) -> Vec<u32> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_clusters];
    for (item, &label) in labels.iter().enumerate() {
        members[label].push(item as u32);
    }
    let mut rng = Rng::for_stream(SEED, &[labels.len() as u64]);
    let mut table = Vec::with_capacity(labels.len() * K);
    for (item, &label) in labels.iter().enumerate() {
        let mut mates: Vec<u32> = members[label]
            .iter()
            .copied()
            .filter(|&m| m as usize != item)
            .collect();
        for slot in 0..K {
            let chosen = slot + rng.below(mates.len() - slot);
            mates.swap(slot, chosen);
        }
        table.extend_from_slice(&mates[..K]);
    }
    table
}

fn bench_epochs(c: &mut Criterion, name: &str, data: &SamplerData<'_>, sampler: &dyn Sampler) {
    let mut buffers = EpochBuffers::new(data.n_items());
    let mut epoch = FIRST_EPOCH;
    c.bench_function(name, |b| {
        b.iter(|| {
            epoch += 1;
            let mut sink = buffers.sink();
            black_box(sampler.epoch(data, epoch, &mut sink).expect("epoch"));
            black_box(sink.n_batches())
        })
    });
}

fn samplers(c: &mut Criterion) {
    let registry = PluginRegistry::discover(&[]);
    for n_items in SIZES {
        let spec = ClusterSpec {
            items: n_items,
            clusters: n_items / FIXTURE.items,
            ..FIXTURE
        };
        let fixture = spec.generate();
        let neighbours = cluster_neighbour_table(&fixture.labels, spec.clusters);
        let data = SamplerData::new(
            n_items,
            BATCH_SIZE,
            SEED,
            false,
            &fixture.embeddings,
            spec.dim,
            &neighbours,
            K,
        )
        .expect("valid benchmark inputs");
        for (label, name, config) in SAMPLERS {
            let plugin = registry
                .resolve(name)
                .expect("build the workspace first: a plugin is missing");
            let loaded = ForeignSampler::new(&plugin, config).expect("valid configuration");
            bench_epochs(c, &format!("epoch/{label}/{n_items}"), &data, &loaded);
        }
        let in_process = hard_sampler::HardSampler::from_config("{}").expect("hard");
        bench_epochs(
            c,
            &format!("epoch/hard-in-process/{n_items}"),
            &data,
            &in_process,
        );
    }
}

/// The `cluster` sampler's first epoch, k-means included: a fresh instance per iteration.
fn clustering(c: &mut Criterion) {
    let plugin = PluginRegistry::discover(&[])
        .resolve("cluster")
        .expect("build the workspace first: a plugin is missing");
    let fixture = CLUSTERING.generate();
    let data = SamplerData::new(
        CLUSTERING.items,
        BATCH_SIZE,
        SEED,
        false,
        &fixture.embeddings,
        CLUSTERING.dim,
        &[],
        0,
    )
    .expect("valid benchmark inputs");
    let mut buffers = EpochBuffers::new(CLUSTERING.items);
    let mut group = c.benchmark_group("first-epoch");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.bench_function(
        format!("cluster/{} d={}", CLUSTERING.items, CLUSTERING.dim),
        |b| {
            b.iter(|| {
                let fresh = ForeignSampler::new(&plugin, "{}").expect("default configuration");
                let mut sink = buffers.sink();
                black_box(fresh.epoch(&data, 1, &mut sink).expect("epoch"));
                black_box(sink.n_batches())
            })
        },
    );
    group.finish();
}

/// The false-negative count of one epoch of random batches: (items, embedding width) of the
/// synthetic task's training split and of ChEBI-20's.
fn false_negatives(c: &mut Criterion) {
    for (items, dim) in [(2_000, 64), (3_301, 384)] {
        let spec = ClusterSpec {
            items,
            clusters: items / FIXTURE.items,
            dim,
            ..FIXTURE
        };
        let fixture = spec.generate();
        let data = SamplerData::new(
            items,
            BATCH_SIZE,
            SEED,
            false,
            &fixture.embeddings,
            dim,
            &[],
            0,
        )
        .expect("valid benchmark inputs");
        let mut order: Vec<u32> = (0..items as u32).collect();
        Rng::for_stream(SEED, &[]).shuffle(&mut order);
        let mut buffers = EpochBuffers::new(items);
        let mut sink = buffers.sink();
        for batch in order.chunks(BATCH_SIZE) {
            sink.push_batch(batch).expect("room for every item");
        }
        c.bench_function(&format!("false-negatives/{items} d={dim}"), |b| {
            b.iter(|| black_box(FalseNegativeCount::of_epoch(&sink, &data)))
        });
    }
}

criterion_group!(benches, samplers, clustering, false_negatives);
criterion_main!(benches);
