//! The CPU method: the similarity matrix in square blocks, each block pair computed once.
//!
//! Rows are cut into an odd number `b` of nearly equal blocks of about
//! [`Layout::block_rows`]. Every unordered pair of blocks `{I, J}` is one task: a libtorch GEMM
//! `S = X_I X_J^T`, whose rows feed the selections of the items of `I` and whose columns (read
//! in tiles of 16) feed those of `J`; a diagonal task `{I, I}` feeds its rows only, skipping
//! each item itself. So the matrix is computed about half, not whole.
//!
//! The tasks run in `b` rounds of a round-robin tournament: in round `r`, block `I` meets block
//! `J` when `I + J = 2r (mod b)`, and block `r` meets itself. The tasks of a round touch
//! disjoint blocks, so the worker threads take them in any order without sharing a row, and the
//! selection ([`select`](super::select)) does not care in which order candidates arrive. Each
//! worker runs its own single-threaded GEMM (libtorch's thread count is set to 1 in the worker
//! threads only) followed by its own selection: no OpenMP team spins between GEMM and selection,
//! and one worker's selection overlaps the other's GEMM.
//!
//! Extra memory: the selections (`n * (k + max(k, 32)) * 8` bytes), the output, libtorch's copy
//! of the embeddings, and per worker one block of scores and one chunk of rows; see
//! [`extra_bytes`].

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{NeighbourError, Result};
use tch::{Device, Kind, Tensor};

use super::select::{Rows, TopK};

/// Rows of a block of scores copied and scanned at a time (the copy stays in the L2 cache).
const CHUNK_ROWS: usize = 32;

/// How the work is cut: block sizes and worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    /// Largest rows per block (the GEMM's `m` and `n`).
    pub block_rows: usize,
    /// Worker threads (at least one runs).
    pub workers: usize,
}

impl Layout {
    /// Blocks of at most 2,048 rows: a single-threaded MKL GEMM runs near its peak there and a
    /// block of scores (16 MiB) fits the last-level cache beside the other worker's.
    pub const DEFAULT_BLOCK_ROWS: usize = 2048;

    /// The number of blocks for `n` rows: odd (for the tournament), at least `n / block_rows`,
    /// and when possible such that each round's `(b + 1) / 2` tasks divide evenly among the
    /// workers.
    fn blocks(&self, n: usize) -> usize {
        let workers = self.workers;
        let least = n.div_ceil(self.block_rows.max(1)).max(1);
        let odd = least | 1;
        (0..2 * workers.max(1))
            .map(|extra| odd + 2 * extra)
            .find(|b| b.div_ceil(2) % workers.max(1) == 0 && *b <= n.max(1) && *b <= 2 * least + 1)
            .unwrap_or(odd)
            // At most one block per row, and odd: with an even n and one-row blocks asked for,
            // n - 1 blocks, one of them holding two rows.
            .min((n.max(1) - 1) | 1)
    }
}

/// Extra bytes held at the peak for `n` rows of `dim` values and width `k`.
pub(super) fn extra_bytes(n: usize, dim: usize, k: usize, layout: Layout) -> usize {
    let block = n.div_ceil(layout.blocks(n).max(1));
    let workers = layout.workers;
    TopK::bytes(n, k) + n * k * 4 + n * dim * 4 + workers * (block * block + CHUNK_ROWS * block) * 4
}

/// The tasks of the tournament on `blocks` (odd) blocks, round by round, as `(I, J)`, `I <= J`.
fn rounds(blocks: usize) -> Vec<Vec<(usize, usize)>> {
    assert!(
        blocks % 2 == 1,
        "the tournament needs an odd number of blocks"
    );
    (0..blocks)
        .map(|round| {
            (0..=blocks / 2)
                .map(|offset| {
                    let a = (round + blocks - offset) % blocks;
                    let b = (round + offset) % blocks;
                    (a.min(b), a.max(b))
                })
                .collect()
        })
        .collect()
}

