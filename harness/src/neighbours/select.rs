//! Bounded per-row top-`k` selection, fed with similarity blocks and merged over column blocks.
//!
//! Each row keeps at most `capacity` candidates (`k` plus slack) as sort keys, and the key of
//! its `k`-th best candidate at the last compaction. A candidate is kept only when its key is
//! larger; most of a block is rejected by one vectorised comparison of 16 similarities with the
//! `k`-th similarity (the key is only built for those at or above it). When the buffer fills,
//! `select_nth_unstable` keeps the `k` best keys and raises the bar.
//!
//! Keys order by similarity, then by lower index, so the result does not depend on the order in
//! which candidates arrive: rows may be fed by any blocks in any order.

/// Scores compared per vectorised step (one 64-byte cache line of f32).
pub(super) const LANES: usize = 16;

/// The sort key of a candidate: larger is better, i.e. higher similarity, then lower index.
///
/// The upper half is the similarity's bits mapped to an order-preserving unsigned integer
/// (`-0.0` first made `+0.0`, so the two zeros tie), the lower half the inverted index.
#[inline]
pub(super) fn key(score: f32, index: u32) -> u64 {
    let bits = (score + 0.0).to_bits();
    let ordered = if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    };
    (u64::from(ordered) << 32) | u64::from(!index)
}

/// The similarity encoded in a [`key`].
#[inline]
pub(super) fn score_of(key: u64) -> f32 {
    let ordered = (key >> 32) as u32;
    f32::from_bits(if ordered & 0x8000_0000 != 0 {
        ordered & 0x7fff_ffff
    } else {
        !ordered
    })
}

/// The item index encoded in a [`key`].
#[inline]
pub(super) fn index_of(key: u64) -> u32 {
    !(key as u32)
}

/// Candidate slots per row beyond `k`: more slack means fewer compactions but staler thresholds.
fn slack(k: usize) -> usize {
    k.max(32)
}

/// The running top-`k` of every row.
#[derive(Debug)]
pub(super) struct TopK {
    k: usize,
    capacity: usize,
    keys: Vec<u64>,
    lens: Vec<u32>,
    thresholds: Vec<f32>,
    bars: Vec<u64>,
}

impl TopK {
    /// Empty selections for `n` rows; every row must eventually be offered at least `k`
    /// candidates.
    pub(super) fn new(n: usize, k: usize) -> Self {
        assert!(k > 0, "k must be positive");
        let capacity = k + slack(k);
        TopK {
            k,
            capacity,
            keys: vec![0; n * capacity],
            lens: vec![0; n],
            thresholds: vec![f32::NEG_INFINITY; n],
            bars: vec![0; n],
        }
    }

    /// Bytes held, for memory estimates.
    pub(super) fn bytes(n: usize, k: usize) -> usize {
        n * ((k + slack(k)) * 8 + 16)
    }

    /// Mutable access to every row.
    pub(super) fn rows(&mut self) -> Rows<'_> {
        Rows {
            k: self.k,
            capacity: self.capacity,
            first: 0,
            keys: &mut self.keys,
            lens: &mut self.lens,
            thresholds: &mut self.thresholds,
            bars: &mut self.bars,
        }
    }

    /// The finished table: row-major `n x k`, best first, using up to `workers` threads.
    pub(super) fn into_table(mut self, workers: usize) -> Vec<u32> {
        let n = self.lens.len();
        let k = self.k;
        let mut table = vec![0u32; n * k];
        let per_worker = n.div_ceil(workers.max(1)).max(1);
        let capacity = self.capacity;
        std::thread::scope(|scope| {
            let parts = table
                .chunks_mut(per_worker * k)
                .zip(self.keys.chunks_mut(per_worker * capacity))
                .zip(self.lens.chunks(per_worker));
            for ((out, keys), lens) in parts {
                scope.spawn(move || {
                    for ((out, keys), &len) in out
                        .chunks_exact_mut(k)
                        .zip(keys.chunks_exact_mut(capacity))
                        .zip(lens)
                    {
                        let kept = &mut keys[..len as usize];
                        assert!(kept.len() >= k, "a row was offered fewer than k candidates");
                        if kept.len() > k {
                            kept.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                        }
                        let best = &mut kept[..k];
                        best.sort_unstable_by(|a, b| b.cmp(a));
                        for (slot, &key) in out.iter_mut().zip(best.iter()) {
                            *slot = index_of(key);
                        }
                    }
                });
            }
        });
        table
    }
}

