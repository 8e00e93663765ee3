//! For tests only (feature `testing`): random datasets built with the `fixtures` crate, a
//! proptest strategy over their shapes, and the checks that every sampler's epochs must pass,
//! so that each sampler's property tests state only what is particular to it.

use std::any::type_name;
use std::fmt;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sampler_api::contract::{
    HardnessMeter, check_epoch, check_similarity_cap, hard_per_batch, hard_shortfalls,
};
use sampler_api::similarity::at_or_above;
use sampler_api::{
    BatchSink, EpochBuffers, EpochNote, EpochResult, HardTable, ModelTables, Sampler, SamplerData,
    SamplerPlugin,
};
use serde::de::DeserializeOwned;

use crate::{HardBatching, SimilarityCap};

/// Embedding width of test datasets: samplers read the neighbour table, so small is enough.
const DIM: usize = 8;
/// Noise norm around cluster centres: below 1, so nearest neighbours are cluster mates.
const SPREAD: f64 = 0.5;
/// Largest dataset drawn: many batches, yet cheap brute-force neighbour tables.
const MAX_ITEMS: usize = 300;
/// From this size on, two epochs or seeds giving identical batches is astronomically unlikely
/// (the batches order at least 20 items, 20! > 2^61 ways).
const DISTINCT_FROM: usize = 20;

/// The shape of a synthetic dataset and the run settings that come with it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSpec {
    pub n_items: usize,
    pub batch_size: usize,
    /// Neighbours per item in the table.
    pub k: usize,
    pub n_clusters: usize,
    pub seed: u64,
    pub drop_last: bool,
}

impl DatasetSpec {
    /// 8 clusters of 5 items in batches of 5, with k = 4: every item's neighbours are exactly
    /// its cluster mates.
    pub fn clusters_of_five() -> Self {
        DatasetSpec {
            n_items: 40,
            batch_size: 5,
            k: 4,
            n_clusters: 8,
            seed: 5,
            drop_last: false,
        }
    }
}

/// Dataset shapes with 2 to 300 items, any batch size from 1 to all items, and a neighbour
/// table of `min_k` up to `n_items - 1` neighbours.
pub fn dataset_specs(min_k: usize) -> impl Strategy<Value = DatasetSpec> {
    ((min_k + 1).max(2)..=MAX_ITEMS)
        .prop_flat_map(move |n_items| {
            (
                Just(n_items),
                1..=n_items,
                min_k..n_items,
                1..=8usize,
                any::<u64>(),
                any::<bool>(),
            )
        })
        .prop_map(
            |(n_items, batch_size, k, n_clusters, seed, drop_last)| DatasetSpec {
                n_items,
                batch_size,
                k,
                n_clusters,
                seed,
                drop_last,
            },
        )
}

/// `max_similarity` settings: off as often as on; on, any cosine in (0.05, 1], with the edge
/// 1 and the usual 0.95 drawn often. Low caps keep most items of these datasets apart.
pub fn max_similarities() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(1.0)),
        1 => Just(Some(0.95)),
        1 => (0.05..=1.0f64).prop_map(Some),
    ]
}

/// Valid hard-batching settings with `hardness_k` up to `max_k` (at least 1); ratios 0 and 1
/// are drawn often, since they are the edge cases; caps as [`max_similarities`] draws them.
pub fn hard_batchings(max_k: usize) -> impl Strategy<Value = HardBatching> {
    let hard_ratios = prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64];
    (hard_ratios, 1..=max_k, max_similarities()).prop_map(
        |(hard_ratio, hardness_k, max_similarity)| HardBatching {
            hard_ratio,
            hardness_k,
            max_similarity: SimilarityCap::from_setting(max_similarity)
                .expect("a valid max_similarity"),
        },
    )
}

/// Clustered unit embeddings with their exact neighbour table.
#[derive(Debug, Clone)]
pub struct Dataset {
    spec: DatasetSpec,
    embeddings: Vec<f32>,
    neighbours: Vec<u32>,
    /// Synthetic model tables (ABI 1.1), `spec.k` wide, when asked for.
    model: Option<Vec<u32>>,
}

impl Dataset {
    /// Builds the dataset `spec` describes (deterministic in `spec.seed`).
    pub fn new(spec: DatasetSpec) -> Self {
        let clusters =
            fixtures::clustered_embeddings(spec.n_items, spec.n_clusters, DIM, SPREAD, spec.seed);
        let neighbours = fixtures::exact_neighbours(&clusters.embeddings, DIM, spec.k);
        Dataset {
            spec,
            embeddings: clusters.embeddings,
            neighbours,
            model: None,
        }
    }

