//! The rules every epoch of batches must follow, checked by the harness for every plugin and by
//! the property tests of every sampler. A plugin is untrusted input.

use thiserror::Error;

use crate::similarity::at_or_above;
use crate::{BatchSink, SamplerData};

/// A broken rule of batch composition, naming the batch and item involved (batch indices are
/// 0-based in the fields and 1-based in messages).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Violation {
    #[error("batch {} holds item {item}, beyond the {n_items} items", batch + 1)]
    OutOfRange {
        batch: usize,
        item: u32,
        n_items: usize,
    },
    #[error("item {item} appears in batch {} and again in batch {}", first_batch + 1, batch + 1)]
    Duplicate {
        item: u32,
        first_batch: usize,
        batch: usize,
    },
    #[error("batch {} of {n_batches} holds {size} items; expected {expected}", batch + 1)]
    WrongSize {
        batch: usize,
        n_batches: usize,
        size: usize,
        expected: String,
    },
    #[error("{missing} items are in no batch (first: item {first}); expected {expected} covered")]
    Missing {
        missing: usize,
        first: u32,
        expected: usize,
    },
    #[error("{covered} items are covered; with drop_last exactly {expected} must be")]
    WrongCoverage { covered: usize, expected: usize },
}

/// Checks one epoch: ids in range, no item twice, every batch but the last full, and coverage:
/// all items without `drop_last`; with it, exactly `batch_size * floor(n / batch_size)` items in
/// full batches.
pub fn check_epoch(batches: &BatchSink<'_>, data: &SamplerData<'_>) -> Result<(), Violation> {
    let (n_items, batch_size) = (data.n_items(), data.batch_size());
    let n_batches = batches.n_batches();
    let mut seen_in = vec![u32::MAX; n_items];
    for (index, batch) in batches.batches().enumerate() {
        let is_last = index + 1 == n_batches;
        let size_ok = if is_last && !data.drop_last() {
            (1..=batch_size).contains(&batch.len())
        } else {
            batch.len() == batch_size
        };
        if !size_ok {
            let expected = if is_last && !data.drop_last() {
                format!("1 to {batch_size} (last batch)")
            } else {
                batch_size.to_string()
            };
            return Err(Violation::WrongSize {
                batch: index,
                n_batches,
                size: batch.len(),
                expected,
            });
        }
        for &item in batch {
            let slot = seen_in
                .get_mut(item as usize)
                .ok_or(Violation::OutOfRange {
                    batch: index,
                    item,
                    n_items,
                })?;
            if *slot != u32::MAX {
                return Err(Violation::Duplicate {
                    item,
                    first_batch: *slot as usize,
                    batch: index,
                });
            }
            *slot = index as u32;
        }
    }
    let covered = batches.items_len();
    if data.drop_last() {
        let expected = n_items - n_items % batch_size;
        if covered != expected {
            return Err(Violation::WrongCoverage { covered, expected });
        }
    } else if covered != n_items {
        let first = seen_in.iter().position(|&b| b == u32::MAX).unwrap_or(0) as u32;
        return Err(Violation::Missing {
            missing: n_items - covered,
            first,
            expected: n_items,
        });
    }
    Ok(())
}

/// Measures how "hard" batches are from the neighbour table alone, without trusting the sampler.
///
/// The hard group of a batch is the largest set made of one member plus those of its `k`
/// nearest neighbours that share the batch; its size divided by the batch size is the realised
/// hard share (a random batch of unrelated items scores about `1 / batch_size`).
#[derive(Debug)]
pub struct HardnessMeter {
    /// `stamp[item] == current` marks membership in the batch being measured.
    stamp: Vec<u32>,
    current: u32,
}

/// Hard-group measurements of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HardGroup {
    /// The member whose neighbourhood forms the group.
    pub pivot: u32,
    /// Group size including the pivot.
    pub size: usize,
}

impl HardnessMeter {
    /// A meter for items `0..n_items`.
    pub fn new(n_items: usize) -> Self {
        HardnessMeter {
            stamp: vec![0; n_items],
            current: 0,
        }
    }

    fn mark(&mut self, batch: &[u32]) {
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.fill(0);
            self.current = 1;
        }
        for &item in batch {
            self.stamp[item as usize] = self.current;
        }
    }

    fn in_batch(&self, item: u32) -> bool {
        self.stamp[item as usize] == self.current
    }

    /// The largest hard group of `batch` using the first `k` neighbours of each member.
    pub fn hard_group(&mut self, batch: &[u32], data: &SamplerData<'_>, k: usize) -> HardGroup {
        self.mark(batch);
        let k = k.min(data.k());
        let mut best = HardGroup {
            pivot: batch.first().copied().unwrap_or(0),
            size: 0,
        };
        for &member in batch {
            let neighbours = &data.neighbours_of(member as usize)[..k];
            let size = 1 + neighbours.iter().filter(|&&n| self.in_batch(n)).count();
            if size > best.size {
                best = HardGroup {
                    pivot: member,
                    size,
                };
            }
        }
        best
    }
}

