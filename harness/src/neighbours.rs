//! The neighbour table: for every item, its `k` nearest other items by cosine similarity of the
//! description embeddings, nearest first.
//!
//! Computed exactly with libtorch GEMM over row blocks, so extra memory stays near
//! `BLOCK_FLOATS` floats whatever the number of items. Ties are broken by the lower index
//! inside the selected set.

use anyhow::{Result, bail};
use tch::{Device, Kind, Tensor};

/// Similarity-block budget in floats (256 MiB of f32).
const BLOCK_FLOATS: usize = 64 << 20;

/// Exact top-`k` cosine neighbours of unit rows, self excluded; row-major `n x k`.
pub fn neighbour_table(embeddings: &[f32], dim: usize, k: usize) -> Result<Vec<u32>> {
    let n = embeddings.len() / dim.max(1);
    if k == 0 {
        return Ok(Vec::new());
    }
    if k >= n {
        bail!("k ({k}) must be smaller than the number of items ({n})");
    }
    let all = Tensor::from_slice(embeddings)
        .view([n as i64, dim as i64])
        .to_device(Device::Cpu);
    let block = (BLOCK_FLOATS / n).clamp(1, n);
    let mut table = Vec::with_capacity(n * k);
    for start in (0..n).step_by(block) {
        let rows = block.min(n - start);
        let mut scores = all
            .narrow(0, start as i64, rows as i64)
            .matmul(&all.transpose(0, 1));
        // Exclude self-matches: the diagonal of this block sits at column start + row.
        let own = Tensor::arange_start(
            (start) as i64,
            (start + rows) as i64,
            (Kind::Int64, Device::Cpu),
        );
        let _ = scores.index_put_(
            &[
                Some(Tensor::arange(rows as i64, (Kind::Int64, Device::Cpu))),
                Some(own),
            ],
            &Tensor::from(f32::NEG_INFINITY),
            false,
        );
        let (values, indices) = scores.topk(k as i64, 1, true, true);
        let values = Vec::<f32>::try_from(values.contiguous().view(-1))?;
        let indices = Vec::<i64>::try_from(indices.contiguous().view(-1))?;
        for row in 0..rows {
            let mut selected: Vec<(f32, i64)> = (0..k)
                .map(|j| (values[row * k + j], indices[row * k + j]))
                .collect();
            selected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            table.extend(selected.iter().map(|&(_, index)| index as u32));
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_brute_force_reference() {
        let (n, dim, k) = (500, 24, 30);
        let data = fixtures::clustered_embeddings(n, 7, dim, 0.9, 11);
        let fast = neighbour_table(&data.embeddings, dim, k).unwrap();
        let reference = fixtures::exact_neighbours(&data.embeddings, dim, k);
        let row = |i: usize| &data.embeddings[i * dim..(i + 1) * dim];
        let cosine = |i: usize, j: u32| -> f64 {
            row(i)
                .iter()
                .zip(row(j as usize))
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        };
        // f32 GEMM and the f64 reference may order near-equal similarities differently, so
        // compare the similarity at each rank, and require identical lists almost everywhere.
        let mut identical_rows = 0;
        for i in 0..n {
            let (ours, theirs) = (&fast[i * k..(i + 1) * k], &reference[i * k..(i + 1) * k]);
            for (a, b) in ours.iter().zip(theirs) {
                assert!(
                    (cosine(i, *a) - cosine(i, *b)).abs() < 1e-5,
                    "row {i}: {ours:?} vs {theirs:?}"
                );
            }
            assert!(!ours.contains(&(i as u32)));
            identical_rows += usize::from(ours == theirs);
        }
        assert!(
            identical_rows * 100 >= n * 99,
            "{identical_rows} of {n} rows identical"
        );
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
    }
}
