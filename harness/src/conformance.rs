//! `harness check`: the conformance suite every sampler plugin must pass.
//!
//! It runs the plugin on a deterministic 5-cluster fixture (1,000 unit vectors in 32
//! dimensions) and checks the batch contract, determinism, sensitivity to seed and epoch, the
//! realised hard share against the share each epoch's note asks for and, when notes announce
//! one, the false-negative cap.
//!
//! The suite trains no model, so a sampler that reads model tables (ABI 1.1) gets synthetic
//! ones: the fixture's description neighbour table, cut to the width it asks for, as both its
//! model neighbour and its confusion table (a model that has learnt the descriptions). The
//! valid-batches rows run without them (before any refresh, as in the first epochs of a
//! training run); the rows from determinism on run with them.

use fixtures::ClusterSpec;
use sampler_api::contract::{
    HardnessMeter, QuarterShares, check_similarity_cap, hard_per_batch, hard_shortfalls,
};
use sampler_api::{BatchSink, EpochBuffers, EpochNote, ModelTables, Sampler, SamplerData};

use std::time::Duration;

use crate::compare::events::RunEvent;
use crate::epochs::run_epoch;
use crate::plugin::{ForeignSampler, LoadedPlugin, PluginError};
use crate::sampler_set::SamplerInputs;
use crate::signals::describe_exit;
use crate::table::TextTable;

/// Ten times the guide's quick test, so every batch size and shape occurs.
const FIXTURE: ClusterSpec = ClusterSpec {
    items: 1000,
    seed: 7,
    ..ClusterSpec::QUICK_TEST
};
/// Enough epochs to pass the built-in schedules' switches (curriculum at 5, progressive at 21).
const EPOCHS: u32 = 25;
const BATCH_SIZE: usize = 32;

/// One line of the report.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

/// The outcome of the suite for one plugin and configuration.
#[derive(Debug, Clone)]
pub struct ConformanceReport {
    pub plugin_name: String,
    pub plugin_path: String,
    pub rows: Vec<CheckRow>,
}

impl ConformanceReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|row| row.passed)
    }

    /// The pass/fail table and a closing verdict.
    pub fn render(&self) -> String {
        let mut table = TextTable::new(["Check", "Result", "Detail"]);
        for row in &self.rows {
            table.row([
                row.check.clone(),
                if row.passed { "PASS" } else { "FAIL" }.into(),
                row.detail.clone(),
            ]);
        }
        let failed = self.rows.iter().filter(|row| !row.passed).count();
        let verdict = if failed == 0 {
            format!(
                "{}: all {} checks passed",
                self.plugin_name,
                self.rows.len()
            )
        } else {
            format!(
                "{}: {failed} of {} checks FAILED",
                self.plugin_name,
                self.rows.len()
            )
        };
        format!(
            "sampler '{}' ({})\n{}{verdict}\n",
            self.plugin_name,
            self.plugin_path,
            table.render()
        )
    }
}

struct Suite<'a> {
    rows: Vec<CheckRow>,
    /// Sees each row as soon as it is known (a worker streams them to the harness).
    on_row: &'a mut dyn FnMut(&CheckRow),
}

impl Suite<'_> {
    fn record(&mut self, check: impl Into<String>, outcome: Result<String, String>) -> bool {
        let passed = outcome.is_ok();
        let detail = outcome.unwrap_or_else(|e| e);
        let row = CheckRow {
            check: check.into(),
            passed,
            detail,
        };
        (self.on_row)(&row);
        self.rows.push(row);
        passed
    }
}

