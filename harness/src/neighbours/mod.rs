//! The neighbour table: for every item, its `k` nearest other items by cosine similarity of the
//! description embeddings, nearest first.
//!
//! # Definition
//! Rows are L2-normalised f32 embeddings, so cosine similarity is the f32 dot product. Row `i` of
//! the table lists the `k` items `j != i` with the largest similarity, most similar first.
//! **Ties** (equal f32 similarities; `-0.0` equals `+0.0`) go to the lower index, both in the
//! order within a row and in which of several tied items make the cut at rank `k`. The result is
//! exact up to f32 rounding of the dot products: another exact implementation (faiss, an f64
//! brute force) may order two items differently when their similarities differ in the last bits.
//!
//! # Methods
//! - CPU (module `blocked`): libtorch GEMM over square blocks of rows *and* columns, each block
//!   pair computed once (the matrix is symmetric), scheduled as a round-robin tournament so that
//!   worker threads (libtorch's intra-op thread count, each running single-threaded GEMMs) never
//!   share a row; every block of scores feeds a bounded per-row selection (module `select`) by
//!   rows and by columns. About half the arithmetic of a full `X X^T`, plus about 1 ns per score
//!   for the selection. Extra memory: `n * (k + max(k, 32) + 2) * 8` bytes of selections, the
//!   output `n * k * 4`, libtorch's copy of the embeddings `n * dim * 4`, and a 16 MiB block of
//!   scores per thread: about 0.45 GB at `n` = 100,000, `dim` = 384, `k` = 100 (measured).
//! - CUDA (module `full_rows`): row blocks against all rows with `topk` and the ordering on the
//!   device, one wait for the device at the end, then an exact redo of the rows whose cut falls
//!   inside a tie. Needs a libtorch built with CUDA and a GPU;
//!   `ComputeDevice::Cuda` fails with [`DeviceChoice::ensure_usable`]'s explanation otherwise.
//!
//! # Cache
//! [`cache`] stores finished tables on disk keyed by (embedding fingerprint, `k`, metric), and
//! [`cached_neighbour_table`](cache::cached_neighbour_table) is what the samplers' inputs use.

mod blocked;
pub mod cache;
mod error;
mod full_rows;
mod select;

pub use error::{NeighbourError, Result};

use crate::device::DeviceChoice;

/// Where the similarities are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ComputeDevice {
    /// libtorch's CPU GEMM on symmetric blocks, selection in Rust, libtorch's thread count.
    #[default]
    Cpu,
    /// This CUDA device of a CUDA-enabled libtorch.
    Cuda(usize),
}

impl From<tch::Device> for ComputeDevice {
    fn from(device: tch::Device) -> Self {
        match device {
            tch::Device::Cuda(index) => ComputeDevice::Cuda(index),
            _ => ComputeDevice::Cpu,
        }
    }
}

impl std::fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ComputeDevice::Cpu => "cpu",
            ComputeDevice::Cuda(_) => "cuda",
        })
    }
}

/// Exact top-`k` cosine neighbours of unit rows on the CPU, self excluded; row-major `n x k`.
pub fn neighbour_table(embeddings: &[f32], dim: usize, k: usize) -> Result<Vec<u32>> {
    neighbour_table_on(embeddings, dim, k, ComputeDevice::Cpu, None)
}

/// Exact top-`k` cosine neighbours of unit rows on `device`, self excluded; row-major `n x k`.
/// `block_rows` is the number of rows per block (`None`: each method's default); it changes
/// speed and memory, never the table.
pub fn neighbour_table_on(
    embeddings: &[f32],
    dim: usize,
    k: usize,
    device: ComputeDevice,
    block_rows: Option<usize>,
) -> Result<Vec<u32>> {
    check_inputs(embeddings, dim, k)?;
    if k == 0 {
        return Ok(Vec::new());
    }
    match device {
        ComputeDevice::Cpu => blocked::neighbour_table(embeddings, dim, k, cpu_layout(block_rows)),
        ComputeDevice::Cuda(index) => {
            let device = tch::Device::Cuda(index);
            DeviceChoice(device).ensure_usable()?;
            let n = embeddings.len() / dim;
            let block_rows = block_rows.unwrap_or_else(|| full_rows::automatic_block_rows(n));
            full_rows::neighbour_table(embeddings, dim, k, device, block_rows)
        }
    }
}