/// Exclusive access to a contiguous range of rows of a [`TopK`], so that threads can update
/// disjoint rows at once. Row numbers passed to its methods are relative to `first`.
#[derive(Debug)]
pub(super) struct Rows<'a> {
    k: usize,
    capacity: usize,
    first: usize,
    keys: &'a mut [u64],
    lens: &'a mut [u32],
    /// Similarity of the `k`-th kept candidate (`-inf` before the first compaction).
    thresholds: &'a mut [f32],
    /// Key of the `k`-th kept candidate (0, below every key, before the first compaction).
    bars: &'a mut [u64],
}

impl Rows<'static> {
    /// No rows.
    pub(super) fn empty() -> Self {
        Rows {
            k: 1,
            capacity: 1,
            first: 0,
            keys: &mut [],
            lens: &mut [],
            thresholds: &mut [],
            bars: &mut [],
        }
    }
}

impl<'a> Rows<'a> {
    /// Number of rows.
    pub(super) fn len(&self) -> usize {
        self.lens.len()
    }

    /// The rows before absolute row `at`, and the rest.
    pub(super) fn split_at(self, at: usize) -> (Rows<'a>, Rows<'a>) {
        let mid = at - self.first;
        let (keys_a, keys_b) = self.keys.split_at_mut(mid * self.capacity);
        let (lens_a, lens_b) = self.lens.split_at_mut(mid);
        let (thr_a, thr_b) = self.thresholds.split_at_mut(mid);
        let (bars_a, bars_b) = self.bars.split_at_mut(mid);
        let head = Rows {
            k: self.k,
            capacity: self.capacity,
            first: self.first,
            keys: keys_a,
            lens: lens_a,
            thresholds: thr_a,
            bars: bars_a,
        };
        let tail = Rows {
            k: self.k,
            capacity: self.capacity,
            first: at,
            keys: keys_b,
            lens: lens_b,
            thresholds: thr_b,
            bars: bars_b,
        };
        (head, tail)
    }

