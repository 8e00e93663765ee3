//! Retrieval metrics from a score matrix whose correct gallery item for query `i` is item `i`.
//!
//! Ties count against the query: its rank is 1 + the number of gallery items scoring strictly
//! higher + the number of other items scoring exactly equal. A model that scores everything the
//! same therefore gets the worst rank, not a lucky one.

use crate::{ModelError, Result};

/// Retrieval quality in one direction (for example text queries against an item gallery).
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionMetrics {
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Share of queries whose correct item ranks first.
    pub recall_at_1: f64,
    /// Share of queries whose correct item ranks in the top 5.
    pub recall_at_5: f64,
    /// Share of queries whose correct item ranks in the top 10.
    pub recall_at_10: f64,
    /// Mean rank of the correct item (1 is best).
    pub mean_rank: f64,
    /// Reciprocal rank of each query, in query order (for paired statistics across runs).
    pub reciprocal_ranks: Vec<f64>,
}

impl DirectionMetrics {
    /// Summarises the (1-based) rank of the correct item of each query; `ranks` is non-empty.
    pub fn from_ranks(ranks: &[u64]) -> Self {
        let n = ranks.len() as f64;
        let recall = |k: u64| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
        let reciprocal_ranks: Vec<f64> = ranks.iter().map(|&r| 1.0 / r as f64).collect();
        DirectionMetrics {
            mrr: reciprocal_ranks.iter().sum::<f64>() / n,
            recall_at_1: recall(1),
            recall_at_5: recall(5),
            recall_at_10: recall(10),
            mean_rank: ranks.iter().map(|&r| r as f64).sum::<f64>() / n,
            reciprocal_ranks,
        }
    }
}

/// Metrics of a full row-major `n_queries x n_gallery` score matrix (higher is better).
pub fn retrieval_metrics(
    scores: &[f32],
    n_queries: usize,
    n_gallery: usize,
) -> Result<DirectionMetrics> {
    if n_queries == 0 {
        return Err(ModelError::InvalidScores("there are no queries".into()));
    }
    if scores.len() != n_queries * n_gallery {
        return Err(ModelError::InvalidScores(format!(
            "expected {n_queries} x {n_gallery} scores, got {}",
            scores.len()
        )));
    }
    let ranks = ranks_of_block(scores, n_gallery, 0)?;
    Ok(DirectionMetrics::from_ranks(&ranks))
}

