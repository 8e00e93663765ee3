//! Runs a plan's pending runs, each in its own worker process (the harness started again as
//! `harness worker`), up to `--jobs` at once. A run that crashes, errs or exceeds
//! `--run-timeout` is recorded as failed, with its sampler, seed, epoch and cause, and the
//! others go on. After every run the comparison's tables and reports are brought up to date, so
//! whatever stops the harness leaves a consistent folder to `--resume`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::events::{RunEvent, StreamLine, decode};
use super::outputs::{self, FailedRun};
use super::plan_file::{PlanFile, PlannedRun};
use super::single_run;
use crate::signals::{InterruptFlag, describe_exit, is_interruption};

/// How the pending runs are executed.
#[derive(Debug, Clone)]
pub struct Execution {
    pub jobs: usize,
    pub run_timeout: Option<Duration>,
    pub quiet: bool,
    /// Runs inside this process, one after another (no isolation).
    pub in_process: bool,
    /// Expected batches per epoch, for the progress bar.
    pub batches_per_epoch: u64,
}

/// What became of the pending runs.
#[derive(Debug, Default)]
pub struct Outcome {
    pub finished: usize,
    pub failures: Vec<FailedRun>,
    /// Stopped by SIGINT/SIGTERM before every run was done.
    pub interrupted: bool,
}

/// Executes `pending` (indices into the plan's runs) and keeps the folder's files current.
pub fn run_pending(
    folder: &Path,
    plan: &PlanFile,
    pending: &[usize],
    execution: &Execution,
    interrupt: &InterruptFlag,
) -> Result<Outcome> {
    let mut state = State {
        folder,
        plan,
        progress: Progress::new(execution, plan, pending.len()),
        outcome: Outcome::default(),
    };
    if execution.in_process {
        for &index in pending {
            if interrupt.is_set() {
                state.outcome.interrupted = true;
                break;
            }
            let mut tracker = RunTracker::new(index, &plan.runs[index]);
            state
                .progress
                .bar
                .set_message(tracker.tag(plan.settings.epochs));
            let result = single_run::execute(folder, plan, index, &mut |event| {
                state.progress.on_event(&mut tracker, &event);
            });
            let failure = result.err().map(|error| format!("{error:#}"));
            state.settle(&tracker, failure)?;
        }
    } else {
        run_workers(&mut state, pending, execution, interrupt)?;
    }
    // A run may have finished as the harness was stopped: the files on disk decide.
    refresh(folder, plan, &state.outcome.failures, &state.progress)?;
    state.progress.bar.finish_and_clear();
    Ok(state.outcome)
}

/// Everything the scheduler updates as runs end.
struct State<'a> {
    folder: &'a Path,
    plan: &'a PlanFile,
    progress: Progress,
    outcome: Outcome,
}

impl State<'_> {
    /// Records how a run ended (`failure` is `None` when it finished) and refreshes the files.
    fn settle(&mut self, tracker: &RunTracker, failure: Option<String>) -> Result<()> {
        match failure {
            None => self.outcome.finished += 1,
            Some(reason) => {
                let label = &tracker.run.sampler;
                let library = self
                    .plan
                    .sampler(label)
                    .map(|s| s.library.display().to_string())
                    .unwrap_or_default();
                let failed = FailedRun {
                    sampler: label.clone(),
                    described: format!("sampler '{label}' ({library})"),
                    seed: tracker.run.seed,
                    epoch: tracker.epoch,
                    reason,
                };
                self.progress.log(&format!("run failed: {failed}"));
                outputs::clear_unfinished(self.folder, &tracker.run)?;
                self.outcome.failures.push(failed);
            }
        }
        refresh(
            self.folder,
            self.plan,
            &self.outcome.failures,
            &self.progress,
        )
    }
}

