//! Topics and the batches cut from them: the k-means clusters of the description embeddings,
//! small ones merged so that every topic fills a batch, and per epoch a stream of topics whose
//! batch-sized pieces are spread evenly over the epoch.

use std::collections::VecDeque;

use sampler_api::rng::Rng;
use sampler_api::{BatchSink, SamplerData, SamplerError};
use sampler_kit::SimilarityCap;

use crate::kmeans::kmeans;

/// Names the random stream of the clustering ("kmeans++" in ASCII).
const KMEANS_TAG: u64 = u64::from_le_bytes(*b"kmeans++");
/// Names the random stream of topic-balanced epochs ("topicbal" in ASCII).
const EPOCH_TAG: u64 = u64::from_le_bytes(*b"topicbal");

/// The topics of one set of inputs: every item in exactly one topic, every topic at least a
/// batch (unless a single topic holds every item).
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    /// The items of each topic, in increasing order.
    members: Vec<Vec<u32>>,
}

impl Topics {
    /// Clusters the description embeddings of `data` into `clusters` topics with k-means seeded
    /// by the run seed, then merges each topic smaller than a batch into the topic with the
    /// nearest centre, smallest first, until none is left. `1 <= clusters <= n_items`.
    pub fn new(data: &SamplerData<'_>, clusters: usize) -> Topics {
        let rows: Vec<&[f32]> = (0..data.n_items())
            .map(|item| data.embedding(item))
            .collect();
        let clustering = kmeans(
            &rows,
            clusters,
            &mut Rng::for_stream(data.seed(), &[KMEANS_TAG]),
        );
        let mut topics: Vec<Topic> = clustering
            .centroids
            .chunks_exact(data.dim())
            .map(|centre| Topic {
                centre: centre.to_vec(),
                members: Vec::new(),
            })
            .collect();
        for (item, &cluster) in clustering.assignments.iter().enumerate() {
            topics[cluster as usize].members.push(item as u32);
        }
        topics.retain(|topic| !topic.members.is_empty());
        merge_small_topics(&mut topics, data.batch_size());
        let members = topics
            .into_iter()
            .map(|mut topic| {
                topic.members.sort_unstable();
                topic.members
            })
            .collect();
        Topics { members }
    }

    /// The items of each topic, in increasing order.
    pub fn members(&self) -> &[Vec<u32>] {
        &self.members
    }

    /// Writes the batches of `epoch`: the topics in a seeded order, each topic's items shuffled,
    /// make one stream; its batch-sized pieces (each from one topic, or two where topics meet)
    /// are placed in a balanced order ([`balanced_order`]) with the short remainder last, and the
    /// batches are cut from that order, under `cap` passing over items too similar to a batch's
    /// first item ([`cut_batches`]).
    pub fn fill_epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        cap: Option<SimilarityCap>,
        sink: &mut BatchSink<'_>,
    ) -> Result<(), SamplerError> {
        let mut rng = Rng::for_stream(data.seed(), &[u64::from(epoch), EPOCH_TAG]);
        let mut topic_order: Vec<usize> = (0..self.members.len()).collect();
        rng.shuffle(&mut topic_order);
        let mut stream = Vec::with_capacity(data.n_items());
        let mut topic_at = Vec::with_capacity(data.n_items());
        for topic in topic_order {
            let start = stream.len();
            stream.extend_from_slice(&self.members[topic]);
            rng.shuffle(&mut stream[start..]);
            topic_at.resize(stream.len(), topic);
        }
        let batch_size = data.batch_size();
        let (full, remainder) = stream.split_at(stream.len() - stream.len() % batch_size);
        let piece_topics: Vec<usize> = (0..full.len() / batch_size)
            .map(|piece| topic_at[piece * batch_size])
            .collect();
        let mut ordered = Vec::with_capacity(stream.len());
        for piece in balanced_order(&piece_topics, self.members.len(), &mut rng) {
            ordered.extend_from_slice(&full[piece * batch_size..(piece + 1) * batch_size]);
        }
        ordered.extend_from_slice(remainder);
        cut_batches(&ordered, data, cap, sink)
    }
}

/// A topic while small ones are merged.
struct Topic {
    centre: Vec<f32>,
    members: Vec<u32>,
}

