//! Seeded k-means of unit vectors: greedy k-means++ seeding, then Lloyd iterations until no item changes
//! cluster or [`MAX_ITERATIONS`] have run. Deterministic: the same rows, `k` and random stream
//! give the same clusters.

use sampler_api::rng::Rng;
use sampler_api::similarity::dot;

/// Lloyd iterations at most. Most items settle within the first ten or so; later iterations move
/// few, and each costs `n * k` dot products.
pub const MAX_ITERATIONS: usize = 20;

/// A partition of the rows into `k` clusters (some possibly empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// The cluster of each row.
    pub assignments: Vec<u32>,
    /// Row-major `k x dim` cluster means (a cluster that ends empty keeps its last centre).
    pub centroids: Vec<f32>,
    /// Lloyd iterations run.
    pub iterations: usize,
}

/// Clusters `rows` (unit vectors of one width) into `k` clusters, `1 <= k <= rows`, drawing
/// randomness from `rng`.
pub fn kmeans(rows: &[&[f32]], k: usize, rng: &mut Rng) -> Clustering {
    let dim = rows.first().map_or(0, |row| row.len());
    assert!(
        (1..=rows.len()).contains(&k),
        "k-means needs 1 <= k ({k}) <= rows ({})",
        rows.len()
    );
    let mut centroids = plus_plus_seeds(rows, k, rng);
    let mut assignments = vec![u32::MAX; rows.len()];
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        if !assign(rows, &centroids, dim, &mut assignments) {
            break;
        }
        update_centroids(rows, &assignments, dim, &mut centroids);
    }
    Clustering {
        assignments,
        centroids,
        iterations,
    }
}

/// Greedy k-means++ seeding (as scikit-learn does it): the first centre a uniformly random row;
/// each next one the best of `2 + ln k` candidate rows, each drawn with probability proportional
/// to its squared distance from the nearest centre so far, "best" meaning the one that leaves the
/// smallest sum of those distances. Plain k-means++ (one candidate) too often puts two seeds in
/// one cluster and none in another, which Lloyd iterations do not repair.
fn plus_plus_seeds(rows: &[&[f32]], k: usize, rng: &mut Rng) -> Vec<f32> {
    // Squared distance of unit vectors: 2 - 2 cos (clamped: rounding can make it negative).
    let distance = |a: &[f32], b: &[f32]| f64::from(2.0 - 2.0 * dot(a, b)).max(0.0);
    let trials = 2 + (k as f64).ln() as usize;
    let first = rows[rng.below(rows.len())];
    let mut centroids = first.to_vec();
    let mut nearest: Vec<f64> = rows.iter().map(|row| distance(row, first)).collect();
    let mut with_candidate = vec![0.0; rows.len()];
    let mut best_nearest = vec![0.0; rows.len()];
    for _ in 1..k {
        let total: f64 = nearest.iter().sum();
        let mut best_potential = f64::INFINITY;
        let mut best_row = 0;
        for _ in 0..trials {
            let candidate = draw_by_weight(&nearest, total, rng);
            for ((row, &old), new) in rows.iter().zip(&nearest).zip(&mut with_candidate) {
                *new = old.min(distance(row, rows[candidate]));
            }
            let potential: f64 = with_candidate.iter().sum();
            if potential < best_potential {
                best_potential = potential;
                best_row = candidate;
                std::mem::swap(&mut best_nearest, &mut with_candidate);
            }
        }
        centroids.extend_from_slice(rows[best_row]);
        std::mem::swap(&mut nearest, &mut best_nearest);
    }
    centroids
}

