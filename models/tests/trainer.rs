//! The protocol end to end on a small synthetic task.

use fixtures::{SyntheticTaskConfig, synthetic_task};
use models::{ModelError, ProtocolConfig, Trainer};
use paired_data::{ItemFeatures, PairedData};

fn small_task() -> PairedData {
    synthetic_task(&SyntheticTaskConfig {
        n_train: 256,
        n_test: 128,
        ..SyntheticTaskConfig::default()
    })
}

/// Fixed batches of 32 consecutive rows in a scrambled order.
fn batches() -> Vec<Vec<u32>> {
    let order: Vec<u32> = (0..256).map(|i| (i * 97) % 256).collect();
    order.chunks(32).map(<[u32]>::to_vec).collect()
}

fn train(seed: u64, epochs: u32) -> (Vec<f64>, models::Evaluation) {
    let data = small_task();
    let mut trainer = Trainer::new(ProtocolConfig::default(), &data, seed).unwrap();
    let batches = batches();
    let losses = (0..epochs)
        .map(|epoch| {
            let stats = trainer
                .train_epoch(epoch, batches.iter().map(Vec::as_slice))
                .unwrap();
            stats.mean_loss.unwrap()
        })
        .collect();
    (losses, trainer.evaluate().unwrap())
}

#[test]
fn same_seed_and_batches_give_identical_results() {
    let (losses_a, eval_a) = train(3, 3);
    let (losses_b, eval_b) = train(3, 3);
    assert_eq!(losses_a, losses_b);
    assert_eq!(eval_a, eval_b);
    let (losses_c, _) = train(4, 3);
    assert_ne!(losses_a, losses_c);
}

#[test]
fn training_lowers_the_loss_and_beats_chance() {
    let (losses, eval) = train(0, 10);
    assert!(losses[9] < losses[0] * 0.8, "{losses:?}");
    // Chance MRR over 128 items is about ln(128) / 128 = 0.04.
    assert!(eval.text_to_item.mrr > 0.2, "{:?}", eval.text_to_item.mrr);
    assert!(eval.item_to_text.mrr > 0.2, "{:?}", eval.item_to_text.mrr);
    assert_eq!(eval.text_to_item.reciprocal_ranks.len(), 128);
}

#[test]
fn single_pair_batches_are_skipped_and_counted() {
    let mut trainer = Trainer::new(ProtocolConfig::default(), &small_task(), 0).unwrap();
    let batches: [&[u32]; 4] = [&[0, 1, 2], &[3], &[], &[4, 5]];
    let stats = trainer.train_epoch(0, batches).unwrap();
    assert_eq!((stats.steps, stats.skipped_batches, stats.items), (2, 2, 5));
    assert!(stats.mean_loss.unwrap().is_finite());
    assert_eq!(stats.temperature, 0.07);

    let only_singletons: [&[u32]; 1] = [&[7]];
    let stats = trainer.train_epoch(1, only_singletons).unwrap();
    assert_eq!((stats.steps, stats.mean_loss), (0, None));
}

#[test]
fn rows_beyond_the_train_split_are_rejected() {
    let mut trainer = Trainer::new(ProtocolConfig::default(), &small_task(), 0).unwrap();
    let batches: [&[u32]; 2] = [&[0, 1], &[2, 256]];
    let err = trainer.train_epoch(0, batches).unwrap_err();
    assert!(matches!(
        err,
        ModelError::RowOutOfRange {
            batch: 1,
            row: 256,
            n_train: 256
        }
    ));
    assert_eq!(
        err.to_string(),
        "batch 1 names row 256, beyond the 256 training pairs"
    );
}

#[test]
fn inconsistent_data_is_rejected() {
    let mut data = small_task();
    data.test.items = ItemFeatures::Dense {
        values: vec![0.5; 128 * 32],
        dim: 32,
    };
    let err = Trainer::new(ProtocolConfig::default(), &data, 0)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "invalid paired data: the train and test splits have different feature widths"
    );
}

#[test]
fn trainer_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Trainer>();
}