/// Merges the smallest topic below `min_size` into the topic with the nearest centre (by
/// Euclidean distance; the centre becomes the size-weighted mean) until every topic has at least
/// `min_size` items or one topic is left. Ties go to the lower index.
fn merge_small_topics(topics: &mut Vec<Topic>, min_size: usize) {
    while topics.len() > 1 {
        let Some(small) = (0..topics.len())
            .filter(|&t| topics[t].members.len() < min_size)
            .min_by_key(|&t| topics[t].members.len())
        else {
            return;
        };
        let merged = topics.remove(small);
        let distance = |topic: &Topic| -> f32 {
            let differences = topic.centre.iter().zip(&merged.centre).map(|(a, b)| a - b);
            differences.map(|d| d * d).sum()
        };
        let nearest = (0..topics.len())
            .min_by(|&a, &b| distance(&topics[a]).total_cmp(&distance(&topics[b])))
            .expect("another topic is left");
        let into = &mut topics[nearest];
        let (a, b) = (into.members.len() as f32, merged.members.len() as f32);
        for (centre, other) in into.centre.iter_mut().zip(&merged.centre) {
            *centre = (*centre * a + other * b) / (a + b);
        }
        into.members.extend_from_slice(&merged.members);
    }
}

/// An order of pieces (each given by its topic, `0..n_topics`) in which every topic's pieces are
/// spread evenly over the epoch: the `j`-th of a topic's `m` pieces sits at `(j + phase) / m`,
/// with a random phase per topic, and a topic's pieces keep their order. So any stretch of the
/// order holds each topic in proportion to its pieces, within about one piece per topic.
pub fn balanced_order(piece_topics: &[usize], n_topics: usize, rng: &mut Rng) -> Vec<usize> {
    let mut counts = vec![0usize; n_topics];
    for &topic in piece_topics {
        counts[topic] += 1;
    }
    let phases: Vec<f64> = (0..n_topics).map(|_| rng.unit_f64()).collect();
    let mut seen = vec![0usize; n_topics];
    let positions: Vec<f64> = piece_topics
        .iter()
        .map(|&topic| {
            let j = seen[topic];
            seen[topic] += 1;
            (j as f64 + phases[topic]) / counts[topic] as f64
        })
        .collect();
    let mut order: Vec<usize> = (0..piece_topics.len()).collect();
    order.sort_by(|&a, &b| positions[a].total_cmp(&positions[b]).then(a.cmp(&b)));
    order
}