/// Rewrites the tables from the finished runs, the failure list and (when the baseline has a
/// finished run) the report files.
fn refresh(
    folder: &Path,
    plan: &PlanFile,
    failures: &[FailedRun],
    progress: &Progress,
) -> Result<()> {
    outputs::assemble(folder, plan)?;
    outputs::write_failures(folder, failures)?;
    if plan
        .runs
        .iter()
        .any(|run| outputs::is_finished(folder, run))
        && let Err(error) = crate::report::generate(folder)
    {
        progress.log(&format!("note: reports not updated yet: {error:#}"));
    }
    Ok(())
}

/// What the harness knows of one run while it executes.
struct RunTracker {
    index: usize,
    run: PlannedRun,
    epoch: Option<u32>,
    finished: bool,
    /// The run's own error message, when it reported one.
    error: Option<String>,
}

impl RunTracker {
    fn new(index: usize, run: &PlannedRun) -> Self {
        RunTracker {
            index,
            run: run.clone(),
            epoch: None,
            finished: false,
            error: None,
        }
    }

    fn tag(&self, epochs: u32) -> String {
        match self.epoch {
            Some(epoch) => format!(
                "{} seed {} epoch {epoch}/{epochs}",
                self.run.sampler, self.run.seed
            ),
            None => format!("{} seed {} starting", self.run.sampler, self.run.seed),
        }
    }
}

/// A worker process and what it has said so far.
struct Worker {
    child: Child,
    tracker: RunTracker,
    started: Instant,
    stream_closed: bool,
    timed_out: bool,
}

/// A line of a worker's stdout, or the end of it.
enum Message {
    Line(usize, String),
    Closed(usize),
}

fn run_workers(
    state: &mut State<'_>,
    pending: &[usize],
    execution: &Execution,
    interrupt: &InterruptFlag,
) -> Result<()> {
    let (sender, receiver) = channel();
    let mut queue = pending.iter().copied();
    let mut workers: Vec<Worker> = Vec::new();
    loop {
        if interrupt.is_set() && !state.outcome.interrupted {
            state.outcome.interrupted = true;
            for worker in &mut workers {
                // Already dead from the terminal's SIGINT, or stopped here: either way the run
                // is unfinished, not failed.
                let _ = worker.child.kill();
            }
        }
        while !state.outcome.interrupted && workers.len() < execution.jobs {
            let Some(index) = queue.next() else { break };
            workers.push(spawn(state, index, sender.clone())?);
        }
        if workers.is_empty() {
            return Ok(());
        }
        state
            .progress
            .show_running(&workers, state.plan.settings.epochs);
        receive(&receiver, &mut workers, &mut state.progress);
        if let Some(limit) = execution.run_timeout {
            for worker in &mut workers {
                if !worker.timed_out && worker.started.elapsed() > limit {
                    worker.timed_out = true;
                    let _ = worker.child.kill();
                }
            }
        }
        let mut still_running = Vec::new();
        for mut worker in workers {
            match worker.stream_closed.then(|| worker.child.try_wait()) {
                Some(Ok(Some(status))) => {
                    if state.outcome.interrupted && !worker.tracker.finished {
                        continue;
                    }
                    if is_interruption(status) && !worker.tracker.finished {
                        // The terminal's Ctrl-C reached the worker before the harness saw it.
                        state.outcome.interrupted = true;
                        continue;
                    }
                    let failure = failure_of(&worker, status, execution.run_timeout);
                    state.settle(&worker.tracker, failure)?;
                }
                Some(Err(error)) => {
                    return Err(error).context("waiting for a worker process");
                }
                _ => still_running.push(worker),
            }
        }
        workers = still_running;
    }
}

