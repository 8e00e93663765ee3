//! One training epoch of the protocol on the default synthetic task (random batches of 32).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::{SyntheticTaskConfig, synthetic_task};
use models::{ProtocolConfig, Trainer};
use sampler_api::rng::Rng;

fn one_epoch(c: &mut Criterion) {
    let data = synthetic_task(&SyntheticTaskConfig::default());
    let protocol = ProtocolConfig::default();
    let mut order: Vec<u32> = (0..data.train.n as u32).collect();
    Rng::for_stream(0, &[]).shuffle(&mut order);
    let batch_size = protocol.batch_size;
    let mut trainer = Trainer::new(protocol, &data, 0).expect("the default protocol is valid");
    c.bench_function("train_epoch/synthetic-2000/batch-32", |b| {
        b.iter(|| {
            trainer
                .train_epoch(0, order.chunks(batch_size))
                .expect("rows are in range")
        })
    });
    c.bench_function("evaluate/synthetic-1000", |b| {
        b.iter(|| trainer.evaluate().expect("scores are finite"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    targets = one_epoch
}
criterion_main!(benches);