/// Cuts `ordered` into batches in sequence, leaving out a short last batch with `drop_last`.
/// Under `cap`, items too similar to a batch's first item are passed over (they open the next
/// batch's candidates, in order), unless nothing else is left to fill the batch.
///
/// Without a cap this is one pass; with one, each passed-over item is looked at again for the
/// next batch (on data where most items are near-duplicates of each other, up to a scan of the
/// rest per batch).
pub fn cut_batches(
    ordered: &[u32],
    data: &SamplerData<'_>,
    cap: Option<SimilarityCap>,
    sink: &mut BatchSink<'_>,
) -> Result<(), SamplerError> {
    let batch_size = data.batch_size();
    let mut queue: VecDeque<u32> = ordered.iter().copied().collect();
    let mut batch = Vec::with_capacity(batch_size);
    let mut passed_over = Vec::new();
    // With drop_last a batch that cannot be filled is left out.
    let smallest_batch = if data.drop_last() { batch_size } else { 1 };
    while queue.len() >= smallest_batch {
        let pivot = queue.pop_front().expect("the queue is not empty");
        batch.clear();
        batch.push(pivot);
        passed_over.clear();
        while batch.len() < batch_size {
            let Some(item) = queue.pop_front() else {
                break;
            };
            if cap.is_none_or(|cap| cap.allows(data, pivot, item)) {
                batch.push(item);
            } else {
                passed_over.push(item);
            }
        }
        // Only items too similar to the pivot are left: they complete the batch.
        let missing = (batch_size - batch.len()).min(passed_over.len());
        batch.extend(passed_over.drain(..missing));
        for &item in passed_over.iter().rev() {
            queue.push_front(item);
        }
        sink.push_batch(&batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sampler_api::EpochBuffers;
    use sampler_api::rng::Rng;

    use super::*;

    proptest! {
        /// Any stretch of the order holds each topic's pieces in proportion, within the bound
        /// that the even spread guarantees: |count - p m / M| <= T m / M + 1 for a topic with m
        /// of M pieces in the first p, T topics. A shuffle breaks it for large topics.
        #[test]
        fn the_order_spreads_every_topic_evenly(
            counts in prop::collection::vec(1..40usize, 1..8),
            seed in any::<u64>(),
        ) {
            let mut piece_topics: Vec<usize> = counts
                .iter()
                .enumerate()
                .flat_map(|(topic, &m)| std::iter::repeat_n(topic, m))
                .collect();
            Rng::for_stream(seed, &[1]).shuffle(&mut piece_topics);
            let order = balanced_order(&piece_topics, counts.len(), &mut Rng::for_stream(seed, &[]));
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..piece_topics.len()).collect::<Vec<_>>());
            let (total, n_topics) = (piece_topics.len() as f64, counts.len() as f64);
            let mut seen = vec![0usize; counts.len()];
            for (p, &piece) in order.iter().enumerate() {
                seen[piece_topics[piece]] += 1;
                for (topic, &m) in counts.iter().enumerate() {
                    let share = (p + 1) as f64 * m as f64 / total;
                    let slack = n_topics * m as f64 / total + 1.0;
                    prop_assert!(
                        (seen[topic] as f64 - share).abs() <= slack + 1e-9,
                        "topic {} has {} of the first {} pieces, expected {:.2} +- {:.2}",
                        topic, seen[topic], p + 1, share, slack
                    );
                }
            }
            // A topic's pieces keep their order.
            for topic in 0..counts.len() {
                let in_order: Vec<usize> =
                    order.iter().copied().filter(|&p| piece_topics[p] == topic).collect();
                prop_assert!(in_order.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    #[test]
    fn small_topics_join_the_nearest_until_each_fills_a_batch() {
        let topic = |centre: [f32; 2], members: std::ops::Range<u32>| Topic {
            centre: centre.to_vec(),
            members: members.collect(),
        };
        // Sizes 10, 2, 3, 6 with batch 5: the 2 joins its neighbour 3, whose merged 5 stays.
        let mut topics = vec![
            topic([1.0, 0.0], 0..10),
            topic([0.0, 1.0], 10..12),
            topic([0.1, 0.9], 12..15),
            topic([-1.0, 0.0], 15..21),
        ];
        merge_small_topics(&mut topics, 5);
        let sizes: Vec<usize> = topics.iter().map(|t| t.members.len()).collect();
        assert_eq!(sizes, [10, 5, 6]);
        assert_eq!(topics[1].members, [12, 13, 14, 10, 11]);
        // The merged centre is the size-weighted mean: (3 (0.1, 0.9) + 2 (0, 1)) / 5.
        assert!((topics[1].centre[0] - 0.06).abs() < 1e-6);
        assert!((topics[1].centre[1] - 0.94).abs() < 1e-6);
        // A batch larger than every topic leaves one topic.
        merge_small_topics(&mut topics, 100);
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0].members.len(), 21);
    }

    #[test]
    fn a_cap_passes_over_near_duplicates_of_the_pivot_in_order() {
        // Items 0 and 1 point the same way; 2 to 5 are far from them and from each other.
        let embeddings = [
            1.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0, 0.6, -0.8,
        ];
        let data = SamplerData::new(6, 3, 0, false, &embeddings, 2, &[], 0).unwrap();
        let cut = |ordered: &[u32], cap| {
            let mut buffers = EpochBuffers::new(6);
            let mut sink = buffers.sink();
            cut_batches(ordered, &data, cap, &mut sink).unwrap();
            sink.to_vecs()
        };
        let cap = Some(SimilarityCap::new(0.95).unwrap());
        assert_eq!(cut(&[0, 1, 2, 3, 4, 5], None), [[0, 1, 2], [3, 4, 5]]);
        assert_eq!(cut(&[0, 1, 2, 3, 4, 5], cap), [[0, 2, 3], [1, 4, 5]]);
        // At the end only the twin is left: it completes the last batch.
        assert_eq!(cut(&[2, 3, 4, 0, 5, 1], cap), [[2, 3, 4], [0, 5, 1]]);
    }
}