/// Runs the suite in a worker process, so a plugin that crashes or hangs (past `timeout`)
/// fails the suite with the cause named instead of taking the harness down; the rows finished
/// before stay in the report.
pub fn run_isolated(
    plugin: &LoadedPlugin,
    config_json: &str,
    timeout: Duration,
) -> anyhow::Result<ConformanceReport> {
    let command = crate::worker::command(&[
        "check".as_ref(),
        "--library".as_ref(),
        plugin.path.as_os_str(),
        "--config".as_ref(),
        config_json.as_ref(),
    ])?;
    let mut rows = Vec::new();
    let end = crate::worker::run_to_end(command, Some(timeout), &mut |event| {
        if let RunEvent::CheckRow {
            check,
            passed,
            detail,
        } = event
        {
            rows.push(CheckRow {
                check: check.clone(),
                passed: *passed,
                detail: detail.clone(),
            });
        }
    })?;
    if !(end.finished && end.status.success()) {
        let cause = if end.timed_out {
            format!(
                "did not finish within --timeout {} s and was stopped",
                timeout.as_secs_f64()
            )
        } else if let Some(error) = end.error {
            error
        } else {
            format!("the worker process {}", describe_exit(end.status))
        };
        rows.push(CheckRow {
            check: "suite runs to the end".into(),
            passed: false,
            detail: format!("{cause}, after the checks above"),
        });
    }
    Ok(ConformanceReport {
        plugin_name: plugin.name.clone(),
        plugin_path: plugin.path.display().to_string(),
        rows,
    })
}

/// Runs every check on `plugin` configured with `config_json`.
pub fn run(plugin: &LoadedPlugin, config_json: &str) -> ConformanceReport {
    run_streaming(plugin, config_json, &mut |_| {})
}