/// Ranks of the correct items for a block of consecutive query rows starting at `first_query`,
/// so large galleries can be scored a block at a time.
pub fn ranks_of_block(scores: &[f32], n_gallery: usize, first_query: usize) -> Result<Vec<u64>> {
    if n_gallery == 0 || !scores.len().is_multiple_of(n_gallery) {
        return Err(ModelError::InvalidScores(format!(
            "{} scores do not form rows of {n_gallery}",
            scores.len()
        )));
    }
    let n_rows = scores.len() / n_gallery;
    if first_query + n_rows > n_gallery {
        return Err(ModelError::InvalidScores(format!(
            "query {} has no correct item in a gallery of {n_gallery}",
            first_query + n_rows - 1
        )));
    }
    scores
        .chunks_exact(n_gallery)
        .enumerate()
        .map(|(row, row_scores)| {
            let query = first_query + row;
            if row_scores.iter().any(|s| s.is_nan()) {
                return Err(ModelError::InvalidScores(format!(
                    "query {query} has a NaN score"
                )));
            }
            let correct = row_scores[query];
            // Counts the correct item itself (first place) plus every rival at or above it.
            let at_least_as_high = row_scores.iter().filter(|&&s| s >= correct).count();
            Ok(at_least_as_high as u64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Rank by sorting: the correct item is placed after every other item of equal score.
    fn reference_ranks(scores: &[f32], n_gallery: usize) -> Vec<u64> {
        scores
            .chunks_exact(n_gallery)
            .enumerate()
            .map(|(query, row)| {
                let mut order: Vec<usize> = (0..n_gallery).collect();
                order.sort_by(|&a, &b| {
                    row[b]
                        .total_cmp(&row[a])
                        .then((a == query).cmp(&(b == query)))
                });
                order.iter().position(|&g| g == query).unwrap() as u64 + 1
            })
            .collect()
    }

    #[test]
    fn hand_computed_ranks_and_summaries() {
        // Query 0: its 0.9 is best -> rank 1. Query 1: its 0.5 ties with one rival and one
        // scores higher -> rank 3. Query 2: its 0.1 is below two -> rank 3.
        let scores = [
            0.9, 0.1, 0.2, //
            0.7, 0.5, 0.5, //
            0.3, 0.2, 0.1,
        ];
        let metrics = retrieval_metrics(&scores, 3, 3).unwrap();
        assert_eq!(metrics.reciprocal_ranks, [1.0, 1.0 / 3.0, 1.0 / 3.0]);
        assert!((metrics.mrr - 5.0 / 9.0).abs() < 1e-12);
        assert!((metrics.recall_at_1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(metrics.recall_at_5, 1.0);
        assert!((metrics.mean_rank - 7.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn all_equal_scores_give_the_worst_rank() {
        let metrics = retrieval_metrics(&[0.0; 16], 4, 4).unwrap();
        assert_eq!(metrics.mean_rank, 4.0);
        assert_eq!(metrics.recall_at_1, 0.0);
    }

    #[test]
    fn recall_cut_offs_include_their_rank() {
        // Query 0 ranks 10th (nine rivals higher), query 1 ranks 11th (ten rivals higher).
        let mut scores = vec![0.0f32; 2 * 12];
        scores[1..10].fill(1.0);
        scores[10..12].fill(-1.0);
        for g in (0..11).filter(|&g| g != 1) {
            scores[12 + g] = 1.0;
        }
        scores[12 + 11] = -1.0;
        let metrics = retrieval_metrics(&scores, 2, 12).unwrap();
        assert_eq!(metrics.recall_at_10, 0.5);
        assert_eq!(metrics.recall_at_5, 0.0);
        assert_eq!(metrics.mean_rank, 10.5);
    }

    #[test]
    fn blocks_agree_with_the_whole_matrix() {
        let scores: Vec<f32> = (0..36).map(|v| ((v * 7) % 5) as f32).collect();
        let whole = ranks_of_block(&scores, 6, 0).unwrap();
        let mut blocks = ranks_of_block(&scores[..12], 6, 0).unwrap();
        blocks.extend(ranks_of_block(&scores[12..], 6, 2).unwrap());
        assert_eq!(whole, blocks);
    }

    #[test]
    fn rejects_nan_and_bad_shapes() {
        let err = retrieval_metrics(&[0.0, f32::NAN, 0.0, 0.0], 2, 2).unwrap_err();
        assert!(err.to_string().contains("query 0 has a NaN score"), "{err}");
        assert!(retrieval_metrics(&[0.0; 5], 2, 2).is_err());
        assert!(retrieval_metrics(&[], 0, 2).is_err());
        // A query beyond the gallery has no correct item.
        assert!(retrieval_metrics(&[0.0; 6], 3, 2).is_err());
    }

    proptest! {
        #[test]
        fn ranks_match_the_sorting_reference(
            (n_queries, n_gallery) in (1usize..8, 0usize..8).prop_map(|(q, extra)| (q, q + extra)),
            levels in 1usize..5,
            seed in any::<u64>(),
        ) {
            // Scores quantised to a few levels, so ties are common.
            let mut rng = sampler_api::rng::Rng::for_stream(seed, &[]);
            let scores: Vec<f32> = (0..n_queries * n_gallery)
                .map(|_| rng.below(levels) as f32 * 0.25)
                .collect();
            let expected = reference_ranks(&scores, n_gallery);
            prop_assert_eq!(&ranks_of_block(&scores, n_gallery, 0).unwrap(), &expected);
            let metrics = retrieval_metrics(&scores, n_queries, n_gallery).unwrap();
            let n = n_queries as f64;
            let mrr = expected.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / n;
            let mean_rank = expected.iter().sum::<u64>() as f64 / n;
            prop_assert!((metrics.mrr - mrr).abs() < 1e-9);
            prop_assert!((metrics.mean_rank - mean_rank).abs() < 1e-9);
        }
    }
}
