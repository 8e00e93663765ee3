//! The accelerator method: row blocks against all rows, top-`k` on the device.
//!
//! On a GPU the GEMM is so fast that the CPU selection of [`blocked`](super::blocked) would be
//! the bottleneck, so selection stays on the device: for each block of rows, `S = X_B X^T`
//! (`rows x n`), the diagonal masked with `-inf`, and `topk(k + 1)` on the device. Only the
//! `(k + 1)`-wide result crosses to the host, where each row is sorted by (similarity
//! descending, index ascending). `topk` does not promise which of several equal values it
//! returns, so when the `(k + 1)`-th value equals the `k`-th the cut may fall inside a tie;
//! those rows are redone from every column at or above the `k`-th value, which restores the
//! lower-index rule exactly.
//!
//! Works on any libtorch device; the tests run it on the CPU.

use super::Result;
use tch::{Device, Tensor};

use super::select::{index_of, key};

/// Device memory allowed for one block of scores, in f32 values (1 GiB).
const SCORE_BUDGET: usize = 256 << 20;

/// Exact top-`k` of every row, self excluded, computed on `device`.
pub(super) fn neighbour_table(
    embeddings: &[f32],
    dim: usize,
    k: usize,
    device: Device,
) -> Result<Vec<u32>> {
    let n = embeddings.len() / dim;
    let all = Tensor::f_from_slice(embeddings)?
        .f_view([n as i64, dim as i64])?
        .f_to_device(device)?;
    let all_t = all.f_tr()?;
    let block = (SCORE_BUDGET / n).clamp(1, n);
    // One candidate beyond k shows whether the cut falls inside a tie; with k = n - 1 the extra
    // one is the masked diagonal (-inf), which never ties with a finite k-th value.
    let fetched = (k + 1).min(n);
    let mut table = Vec::with_capacity(n * k);
    let mut keys: Vec<u64> = Vec::with_capacity(fetched);
    for start in (0..n).step_by(block) {
        let rows = block.min(n - start);
        let scores = all.f_narrow(0, start as i64, rows as i64)?.f_mm(&all_t)?;
        let _ = scores
            .f_narrow(1, start as i64, rows as i64)?
            .f_diagonal(0, 0, 1)?
            .f_fill_(f64::NEG_INFINITY)?;
        let (values, indices) = scores.f_topk(fetched as i64, 1, true, true)?;
        let values = Vec::<f32>::try_from(values.f_contiguous()?.f_view(-1)?)?;
        let indices = Vec::<i64>::try_from(indices.f_contiguous()?.f_view(-1)?)?;
        for row in 0..rows {
            let span = row * fetched..(row + 1) * fetched;
            keys.clear();
            keys.extend(
                values[span.clone()]
                    .iter()
                    .zip(&indices[span])
                    .map(|(&score, &index)| key(score, index as u32)),
            );
            keys.sort_unstable_by(|a, b| b.cmp(a));
            let kth = values[row * fetched + k - 1];
            let next = values[row * fetched + fetched - 1];
            if next == kth {
                // The cut falls inside a tie: take every column at or above the k-th value.
                let line = scores.f_get(row as i64)?;
                let at_least = line.f_ge(f64::from(kth))?.f_nonzero()?.f_view(-1)?;
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
            }
            table.extend(keys[..k].iter().map(|&key| index_of(key)));
        }
    }
    Ok(table)
}
