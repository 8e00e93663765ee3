use curriculum_sampler::{CurriculumConfig, CurriculumSampler};
use proptest::prelude::*;
use sampler_api::{EpochNote, SamplerPlugin};
use sampler_kit::testing::{
    Dataset, DatasetSpec, assert_config_rejected, assert_hard_settings_checked,
    check_sampler_epoch, checked_epoch, datasets_with_hard_configs,
};
use sampler_kit::{HardBatching, shuffled_epoch};

fn cases() -> impl Strategy<Value = (DatasetSpec, CurriculumConfig)> {
    (datasets_with_hard_configs(), 0..=6u32).prop_map(|((spec, config), curriculum_epoch)| {
        let config = CurriculumConfig {
            curriculum_epoch,
            ..config
        };
        (spec, config)
    })
}

proptest! {
    /// Warm-up epochs are exactly the random sampler's (the kit's shuffle, without a cap), later
    /// ones exactly the hard sampler's (the kit's hard batching), and the note says which.
    #[test]
    fn warm_up_is_random_then_batches_are_hard(
        (spec, config) in cases(),
        epoch in 1..=10u32,
    ) {
        let new_sampler = || CurriculumSampler::new(config.clone()).expect("a valid configuration");
        prop_assert_eq!(new_sampler().neighbours_needed(), config.hardness_k);
        let dataset = Dataset::new(spec);
        let run = check_sampler_epoch(new_sampler, &dataset, epoch)?;

        let data = dataset.data();
        let expected = if epoch <= config.curriculum_epoch {
            let note = EpochNote { stage: "random (warm-up)".into(), ..EpochNote::random() };
            checked_epoch(&data, |sink| shuffled_epoch(&data, epoch, sink).map(|()| note))?
        } else {
            let batching = HardBatching::from_settings(
                config.hard_ratio,
                config.hardness_k,
                config.max_similarity,
            )
            .unwrap();
            let note = EpochNote::hard("hard", config.hard_ratio, config.hardness_k)
                .with_max_similarity(config.max_similarity);
            checked_epoch(&data, |sink| batching.fill_epoch(&data, epoch, sink).map(|()| note))?
        };
        prop_assert_eq!(run, expected);
    }
}

#[test]
fn configuration_errors_name_the_setting() {
    assert_config_rejected::<CurriculumSampler>(r#"{"warmup": 3}"#, "warmup");
    assert_config_rejected::<CurriculumSampler>(r#"{"curriculum_epoch": -1}"#, "invalid");
    assert_hard_settings_checked::<CurriculumSampler>(|config| &mut config.hard_ratio);
}