/// The confusion table of a paired set: row `i` lists the `k` items `j != i` whose embeddings
/// score highest (dot product) against text `i`'s embedding, best first, ties to the lower
/// index; both inputs are `n x dim` unit rows, row `i` of each belonging to pair `i`. Computed
/// with the device method (row blocks against all items, exact redo of rows cut inside a tie)
/// on `device`, the CPU included.
pub fn confusion_table_on(
    texts: &[f32],
    items: &[f32],
    dim: usize,
    k: usize,
    device: ComputeDevice,
) -> Result<Vec<u32>> {
    check_inputs(items, dim, k)?;
    check_inputs(texts, dim, k)?;
    if texts.len() != items.len() {
        return Err(NeighbourError::Unpaired {
            texts: texts.len(),
            items: items.len(),
        });
    }
    if k == 0 {
        return Ok(Vec::new());
    }
    let n = items.len() / dim;
    let device = match device {
        ComputeDevice::Cpu => tch::Device::Cpu,
        ComputeDevice::Cuda(index) => {
            let device = tch::Device::Cuda(index);
            DeviceChoice(device).ensure_usable()?;
            device
        }
    };
    full_rows::paired_top_k(
        texts,
        items,
        dim,
        k,
        device,
        full_rows::automatic_block_rows(n),
    )
}

/// Extra bytes the CPU method holds at its peak for `n` rows of `dim` values and width `k`
/// (selections, the output, the embeddings' copy and the blocks of scores), for reports.
pub fn cpu_extra_memory_estimate(
    n: usize,
    dim: usize,
    k: usize,
    block_rows: Option<usize>,
) -> usize {
    blocked::extra_bytes(n, dim, k, cpu_layout(block_rows))
}

/// The CPU method's layout: blocks of `block_rows` rows, else its default, and as many workers as
/// libtorch's intra-op thread count (what its GEMM would use).
fn cpu_layout(block_rows: Option<usize>) -> blocked::Layout {
    blocked::Layout {
        block_rows: block_rows.unwrap_or(blocked::Layout::DEFAULT_BLOCK_ROWS),
        workers: usize::try_from(tch::get_num_threads()).unwrap_or(1).max(1),
    }
}

