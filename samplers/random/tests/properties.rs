use proptest::prelude::*;
use random_sampler::RandomSampler;
use sampler_api::{EpochNote, SamplerPlugin};
use sampler_kit::testing::{Dataset, assert_config_rejected, check_sampler_epoch, dataset_specs};

fn sampler() -> RandomSampler {
    RandomSampler::from_config("{}").expect("the empty configuration")
}

proptest! {
    #[test]
    fn epochs_are_seeded_shuffles(spec in dataset_specs(0), epoch in 1..1000u32) {
        let run = check_sampler_epoch(sampler, &Dataset::new(spec), epoch)?;
        prop_assert_eq!(run.note, EpochNote::random());
    }
}

#[test]
fn takes_no_settings() {
    assert_eq!(sampler().neighbours_needed(), 0);
    assert_config_rejected::<RandomSampler>(r#"{"hard_ratio": 0.5}"#, "hard_ratio");
}
