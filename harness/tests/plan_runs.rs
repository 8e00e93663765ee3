//! Planned comparisons executed piece by piece: `compare --plan-only`, `run --plan DIR --index I`
//! (idempotent, checked against the plan), `run --all`, `report` merging whatever finished, and
//! the whole plan through a real Slurm (`scripts/slurm-submit`) when one can be started here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::isolation::assert_same_results;
use crate::support::{assert_exit, run, test_cache_dir};

/// 2 samplers x 2 seeds x 2 epochs, one libtorch thread per run; `extra` decides the mode.
fn compare_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "compare",
        "--samplers",
        "random,hard",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--quiet",
        "--out",
        out.to_str().expect("UTF-8 temporary path"),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The comparison in `dir` twice: run locally (`local`, to check the other executors against)
/// and only planned (`planned`, nothing trained yet).
fn local_and_planned(dir: &Path) -> (PathBuf, PathBuf) {
    let reference = dir.join("local");
    let (code, _, stderr) = run(&compare_args(&reference, &["--jobs", "2"]));
    assert_eq!(code, 0, "{stderr}");
    let planned = dir.join("planned");
    let (code, stdout, stderr) = run(&compare_args(&planned, &["--plan-only"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("planned 4 runs"), "{stdout}");
    assert!(planned.join("plan.json").is_file());
    assert!(!planned.join("random-seed1").exists(), "nothing is trained");
    (reference, planned)
}

fn run_index(plan: &Path, index: usize) -> (i32, String, String) {
    let plan = plan.to_str().unwrap();
    run(&["run", "--plan", plan, "--index", &index.to_string()])
}

#[test]
fn runs_executed_one_by_one_merge_into_the_local_compare_results() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, planned) = local_and_planned(dir.path());
    let folder = planned.to_str().unwrap();

    assert_exit(run_index(&planned, 9), 2, &["--index 9: the plan in"]);

    // Two runs at once, as array tasks on shared storage would.
    let started: Vec<_> = [1, 0]
        .map(|index| {
            crate::support::harness_process()
                .args(["run", "--plan", folder, "--index", &index.to_string()])
                .output()
                .unwrap()
        })
        .to_vec();
    for output in started {
        assert!(output.status.success(), "{output:?}");
    }
    assert_exit(
        run(&["report", folder]),
        3,
        &[
            "2 planned run(s) have no results yet",
            "random seed 2 (run 2), hard seed 2 (run 3)",
        ],
    );

    let (code, _, stderr) = run_index(&planned, 1);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("already finished; nothing to do"),
        "{stderr}"
    );

    for index in [2, 3] {
        let (code, _, stderr) = run_index(&planned, index);
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, _, stderr) = run(&["report", folder]);
    assert_eq!(code, 0, "{stderr}");
    assert_same_results(&reference, &planned);

    // A finished run that is not what the plan asks for is refused, not overwritten.
    let row_file = planned.join("hard-seed2").join("run.csv");
    let text = std::fs::read_to_string(&row_file).unwrap();
    std::fs::write(&row_file, text.replace(",2,", ",7,")).unwrap();
    assert_exit(
        run_index(&planned, 3),
        2,
        &["does not match the plan", "seed is \"7\""],
    );
}

#[test]
fn run_all_is_the_local_executor_of_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, planned) = local_and_planned(dir.path());
    let folder = planned.to_str().unwrap();
    let (code, stdout, stderr) = run(&["run", "--plan", folder, "--all", "--jobs", "2", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("hard"), "{stdout}");
    assert_same_results(&reference, &planned);
}

/// Why a local Slurm cluster cannot be used here, if it cannot.
fn slurm_unavailable(repo: &Path) -> Option<String> {
    if Command::new("sbatch").arg("--version").output().is_err() {
        return Some(
            "no sbatch (install slurm-wlm and munge: scripts/slurm-local-cluster install, as root)"
                .into(),
        );
    }
    let root = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        return Some("not root, so the local cluster's daemons cannot be started".into());
    }
    let started = Command::new(repo.join("scripts/slurm-local-cluster"))
        .arg("start")
        .output()
        .ok()?;
    (!started.status.success()).then(|| {
        format!(
            "scripts/slurm-local-cluster start failed: {}",
            String::from_utf8_lossy(&started.stderr).trim()
        )
    })
}

#[test]
fn a_plan_submitted_to_slurm_reports_what_a_local_compare_does() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    if let Some(reason) = slurm_unavailable(repo) {
        eprintln!("skipped: a_plan_submitted_to_slurm_reports_what_a_local_compare_does: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (reference, planned) = local_and_planned(dir.path());
    let submitted = Command::new(repo.join("scripts/slurm-submit"))
        .arg(&planned)
        .arg("--time=10")
        .env("HARNESS", assert_cmd::cargo::cargo_bin!("harness"))
        .env(harness::neighbours::cache::CACHE_ENV, test_cache_dir())
        .env_remove("SAMPLER_PLUGIN_PATH")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&submitted.stdout).into_owned();
    assert!(
        submitted.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let jobs: Vec<String> = said
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2).map(String::from))
        .collect();
    assert_eq!(jobs.len(), 2, "{said}");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let queue = Command::new("squeue")
            .args(["-h", "-j", &jobs.join(",")])
            .output()
            .unwrap();
        if queue.status.success() && queue.stdout.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the Slurm jobs {jobs:?} did not end in 10 minutes"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let report = std::fs::read_to_string(planned.join("slurm/report.out")).unwrap();
    assert!(report.contains("random (baseline)"), "{report}");
    for index in 0..4 {
        let log = std::fs::read_to_string(planned.join(format!("slurm/run-{index}.out"))).unwrap();
        assert!(log.contains("starting"), "{log}");
    }
    assert_same_results(&reference, &planned);
}