    /// The same dataset with model tables (as if computed after epoch 1) that disagree with the
    /// description neighbours: the exact neighbours of another clustering of the items, used
    /// as both the model's neighbour and its confusion table.
    pub fn with_model_tables(self) -> Self {
        let spec = &self.spec;
        let other = fixtures::clustered_embeddings(
            spec.n_items,
            spec.n_clusters,
            DIM,
            SPREAD,
            spec.seed ^ 0xA5CE,
        );
        let model = fixtures::exact_neighbours(&other.embeddings, DIM, spec.k);
        Dataset {
            model: Some(model),
            ..self
        }
    }

    /// The model tables' rows (the confusion table), if any.
    pub fn model_table(&self) -> Option<&[u32]> {
        self.model.as_deref()
    }

    /// Row-major `n_items x 8` embeddings.
    pub fn embeddings(&self) -> &[f32] {
        &self.embeddings
    }

    /// The sampler inputs, with the spec's seed.
    pub fn data(&self) -> SamplerData<'_> {
        self.data_with_seed(self.spec.seed)
    }

    /// The sampler inputs with another run seed (the embeddings stay the same).
    pub fn data_with_seed(&self, seed: u64) -> SamplerData<'_> {
        let spec = &self.spec;
        SamplerData::new(
            spec.n_items,
            spec.batch_size,
            seed,
            spec.drop_last,
            &self.embeddings,
            DIM,
            &self.neighbours,
            spec.k,
        )
        .and_then(|data| match &self.model {
            Some(model) => data.with_model_tables(ModelTables::new(model, model, spec.k, 1)),
            None => Ok(data),
        })
        .expect("fixtures make valid sampler inputs")
    }
}

/// The batches and note of one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRun {
    pub batches: Vec<Vec<u32>>,
    pub note: EpochNote,
}

/// Runs `fill` (which writes one epoch and returns its note) and checks the batch contract and
/// the note's promises: no batch falls short of the hard group that its `hard_ratio` and
/// `hardness_k` announce; the first batch, drawn when nothing is used yet, holds a hard group of
/// at least `min(hard_per_batch, hardness_k + 1)`; and under a `max_similarity` cap, no batch
/// holds an item that near its first item (its pivot) while another was left, and the first
/// batch's promise counts only the pivot's neighbours below the cap.
pub fn checked_epoch(
    data: &SamplerData<'_>,
    fill: impl FnOnce(&mut BatchSink<'_>) -> EpochResult,
) -> Result<EpochRun, TestCaseError> {
    let mut buffers = EpochBuffers::new(data.n_items());
    let mut sink = buffers.sink();
    let note = fill(&mut sink).map_err(|e| TestCaseError::fail(format!("epoch failed: {e}")))?;
    check_epoch(&sink, data).map_err(|e| TestCaseError::fail(format!("{note:?}: {e}")))?;
    // The hard promises hold against the table the note names.
    let data = &data
        .through(note.table)
        .map_err(|e| TestCaseError::fail(format!("{note:?}: {e}")))?;
    let hard = hard_per_batch(data.batch_size(), note.hard_ratio);
    let shortfalls = hard_shortfalls(&sink, data, hard, note.hardness_k, note.max_similarity);
    prop_assert!(
        shortfalls.is_empty(),
        "{note:?}: batches {shortfalls:?} miss their hard group"
    );
    if let Some(cap) = note.max_similarity {
        let breaches = check_similarity_cap(&sink, data, cap).breaches;
        prop_assert!(
            breaches.is_empty(),
            "{note:?}: batches {breaches:?} hold a near-duplicate of their pivot"
        );
    }
    if sink.n_batches() > 0 {
        let first = sink.batch(0);
        let pivot = first[0] as usize;
        let candidates = data.neighbours_of(pivot)[..note.hardness_k]
            .iter()
            .filter(|&&n| {
                note.max_similarity
                    .is_none_or(|cap| !at_or_above(data.cosine(pivot, n as usize), cap))
            })
            .count();
        let group = HardnessMeter::new(data.n_items()).hard_group(first, data, note.hardness_k);
        let promised = hard.min(candidates + 1);
        prop_assert!(
            group.size >= promised,
            "{note:?}: the first batch's hard group has {} items, not {promised}",
            group.size
        );
    }
    Ok(EpochRun {
        batches: sink.to_vecs(),
        note,
    })
}

/// Checks what every sampler must do in `epoch` (see [`checked_epoch`]), plus: it reads no more
/// neighbours than it asks for; fresh instances repeat the batches exactly, even after running
/// another epoch first; and from 20 items on, another epoch or another seed changes the batches.
/// `new_sampler` builds a fresh instance of one configuration.
pub fn check_sampler_epoch<S: Sampler>(
    new_sampler: impl Fn() -> S,
    dataset: &Dataset,
    epoch: u32,
) -> Result<EpochRun, TestCaseError> {
    let data = dataset.data();
    let run_epoch = |sampler: &S, data: &SamplerData<'_>, epoch: u32| {
        checked_epoch(data, |sink| sampler.epoch(data, epoch, sink))
    };
    let sampler = new_sampler();
    let run = run_epoch(&sampler, &data, epoch)?;
    let asked = match run.note.table {
        HardTable::Text => sampler.neighbours_needed(),
        HardTable::ModelConfusions => sampler.model_neighbours_needed().k,
    };
    prop_assert!(
        run.note.hardness_k <= asked,
        "{:?} reads more than the {} neighbours asked for",
        run.note,
        asked
    );

    let other_epoch = if epoch > 1 { epoch - 1 } else { epoch + 1 };
    let fresh = new_sampler();
    let other = run_epoch(&fresh, &data, other_epoch)?;
    prop_assert_eq!(
        &run_epoch(&fresh, &data, epoch)?,
        &run,
        "epoch {} changed after running epoch {}",
        epoch,
        other_epoch
    );

    if data.n_items() >= DISTINCT_FROM {
        prop_assert_ne!(
            &other.batches,
            &run.batches,
            "epochs {} and {} gave the same batches",
            epoch,
            other_epoch
        );
        let reseeded = dataset.data_with_seed(data.seed().wrapping_add(1));
        prop_assert_ne!(
            &run_epoch(&new_sampler(), &reseeded, epoch)?.batches,
            &run.batches,
            "seeds {} and {} gave the same batches",
            data.seed(),
            reseeded.seed()
        );
    }
    Ok(run)
}

