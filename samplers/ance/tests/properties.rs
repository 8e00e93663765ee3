use ance_sampler::{AnceConfig, AnceSampler};
use proptest::prelude::*;
use sampler_api::contract::HardnessMeter;
use sampler_api::{EpochBuffers, EpochNote, HardTable, Sampler, SamplerPlugin};
use sampler_kit::testing::{
    Dataset, DatasetSpec, assert_config_rejected, assert_hard_settings_checked,
    check_sampler_epoch, datasets_with_hard_configs,
};

fn cases() -> impl Strategy<Value = (DatasetSpec, AnceConfig)> {
    (datasets_with_hard_configs(), 0..4u32, 1..4u32).prop_map(
        |((spec, config), warmup_epochs, refresh_every)| {
            let config = AnceConfig {
                warmup_epochs,
                refresh_every,
                ..config
            };
            (spec, config)
        },
    )
}

proptest! {
    /// With model tables, epochs after the warm-up keep the hard promise against the confusion
    /// table (which disagrees with the description neighbours here); before, they are random.
    #[test]
    fn epochs_follow_the_model_tables_after_the_warm_up((spec, config) in cases(), epoch in 1..1000u32) {
        let new_sampler = || AnceSampler::new(config.clone()).expect("a valid configuration");
        let needs = Sampler::model_neighbours_needed(&new_sampler());
        prop_assert_eq!((needs.k, needs.refresh_every), (config.hardness_k, config.refresh_every));
        prop_assert_eq!(Sampler::neighbours_needed(&new_sampler()), 0);
        let run = check_sampler_epoch(new_sampler, &Dataset::new(spec).with_model_tables(), epoch)?;
        let expected = if epoch <= config.warmup_epochs {
            EpochNote { stage: "random (warm-up)".into(), ..EpochNote::random() }
        } else {
            EpochNote::hard("ance", config.hard_ratio, config.hardness_k)
                .with_max_similarity(config.max_similarity)
                .from_table(HardTable::ModelConfusions)
        };
        prop_assert_eq!(run.note, expected);
    }

    /// Without model tables (before the first refresh) every epoch is random.
    #[test]
    fn epochs_without_tables_are_random((spec, config) in cases(), epoch in 1..1000u32) {
        let new_sampler = || AnceSampler::new(config.clone()).expect("a valid configuration");
        let run = check_sampler_epoch(new_sampler, &Dataset::new(spec), epoch)?;
        prop_assert_eq!(run.note.hard_ratio, 0.0);
        prop_assert_eq!(run.note.table, HardTable::Text);
    }
}

#[test]
fn first_batches_are_groups_of_the_confusion_table_not_of_the_descriptions() {
    // 8 clusters of 5, k = 4: each row of either table is exactly the item's cluster mates,
    // and the two clusterings differ.
    let dataset = Dataset::new(DatasetSpec::clusters_of_five()).with_model_tables();
    let data = dataset.data();
    let sampler = AnceSampler::from_config(r#"{"hard_ratio":1.0,"hardness_k":4}"#).unwrap();
    let mut buffers = EpochBuffers::new(40);
    let mut sink = buffers.sink();
    Sampler::epoch(&sampler, &data, 2, &mut sink).unwrap();
    let first = sink.batch(0).to_vec();
    let confusions = data.through(HardTable::ModelConfusions).unwrap();
    let mut meter = HardnessMeter::new(40);
    assert_eq!(
        meter.hard_group(&first, &confusions, 4).size,
        5,
        "{first:?}"
    );
    assert!(meter.hard_group(&first, &data, 4).size < 5, "{first:?}");
}

#[test]
fn configuration_errors_name_the_setting() {
    let default = AnceSampler::from_config("").unwrap();
    assert_eq!(Sampler::model_neighbours_needed(&default).k, 30);
    assert_eq!(Sampler::model_neighbours_needed(&default).refresh_every, 1);
    assert_config_rejected::<AnceSampler>(r#"{"hardness_kk": 5}"#, "hardness_kk");
    assert_config_rejected::<AnceSampler>(r#"{"refresh_every": 0}"#, "refresh_every");
    assert_hard_settings_checked::<AnceSampler>(|config| &mut config.hard_ratio);
}
