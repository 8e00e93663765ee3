//! `harness selftest`: the reference guide's quick test of semantics-aware batching.
//!
//! 100 unit vectors in 5 clusters of 20, batch size 10. `hard` (hard_ratio 0.5, hardness_k 10,
//! so every neighbour is a cluster mate) should build batches dominated by one cluster;
//! `random` should not.
//!
//! Criterion (deterministic for a seed): the dominant share of a batch is the count of its most
//! common cluster divided by its size. Over epochs 1-10 (100 batches), `hard` passes when its
//! mean dominant share is at least the asked hard share, 0.5; `random` passes when its mean is
//! below 0.45. For random batches the expected value is 0.37 (the 10-epoch mean ranged
//! 0.34-0.40 over 2,000 simulated seeds), so 0.45 leaves a wide margin.

use anyhow::{Context, Result};
use fixtures::ClusterSpec;
use sampler_api::{EpochBuffers, Sampler};

use crate::epochs::run_epoch;
use crate::plugin::{ForeignSampler, PluginRegistry};
use crate::sampler_set::SamplerInputs;

const BATCH_SIZE: usize = 10;
const EPOCHS: u32 = 10;
const SHOWN_BATCHES: usize = 3;
const HARD_CONFIG: &str = r#"{"hard_ratio":0.5,"hardness_k":10}"#;

/// What a sampler's mean dominant-cluster share must be.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Hard batches: at least this.
    AtLeast(f64),
    /// Random batches: below this.
    Below(f64),
}

impl Expect {
    fn holds(self, mean: f64) -> bool {
        match self {
            Expect::AtLeast(threshold) => mean >= threshold,
            Expect::Below(threshold) => mean < threshold,
        }
    }

    fn rule(self) -> String {
        match self {
            Expect::AtLeast(threshold) => format!(">= {threshold}"),
            Expect::Below(threshold) => format!("< {threshold}"),
        }
    }
}

/// The printed report and the verdict.
#[derive(Debug, Clone)]
pub struct SelftestReport {
    pub text: String,
    pub passed: bool,
}

/// Runs the quick test with the `hard` and `random` plugins from `registry`.
pub fn run(registry: &PluginRegistry, seed: u64) -> Result<SelftestReport> {
    let spec = ClusterSpec {
        seed,
        ..ClusterSpec::QUICK_TEST
    };
    let fixture = spec.generate();
    let mut text = format!(
        "Quick test: {} embeddings in {} clusters, batch size {BATCH_SIZE}, seed {seed}, epochs 1-{EPOCHS}\n",
        spec.items, spec.clusters
    );
    let mut passed = true;
    let cases = [
        ("hard", HARD_CONFIG, Expect::AtLeast(0.5)),
        ("random", "{}", Expect::Below(0.45)),
    ];
    // Errors from resolving and creating name the plugin themselves.
    let samplers = cases
        .iter()
        .map(|&(name, config, _)| Ok(ForeignSampler::new(&registry.resolve(name)?, config)?))
        .collect::<Result<Vec<_>>>()?;
    let inputs = SamplerInputs::for_samplers(
        fixture.embeddings,
        spec.dim,
        cases
            .iter()
            .zip(&samplers)
            .map(|(case, sampler)| (case.0, sampler.neighbours_needed())),
    )?;
    let data = inputs.view(BATCH_SIZE, seed, false)?;
    let mut buffers = EpochBuffers::new(spec.items);
    for ((name, config, expect), sampler) in cases.iter().zip(&samplers) {
        text.push_str(&format!("\n{name} {config}\n"));
        let (mut share_sum, mut batches) = (0.0, 0usize);
        for epoch in 1..=EPOCHS {
            let (sink, _) = run_epoch(sampler, &data, epoch, &mut buffers).with_context(|| {
                let plugin = sampler.plugin();
                format!("sampler '{}' ({})", plugin.name, plugin.path.display())
            })?;
            for (index, batch) in sink.batches().enumerate() {
                let mut counts = vec![0usize; spec.clusters];
                for &item in batch {
                    counts[fixture.labels[item as usize]] += 1;
                }
                let dominant = *counts.iter().max().expect("clusters exist");
                share_sum += dominant as f64 / batch.len() as f64;
                batches += 1;
                if epoch == 1 && index < SHOWN_BATCHES {
                    let shown: Vec<String> = counts
                        .iter()
                        .enumerate()
                        .map(|(c, n)| format!("c{c}:{n}"))
                        .collect();
                    text.push_str(&format!(
                        "  batch {}: {}  dominant {dominant}/{}\n",
                        index + 1,
                        shown.join(" "),
                        batch.len()
                    ));
                }
            }
        }
        let mean = share_sum / batches as f64;
        let ok = expect.holds(mean);
        let rule = expect.rule();
        text.push_str(&format!(
            "  mean dominant share over {batches} batches: {mean:.3} (needs {rule}): {}\n",
            if ok { "PASS" } else { "FAIL" }
        ));
        passed &= ok;
    }
    text.push_str(if passed {
        "\nselftest passed\n"
    } else {
        "\nselftest FAILED\n"
    });
    Ok(SelftestReport { text, passed })
}