    /// The rows cut at absolute rows `first + b * size`, `b = 1, 2, ...`.
    pub(super) fn into_blocks(self, size: usize) -> Vec<Rows<'a>> {
        let mut out = Vec::new();
        let mut rest = self;
        while rest.len() > size.max(1) {
            let at = rest.first + size.max(1);
            let (head, tail) = rest.split_at(at);
            out.push(head);
            rest = tail;
        }
        out.push(rest);
        out
    }

    /// Adds a candidate whose similarity is at or above row `row`'s threshold, if its key beats
    /// the `k`-th kept one; returns the row's (possibly raised) threshold.
    #[inline]
    fn push(&mut self, row: usize, key: u64) -> f32 {
        if key <= self.bars[row] {
            return self.thresholds[row];
        }
        let len = self.lens[row] as usize;
        self.keys[row * self.capacity + len] = key;
        if len + 1 < self.capacity {
            self.lens[row] = (len + 1) as u32;
            self.thresholds[row]
        } else {
            self.compact(row)
        }
    }

    /// Keeps the `k` best of a full row and raises its threshold to the `k`-th of them.
    #[cold]
    fn compact(&mut self, row: usize) -> f32 {
        let slots = &mut self.keys[row * self.capacity..(row + 1) * self.capacity];
        slots.select_nth_unstable_by(self.k - 1, |a, b| b.cmp(a));
        let bar = slots[self.k - 1];
        let threshold = score_of(bar);
        self.lens[row] = self.k as u32;
        self.thresholds[row] = threshold;
        self.bars[row] = bar;
        threshold
    }

    /// Offers row `row` the candidates `scores`, where `scores[c]` is its similarity to item
    /// `first_index + c`.
    pub(super) fn offer(&mut self, row: usize, scores: &[f32], first_index: usize) {
        let mut threshold = self.thresholds[row];
        let mut groups = scores.chunks_exact(GROUP);
        let mut index = first_index;
        for group in groups.by_ref() {
            let group: &[f32; GROUP] = group.try_into().expect("GROUP scores");
            // One comparison for the whole group when none reaches the threshold (the usual
            // case once the row has seen a few blocks).
            if group_max(group) >= threshold {
                for (offset, chunk) in group.chunks_exact(LANES).enumerate() {
                    let chunk: &[f32; LANES] = chunk.try_into().expect("LANES scores");
                    let mut above = above_mask(chunk, &[threshold; LANES]);
                    while above != 0 {
                        let lane = above.trailing_zeros() as usize;
                        above &= above - 1;
                        // A compaction may have raised the threshold since the mask was taken.
                        if chunk[lane] >= threshold {
                            let item = index + offset * LANES + lane;
                            threshold = self.push(row, key(chunk[lane], item as u32));
                        }
                    }
                }
            }
            index += GROUP;
        }
        for (offset, &score) in groups.remainder().iter().enumerate() {
            if score >= threshold {
                threshold = self.push(row, key(score, (index + offset) as u32));
            }
        }
    }

    /// Offers every row the column of `block` that holds its similarities: `block` is row-major
    /// with `stride` columns; this range's row `r` reads column `first_column + r`, and block
    /// row `i` is item `first_index + i`.
    pub(super) fn offer_columns(
        &mut self,
        block: &[f32],
        stride: usize,
        first_column: usize,
        first_index: usize,
    ) {
        let block_rows = block.len() / stride;
        let rows = self.len();
        let lanes_at = |i: usize, tile: usize| -> &[f32; LANES] {
            let start = i * stride + first_column + tile;
            block[start..start + LANES]
                .try_into()
                .expect("LANES scores")
        };
        for tile in (0..rows).step_by(LANES) {
            let width = LANES.min(rows - tile);
            if width < LANES {
                for i in 0..block_rows {
                    for lane in 0..width {
                        let score = block[i * stride + first_column + tile + lane];
                        if score >= self.thresholds[tile + lane] {
                            let index = (first_index + i) as u32;
                            self.push(tile + lane, key(score, index));
                        }
                    }
                }
                continue;
            }
            let mut thresholds = [0f32; LANES];
            thresholds.copy_from_slice(&self.thresholds[tile..tile + LANES]);
            for start in (0..block_rows).step_by(STACK) {
                let end = (start + STACK).min(block_rows);
                // The lane-wise maximum over a stack of rows first: one mask for all of them
                // when no lane reaches its threshold.
                let mut highest = [f32::NEG_INFINITY; LANES];
                for i in start..end {
                    let scores = lanes_at(i, tile);
                    for lane in 0..LANES {
                        highest[lane] = if scores[lane] > highest[lane] {
                            scores[lane]
                        } else {
                            highest[lane]
                        };
                    }
                }
                if above_mask(&highest, &thresholds) == 0 {
                    continue;
                }
                for i in start..end {
                    let scores = lanes_at(i, tile);
                    // Lanes are different rows: a push changes only its own lane's threshold.
                    let mut above = above_mask(scores, &thresholds);
                    while above != 0 {
                        let lane = above.trailing_zeros() as usize;
                        above &= above - 1;
                        let index = (first_index + i) as u32;
                        thresholds[lane] = self.push(tile + lane, key(scores[lane], index));
                    }
                }
            }
        }
    }
}

/// Scores a row scans between two threshold checks.
const GROUP: usize = 64;

/// Rows of a block whose lane-wise maximum the column scan checks at once.
const STACK: usize = 8;

