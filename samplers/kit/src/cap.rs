use sampler_api::similarity::at_or_above;
use sampler_api::{SamplerData, SamplerError};

/// False-negative control: items whose description cosine with a batch's pivot is at or above
/// `max_similarity` are kept out of the pivot's batch (they stay unplaced for later batches), as
/// the `max_similarity` note of [`sampler_api::EpochNote`] promises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarityCap {
    max_similarity: f64,
}

impl SimilarityCap {
    /// A cap from the `max_similarity` setting: off when unset; errors name `max_similarity`.
    pub fn from_setting(max_similarity: Option<f64>) -> Result<Option<Self>, SamplerError> {
        max_similarity.map(Self::new).transpose()
    }

    /// A cap at `max_similarity`, a cosine in `(0, 1]`; errors name `max_similarity`.
    pub fn new(max_similarity: f64) -> Result<Self, SamplerError> {
        // The range test is false for NaN and the infinities too.
        if !(max_similarity > 0.0 && max_similarity <= 1.0) {
            return Err(SamplerError::parameter(
                "max_similarity",
                format!("must be a cosine in (0, 1], got {max_similarity}"),
            ));
        }
        Ok(SimilarityCap { max_similarity })
    }

    /// The cap as set.
    pub fn max_similarity(self) -> f64 {
        self.max_similarity
    }

    /// Whether `item` may share a batch with `pivot`: their description cosine is below the cap.
    pub fn allows(self, data: &SamplerData<'_>, pivot: u32, item: u32) -> bool {
        let cosine = data.cosine(pivot as usize, item as usize);
        !at_or_above(cosine, self.max_similarity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cosines_in_the_unit_interval_are_caps() {
        for good in [1.0, 0.95, 1e-9] {
            assert_eq!(SimilarityCap::new(good).unwrap().max_similarity(), good);
        }
        for bad in [0.0, -0.5, 1.01, f64::NAN, f64::INFINITY] {
            let message = SimilarityCap::new(bad).unwrap_err().to_string();
            assert!(
                message.starts_with("max_similarity: must be a cosine in (0, 1]"),
                "{message}"
            );
        }
        assert_eq!(SimilarityCap::from_setting(None).unwrap(), None);
    }

    #[test]
    fn a_cap_keeps_out_cosines_at_or_above_it() {
        // Cosines with item 0: 1 (item 1, a copy), 0.6 (item 2), 0 (item 3).
        let embeddings = [1.0f32, 0.0, 1.0, 0.0, 0.6, 0.8, 0.0, 1.0];
        let data = SamplerData::new(4, 2, 0, false, &embeddings, 2, &[], 0).unwrap();
        let cap = SimilarityCap::new(0.6).unwrap();
        let allowed: Vec<bool> = (1..4).map(|item| cap.allows(&data, 0, item)).collect();
        assert_eq!(allowed, [false, false, true]);
        assert!(!SimilarityCap::new(1.0).unwrap().allows(&data, 0, 1));
    }
}