/// Realised hard shares of batches (hard-group size over batch size, see [`HardnessMeter`]),
/// summed by quarter of their epoch over one epoch or several: the share decays within an epoch
/// as neighbours get used up. Batch `i` of `n` falls in quarter `4 i / n`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QuarterShares {
    /// Sum of shares and number of batches, per quarter.
    quarters: [(f64, usize); 4],
}

impl QuarterShares {
    /// Adds every batch of one epoch, each measured against the first `k` neighbours of its
    /// members.
    pub fn add_epoch(
        &mut self,
        batches: &BatchSink<'_>,
        data: &SamplerData<'_>,
        k: usize,
        meter: &mut HardnessMeter,
    ) {
        let n_batches = batches.n_batches();
        for (index, batch) in batches.batches().enumerate() {
            let share = meter.hard_group(batch, data, k).size as f64 / batch.len() as f64;
            let quarter = &mut self.quarters[index * 4 / n_batches];
            quarter.0 += share;
            quarter.1 += 1;
        }
    }

    /// The mean share over every batch added; `None` before any.
    pub fn mean(&self) -> Option<f64> {
        let total = self
            .quarters
            .iter()
            .fold((0.0, 0), |acc, q| (acc.0 + q.0, acc.1 + q.1));
        mean_share(total)
    }

    /// The mean share per quarter of the epoch; `None` for a quarter without batches.
    pub fn by_quarter(&self) -> [Option<f64>; 4] {
        self.quarters.map(mean_share)
    }
}

fn mean_share((sum, count): (f64, usize)) -> Option<f64> {
    (count > 0).then(|| sum / count as f64)
}

/// Checks the promise of semantics-aware batching, batch by batch in epoch order: some member
/// has, inside the batch, at least `min(hard_per_batch - 1, its available neighbours)` of its
/// first `k` neighbours, where "available" means not placed in an earlier batch of the epoch
/// and, under a false-negative cap (`max_similarity`), below the cap in cosine to the member.
///
/// Returns the indices of batches that break the promise (empty when it is kept).
pub fn hard_shortfalls(
    batches: &BatchSink<'_>,
    data: &SamplerData<'_>,
    hard_per_batch: usize,
    k: usize,
    max_similarity: Option<f64>,
) -> Vec<usize> {
    let k = k.min(data.k());
    let wanted = hard_per_batch.saturating_sub(1);
    let mut used = vec![false; data.n_items()];
    let mut meter = HardnessMeter::new(data.n_items());
    let mut shortfalls = Vec::new();
    for (index, batch) in batches.batches().enumerate() {
        meter.mark(batch);
        let kept = batch.iter().any(|&member| {
            let neighbours = &data.neighbours_of(member as usize)[..k];
            let below_cap = |n: u32| {
                max_similarity
                    .is_none_or(|cap| !at_or_above(data.cosine(member as usize, n as usize), cap))
            };
            let available = neighbours
                .iter()
                .filter(|&&n| !used[n as usize] && below_cap(n))
                .count();
            let inside = neighbours.iter().filter(|&&n| meter.in_batch(n)).count();
            inside >= wanted.min(available)
        });
        if !kept {
            shortfalls.push(index);
        }
        for &item in batch {
            used[item as usize] = true;
        }
    }
    shortfalls
}

/// How the batches of an epoch kept a false-negative cap (see [`crate::EpochNote`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapCheck {
    /// Batches (0-based) holding an item at or above the cap in cosine to their first item while
    /// an item below it was left unplaced after them: the cap was broken.
    pub breaches: Vec<usize>,
    /// Batches holding such an item because every item left unplaced after them was that
    /// similar to their first item too (at the end of an epoch): no choice, no breach.
    pub forced: usize,
}

/// Checks that no batch holds an item whose description cosine with the batch's first item (its
/// pivot) is at or above `max_similarity`, unless no other item was left to take its place.
///
/// Costs one dot product per batch member, and a scan of the unplaced items per batch that
/// holds such an item.
pub fn check_similarity_cap(
    batches: &BatchSink<'_>,
    data: &SamplerData<'_>,
    max_similarity: f64,
) -> CapCheck {
    let mut placed = vec![false; data.n_items()];
    let mut check = CapCheck::default();
    for (index, batch) in batches.batches().enumerate() {
        for &item in batch {
            placed[item as usize] = true;
        }
        let Some((&pivot, others)) = batch.split_first() else {
            continue;
        };
        let too_similar =
            |item: usize| at_or_above(data.cosine(pivot as usize, item), max_similarity);
        if !others.iter().any(|&item| too_similar(item as usize)) {
            continue;
        }
        let had_choice = (0..data.n_items()).any(|item| !placed[item] && !too_similar(item));
        if had_choice {
            check.breaches.push(index);
        } else {
            check.forced += 1;
        }
    }
    check
}

