use hard_sampler::{HardConfig, HardSampler};
use proptest::prelude::*;
use sampler_api::{EpochNote, SamplerPlugin};
use sampler_kit::testing::{
    Dataset, assert_config_rejected, assert_hard_settings_checked, check_sampler_epoch,
    datasets_with_hard_configs,
};

proptest! {
    /// The promises checked (no hard shortfall, a full first hard group, no near-duplicate of a
    /// pivot in its batch under a cap) are the note's, and the note repeats the configuration.
    #[test]
    fn epochs_keep_the_configured_hard_promise(
        (spec, config) in datasets_with_hard_configs::<HardConfig>(),
        epoch in 1..1000u32,
    ) {
        let new_sampler = || HardSampler::new(config.clone()).expect("a valid configuration");
        prop_assert_eq!(new_sampler().neighbours_needed(), config.hardness_k);
        let run = check_sampler_epoch(new_sampler, &Dataset::new(spec), epoch)?;
        let note = EpochNote::hard("hard", config.hard_ratio, config.hardness_k)
            .with_max_similarity(config.max_similarity);
        prop_assert_eq!(run.note, note);
    }
}

#[test]
fn configuration_errors_name_the_setting() {
    assert_eq!(
        HardSampler::from_config("").unwrap().neighbours_needed(),
        100
    );
    assert_config_rejected::<HardSampler>(r#"{"hard_raito": 0.5}"#, "hard_raito");
    assert_hard_settings_checked::<HardSampler>(|config| &mut config.hard_ratio);
}