/// Checks the shape and the values.
fn check_inputs(embeddings: &[f32], dim: usize, k: usize) -> Result<()> {
    if dim == 0 || !embeddings.len().is_multiple_of(dim) {
        return Err(NeighbourError::Shape {
            len: embeddings.len(),
            dim,
        });
    }
    let n = embeddings.len() / dim;
    if k >= n.max(1) {
        return Err(NeighbourError::KTooLarge { k, n });
    }
    if u32::try_from(n).is_err() {
        return Err(NeighbourError::TooManyItems { n });
    }
    // Dot products stay finite when every squared norm does (Cauchy-Schwarz bounds every
    // partial sum of the GEMM too).
    if let Some(row) = embeddings.chunks_exact(dim).position(|row| {
        let norm2: f32 = row.iter().map(|v| v * v).sum();
        !norm2.is_finite() || norm2 > 1e30
    }) {
        return Err(NeighbourError::NotFinite { row });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in f64: similarity descending (`-0.0 == +0.0`), then index ascending.
    /// Exact for the quantised fixtures, whose dot products have no rounding in f32 or f64.
    fn reference(embeddings: &[f32], dim: usize, k: usize) -> Vec<u32> {
        paired_reference(embeddings, embeddings, dim, k)
    }

    /// The same for query row `i` against gallery rows `j != i`.
    fn paired_reference(queries: &[f32], gallery: &[f32], dim: usize, k: usize) -> Vec<u32> {
        let n = gallery.len() / dim;
        let row = |rows: &[f32], i: usize| rows[i * dim..(i + 1) * dim].to_vec();
        let mut table = Vec::with_capacity(n * k);
        for i in 0..n {
            let mut scored: Vec<(f64, u32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (dot(&row(queries, i), &row(gallery, j)), j as u32))
                .collect();
            scored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
            table.extend(scored[..k].iter().map(|&(_, j)| j));
        }
        table
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum()
    }

    /// Rows of small multiples of 1/4 (so many exact ties), a third of them duplicates of
    /// earlier rows, including zero rows and negative zeros.
    fn quantised(n: usize, dim: usize, levels: usize, seed: u64) -> Vec<f32> {
        let mut rng = sampler_api::rng::Rng::for_stream(seed, &[0x71]);
        let mut rows: Vec<f32> = Vec::with_capacity(n * dim);
        for i in 0..n {
            if i >= 3 && rng.below(3) == 0 {
                let source = rng.below(i);
                let copy = rows[source * dim..(source + 1) * dim].to_vec();
                rows.extend(copy);
            } else if i % 17 == 5 {
                rows.extend(std::iter::repeat_n(-0.0f32, dim));
            } else {
                rows.extend((0..dim).map(|_| {
                    let level = rng.below(2 * levels + 1) as f32 - levels as f32;
                    if level == 0.0 { -0.0 } else { level / 4.0 }
                }));
            }
        }
        rows
    }

    /// Every method and block layout the CPU and device paths can take.
    fn all_methods(embeddings: &[f32], dim: usize, k: usize) -> Vec<(String, Vec<u32>)> {
        let mut out = Vec::new();
        let n = embeddings.len() / dim;
        let tiny_blocks: &[usize] = if n <= 150 { &[2, 7] } else { &[] };
        for &block_rows in tiny_blocks.iter().chain(&[16, 33, 64, 1 << 20]) {
            for workers in [1, 2, 3] {
                let layout = blocked::Layout {
                    block_rows,
                    workers,
                };
                out.push((
                    format!("blocked, {layout:?}"),
                    blocked::neighbour_table(embeddings, dim, k, layout).unwrap(),
                ));
            }
        }
        for block_rows in [1, 7, 64, full_rows::automatic_block_rows(n)] {
            out.push((
                format!("full rows on the CPU device, blocks of {block_rows} rows"),
                full_rows::neighbour_table(embeddings, dim, k, tch::Device::Cpu, block_rows)
                    .unwrap(),
            ));
        }
        out.push((
            "neighbour_table".into(),
            neighbour_table(embeddings, dim, k).unwrap(),
        ));
        out
    }

    #[test]
    fn exact_ties_go_to_the_lower_index() {
        for (n, dim, levels, seed) in [(90, 6, 2, 1), (130, 3, 1, 2), (41, 8, 3, 3)] {
            let data = quantised(n, dim, levels, seed);
            for k in [1, 4, 17, n - 1] {
                let expected = reference(&data, dim, k);
                for (method, table) in all_methods(&data, dim, k) {
                    assert_eq!(table, expected, "{method}, n {n}, k {k}, seed {seed}");
                }
            }
        }
    }

    #[test]
    fn confusions_rank_the_other_items_against_each_text_exactly() {
        for (n, dim, levels, seed) in [(90, 6, 2, 4), (41, 8, 3, 5)] {
            let texts = quantised(n, dim, levels, seed);
            let items = quantised(n, dim, levels, seed + 10);
            for k in [1, 5, n - 1] {
                let table = confusion_table_on(&texts, &items, dim, k, ComputeDevice::Cpu);
                assert_eq!(
                    table.unwrap(),
                    paired_reference(&texts, &items, dim, k),
                    "n {n}, k {k}, seed {seed}"
                );
            }
        }
        let unpaired = confusion_table_on(&[0.0; 8], &[0.0; 6], 2, 1, ComputeDevice::Cpu);
        assert!(matches!(
            unpaired,
            Err(NeighbourError::Unpaired { texts: 8, items: 6 })
        ));
    }

    #[test]
    fn identical_rows_list_the_lowest_indices() {
        let (n, dim, k) = (50, 4, 10);
        let data: Vec<f32> = std::iter::repeat_n([0.5f32, 0.5, 0.5, 0.5], n)
            .flatten()
            .collect();
        for (method, table) in all_methods(&data, dim, k) {
            for (i, row) in table.chunks_exact(k).enumerate() {
                let expected: Vec<u32> = (0..n as u32).filter(|&j| j != i as u32).take(k).collect();
                assert_eq!(row, &expected[..], "{method}, row {i}");
            }
        }
    }

    #[test]
    fn matches_the_brute_force_reference_up_to_f32_rounding() {
        let (n, dim, k) = (500, 24, 30);
        let data = fixtures::clustered_embeddings(n, 7, dim, 0.9, 11);
        let reference = fixtures::exact_neighbours(&data.embeddings, dim, k);
        let row = |i: usize| &data.embeddings[i * dim..(i + 1) * dim];
        // The worst f32 rounding of a 24-term dot product of unit vectors is far below this.
        let tolerance = 1e-6;
        for (method, table) in all_methods(&data.embeddings, dim, k) {
            let mut identical_rows = 0;
            for i in 0..n {
                let (ours, theirs) = (&table[i * k..(i + 1) * k], &reference[i * k..(i + 1) * k]);
                assert!(
                    !ours.contains(&(i as u32)),
                    "{method}: row {i} lists itself"
                );
                // The same similarity at every rank ...
                for (a, b) in ours.iter().zip(theirs) {
                    let (sa, sb) = (dot(row(i), row(*a as usize)), dot(row(i), row(*b as usize)));
                    assert!(
                        (sa - sb).abs() < tolerance,
                        "{method}, row {i}: {ours:?} vs {theirs:?}"
                    );
                }
                // ... and a different member only within rounding of the k-th similarity.
                let kth = dot(row(i), row(theirs[k - 1] as usize));
                for j in ours.iter().filter(|j| !theirs.contains(j)) {
                    let s = dot(row(i), row(*j as usize));
                    assert!(
                        (s - kth).abs() < tolerance,
                        "{method}, row {i}: {j} at {s} vs {kth}"
                    );
                }
                identical_rows += usize::from(ours == theirs);
            }
            assert!(
                identical_rows * 100 >= n * 99,
                "{method}: {identical_rows} of {n} rows identical"
            );
        }
    }

    #[test]
    fn refuses_k_not_below_n() {
        let data = fixtures::clustered_embeddings(10, 2, 4, 0.5, 1);
        assert!(
            neighbour_table(&data.embeddings, 4, 10)
                .unwrap_err()
                .to_string()
                .contains("k (10)")
        );
        assert!(neighbour_table(&data.embeddings, 4, 0).unwrap().is_empty());
    }

    #[test]
    fn refuses_non_finite_rows_and_ragged_input() {
        let mut data = fixtures::clustered_embeddings(10, 2, 4, 0.5, 1).embeddings;
        assert!(neighbour_table(&data[..39], 4, 3).is_err());
        data[13] = f32::NAN;
        let error = neighbour_table(&data, 4, 3).unwrap_err().to_string();
        assert!(error.contains("row 3"), "{error}");
    }

    #[test]
    fn cuda_is_explained_when_missing() {
        let data = fixtures::clustered_embeddings(10, 2, 4, 0.5, 1);
        let result = neighbour_table_on(&data.embeddings, 4, 3, ComputeDevice::Cuda(0), None);
        if tch::Cuda::is_available() {
            assert_eq!(
                result.unwrap(),
                neighbour_table(&data.embeddings, 4, 3).unwrap()
            );
        } else {
            let error = result.unwrap_err();
            assert!(
                matches!(error, NeighbourError::DeviceUnusable(_)),
                "{error}"
            );
        }
    }
}
