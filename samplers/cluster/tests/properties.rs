use std::sync::Arc;

use cluster_sampler::{ClusterConfig, ClusterSampler};
use fixtures::ClusterSpec;
use proptest::prelude::*;
use sampler_api::{EpochBuffers, EpochNote, SamplerData, SamplerPlugin};
use sampler_kit::testing::{
    Dataset, DatasetSpec, assert_config_rejected, check_sampler_epoch, dataset_specs,
    max_similarities,
};

fn cases() -> impl Strategy<Value = (DatasetSpec, ClusterConfig)> {
    dataset_specs(0).prop_flat_map(|spec| {
        let n_items = spec.n_items;
        let clusters = prop_oneof![Just(None), (1..=n_items).prop_map(Some)];
        (Just(spec), clusters, max_similarities()).prop_map(|(spec, clusters, max_similarity)| {
            let config = ClusterConfig {
                clusters,
                max_similarity,
            };
            (spec, config)
        })
    })
}

proptest! {
    /// Every sampler's checks (contract, determinism, the cap), and what is particular to this
    /// one: the topics partition the items, each fills a batch (unless it is the only one), and
    /// without a cap every batch comes from one topic or two.
    #[test]
    fn epochs_cut_batches_from_one_topic_or_two((spec, config) in cases(), epoch in 1..100u32) {
        let new_sampler = || ClusterSampler::new(config.clone()).expect("a valid configuration");
        prop_assert_eq!(new_sampler().neighbours_needed(), 0);
        let dataset = Dataset::new(spec);
        let run = check_sampler_epoch(new_sampler, &dataset, epoch)?;
        let note = EpochNote { stage: "cluster".into(), ..EpochNote::random() }
            .with_max_similarity(config.max_similarity);
        prop_assert_eq!(run.note, note);

        let data = dataset.data();
        let sampler = new_sampler();
        let topics = sampler.topics(&data).expect("valid inputs");
        let clusters = sampler.clusters_for(data.n_items()).expect("at most n_items");
        prop_assert!((1..=clusters).contains(&topics.members().len()));
        let mut topic_of = vec![usize::MAX; data.n_items()];
        for (topic, members) in topics.members().iter().enumerate() {
            prop_assert!(members.len() >= data.batch_size() || topics.members().len() == 1);
            for &item in members {
                prop_assert_eq!(topic_of[item as usize], usize::MAX, "item {} twice", item);
                topic_of[item as usize] = topic;
            }
        }
        prop_assert!(topic_of.iter().all(|&topic| topic != usize::MAX));
        if config.max_similarity.is_none() {
            for batch in &run.batches {
                let mut spanned: Vec<usize> =
                    batch.iter().map(|&item| topic_of[item as usize]).collect();
                spanned.sort_unstable();
                spanned.dedup();
                prop_assert!(spanned.len() <= 2, "batch {:?} spans topics {:?}", batch, spanned);
            }
        }
    }
}

#[test]
fn batches_follow_the_fixture_clusters() {
    // The harness check's fixture: 1,000 unit vectors around 5 centres in 32 dimensions.
    let spec = ClusterSpec {
        items: 1000,
        seed: 7,
        ..ClusterSpec::QUICK_TEST
    };
    let fixture = spec.generate();
    let data = SamplerData::new(1000, 32, 1, false, &fixture.embeddings, 32, &[], 0).unwrap();
    let mean_dominant_share = |sampler: &ClusterSampler| {
        let mut buffers = EpochBuffers::new(1000);
        let mut sink = buffers.sink();
        sampler.epoch(&data, 1, &mut sink).unwrap();
        let shares: Vec<f64> = sink
            .batches()
            .map(|batch| {
                let mut counts = [0usize; 5];
                for &item in batch {
                    counts[fixture.labels[item as usize]] += 1;
                }
                *counts.iter().max().unwrap() as f64 / batch.len() as f64
            })
            .collect();
        shares.iter().sum::<f64>() / shares.len() as f64
    };
    // As many clusters as centres: k-means finds them (0.97: only batches where two topics meet
    // mix). By default (16 clusters) each centre splits into several topics, still one centre
    // per topic (0.92). Random batches score about 0.3.
    let five = ClusterSampler::from_config(r#"{"clusters": 5}"#).unwrap();
    assert!(mean_dominant_share(&five) > 0.9);
    let default = ClusterSampler::from_config("").unwrap();
    assert!(mean_dominant_share(&default) > 0.9);
}

#[test]
fn topics_are_computed_once_per_inputs() {
    let dataset = Dataset::new(DatasetSpec {
        n_items: 200,
        batch_size: 8,
        k: 0,
        n_clusters: 4,
        seed: 3,
        drop_last: false,
    });
    let sampler = ClusterSampler::from_config(r#"{"clusters": 6}"#).unwrap();
    let first = sampler.topics(&dataset.data()).unwrap();
    assert!(Arc::ptr_eq(
        &first,
        &sampler.topics(&dataset.data()).unwrap()
    ));
    let reseeded = sampler.topics(&dataset.data_with_seed(4)).unwrap();
    assert!(!Arc::ptr_eq(&first, &reseeded));
    // Back to the first seed: the same topics as before, computed again.
    let again = sampler.topics(&dataset.data()).unwrap();
    assert!(!Arc::ptr_eq(&first, &again));
    assert_eq!(*first, *again);
}

#[test]
fn the_default_aims_at_64_items_per_topic() {
    let sampler = ClusterSampler::from_config("").unwrap();
    let clusters: Vec<usize> = [1, 31, 32, 100, 3301, 6601]
        .iter()
        .map(|&n| sampler.clusters_for(n).unwrap())
        .collect();
    assert_eq!(clusters, [1, 1, 1, 2, 52, 103]);
}

#[test]
fn configuration_errors_name_the_setting() {
    assert_config_rejected::<ClusterSampler>(r#"{"k": 5}"#, "k");
    assert_config_rejected::<ClusterSampler>(r#"{"clusters": 0}"#, "clusters");
    assert_config_rejected::<ClusterSampler>(r#"{"clusters": -1}"#, "invalid");
    for cap in ["0", "1.2"] {
        assert_config_rejected::<ClusterSampler>(
            &format!(r#"{{"max_similarity": {cap}}}"#),
            "max_similarity",
        );
    }
    let too_many = ClusterSampler::from_config(r#"{"clusters": 50}"#).unwrap();
    let dataset = Dataset::new(DatasetSpec {
        n_items: 40,
        batch_size: 4,
        k: 0,
        n_clusters: 2,
        seed: 1,
        drop_last: false,
    });
    let mut buffers = EpochBuffers::new(40);
    let error = too_many
        .epoch(&dataset.data(), 1, &mut buffers.sink())
        .unwrap_err();
    assert_eq!(error.to_string(), "clusters: 50 exceeds the 40 items");
}
