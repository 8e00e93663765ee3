//! Sampler speed through the harness: one `hard` epoch in-process and through the loaded
//! plugin (the difference divided by the batch count is the ABI's overhead per batch), and the
//! neighbour table that feeds it. N = 33,010, batch 32, k = 100, hard_ratio 0.5.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use harness::neighbours::neighbour_table;
use harness::plugin::{ForeignSampler, PluginRegistry};
use sampler_api::{EpochBuffers, Sampler, SamplerData, SamplerPlugin};

const N_ITEMS: usize = 33_010;
const CLUSTERS: usize = 165;
const DIM: usize = 32;
const BATCH_SIZE: usize = 32;
const K: usize = 100;
const CONFIG: &str = r#"{"hard_ratio":0.5,"hardness_k":100}"#;

fn samplers(c: &mut Criterion) {
    let fixture = fixtures::clustered_embeddings(N_ITEMS, CLUSTERS, DIM, 0.5, 1);
    let neighbours = neighbour_table(&fixture.embeddings, DIM, K).expect("neighbour table");
    let data = SamplerData::new(
        N_ITEMS,
        BATCH_SIZE,
        1,
        false,
        &fixture.embeddings,
        DIM,
        &neighbours,
        K,
    )
    .expect("valid inputs");
    let registry = PluginRegistry::discover(&[]);
    let plugin = registry
        .resolve("hard")
        .expect("build the workspace first: the hard plugin is missing");
    let loaded = ForeignSampler::new(&plugin, CONFIG).expect("hard plugin");
    let in_process = hard_sampler::HardSampler::from_config(CONFIG).expect("hard config");
    let mut buffers = EpochBuffers::new(N_ITEMS);

    let mut group = c.benchmark_group("hard epoch, N=33010 B=32 k=100 r=0.5");
    let mut epoch = 0u32;
    let mut bench = |name: &str, sampler: &dyn Sampler| {
        group.bench_function(name, |b| {
            b.iter(|| {
                epoch += 1;
                let mut sink = buffers.sink();
                black_box(sampler.epoch(&data, epoch, &mut sink).expect("epoch"));
                black_box(sink.n_batches())
            })
        });
    };
    bench("in-process", &in_process);
    bench("loaded plugin", &loaded);
    group.finish();

    let mut group = c.benchmark_group("neighbour table");
    group.sample_size(10);
    group.bench_function("exact top-100, N=33010 d=32", |b| {
        b.iter(|| black_box(neighbour_table(&fixture.embeddings, DIM, K).expect("table")))
    });
    group.finish();
}

criterion_group!(benches, samplers);
criterion_main!(benches);
