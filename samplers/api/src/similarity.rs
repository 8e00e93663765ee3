//! Description similarity of items (the dot product of their unit embeddings, their cosine) and
//! the false-negative measure built on it: how many in-batch negative pairs are near-duplicates.
//!
//! A contrastive loss treats every other pair of a batch as a negative. When two descriptions say
//! nearly the same thing, that "negative" is really a positive (a false negative), and the loss
//! pushes apart what it should pull together. Nearest-neighbour batching packs such pairs.

use crate::{BatchSink, SamplerData};

/// Description cosine at or above which two items of one batch count as near-duplicates, that
/// is, as a probable false negative.
pub const FALSE_NEGATIVE_COSINE: f64 = 0.95;

/// Floats summed side by side in [`dot`]: wide enough for the compiler to vectorise the loop.
const LANES: usize = 8;

/// The dot product of two equally long vectors (panics otherwise). The summation order is fixed
/// (eight interleaved partial sums, then the tail), so the result is the same on every call.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot product of vectors of unequal length");
    let (a_chunks, a_tail) = a.as_chunks::<LANES>();
    let (b_chunks, b_tail) = b.as_chunks::<LANES>();
    let mut sums = [0.0f32; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    sums.iter().sum::<f32>() + tail
}

/// Whether a cosine is at or above a threshold, compared in the embeddings' precision (f32), so
/// that a cosine of exactly `threshold` counts.
pub fn at_or_above(cosine: f32, threshold: f64) -> bool {
    cosine >= threshold as f32
}

/// In-batch negative pairs and how many of them are near-duplicates (description cosine at or
/// above [`FALSE_NEGATIVE_COSINE`]), counted over batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FalseNegativeCount {
    /// Unordered pairs of distinct items that shared a batch.
    pub pairs: u64,
    /// Those of them whose descriptions are near-duplicates.
    pub near_duplicates: u64,
}

impl FalseNegativeCount {
    /// The count over every batch of one epoch: one dot product per in-batch pair.
    pub fn of_epoch(batches: &BatchSink<'_>, data: &SamplerData<'_>) -> Self {
        let mut count = FalseNegativeCount::default();
        for batch in batches.batches() {
            count.add_batch(batch, data);
        }
        count
    }

    /// Adds the pairs of one batch.
    pub fn add_batch(&mut self, batch: &[u32], data: &SamplerData<'_>) {
        for (index, &first) in batch.iter().enumerate() {
            let embedding = data.embedding(first as usize);
            for &second in &batch[index + 1..] {
                let cosine = dot(embedding, data.embedding(second as usize));
                self.near_duplicates += u64::from(at_or_above(cosine, FALSE_NEGATIVE_COSINE));
            }
        }
        let n = batch.len() as u64;
        self.pairs += n * n.saturating_sub(1) / 2;
    }

    /// The share of pairs that are near-duplicates; `None` without any pair (batches of one).
    pub fn share(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.near_duplicates as f64 / self.pairs as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EpochBuffers;

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for len in [0, 1, 7, 8, 9, 17, 384] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            assert!(
                (f64::from(dot(&a, &b)) - plain).abs() < 1e-4,
                "length {len}"
            );
        }
    }

    /// Unit vectors at angle `radians` from the first axis, in two dimensions.
    fn at_angles(radians: &[f32]) -> Vec<f32> {
        radians.iter().flat_map(|r| [r.cos(), r.sin()]).collect()
    }

    #[test]
    fn counts_near_duplicate_pairs_within_batches_only() {
        // Items 0, 1, 2 lie within 0.1 rad of each other (cosine >= 0.995); 3 is at right
        // angles; 4 and 5 coincide but never share a batch.
        let embeddings = at_angles(&[0.0, 0.05, 0.1, std::f32::consts::FRAC_PI_2, 3.0, 3.0]);
        let data = SamplerData::new(6, 4, 0, false, &embeddings, 2, &[], 0).unwrap();
        let mut buffers = EpochBuffers::new(6);
        let mut sink = buffers.sink();
        for batch in [&[0u32, 1, 2, 3][..], &[4], &[5]] {
            sink.push_batch(batch).unwrap();
        }
        let count = FalseNegativeCount::of_epoch(&sink, &data);
        assert_eq!(
            count,
            FalseNegativeCount {
                pairs: 6,
                near_duplicates: 3
            }
        );
        assert_eq!(count.share(), Some(0.5));
        assert_eq!(FalseNegativeCount::default().share(), None);
    }

    #[test]
    fn the_threshold_is_inclusive() {
        // The unit vector in the plane whose cosine with [1, 0] is `cosine`.
        let unit = |cosine: f32| [cosine, (1.0 - cosine * cosine).sqrt()];
        let at = FALSE_NEGATIVE_COSINE as f32;
        let below = at - 1e-4;
        let embeddings: Vec<f32> = [[1.0, 0.0], unit(at), [1.0, 0.0], unit(below)].concat();
        let data = SamplerData::new(4, 2, 0, false, &embeddings, 2, &[], 0).unwrap();
        let mut count = FalseNegativeCount::default();
        count.add_batch(&[0, 1], &data);
        assert_eq!(
            count.near_duplicates, 1,
            "a cosine of exactly the threshold counts"
        );
        count.add_batch(&[2, 3], &data);
        assert_eq!(count.near_duplicates, 1, "a cosine just below it does not");
    }
}
