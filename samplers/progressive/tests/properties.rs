use progressive_sampler::{ProgressiveConfig, ProgressiveSampler, Stage};
use proptest::prelude::*;
use sampler_api::{EpochNote, SamplerPlugin};
use sampler_kit::testing::{
    Dataset, DatasetSpec, assert_config_rejected, check_sampler_epoch, dataset_specs,
    hard_batchings, max_similarities,
};

/// Schedules of 1 to 4 stages, 1 to 5 epochs apart, so that epochs 1..=20 reach every stage.
fn schedules(max_k: usize) -> impl Strategy<Value = Vec<Stage>> {
    prop::collection::vec((1..=5u32, hard_batchings(max_k)), 1..=4).prop_map(|steps| {
        let mut first_epoch = 1;
        steps
            .into_iter()
            .enumerate()
            .map(|(index, (gap, batching))| {
                if index > 0 {
                    first_epoch += gap;
                }
                Stage {
                    first_epoch,
                    hard_ratio: batching.hard_ratio,
                    hardness_k: batching.hardness_k,
                }
            })
            .collect()
    })
}

fn cases() -> impl Strategy<Value = (DatasetSpec, ProgressiveConfig)> {
    dataset_specs(1).prop_flat_map(|spec| {
        let max_k = spec.k;
        (Just(spec), schedules(max_k), max_similarities()).prop_map(
            |(spec, stages, max_similarity)| {
                let config = ProgressiveConfig {
                    stages,
                    max_similarity,
                };
                (spec, config)
            },
        )
    })
}

proptest! {
    /// The note names the stage in force and its settings (and the cap, in every stage), whose
    /// promises the batches keep.
    #[test]
    fn notes_follow_the_schedule((spec, config) in cases(), epoch in 1..=20u32) {
        let stages = &config.stages;
        let new_sampler = || ProgressiveSampler::new(config.clone()).expect("a valid schedule");
        let largest_k = stages.iter().map(|stage| stage.hardness_k).max();
        prop_assert_eq!(Some(new_sampler().neighbours_needed()), largest_k);
        let run = check_sampler_epoch(new_sampler, &Dataset::new(spec), epoch)?;

        let (index, stage) = stages
            .iter()
            .enumerate()
            .rfind(|(_, stage)| stage.first_epoch <= epoch)
            .expect("the first stage starts at epoch 1");
        let label = format!("stage {}/{} (from epoch {})", index + 1, stages.len(), stage.first_epoch);
        let note = EpochNote::hard(label, stage.hard_ratio, stage.hardness_k)
            .with_max_similarity(config.max_similarity);
        prop_assert_eq!(run.note, note);
    }
}

#[test]
fn the_default_is_the_reference_recipe() {
    let sampler = ProgressiveSampler::from_config("").unwrap();
    assert_eq!(sampler.neighbours_needed(), 100);
    let stages = ProgressiveConfig::default().stages;
    let recipe: Vec<(u32, f64, usize)> = stages
        .iter()
        .map(|stage| (stage.first_epoch, stage.hard_ratio, stage.hardness_k))
        .collect();
    assert_eq!(recipe, [(1, 0.3, 100), (11, 0.6, 100), (21, 0.8, 30)]);
}

#[test]
fn configuration_errors_name_the_stage_field() {
    let with_stages = |stages: &str| format!(r#"{{"stages": [{stages}]}}"#);
    let stage = |first_epoch: i64, hard_ratio: &str, hardness_k: i64| {
        format!(
            r#"{{"first_epoch": {first_epoch}, "hard_ratio": {hard_ratio}, "hardness_k": {hardness_k}}}"#
        )
    };
    let valid = stage(1, "0.3", 10);
    let rejected = [
        (with_stages(""), "stages: needs at least one stage"),
        (with_stages(&stage(2, "0.3", 10)), "stages[0].first_epoch"),
        (
            with_stages(&format!("{valid}, {}", stage(1, "0.5", 10))),
            "stages[1].first_epoch",
        ),
        (
            with_stages(&format!("{valid}, {}", stage(5, "1.5", 10))),
            "stages[1].hard_ratio",
        ),
        (
            with_stages(&format!("{valid}, {}", stage(5, "-0.1", 10))),
            "stages[1].hard_ratio",
        ),
        (
            with_stages(&format!("{valid}, {}", stage(5, "0.5", 0))),
            "stages[1].hardness_k",
        ),
        (
            with_stages(r#"{"first_epoch": 1, "ratio": 0.3, "hardness_k": 10}"#),
            "ratio",
        ),
        (
            with_stages(r#"{"first_epoch": 1, "hardness_k": 10}"#),
            "hard_ratio",
        ),
        (r#"{"stage": []}"#.to_string(), "stage"),
        (r#"{"max_similarity": 1.5}"#.to_string(), "max_similarity"),
    ];
    for (json, named) in rejected {
        assert_config_rejected::<ProgressiveSampler>(&json, named);
    }
    let nan = ProgressiveSampler::new(ProgressiveConfig {
        stages: vec![Stage {
            first_epoch: 1,
            hard_ratio: f64::NAN,
            hardness_k: 10,
        }],
        max_similarity: None,
    });
    assert!(
        nan.unwrap_err()
            .to_string()
            .starts_with("stages[0].hard_ratio:")
    );
}