/// Starts the worker of run `index`, with a thread that forwards its stdout lines.
fn spawn(state: &State<'_>, index: usize, sender: Sender<Message>) -> Result<Worker> {
    let index_text = index.to_string();
    let mut child = crate::worker::command(&[
        "run".as_ref(),
        "--plan".as_ref(),
        state.folder.as_os_str(),
        "--index".as_ref(),
        index_text.as_ref(),
    ])?
    .spawn()
    .context("starting a worker process")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut bytes = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut bytes) {
            if n == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&bytes);
            let line = line.strip_suffix('\n').unwrap_or(&line).to_string();
            if sender.send(Message::Line(index, line)).is_err() {
                return;
            }
            bytes.clear();
        }
        let _ = sender.send(Message::Closed(index));
    });
    Ok(Worker {
        child,
        tracker: RunTracker::new(index, &state.plan.runs[index]),
        started: Instant::now(),
        stream_closed: false,
        timed_out: false,
    })
}

/// Handles the workers' messages for up to a tenth of a second.
fn receive(receiver: &Receiver<Message>, workers: &mut [Worker], progress: &mut Progress) {
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let message = match receiver.recv_timeout(wait) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        };
        let (index, line) = match message {
            Message::Line(index, line) => (index, Some(line)),
            Message::Closed(index) => (index, None),
        };
        let Some(worker) = workers.iter_mut().find(|w| w.tracker.index == index) else {
            continue;
        };
        match line {
            None => worker.stream_closed = true,
            Some(line) => match decode(&line) {
                StreamLine::Output(text) => progress.log(&text),
                StreamLine::Event {
                    output_before,
                    event,
                } => {
                    if !output_before.is_empty() {
                        progress.log(&output_before);
                    }
                    progress.on_event(&mut worker.tracker, &event);
                }
            },
        }
    }
}

/// Why a worker's run did not finish; `None` when it did.
fn failure_of(
    worker: &Worker,
    status: std::process::ExitStatus,
    timeout: Option<Duration>,
) -> Option<String> {
    if worker.tracker.finished {
        // The run's files are complete; how the process ended afterwards does not change them.
        return None;
    }
    let in_epoch = worker
        .tracker
        .epoch
        .map(|e| format!(" in epoch {e}"))
        .unwrap_or_default();
    if worker.timed_out {
        let limit = timeout
            .map(|t| format!("{} s", t.as_secs_f64()))
            .unwrap_or_default();
        return Some(format!(
            "exceeded --run-timeout ({limit}){in_epoch} and was stopped"
        ));
    }
    if let Some(message) = &worker.tracker.error {
        return Some(message.clone());
    }
    Some(if status.success() {
        format!(
            "the worker process ended{in_epoch} before writing the run's files (did the plugin call exit()?)"
        )
    } else {
        format!("the worker process {}{in_epoch}", describe_exit(status))
    })
}

/// The progress bar and the log above it.
struct Progress {
    bar: ProgressBar,
    quiet: bool,
}

impl Progress {
    fn new(execution: &Execution, plan: &PlanFile, runs: usize) -> Self {
        let bar = if execution.quiet {
            ProgressBar::hidden()
        } else {
            let total = runs as u64 * u64::from(plan.settings.epochs) * execution.batches_per_epoch;
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {percent:>3}% of the training steps, eta {eta} | {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        };
        Progress {
            bar,
            quiet: execution.quiet,
        }
    }

    /// A log line on stderr, above the progress bar when one is drawn.
    fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn on_event(&mut self, tracker: &mut RunTracker, event: &RunEvent) {
        match event {
            RunEvent::Log { line } => self.log(line),
            RunEvent::EpochStarted { epoch } => tracker.epoch = Some(*epoch),
            RunEvent::Training { .. }
            | RunEvent::Probed { .. }
            | RunEvent::CheckRow { .. }
            | RunEvent::Inspected => {}
            RunEvent::Batch => self.bar.inc(1),
            RunEvent::Finished => tracker.finished = true,
            RunEvent::Failed { message } => tracker.error = Some(message.clone()),
        }
    }

    /// Names the runs in progress beside the bar.
    fn show_running(&self, workers: &[Worker], epochs: u32) {
        let running: Vec<String> = workers.iter().map(|w| w.tracker.tag(epochs)).collect();
        self.bar.set_message(running.join(", "));
    }
}