/// Asserts that the configuration `json` is refused with a message that names `named` (a key
/// or a parameter path such as `stages[1].hard_ratio`).
pub fn assert_config_rejected<S: SamplerPlugin>(json: &str, named: &str) {
    let sampler = type_name::<S>();
    match S::from_config(json) {
        Ok(_) => panic!("{sampler} accepted {json}"),
        Err(error) => assert!(
            error.to_string().contains(named),
            "{sampler} refused {json} with \"{error}\", which does not name {named}"
        ),
    }
}

/// Asserts that `S` refuses, naming the setting, a `hard_ratio` outside `[0, 1]` and a
/// `hardness_k` of 0 and a `max_similarity` outside `(0, 1]` at the top level of its JSON
/// configuration (while 0.95 is accepted), and a default configuration whose `hard_ratio` (the
/// field that `hard_ratio` points to) is NaN: JSON cannot spell NaN, but a Rust caller can.
pub fn assert_hard_settings_checked<S: SamplerPlugin>(
    hard_ratio: impl FnOnce(&mut S::Config) -> &mut f64,
) {
    let sampler = type_name::<S>();
    for ratio in ["-0.1", "1.5"] {
        assert_config_rejected::<S>(&format!(r#"{{"hard_ratio": {ratio}}}"#), "hard_ratio");
    }
    assert_config_rejected::<S>(r#"{"hardness_k": 0}"#, "hardness_k");
    for cap in ["0", "-0.5", "1.5"] {
        assert_config_rejected::<S>(&format!(r#"{{"max_similarity": {cap}}}"#), "max_similarity");
    }
    assert!(
        S::from_config(r#"{"max_similarity": 0.95}"#).is_ok(),
        "{sampler} refused max_similarity 0.95"
    );
    let mut nan_ratio = S::Config::default();
    *hard_ratio(&mut nan_ratio) = f64::NAN;
    match S::new(nan_ratio) {
        Ok(_) => panic!("{sampler} accepted a NaN hard_ratio"),
        Err(error) => assert!(
            error.to_string().starts_with("hard_ratio:"),
            "{sampler} refused a NaN hard_ratio with \"{error}\""
        ),
    }
}

/// Datasets (with at least one neighbour per item) paired with configurations of a hard-family
/// sampler that fit them: its `hard_ratio`, `hardness_k` and `max_similarity` keys drawn as by
/// [`hard_batchings`], the other keys at their defaults.
pub fn datasets_with_hard_configs<C: DeserializeOwned + fmt::Debug>()
-> impl Strategy<Value = (DatasetSpec, C)> {
    dataset_specs(1).prop_flat_map(|spec| {
        let max_k = spec.k;
        (
            Just(spec),
            hard_batchings(max_k).prop_map(|batching| hard_config(&batching)),
        )
    })
}

/// The configuration that sets `batching`'s settings by their keys, the other keys at their
/// defaults.
fn hard_config<C: DeserializeOwned>(batching: &HardBatching) -> C {
    let settings = serde_json::json!({
        "hard_ratio": batching.hard_ratio,
        "hardness_k": batching.hardness_k,
        "max_similarity": batching.max_similarity.map(SimilarityCap::max_similarity),
    });
    serde_json::from_value(settings).expect("hard-family configurations take these keys")
}
