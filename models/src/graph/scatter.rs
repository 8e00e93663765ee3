//! Index-based reductions over segments (atoms of a molecule, edges into an atom), the
//! building blocks of message passing without padding.

use tch::Tensor;

/// Sums the rows of `values` that share a `segment` id into row `id` of an `n_segments`-row
/// result (rows of empty segments are 0).
pub(crate) fn segment_sum(values: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let mut shape = values.size();
    shape[0] = n_segments;
    values
        .new_zeros(shape.as_slice(), (values.kind(), values.device()))
        .index_add(0, segment, values)
}

/// Softmax of `scores` (`entries x heads`) over the entries of each segment: entries with the same
/// `segment` id (in `0..n_segments`) get weights summing to 1 per head.
///
/// Each segment's maximum is subtracted before `exp` (a constant per segment, so it carries no
/// gradient), which keeps large scores finite.
pub(crate) fn segment_softmax(scores: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let mut shape = scores.size();
    shape[0] = n_segments;
    let maxima = scores
        .new_zeros(shape.as_slice(), (scores.kind(), scores.device()))
        .internal_scatter_reduce(
            0,
            &segment.unsqueeze(1).expand_as(scores),
            &scores.detach(),
            "amax",
            false,
        );
    let exps = (scores - maxima.index_select(0, segment)).exp();
    let sums = segment_sum(&exps, segment, n_segments);
    exps / sums.index_select(0, segment)
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn softmax_sums_to_one_per_segment_and_head() {
        let scores =
            crate::trainer::seeded(0, || Tensor::randn([9, 2], (Kind::Float, Device::Cpu))) * 30.0;
        let segment = Tensor::from_slice(&[2i64, 0, 2, 1, 0, 2, 2, 1, 0]);
        let weights = segment_softmax(&scores, &segment, 4);
        let sums = segment_sum(&weights, &segment, 4);
        let expected =
            Tensor::from_slice(&[1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]).view([4, 2]);
        assert!(sums.allclose(&expected, 1e-5, 1e-6, false), "{sums}");
        // Each segment on its own matches the dense softmax.
        let first = weights.index_select(0, &Tensor::from_slice(&[1i64, 4, 8]));
        let dense = scores
            .index_select(0, &Tensor::from_slice(&[1i64, 4, 8]))
            .softmax(0, Kind::Float);
        assert!(first.allclose(&dense, 1e-5, 1e-6, false));
    }

    #[test]
    fn huge_scores_stay_finite() {
        let scores = Tensor::from_slice(&[1000.0f32, 999.0, -1000.0]).view([3, 1]);
        let segment = Tensor::from_slice(&[0i64, 0, 1]);
        let weights =
            Vec::<f32>::try_from(segment_softmax(&scores, &segment, 2).view([-1])).unwrap();
        assert!(weights.iter().all(|w| w.is_finite()));
        assert!((weights[0] - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
        assert_eq!(weights[2], 1.0);
    }
}