/// Exact top-`k` of every row of the `n x dim` matrix `embeddings`, self excluded.
pub(super) fn neighbour_table(
    embeddings: &[f32],
    dim: usize,
    k: usize,
    layout: Layout,
) -> Result<Vec<u32>> {
    let n = embeddings.len() / dim;
    let workers = layout.workers.max(1);
    let blocks = layout.blocks(n);
    let block = n.div_ceil(blocks);
    let span = |b: usize| (b * block).min(n)..((b + 1) * block).min(n);
    let all = Tensor::f_from_slice(embeddings).and_then(|t| t.f_view([n as i64, dim as i64]))?;

    let caller_threads = tch::get_num_threads();
    let mut topk = TopK::new(n, k);
    {
        let mut rows: Vec<Mutex<Rows<'_>>> = topk
            .rows()
            .into_blocks(block)
            .into_iter()
            .map(Mutex::new)
            .collect();
        // With n close to a multiple of the block there may be fewer row ranges than blocks;
        // the blocks past the end are empty and their tasks skipped.
        while rows.len() < blocks {
            rows.push(Mutex::new(Rows::empty()));
        }
        let mut states: Vec<Worker> = (0..workers).map(|_| Worker::default()).collect();
        for tasks in rounds(blocks) {
            let next = AtomicUsize::new(0);
            let results: Vec<Result<()>> = std::thread::scope(|scope| {
                let jobs: Vec<_> = states
                    .iter_mut()
                    .map(|state| {
                        let all = all.shallow_clone();
                        let (tasks, next, rows, span) = (&tasks, &next, &rows, &span);
                        scope.spawn(move || -> Result<()> {
                            // This thread's GEMMs run on this thread only (a thread-local
                            // setting: the caller's thread count is untouched).
                            tch::set_num_threads(1);
                            loop {
                                let task = next.fetch_add(1, Ordering::Relaxed);
                                let Some(&(a, b)) = tasks.get(task) else {
                                    return Ok(());
                                };
                                let (rows_a, rows_b) = (span(a), span(b));
                                if rows_a.is_empty() || rows_b.is_empty() {
                                    continue;
                                }
                                let mut mine = rows[a].lock().expect("unpoisoned");
                                if a == b {
                                    state.diagonal(&all, &mut mine, rows_a)?;
                                } else {
                                    let mut theirs = rows[b].lock().expect("unpoisoned");
                                    state.pair(&all, &mut mine, &mut theirs, rows_a, rows_b)?;
                                }
                            }
                        })
                    })
                    .collect();
                jobs.into_iter()
                    .map(|job| job.join().unwrap_or(Err(NeighbourError::WorkerPanicked)))
                    .collect()
            });
            let round = results.into_iter().collect::<Result<()>>();
            // OpenMP builds of libtorch keep the thread count per thread; where a build keeps
            // it globally, give the caller its own back.
            if tch::get_num_threads() != caller_threads {
                tch::set_num_threads(caller_threads);
            }
            round?;
        }
    }
    Ok(topk.into_table(workers))
}

/// One worker's reusable buffers.
#[derive(Default)]
struct Worker {
    scores: Option<Tensor>,
    chunk: Vec<f32>,
}

impl Worker {
    /// `X_rows X_columns^T` into this worker's block of scores.
    fn gemm(
        &mut self,
        all: &Tensor,
        rows: &Range<usize>,
        columns: &Range<usize>,
    ) -> Result<Tensor> {
        let shape = [rows.len() as i64, columns.len() as i64];
        let scores = match self.scores.take() {
            Some(t) if t.size() == shape => t,
            _ => Tensor::f_empty(shape, (Kind::Float, Device::Cpu))?,
        };
        let x_rows = all.f_narrow(0, rows.start as i64, rows.len() as i64)?;
        let x_columns = all.f_narrow(0, columns.start as i64, columns.len() as i64)?;
        let _ = x_rows.f_mm_out(&scores, &x_columns.f_tr()?)?;
        self.scores = Some(scores.shallow_clone());
        if self.chunk.len() < CHUNK_ROWS * columns.len() {
            self.chunk.resize(CHUNK_ROWS * columns.len(), 0.0);
        }
        Ok(scores)
    }

