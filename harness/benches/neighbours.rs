//! Exact top-100 cosine neighbour tables (`harness::neighbours`), CPU, libtorch's thread count.
//!
//! - the real ChEBI-20 MiniLM description embeddings, train + test (N = 6,601, d = 384), when
//!   `../shared/data/chebi20` is present;
//! - synthetic clustered unit vectors (`harness knn --synthetic N --dim D`): N = 33,010 with
//!   d = 384 and 768 by default, and N = 100,000 with d = 384 and 768 when
//!   `NEIGHBOURS_BENCH_LARGE=1` (each of those takes 10-60 s an iteration, so minutes a case).
//!
//! Ten samples each, one iteration a sample (flat sampling): quote medians.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use harness::neighbours::neighbour_table;
use harness::npy;

const K: usize = 100;

fn chebi() -> Option<npy::NpyMatrix> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chebi20");
    let files: Vec<PathBuf> = ["train.minilm.npy", "test.minilm.npy"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    if !files.iter().all(|f| f.exists()) {
        eprintln!("skipping ChEBI-20: {} not found", root.display());
        return None;
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    Some(npy::read_stacked(&paths).expect("ChEBI-20 embeddings"))
}

fn synthetic(n: usize, dim: usize) -> npy::NpyMatrix {
    let data = fixtures::clustered_embeddings(n, n / 100, dim, 1.0, 0);
    npy::NpyMatrix {
        rows: n,
        cols: dim,
        values: data.embeddings,
    }
}

/// One benchmark: its name, its size, and how to build its embeddings.
struct Case {
    name: String,
    n: usize,
    dim: usize,
    make: Box<dyn Fn() -> npy::NpyMatrix>,
}

fn neighbours(c: &mut Criterion) {
    let large = std::env::var("NEIGHBOURS_BENCH_LARGE").is_ok_and(|v| v == "1");
    let mut cases: Vec<Case> = Vec::new();
    if let Some(m) = chebi() {
        let (n, dim) = (m.rows, m.cols);
        let name = format!("ChEBI-20 MiniLM N={n} d={dim}");
        let make = Box::new(move || m.clone());
        cases.push(Case { name, n, dim, make });
    }
    let mut sizes = vec![(33_010, 384), (33_010, 768)];
    if large {
        sizes.extend([(100_000, 384), (100_000, 768)]);
    } else {
        eprintln!("N = 100,000 skipped: set NEIGHBOURS_BENCH_LARGE=1 to run it");
    }
    for (n, dim) in sizes {
        let name = format!("synthetic N={n} d={dim}");
        let make = Box::new(move || synthetic(n, dim));
        cases.push(Case { name, n, dim, make });
    }

    let mut group = c.benchmark_group(format!("exact top-{K} cosine"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    for Case { name, n, dim, make } in cases {
        // One or two iterations a sample on this project's 2-core machines (7 ps per n * n * d,
        // plus start-up).
        let estimate = 7e-12 * (n * n * dim) as f64 + 0.1;
        group.measurement_time(Duration::from_secs_f64(10.0 * estimate));
        // Built only when criterion's filter selects the case.
        let data = std::cell::OnceCell::new();
        group.bench_function(name, |b| {
            let m: &npy::NpyMatrix = data.get_or_init(&make);
            b.iter(|| black_box(neighbour_table(&m.values, m.cols, K).expect("table")))
        });
    }
    group.finish();
}

criterion_group!(benches, neighbours);
criterion_main!(benches);
