use sampler_api::contract::hard_per_batch;
use sampler_api::rng::Rng;
use sampler_api::{BatchSink, EpochNote, SamplerData, SamplerError};

use crate::SimilarityCap;
use crate::pool::UnusedPool;

/// Names the random stream of hard epochs ("hardbtch" in ASCII).
const HARD_TAG: u64 = u64::from_le_bytes(*b"hardbtch");

/// Semantics-aware batching: each batch is a random pivot, up to `hard_per_batch - 1` of its
/// first `hardness_k` neighbours that are still unused this epoch, and random unused items for
/// the rest, so that every item still lands in exactly one batch.
///
/// With a [`SimilarityCap`], neither the neighbours nor the random fill of a batch include an
/// item at or above the cap in description cosine with its pivot: such items stay unused for
/// later batches, unless they are all that is left to fill the batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HardBatching {
    /// Share of each batch filled by the pivot and its neighbours, in `[0, 1]`.
    pub hard_ratio: f64,
    /// How many of the pivot's nearest neighbours are candidates (at least 1).
    pub hardness_k: usize,
    /// False-negative control (off: `None`).
    pub max_similarity: Option<SimilarityCap>,
}

impl HardBatching {
    /// Hard batching from a sampler's settings, `max_similarity` turned into a
    /// [`SimilarityCap`] (errors name `max_similarity`); [`HardBatching::validate`] checks the
    /// rest.
    pub fn from_settings(
        hard_ratio: f64,
        hardness_k: usize,
        max_similarity: Option<f64>,
    ) -> Result<Self, SamplerError> {
        Ok(HardBatching {
            hard_ratio,
            hardness_k,
            max_similarity: SimilarityCap::from_setting(max_similarity)?,
        })
    }

    /// Checks the settings; errors name `hard_ratio` or `hardness_k`.
    pub fn validate(&self) -> Result<(), SamplerError> {
        // `contains` is false for NaN and the infinities too.
        if !(0.0..=1.0).contains(&self.hard_ratio) {
            return Err(SamplerError::parameter(
                "hard_ratio",
                format!("must be a share in [0, 1], got {}", self.hard_ratio),
            ));
        }
        if self.hardness_k == 0 {
            return Err(SamplerError::parameter("hardness_k", "must be at least 1"));
        }
        Ok(())
    }

    /// The note of an epoch batched with these settings.
    pub fn note(&self, stage: impl Into<String>) -> EpochNote {
        EpochNote::hard(stage, self.hard_ratio, self.hardness_k)
            .with_max_similarity(self.max_similarity.map(SimilarityCap::max_similarity))
    }

    /// Writes the hard batches of `epoch`. Fails, naming the setting, when the settings are
    /// invalid or `hardness_k` exceeds the neighbours per item in `data`.
    ///
    /// Costs O(n + n / batch_size * hardness_k) per epoch; a cap adds one dot product per
    /// candidate and per random draw (a draw too similar to the pivot is set aside and another
    /// made, so on data where most items are near-duplicates of each other it costs more).
    pub fn fill_epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> Result<(), SamplerError> {
        self.validate()?;
        if self.hardness_k > data.k() {
            return Err(SamplerError::parameter(
                "hardness_k",
                format!(
                    "{} exceeds the {} neighbours per item in the table",
                    self.hardness_k,
                    data.k()
                ),
            ));
        }
        let batch_size = data.batch_size();
        let wanted_neighbours = hard_per_batch(batch_size, self.hard_ratio).saturating_sub(1);
        let mut rng = Rng::for_stream(data.seed(), &[u64::from(epoch), HARD_TAG]);
        let mut pool = UnusedPool::full(data.n_items());
        let mut batch = Vec::with_capacity(batch_size);
        let mut candidates = Vec::with_capacity(self.hardness_k);
        let mut set_aside = Vec::new();
        // With drop_last a batch that cannot be filled would be thrown away: don't build it.
        while !(data.drop_last() && pool.len() < batch_size) {
            let Some(pivot) = pool.take_random(&mut rng) else {
                break;
            };
            let allowed = |item: u32| {
                self.max_similarity
                    .is_none_or(|cap| cap.allows(data, pivot, item))
            };
            batch.clear();
            batch.push(pivot);
            if wanted_neighbours > 0 {
                candidates.clear();
                candidates.extend(
                    data.neighbours_of(pivot as usize)[..self.hardness_k]
                        .iter()
                        .copied()
                        .filter(|&neighbour| pool.contains(neighbour) && allowed(neighbour)),
                );
                take_random_subset(
                    &mut candidates,
                    wanted_neighbours,
                    &mut pool,
                    &mut rng,
                    &mut batch,
                );
            }
            fill_at_random(
                &mut batch,
                batch_size,
                &mut pool,
                &mut rng,
                allowed,
                &mut set_aside,
            );
            sink.push_batch(&batch)?;
        }
        Ok(())
    }
}

/// Fills `batch` up to `batch_size` with random unused items that `allowed` accepts. Refused
/// items are set aside and go back to the pool afterwards, unless nothing else is left: then
/// they complete the batch, which must be full.
fn fill_at_random(
    batch: &mut Vec<u32>,
    batch_size: usize,
    pool: &mut UnusedPool,
    rng: &mut Rng,
    allowed: impl Fn(u32) -> bool,
    set_aside: &mut Vec<u32>,
) {
    set_aside.clear();
    while batch.len() < batch_size {
        let Some(item) = pool.take_random(rng) else {
            break;
        };
        if allowed(item) {
            batch.push(item);
        } else {
            set_aside.push(item);
        }
    }
    while batch.len() < batch_size
        && let Some(item) = set_aside.pop()
    {
        batch.push(item);
    }
    for &item in set_aside.iter() {
        pool.put_back(item);
    }
}