/// [`run`], handing each row to `on_row` as soon as it is known.
pub fn run_streaming(
    plugin: &LoadedPlugin,
    config_json: &str,
    on_row: &mut dyn FnMut(&CheckRow),
) -> ConformanceReport {
    let mut suite = Suite {
        rows: Vec::new(),
        on_row,
    };
    suite.record(
        "ABI version",
        Ok(format!(
            "plugin {} / harness {}.{}",
            plugin.abi(),
            sampler_api::abi::ABI_MAJOR,
            sampler_api::abi::ABI_MINOR
        )),
    );
    suite.record(
        "refuses unknown configuration keys",
        match ForeignSampler::new(plugin, r#"{"conformance_unknown_key": 1}"#) {
            Ok(_) => Err("accepted {\"conformance_unknown_key\": 1}".into()),
            Err(e @ PluginError::NoState { .. }) => Err(e.without_plugin()),
            Err(e) => Ok(format!("refused: {}", last_clause(&e.to_string()))),
        },
    );
    // The heading names the plugin and its path; the rows say only what went wrong.
    let create = || ForeignSampler::new(plugin, config_json).map_err(|e| e.without_plugin());
    let sampler = match create() {
        Ok(sampler) => sampler,
        Err(e) => {
            suite.record(format!("creates with {config_json}"), Err(e));
            return finish(plugin, suite);
        }
    };
    let model_needs = sampler.model_neighbours_needed();
    let model_detail = if model_needs.k > 0 {
        format!(
            ", model tables k = {} every {} epochs",
            model_needs.k, model_needs.refresh_every
        )
    } else {
        String::new()
    };
    suite.record(
        format!("creates with {config_json}"),
        Ok(format!(
            "needs k = {}{model_detail}",
            sampler.neighbours_needed()
        )),
    );
    let fixture = FIXTURE.generate();
    let inputs = match SamplerInputs::for_samplers(
        fixture.embeddings,
        FIXTURE.dim,
        [
            (plugin.name.as_str(), sampler.neighbours_needed()),
            (plugin.name.as_str(), model_needs.k),
        ],
    ) {
        Ok(inputs) => inputs,
        Err(e) => {
            suite.record("neighbour table", Err(format!("{e:#}")));
            return finish(plugin, suite);
        }
    };

    let scenarios = [
        (FIXTURE.items, BATCH_SIZE, false),
        (FIXTURE.items, BATCH_SIZE, true),
        (FIXTURE.items - 3, 10, false),
    ];
    let mut all_valid = true;
    for (n_items, batch_size, drop_last) in scenarios {
        let subset = truncated(&inputs, n_items);
        let outcome = subset.and_then(|subset| {
            let data = subset
                .view(batch_size, 1, drop_last)
                .map_err(|e| format!("{e:#}"))?;
            let mut buffers = EpochBuffers::new(data.n_items());
            for epoch in 1..=EPOCHS {
                run_epoch(&sampler, &data, epoch, &mut buffers).map_err(|e| e.to_string())?;
            }
            Ok(format!(
                "epochs 1-{EPOCHS}: ids in range, no duplicates, sizes and coverage right"
            ))
        });
        all_valid &= suite.record(
            format!(
                "valid batches (N={n_items}, B={batch_size}{})",
                if drop_last { ", drop_last" } else { "" }
            ),
            outcome,
        );
    }
    if !all_valid {
        return finish(plugin, suite);
    }

    // From here on a plugin that starts failing (or breaking the contract) after some calls
    // fails the check at hand, named with the seed and epoch, and the table is still printed.
    const DETERMINISM: &str = "deterministic (fresh instance, same seed)";
    let synthetic = SyntheticModel::new(&inputs, model_needs.k);
    let view = |seed| synthetic.add_to(inputs.view(BATCH_SIZE, seed, false)?);
    let views = view(1).and_then(|seed_1| Ok((seed_1, view(2)?)));
    let (data, other_seed) = match views {
        Ok(views) => views,
        Err(e) => {
            suite.record("fixture", Err(format!("{e:#}")));
            return finish(plugin, suite);
        }
    };
    let first_run = match epochs_of(&sampler, &data, &[1, 2, 3]) {
        Ok(run) => run,
        Err(e) => {
            suite.record(DETERMINISM, Err(format!("seed 1: {e}")));
            return finish(plugin, suite);
        }
    };
    suite.record(
        DETERMINISM,
        create()
            .and_then(|again| {
                epochs_of(&again, &data, &[1, 2, 3])
                    .map_err(|e| format!("fresh instance, seed 1: {e}"))
            })
            .and_then(|second_run| {
                if second_run == first_run {
                    Ok("epochs 1-3 identical".into())
                } else {
                    Err("epochs 1-3 differ between two instances".into())
                }
            }),
    );
    suite.record(
        "seed changes batches",
        epochs_of(&sampler, &other_seed, &[1])
            .map_err(|e| format!("seed 2: {e}"))
            .and_then(|other| {
                if other[0].0 != first_run[0].0 {
                    Ok("seed 1 vs 2 differ".into())
                } else {
                    Err("seeds 1 and 2 give identical batches".into())
                }
            }),
    );
    suite.record(
        "epoch changes batches",
        if first_run[0].0 != first_run[1].0 {
            Ok("epochs 1 vs 2 differ".into())
        } else {
            Err("epochs 1 and 2 give identical batches".into())
        },
    );
    let promises = hardness(&sampler, &data);
    suite.record("realised hard share", promises.hard_share);
    if let Some(cap) = promises.cap {
        suite.record("false-negative cap", cap);
    }
    suite.record("stages reported", promises.stages);
    finish(plugin, suite)
}

/// The batches of one epoch and its note.
type EpochOutcome = (Vec<Vec<u32>>, EpochNote);

/// The batches and notes of `epochs`, each held to the contract; the error names the epoch.
fn epochs_of(
    sampler: &dyn Sampler,
    data: &SamplerData<'_>,
    epochs: &[u32],
) -> Result<Vec<EpochOutcome>, String> {
    let mut buffers = EpochBuffers::new(data.n_items());
    epochs
        .iter()
        .map(|&epoch| {
            let (sink, note) =
                run_epoch(sampler, data, epoch, &mut buffers).map_err(|e| e.to_string())?;
            Ok((sink.to_vecs(), note))
        })
        .collect()
}