/// Batch slots filled by pivot plus neighbours for a batch size and hard ratio: `floor(b * r)`.
pub fn hard_per_batch(batch_size: usize, hard_ratio: f64) -> usize {
    // The small epsilon keeps e.g. 10 * 0.3 = 2.9999999999999996 at 3.
    ((batch_size as f64) * hard_ratio + 1e-9).floor() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EpochBuffers;

    /// Unit vectors in the plane at the given angles (radians).
    fn at_angles(radians: &[f32]) -> Vec<f32> {
        radians.iter().flat_map(|r| [r.cos(), r.sin()]).collect()
    }

    fn sink_of<'a>(buffers: &'a mut EpochBuffers, batches: &[&[u32]]) -> BatchSink<'a> {
        let mut sink = buffers.sink();
        for batch in batches {
            sink.push_batch(batch).unwrap();
        }
        sink
    }

    #[test]
    fn a_near_duplicate_of_the_pivot_breaks_the_cap_only_when_there_was_a_choice() {
        // 0 and 1 are near-duplicates (0.01 rad apart), and so are 2 and 3; 4 and 5 lie far
        // from both pairs and from each other.
        let embeddings = at_angles(&[0.0, 0.01, 1.0, 1.01, 2.0, 3.0]);
        let data = SamplerData::new(6, 2, 0, false, &embeddings, 2, &[], 0).unwrap();
        let mut buffers = EpochBuffers::new(6);
        let kept = sink_of(&mut buffers, &[&[0, 4], &[1, 5], &[2, 3]]);
        assert_eq!(
            check_similarity_cap(&kept, &data, 0.95),
            CapCheck {
                breaches: Vec::new(),
                forced: 1
            }
        );
        let broken = sink_of(&mut buffers, &[&[0, 1], &[4, 5], &[2, 3]]);
        let check = check_similarity_cap(&broken, &data, 0.95);
        assert_eq!((check.breaches, check.forced), (vec![0], 1));
        // Only the batch's first item is its pivot: 1 after 4 is no breach at this cap.
        let other_pivot = sink_of(&mut buffers, &[&[4, 1], &[0, 5], &[2, 3]]);
        assert_eq!(
            check_similarity_cap(&other_pivot, &data, 0.95).breaches,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn a_cap_lowers_the_hard_promise_by_the_neighbours_it_excludes() {
        // Each item's only neighbour is its pair mate; pairs (0, 1) and (2, 3) are
        // near-duplicates, (4, 5) and (6, 7) are not.
        let embeddings = at_angles(&[0.0, 0.01, 1.0, 1.01, 2.0, 2.6, 4.0, 4.6]);
        let neighbours: Vec<u32> = (0..8u32).map(|item| item ^ 1).collect();
        let data = SamplerData::new(8, 2, 0, false, &embeddings, 2, &neighbours, 1).unwrap();
        let mut buffers = EpochBuffers::new(8);
        let apart = sink_of(&mut buffers, &[&[0, 2], &[1, 3], &[4, 5], &[6, 7]]);
        assert_eq!(hard_shortfalls(&apart, &data, 2, 1, None), [0]);
        assert_eq!(
            hard_shortfalls(&apart, &data, 2, 1, Some(0.95)),
            Vec::<usize>::new()
        );
        let split = sink_of(&mut buffers, &[&[4, 6], &[5, 7], &[0, 1], &[2, 3]]);
        assert_eq!(hard_shortfalls(&split, &data, 2, 1, Some(0.95)), [0]);
    }

    #[test]
    fn quarter_shares_follow_batch_positions() {
        // Items pair up as each other's only neighbour: 2i and 2i + 1.
        let neighbours: Vec<u32> = (0..8u32).map(|item| item ^ 1).collect();
        let embeddings = vec![1.0f32; 8];
        let data = SamplerData::new(8, 2, 1, false, &embeddings, 1, &neighbours, 1).unwrap();
        let mut buffers = EpochBuffers::new(8);
        let mut sink = buffers.sink();
        for batch in [[0, 1], [2, 3], [4, 6], [5, 7]] {
            sink.push_batch(&batch).unwrap();
        }
        let mut meter = HardnessMeter::new(8);
        let mut shares = QuarterShares::default();
        assert_eq!(shares.mean(), None);
        shares.add_epoch(&sink, &data, 1, &mut meter);
        assert_eq!(
            shares.by_quarter(),
            [Some(1.0), Some(1.0), Some(0.5), Some(0.5)]
        );
        assert_eq!(shares.mean(), Some(0.75));
    }
}