/// Moves up to `wanted` items of `candidates` (all in the pool) from the pool into `batch`, a
/// uniformly random subset in random order: a partial Fisher-Yates shuffle of `candidates`.
fn take_random_subset(
    candidates: &mut [u32],
    wanted: usize,
    pool: &mut UnusedPool,
    rng: &mut Rng,
    batch: &mut Vec<u32>,
) {
    let mut taken = 0;
    for next in 0..candidates.len() {
        if taken == wanted {
            break;
        }
        let chosen = next + rng.below(candidates.len() - next);
        candidates.swap(next, chosen);
        // False only for a neighbour listed twice in the table's row, already taken above.
        if pool.take(candidates[next]) {
            batch.push(candidates[next]);
            taken += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use sampler_api::EpochBuffers;
    use sampler_api::contract::HardnessMeter;

    use super::*;
    use crate::testing::{Dataset, DatasetSpec, checked_epoch};

    fn batches(hard_ratio: f64, hardness_k: usize, data: &SamplerData<'_>) -> Vec<Vec<u32>> {
        let batching = HardBatching {
            hard_ratio,
            hardness_k,
            max_similarity: None,
        };
        checked_epoch(data, |sink| {
            batching
                .fill_epoch(data, 1, sink)
                .map(|()| batching.note("hard"))
        })
        .unwrap()
        .batches
    }

    #[test]
    fn a_full_ratio_makes_the_first_batch_a_whole_cluster() {
        let dataset = Dataset::new(DatasetSpec::clusters_of_five());
        let data = dataset.data();
        let batches = batches(1.0, 4, &data);
        let group = HardnessMeter::new(40).hard_group(&batches[0], &data, 4);
        let mut cluster: Vec<u32> = data.neighbours_of(group.pivot as usize).to_vec();
        cluster.push(group.pivot);
        cluster.sort_unstable();
        let mut first = batches[0].clone();
        first.sort_unstable();
        assert_eq!(first, cluster);
    }

    #[test]
    fn a_cap_keeps_the_pivots_twin_out_of_its_batch() {
        // 20 items and their exact copies (item i + 20): each item's nearest neighbour is its
        // twin, at cosine 1.
        let dataset = Dataset::new(DatasetSpec {
            n_items: 20,
            ..DatasetSpec::clusters_of_five()
        });
        let embeddings = dataset.embeddings().repeat(2);
        let neighbours = fixtures::exact_neighbours(&embeddings, 8, 4);
        let data = SamplerData::new(40, 5, 3, false, &embeddings, 8, &neighbours, 4).unwrap();
        let twin = |item: u32| (item + 20) % 40;
        let holds_the_pivots_twin =
            |batches: &[Vec<u32>]| batches.iter().filter(|b| b.contains(&twin(b[0]))).count();
        let uncapped = batches(1.0, 4, &data);
        assert!(holds_the_pivots_twin(&uncapped) >= 5, "{uncapped:?}");
        let batching = HardBatching {
            hard_ratio: 1.0,
            hardness_k: 4,
            max_similarity: Some(SimilarityCap::new(0.999).unwrap()),
        };
        let capped = checked_epoch(&data, |sink| {
            batching
                .fill_epoch(&data, 1, sink)
                .map(|()| batching.note("hard"))
        })
        .unwrap()
        .batches;
        // Only the last batch may have no choice: its pivot's twin may be all that is left.
        let last = capped.len() - 1;
        assert_eq!(holds_the_pivots_twin(&capped[..last]), 0, "{capped:?}");
    }

    #[test]
    fn drop_last_leaves_out_the_short_batch() {
        let dataset = Dataset::new(DatasetSpec {
            batch_size: 6,
            drop_last: true,
            ..DatasetSpec::clusters_of_five()
        });
        let batches = batches(0.5, 3, &dataset.data());
        assert_eq!(batches.len(), 6);
        assert!(batches.iter().all(|batch| batch.len() == 6));
    }

    #[test]
    fn a_neighbour_listed_twice_is_placed_once() {
        let dataset = Dataset::new(DatasetSpec::clusters_of_five());
        // Every row names item 1 (item 2 in item 1's own row) twice.
        let neighbours: Vec<u32> = (0..40u32)
            .flat_map(|item| {
                let other = if item == 1 { 2 } else { 1 };
                [other, other, (item + 3) % 40]
            })
            .collect();
        let embeddings = dataset.embeddings();
        let data = SamplerData::new(40, 4, 9, false, embeddings, 8, &neighbours, 3).unwrap();
        batches(1.0, 3, &data);
    }

    #[test]
    fn settings_are_checked_by_name() {
        let dataset = Dataset::new(DatasetSpec::clusters_of_five());
        let data = dataset.data();
        let error = |hard_ratio: f64, hardness_k: usize| {
            let batching = HardBatching {
                hard_ratio,
                hardness_k,
                max_similarity: None,
            };
            let mut buffers = EpochBuffers::new(40);
            batching
                .fill_epoch(&data, 1, &mut buffers.sink())
                .unwrap_err()
                .to_string()
        };
        assert!(error(0.5, 5).starts_with("hardness_k: 5 exceeds the 4 neighbours"));
        assert!(error(0.5, 0).starts_with("hardness_k:"));
        for ratio in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(error(ratio, 4).starts_with("hard_ratio:"), "{ratio}");
        }
    }
}