fn finish(plugin: &LoadedPlugin, suite: Suite) -> ConformanceReport {
    ConformanceReport {
        plugin_name: plugin.name.clone(),
        plugin_path: plugin.path.display().to_string(),
        rows: suite.rows,
    }
}

/// The last `: `-separated clause of an error chain, for short table cells.
fn last_clause(message: &str) -> &str {
    message.rsplit(": ").next().unwrap_or(message)
}

/// The first `n_items` rows of the fixture with neighbours recomputed among them.
fn truncated(inputs: &SamplerInputs, n_items: usize) -> Result<SamplerInputs, String> {
    if n_items == inputs.n_items {
        return Ok(inputs.clone());
    }
    let embeddings = inputs.embeddings[..n_items * inputs.dim].to_vec();
    SamplerInputs::new(embeddings, inputs.dim, inputs.k).map_err(|e| format!("{e:#}"))
}

/// Synthetic model tables for the suite: the description neighbour table cut to `k` columns.
struct SyntheticModel {
    table: Vec<u32>,
    k: usize,
}

impl SyntheticModel {
    fn new(inputs: &SamplerInputs, k: usize) -> Self {
        let table = if k == 0 {
            Vec::new()
        } else {
            inputs
                .neighbours
                .chunks_exact(inputs.k)
                .flat_map(|row| &row[..k])
                .copied()
                .collect()
        };
        SyntheticModel { table, k }
    }

    /// `data` with the tables, as if computed after epoch 1 (unchanged without a need).
    fn add_to<'a>(&'a self, data: SamplerData<'a>) -> anyhow::Result<SamplerData<'a>> {
        if self.k == 0 {
            return Ok(data);
        }
        let tables = ModelTables::new(&self.table, &self.table, self.k, 1);
        Ok(data.with_model_tables(tables)?)
    }
}

/// The outcomes of the rows that check what the epoch notes promise.
struct Promises {
    hard_share: Result<String, String>,
    /// `None` when no note announced a cap.
    cap: Option<Result<String, String>>,
    stages: Result<String, String>,
}