/// The largest of `GROUP` scores, as eight independent lanes (vector maxima) then a fold.
#[inline]
fn group_max(scores: &[f32; GROUP]) -> f32 {
    let mut highest = [f32::NEG_INFINITY; 8];
    for chunk in scores.chunks_exact(8) {
        for lane in 0..8 {
            highest[lane] = if chunk[lane] > highest[lane] {
                chunk[lane]
            } else {
                highest[lane]
            };
        }
    }
    highest
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// Bit `l` set when `scores[l] >= thresholds[l]` (compiles to vector compares).
#[inline]
fn above_mask(scores: &[f32; LANES], thresholds: &[f32; LANES]) -> u32 {
    let mut mask = 0u32;
    for lane in 0..LANES {
        mask |= u32::from(scores[lane] >= thresholds[lane]) << lane;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_by_similarity_then_lower_index() {
        let scores = [-1.0f32, -0.5, -0.0, 0.0, 1e-30, 0.25, 1.0];
        for pair in scores.windows(2) {
            if pair[0] == pair[1] {
                assert_eq!(key(pair[0], 3), key(pair[1], 3));
            } else {
                assert!(key(pair[0], 3) < key(pair[1], 3), "{pair:?}");
            }
        }
        assert!(key(0.5, 7) > key(0.5, 8));
        assert!(key(0.5, u32::MAX) > key(0.25, 0));
        for &s in &scores {
            assert_eq!(score_of(key(s, 9)), s + 0.0);
            assert_eq!(index_of(key(s, 9)), 9);
        }
    }

    #[test]
    fn rows_and_columns_select_the_same_best() {
        // A 40 x 40 block of quantised scores fed once by rows and once by columns.
        let n = 40;
        let block: Vec<f32> = (0..n * n).map(|x| ((x * 7919 % 13) as f32) / 4.0).collect();
        let transposed: Vec<f32> = (0..n * n).map(|x| block[(x % n) * n + x / n]).collect();
        for k in [1, 5, 39] {
            let mut by_rows = TopK::new(n, k);
            let mut rows = by_rows.rows();
            for r in 0..n {
                rows.offer(r, &transposed[r * n..(r + 1) * n], 0);
            }
            let mut by_columns = TopK::new(n, k);
            by_columns.rows().offer_columns(&block, n, 0, 0);
            let (a, b) = (by_rows.into_table(2), by_columns.into_table(3));
            assert_eq!(a, b);
            for r in 0..n {
                let mut expected: Vec<u32> = (0..n as u32).collect();
                expected.sort_by(|&x, &y| {
                    let (sx, sy) = (block[x as usize * n + r], block[y as usize * n + r]);
                    sy.total_cmp(&sx).then(x.cmp(&y))
                });
                assert_eq!(&a[r * k..(r + 1) * k], &expected[..k], "row {r}, k {k}");
            }
        }
    }

    #[test]
    fn arrival_order_does_not_matter() {
        let n: usize = 300;
        let scores: Vec<f32> = (0..n).map(|x| ((x * 37 % 11) as f32) / 8.0).collect();
        let mut expected: Vec<u32> = (0..n as u32).collect();
        expected.sort_by(|&a, &b| {
            scores[b as usize]
                .total_cmp(&scores[a as usize])
                .then(a.cmp(&b))
        });
        for k in [1, 7, 50] {
            for pieces in [1, 3, 10, 300] {
                // Feed the candidates in pieces, last piece first.
                let mut topk = TopK::new(1, k);
                let mut rows = topk.rows();
                let size = n.div_ceil(pieces);
                for start in (0..n).step_by(size).rev() {
                    let end = (start + size).min(n);
                    rows.offer(0, &scores[start..end], start);
                }
                assert_eq!(topk.into_table(1), &expected[..k], "k {k}, {pieces} pieces");
            }
        }
    }

    #[test]
    fn blocks_cover_the_rows_in_order() {
        let mut topk = TopK::new(100, 3);
        let blocks = topk.rows().into_blocks(32);
        let spans: Vec<(usize, usize)> = blocks.iter().map(|b| (b.first, b.len())).collect();
        assert_eq!(spans, vec![(0, 32), (32, 32), (64, 32), (96, 4)]);
    }
}
