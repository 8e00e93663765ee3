//! The accelerator method: row blocks against all rows, top-`k` selection on the device.
//!
//! On a GPU the GEMM is so fast that the CPU selection of [`blocked`](super::blocked) would be
//! the bottleneck, so selection stays on the device: for each block of rows, `S = X_B X^T`
//! (`rows x n`), the diagonal masked with `-inf`, and `topk(k + 1)` into one `n x (k + 1)`
//! result that stays on the device. The blocks are only queued; nothing waits for the device
//! until all of them are done. Then every row is ordered on the device by (similarity
//! descending, index ascending), with a sort by index and then a stable sort by similarity
//! (`-0.0` folded into `+0.0`, which the definition counts as equal), and the `n x k` table
//! crosses to the host in one copy.
//!
//! `topk` does not promise which of several equal values it returns, so when a row's
//! `(k + 1)`-th value equals its `k`-th the cut may fall inside a tie. Those rows, found in the
//! same single wait, are redone exactly: their block of scores is computed again and each of
//! them takes every column at or above its `k`-th value, ordered on the host.
//!
//! Works on any libtorch device; the tests run it on the CPU.

use super::Result;
use tch::{Device, Kind, Tensor};

use super::select::{index_of, key};

/// Rows per block when none is asked for: about 2 GiB of scores per block (at most 8,192
/// rows). libtorch offers no query of free device memory, so this is a fixed budget that leaves
/// a 16 GB GPU room for the embeddings and the `n x (k + 1)` result up to about 1M items.
pub(super) fn automatic_block_rows(n: usize) -> usize {
    const SCORE_BUDGET: usize = 512 << 20; // f32 values
    (SCORE_BUDGET / n.max(1)).clamp(1, 8192)
}

/// Exact top-`k` of every row, self excluded, computed on `device` in blocks of `block_rows`
/// rows. `k` is below the number of rows.
pub(super) fn neighbour_table(
    embeddings: &[f32],
    dim: usize,
    k: usize,
    device: Device,
    block_rows: usize,
) -> Result<Vec<u32>> {
    paired_top_k(embeddings, embeddings, dim, k, device, block_rows)
}

/// Exact top-`k` gallery rows of every query row by dot product, query `i`'s own gallery row
/// `i` excluded (the same definition as the neighbour table, ties to the lower index).
/// `queries` and `gallery` have the same number of rows; `k` is below it.
pub(super) fn paired_top_k(
    queries: &[f32],
    gallery: &[f32],
    dim: usize,
    k: usize,
    device: Device,
    block_rows: usize,
) -> Result<Vec<u32>> {
    let n = gallery.len() / dim;
    let tensor = |rows: &[f32]| -> Result<Tensor> {
        Ok(Tensor::f_from_slice(rows)?
            .f_view([n as i64, dim as i64])?
            .f_to_device(device)?)
    };
    let all = tensor(queries)?;
    let all_t = tensor(gallery)?.f_tr()?;
    let blocks = Blocks {
        all: &all,
        all_t: &all_t,
        rows: block_rows.clamp(1, n),
    };
    // One candidate beyond k shows whether the cut falls inside a tie; with k = n - 1 the extra
    // one is the masked diagonal (-inf), which never ties with a finite k-th value.
    let fetched = (k + 1) as i64;
    let values = Tensor::f_empty([n as i64, fetched], (Kind::Float, device))?;
    let indices = Tensor::f_empty([n as i64, fetched], (Kind::Int64, device))?;
    for start in (0..n).step_by(blocks.rows) {
        let rows = blocks.rows.min(n - start);
        let (top_values, top_indices) = blocks
            .scores(start, rows)?
            .f_topk(fetched, 1, true, false)?;
        values
            .f_narrow(0, start as i64, rows as i64)?
            .f_copy_(&top_values)?;
        indices
            .f_narrow(0, start as i64, rows as i64)?
            .f_copy_(&top_indices)?;
    }
    let (indices, by_index) = indices.f_sort(1, false)?;
    let values = values.f_gather(1, &by_index, false)?.f_add_scalar(0.0)?;
    let (values, by_value) = values.f_sort_stable(true, 1, true)?;
    let indices = indices.f_gather(1, &by_value, false)?;
    let tied = values
        .f_select(1, k as i64)?
        .f_eq_tensor(&values.f_select(1, k as i64 - 1)?)?;
    let tied_rows = Vec::<i64>::try_from(tied.f_nonzero()?.f_view(-1)?.f_to_device(Device::Cpu)?)?;
    let table = indices
        .f_narrow(1, 0, k as i64)?
        .f_to_kind(Kind::Int)?
        .f_contiguous()?
        .f_view(-1)?
        .f_to_device(Device::Cpu)?;
    let mut table: Vec<u32> = Vec::<i32>::try_from(table)?
        .into_iter()
        .map(|index| index as u32)
        .collect();
    blocks.redo_tied_rows(&tied_rows, k, &mut table)?;
    Ok(table)
}

/// The query rows and the transposed gallery on the device, queries cut into blocks of rows.
struct Blocks<'a> {
    all: &'a Tensor,
    all_t: &'a Tensor,
    rows: usize,
}

impl Blocks<'_> {
    /// `Q_B G^T` of `rows` query rows from `start`, each row's own column set to `-inf`.
    fn scores(&self, start: usize, rows: usize) -> Result<Tensor> {
        let scores = self
            .all
            .f_narrow(0, start as i64, rows as i64)?
            .f_mm(self.all_t)?;
        let _ = scores
            .f_narrow(1, start as i64, rows as i64)?
            .f_diagonal(0, 0, 1)?
            .f_fill_(f64::NEG_INFINITY)?;
        Ok(scores)
    }

    /// Rewrites the rows of `table` listed in `tied` (ascending) from every column at or above
    /// their `k`-th value, so ties at the cut go to the lower index.
    fn redo_tied_rows(&self, tied: &[i64], k: usize, table: &mut [u32]) -> Result<()> {
        let mut keys: Vec<u64> = Vec::new();
        let mut scores: Option<(usize, Tensor)> = None;
        for &row in tied {
            let row = row as usize;
            let start = row - row % self.rows;
            if scores.as_ref().is_none_or(|(first, _)| *first != start) {
                let n = self.all.size()[0] as usize;
                scores = Some((start, self.scores(start, self.rows.min(n - start))?));
            }
            let (_, block) = scores.as_ref().expect("computed above");
            let line = block.f_get((row - start) as i64)?;
            let kth = line
                .f_topk(k as i64, 0, true, true)?
                .0
                .f_double_value(&[k as i64 - 1])?;
            let at_least = line.f_ge(kth)?.f_nonzero()?.f_view(-1)?;
            let tied_scores = line.f_index_select(0, &at_least)?;
            let at_least = Vec::<i64>::try_from(at_least.f_to_device(Device::Cpu)?)?;
            let tied_scores = Vec::<f32>::try_from(tied_scores.f_to_device(Device::Cpu)?)?;
            keys.clear();
            keys.extend(
                tied_scores
                    .iter()
                    .zip(&at_least)
                    .map(|(&score, &index)| key(score, index as u32)),
            );
            keys.sort_unstable_by(|a, b| b.cmp(a));
            for (slot, &key) in table[row * k..(row + 1) * k].iter_mut().zip(&keys) {
                *slot = index_of(key);
            }
        }
        Ok(())
    }
}