/// Checks the hard promise on every epoch whose note asks for hard batches, and the cap on every
/// epoch whose note announces one; summarises the realised share by position in the epoch (it
/// decays as neighbours get used up).
fn hardness(sampler: &dyn Sampler, data: &SamplerData<'_>) -> Promises {
    let mut buffers = EpochBuffers::new(data.n_items());
    let mut meter = HardnessMeter::new(data.n_items());
    let mut stages: Vec<(String, u32, u32)> = Vec::new();
    let mut asked = Vec::new();
    let mut hard_shares = QuarterShares::default();
    let mut random_shares = QuarterShares::default();
    let mut caps = CapSummary::default();
    for epoch in 1..=EPOCHS {
        let (sink, note) = match run_epoch(sampler, data, epoch, &mut buffers) {
            Ok(epoch) => epoch,
            Err(e) => {
                let stages = if stages.is_empty() {
                    format!("none: the run stopped at epoch {epoch}")
                } else {
                    format!("{} (the run stopped at epoch {epoch})", describe(&stages))
                };
                return Promises {
                    hard_share: Err(format!("seed 1: {e}")),
                    cap: None,
                    stages: Err(stages),
                };
            }
        };
        match stages.last_mut() {
            Some((stage, _, last)) if *stage == note.stage => *last = epoch,
            _ => stages.push((note.stage.clone(), epoch, epoch)),
        }
        // The note's table: `run_epoch` has checked that the inputs hold it.
        let data = &data
            .through(note.table)
            .expect("run_epoch checks the note's table");
        if let Some(cap) = note.max_similarity {
            caps.add_epoch(&sink, data, cap, epoch, &note.stage);
        }
        let n_batches = sink.n_batches();
        if note.hard_ratio > 0.0 {
            let wanted = hard_per_batch(data.batch_size(), note.hard_ratio);
            let shortfalls =
                hard_shortfalls(&sink, data, wanted, note.hardness_k, note.max_similarity);
            if let Some(first) = shortfalls.first() {
                let outcome = Err(format!(
                    "epoch {epoch} ({}): {} of {n_batches} batches lack the asked {wanted} pivot+neighbour items (first: batch {})",
                    note.stage,
                    shortfalls.len(),
                    first + 1
                ));
                return Promises {
                    hard_share: outcome,
                    cap: caps.outcome(),
                    stages: Ok(describe(&stages)),
                };
            }
            asked.push(note.hard_ratio);
            hard_shares.add_epoch(&sink, data, note.hardness_k, &mut meter);
        } else {
            random_shares.add_epoch(&sink, data, data.k(), &mut meter);
        }
    }
    let mean = |share: Option<f64>| share.unwrap_or(0.0);
    let mut detail = String::new();
    if !asked.is_empty() {
        let (low, high) = asked
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let asked_text = if low == high {
            format!("{low:.2}")
        } else {
            format!("{low:.2}-{high:.2}")
        };
        detail.push_str(&format!(
            "{} hard epochs: asked {asked_text}, realised {:.2} (by quarter of epoch: {})",
            asked.len(),
            mean(hard_shares.mean()),
            hard_shares
                .by_quarter()
                .iter()
                .map(|&q| format!("{:.2}", mean(q)))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if let Some(random_share) = random_shares.mean().filter(|_| data.k() > 0) {
        if !detail.is_empty() {
            detail.push_str("; ");
        }
        detail.push_str(&format!(
            "{} random epochs: realised {:.2} (chance level)",
            EPOCHS as usize - asked.len(),
            random_share
        ));
    }
    if detail.is_empty() {
        detail = "no hard epochs reported, no neighbour table to measure against".into();
    }
    Promises {
        hard_share: Ok(detail),
        cap: caps.outcome(),
        stages: Ok(describe(&stages)),
    }
}

/// The epochs whose notes announced a false-negative cap, and how their batches kept it.
#[derive(Debug, Default)]
struct CapSummary {
    /// The caps announced, in order of first appearance.
    caps: Vec<f64>,
    epochs: usize,
    batches: usize,
    forced: usize,
    /// The first epoch whose batches broke the cap, described.
    breach: Option<String>,
}

impl CapSummary {
    /// Checks one epoch's batches against its note's cap.
    fn add_epoch(
        &mut self,
        batches: &BatchSink<'_>,
        data: &SamplerData<'_>,
        cap: f64,
        epoch: u32,
        stage: &str,
    ) {
        let check = check_similarity_cap(batches, data, cap);
        if let Some(first) = check.breaches.first()
            && self.breach.is_none()
        {
            self.breach = Some(format!(
                "epoch {epoch} ({stage}): {} of {} batches hold an item at cosine >= {cap} with their first item while others were left (first: batch {})",
                check.breaches.len(),
                batches.n_batches(),
                first + 1
            ));
        }
        if !self.caps.contains(&cap) {
            self.caps.push(cap);
        }
        self.epochs += 1;
        self.batches += batches.n_batches();
        self.forced += check.forced;
    }

    /// The row's outcome; `None` when no epoch announced a cap.
    fn outcome(&self) -> Option<Result<String, String>> {
        let caps: Vec<String> = self.caps.iter().map(f64::to_string).collect();
        (self.epochs > 0).then(|| {
            if let Some(breach) = &self.breach {
                return Err(breach.clone());
            }
            Ok(format!(
                "{} epochs with max_similarity {}: no batch holds an item that similar to its first item while others were left ({} of {} batches had no other choice)",
                self.epochs,
                caps.join(", "),
                self.forced,
                self.batches
            ))
        })
    }
}

fn describe(stages: &[(String, u32, u32)]) -> String {
    stages
        .iter()
        .map(|(stage, first, last)| {
            if first == last {
                format!("{stage}: epoch {first}")
            } else {
                format!("{stage}: epochs {first}-{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
