//! The `cluster` sampler plugin: topic-balanced batches after TAS-Balanced (Hofstätter et al.,
//! 2021). Seeded k-means groups the description embeddings into topics; each batch is cut from
//! one topic (or two, where the stream passes from one topic to the next), and every topic's
//! batches are spread evenly through the epoch. Unlike nearest-neighbour batches, a batch holds a
//! whole topic's range of items rather than one item's closest matches.

#![forbid(unsafe_code)]

pub mod kmeans;
pub mod topics;

use std::sync::{Arc, Mutex, PoisonError};

use sampler_api::{BatchSink, EpochNote, EpochResult, SamplerData, SamplerError, SamplerPlugin};
use sampler_kit::SimilarityCap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use topics::Topics;

/// Items per topic that the default number of clusters aims at: two batches of 32.
const ITEMS_PER_TOPIC: usize = 64;

/// Settings of the `cluster` sampler.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// number of k-means clusters of the description embeddings, at most the number of items
    /// (null: the number of items / 64, rounded, at least 1); clusters smaller than a batch are
    /// merged into their nearest
    pub clusters: Option<usize>,
    /// false-negative control: items whose description cosine with a batch's first item is at
    /// or above this, in (0, 1], stay out of its batch (null: off)
    pub max_similarity: Option<f64>,
}

/// Topic-balanced batches from a seeded k-means clustering of the descriptions (it reads the
/// description embeddings, not the neighbour table).
#[derive(Debug)]
pub struct ClusterSampler {
    clusters: Option<usize>,
    cap: Option<SimilarityCap>,
    /// The topics of the last inputs seen, with their key: clustering costs `n * k` dot products
    /// per iteration, and a run asks for epoch after epoch of the same inputs.
    last_topics: Mutex<Option<(InputsKey, Arc<Topics>)>>,
}

/// What the topics depend on: the inputs (by a fingerprint of the embeddings), the seed and the
/// batch size (small topics are merged up to one batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InputsKey {
    n_items: usize,
    dim: usize,
    seed: u64,
    batch_size: usize,
    embeddings: u64,
}

impl InputsKey {
    fn of(data: &SamplerData<'_>) -> Self {
        // FNV-1a over the embeddings' bit patterns, a word at a time.
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for item in 0..data.n_items() {
            for value in data.embedding(item) {
                hash = (hash ^ u64::from(value.to_bits())).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        InputsKey {
            n_items: data.n_items(),
            dim: data.dim(),
            seed: data.seed(),
            batch_size: data.batch_size(),
            embeddings: hash,
        }
    }
}

impl ClusterSampler {
    /// The number of k-means clusters for `n_items` items; errors name `clusters`.
    pub fn clusters_for(&self, n_items: usize) -> Result<usize, SamplerError> {
        let clusters = self
            .clusters
            .unwrap_or_else(|| ((n_items + ITEMS_PER_TOPIC / 2) / ITEMS_PER_TOPIC).max(1));
        if clusters > n_items {
            return Err(SamplerError::parameter(
                "clusters",
                format!("{clusters} exceeds the {n_items} items"),
            ));
        }
        Ok(clusters)
    }

    /// The topics of `data`: computed on first use, then reused while the inputs stay the same.
    pub fn topics(&self, data: &SamplerData<'_>) -> Result<Arc<Topics>, SamplerError> {
        let key = InputsKey::of(data);
        // A panic while clustering leaves no topics behind, so a poisoned lock is still usable.
        let mut last = self
            .last_topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((last_key, topics)) = last.as_ref()
            && *last_key == key
        {
            return Ok(Arc::clone(topics));
        }
        let topics = Arc::new(Topics::new(data, self.clusters_for(data.n_items())?));
        *last = Some((key, Arc::clone(&topics)));
        Ok(topics)
    }
}

impl SamplerPlugin for ClusterSampler {
    type Config = ClusterConfig;

    /// Errors name `clusters` or `max_similarity`.
    fn new(config: ClusterConfig) -> Result<Self, SamplerError> {
        if config.clusters == Some(0) {
            return Err(SamplerError::parameter("clusters", "must be at least 1"));
        }
        Ok(ClusterSampler {
            clusters: config.clusters,
            cap: SimilarityCap::from_setting(config.max_similarity)?,
            last_topics: Mutex::new(None),
        })
    }

    fn epoch(&self, data: &SamplerData<'_>, epoch: u32, sink: &mut BatchSink<'_>) -> EpochResult {
        self.topics(data)?.fill_epoch(data, epoch, self.cap, sink)?;
        let note = EpochNote {
            stage: "cluster".into(),
            ..EpochNote::random()
        };
        Ok(note.with_max_similarity(self.cap.map(SimilarityCap::max_similarity)))
    }
}

sampler_api::export_sampler!(
    ClusterSampler,
    name = "cluster",
    version = "1.0.0",
    description =
        "Topic-balanced batches: seeded k-means of the descriptions, each batch from one topic.",
);