    /// A diagonal block: every item of `items` against the others of `items`.
    fn diagonal(&mut self, all: &Tensor, rows: &mut Rows<'_>, items: Range<usize>) -> Result<()> {
        let scores = self.gemm(all, &items, &items)?;
        let width = items.len();
        for_chunks(&scores, width, &mut self.chunk, |first, chunk| {
            for (offset, line) in chunk.chunks_exact(width).enumerate() {
                let own = first + offset;
                rows.offer(own, &line[..own], items.start);
                rows.offer(own, &line[own + 1..], items.start + own + 1);
            }
        })
    }

    /// An off-diagonal pair: rows of `S = X_mine X_theirs^T` to `mine`, columns to `theirs`.
    fn pair(
        &mut self,
        all: &Tensor,
        mine: &mut Rows<'_>,
        theirs: &mut Rows<'_>,
        my_items: Range<usize>,
        their_items: Range<usize>,
    ) -> Result<()> {
        let scores = self.gemm(all, &my_items, &their_items)?;
        let width = their_items.len();
        for_chunks(&scores, width, &mut self.chunk, |first, chunk| {
            for (offset, line) in chunk.chunks_exact(width).enumerate() {
                mine.offer(first + offset, line, their_items.start);
            }
            theirs.offer_columns(chunk, width, 0, my_items.start + first);
        })
    }
}

/// Copies the rows of the `width`-column tensor `scores` into `buffer`, [`CHUNK_ROWS`] at a
/// time, and hands each chunk to `visit` with the number of its first row.
fn for_chunks(
    scores: &Tensor,
    width: usize,
    buffer: &mut [f32],
    mut visit: impl FnMut(usize, &[f32]),
) -> Result<()> {
    let rows = scores.size()[0] as usize;
    for first in (0..rows).step_by(CHUNK_ROWS) {
        let count = CHUNK_ROWS.min(rows - first);
        let cells = count * width;
        scores
            .f_narrow(0, first as i64, count as i64)?
            .f_copy_data(&mut buffer[..cells], cells)?;
        visit(first, &buffer[..cells]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_of_blocks_meets_once_and_rounds_are_disjoint() {
        for blocks in [1, 3, 5, 7, 19] {
            let mut met = vec![0; blocks * blocks];
            for tasks in rounds(blocks) {
                let mut seen = vec![false; blocks];
                for (a, b) in tasks {
                    assert!(!seen[a] && (a == b || !seen[b]), "{blocks} blocks: {a},{b}");
                    seen[a] = true;
                    seen[b] = true;
                    met[a * blocks + b] += 1;
                }
                assert!(seen.iter().all(|&s| s), "every block plays every round");
            }
            for a in 0..blocks {
                for b in 0..blocks {
                    assert_eq!(met[a * blocks + b], usize::from(a <= b));
                }
            }
        }
    }

    #[test]
    fn block_counts_are_odd_and_balanced() {
        let blocks = |block_rows: usize, workers: usize, n: usize| {
            Layout {
                block_rows,
                workers,
            }
            .blocks(n)
        };
        let default = Layout::DEFAULT_BLOCK_ROWS;
        assert_eq!(blocks(default, 2, 33_010), 19);
        assert_eq!(blocks(default, 2, 100_000), 51);
        assert_eq!(blocks(default, 2, 6_601), 7);
        assert_eq!(blocks(default, 1, 6_601), 5);
        assert_eq!(blocks(default, 2, 2), 1);
        for block_rows in [1, 2, 2048] {
            for n in [1, 2, 3, 10, 250, 4096, 4097, 100_000] {
                for workers in [1, 2, 3, 4] {
                    let count = blocks(block_rows, workers, n);
                    assert!(
                        count % 2 == 1 && count <= n,
                        "{n} rows of at most {block_rows}, {workers} workers: {count}"
                    );
                }
            }
        }
        assert_eq!(blocks(1, 2, 250), 249);
    }
}
