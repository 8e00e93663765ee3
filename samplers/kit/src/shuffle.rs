use sampler_api::rng::Rng;
use sampler_api::{BatchSink, SamplerData, SamplerError};

/// Names the random stream of shuffled epochs ("shuffle" in ASCII).
const SHUFFLE_TAG: u64 = u64::from_le_bytes(*b"shuffle\0");

/// Writes one epoch of random batches: a seeded Fisher-Yates shuffle of all items cut into
/// batches of `data.batch_size()`, leaving out the short last batch when `data.drop_last()`.
pub fn shuffled_epoch(
    data: &SamplerData<'_>,
    epoch: u32,
    sink: &mut BatchSink<'_>,
) -> Result<(), SamplerError> {
    let mut order: Vec<u32> = (0..data.n_items() as u32).collect();
    Rng::for_stream(data.seed(), &[u64::from(epoch), SHUFFLE_TAG]).shuffle(&mut order);
    let batch_size = data.batch_size();
    for batch in order.chunks(batch_size) {
        if batch.len() < batch_size && data.drop_last() {
            break;
        }
        sink.push_batch(batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sampler_api::EpochNote;

    use super::*;
    use crate::testing::{Dataset, DatasetSpec, checked_epoch};

    fn batches(dataset: &Dataset, epoch: u32) -> Vec<Vec<u32>> {
        let data = dataset.data();
        checked_epoch(&data, |sink| {
            shuffled_epoch(&data, epoch, sink).map(|()| EpochNote::random())
        })
        .unwrap()
        .batches
    }

    fn dataset(drop_last: bool) -> Dataset {
        Dataset::new(DatasetSpec {
            n_items: 10,
            batch_size: 3,
            k: 0,
            n_clusters: 2,
            seed: 11,
            drop_last,
        })
    }

    #[test]
    fn cuts_a_permutation_into_batches() {
        let kept = batches(&dataset(false), 1);
        let sizes: Vec<usize> = kept.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let mut items: Vec<u32> = kept.concat();
        items.sort_unstable();
        assert_eq!(items, (0..10).collect::<Vec<_>>());

        let dropped = batches(&dataset(true), 1);
        assert_eq!(dropped, kept[..3]);
    }

    #[test]
    fn epochs_are_reproducible_and_distinct() {
        let dataset = dataset(false);
        assert_eq!(batches(&dataset, 4), batches(&dataset, 4));
        assert_ne!(batches(&dataset, 4), batches(&dataset, 5));
    }
}