/// A row drawn with probability proportional to its weight (`total` is their sum); uniformly
/// when every weight is 0 (every row coincides with a centre).
fn draw_by_weight(weights: &[f64], total: f64, rng: &mut Rng) -> usize {
    if total <= 0.0 {
        return rng.below(weights.len());
    }
    let mut target = rng.unit_f64() * total;
    for (row, &weight) in weights.iter().enumerate() {
        if weight > 0.0 && target < weight {
            return row;
        }
        target -= weight;
    }
    // Rounding left `target` above the running sum: the last row with weight.
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// Moves every row to its nearest centre (by Euclidean distance; the lowest index on ties);
/// returns whether any row moved.
fn assign(rows: &[&[f32]], centroids: &[f32], dim: usize, assignments: &mut [u32]) -> bool {
    // |x - c|^2 = |x|^2 - 2 x.c + |c|^2, and |x| = 1: the nearest centre maximises x.c - |c|^2 / 2.
    let half_norms: Vec<f32> = centroids
        .chunks_exact(dim)
        .map(|c| dot(c, c) / 2.0)
        .collect();
    let mut moved = false;
    for (row, assigned) in rows.iter().zip(assignments) {
        let mut best = (f32::NEG_INFINITY, 0u32);
        for (cluster, (centre, half_norm)) in
            centroids.chunks_exact(dim).zip(&half_norms).enumerate()
        {
            let score = dot(row, centre) - half_norm;
            if score > best.0 {
                best = (score, cluster as u32);
            }
        }
        moved |= *assigned != best.1;
        *assigned = best.1;
    }
    moved
}

/// Sets every centre to the mean of its rows (summed in f64); an empty cluster keeps its centre.
fn update_centroids(rows: &[&[f32]], assignments: &[u32], dim: usize, centroids: &mut [f32]) {
    let k = centroids.len() / dim;
    let mut sums = vec![0.0f64; k * dim];
    let mut counts = vec![0usize; k];
    for (row, &cluster) in rows.iter().zip(assignments) {
        let cluster = cluster as usize;
        counts[cluster] += 1;
        for (sum, &value) in sums[cluster * dim..(cluster + 1) * dim]
            .iter_mut()
            .zip(*row)
        {
            *sum += f64::from(value);
        }
    }
    for (cluster, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let range = cluster * dim..(cluster + 1) * dim;
        for (centre, sum) in centroids[range.clone()].iter_mut().zip(&sums[range]) {
            *centre = (sum / count as f64) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(embeddings: &[f32], dim: usize) -> Vec<&[f32]> {
        embeddings.chunks_exact(dim).collect()
    }

    /// `per_cluster` noisy unit vectors around each of the three axes in 3-d, shuffled, with the
    /// axis of each.
    fn blobs(per_cluster: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
        let centres = [[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let mut rng = Rng::for_stream(seed, &[]);
        let mut labelled: Vec<(Vec<f32>, u32)> = Vec::new();
        for (label, centre) in centres.iter().enumerate() {
            for _ in 0..per_cluster {
                let row: Vec<f32> = centre
                    .iter()
                    .map(|c| c + 0.1 * rng.normal() as f32)
                    .collect();
                let norm = dot(&row, &row).sqrt();
                labelled.push((row.iter().map(|v| v / norm).collect(), label as u32));
            }
        }
        rng.shuffle(&mut labelled);
        let labels = labelled.iter().map(|(_, label)| *label).collect();
        (
            labelled.into_iter().flat_map(|(row, _)| row).collect(),
            labels,
        )
    }

    #[test]
    fn finds_well_separated_clusters_and_converges() {
        let (embeddings, labels) = blobs(40, 1);
        let clustering = kmeans(&rows(&embeddings, 3), 3, &mut Rng::for_stream(9, &[]));
        assert!(clustering.iterations < MAX_ITERATIONS, "{clustering:?}");
        // The same partition as the labels, up to the clusters' numbering.
        for (a, b) in (0..labels.len()).flat_map(|a| (0..labels.len()).map(move |b| (a, b))) {
            assert_eq!(
                labels[a] == labels[b],
                clustering.assignments[a] == clustering.assignments[b],
                "rows {a} and {b}"
            );
        }
        // Each centre is the mean of its rows: near its direction, shorter than 1.
        for centre in clustering.centroids.chunks_exact(3) {
            let norm = dot(centre, centre).sqrt();
            assert!((0.9..1.0).contains(&norm), "{centre:?}");
        }
    }

    #[test]
    fn is_deterministic_in_its_stream_and_handles_edge_sizes() {
        let (embeddings, _) = blobs(20, 2);
        let rows = rows(&embeddings, 3);
        let run = |seed| kmeans(&rows, 7, &mut Rng::for_stream(seed, &[]));
        assert_eq!(run(4), run(4));
        assert_ne!(run(4).assignments, run(5).assignments);
        let one = kmeans(&rows, 1, &mut Rng::for_stream(1, &[]));
        assert!(one.assignments.iter().all(|&c| c == 0));
        // As many clusters as rows: every row its own cluster.
        let all = kmeans(&rows, rows.len(), &mut Rng::for_stream(1, &[]));
        let mut clusters = all.assignments.clone();
        clusters.sort_unstable();
        clusters.dedup();
        assert_eq!(clusters.len(), rows.len());
    }

    #[test]
    fn identical_rows_do_not_stall_the_seeding() {
        let embeddings = [0.6f32, 0.8].repeat(10);
        let clustering = kmeans(&rows(&embeddings, 2), 4, &mut Rng::for_stream(3, &[]));
        assert_eq!(clustering.assignments.len(), 10);
        // Identical rows tie with every centre: all go to the first, the rest stay empty.
        assert!(clustering.assignments.iter().all(|&c| c == 0));
    }
}
