//! Worker processes: the harness started again (`harness worker ...`, hidden) to run plugin code
//! away from the main process, so a plugin that aborts, segfaults or hangs fails one job, not
//! the harness. A worker reports through [`RunEvent`] lines on its stdout.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::compare::events::{RunEvent, StreamLine, WORKER_PROTOCOL, decode};
use crate::compare::plan_file::PlanFile;
use crate::plugin::{ForeignSampler, LoadedPlugin, PluginRegistry};
use crate::signals::die_with_parent;

/// `harness worker`: internal; started by the harness itself.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Version of the worker protocol the starting harness speaks.
    #[arg(long)]
    pub protocol: u32,
    /// Process id of the starting harness: the worker dies with it.
    #[arg(long)]
    pub parent: Option<u32>,
    #[command(subcommand)]
    pub job: WorkerJob,
}

/// What a worker does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum WorkerJob {
    /// One run of a comparison's plan.
    Run {
        /// The comparison folder (holding plan.json).
        #[arg(long)]
        plan: PathBuf,
        #[arg(long)]
        index: usize,
    },
    /// Creates a sampler from its configuration and reports the neighbours it needs.
    Probe {
        #[arg(long)]
        library: PathBuf,
        #[arg(long)]
        config: String,
    },
    /// Loads each library in turn (its initialisers and entry call run), reporting each one it
    /// survives: a library that crashes or hangs this process is the one after the last report.
    Inspect {
        #[arg(long = "library")]
        libraries: Vec<PathBuf>,
    },
    /// The conformance suite, one row at a time.
    Check {
        #[arg(long)]
        library: PathBuf,
        #[arg(long)]
        config: String,
    },
}

/// Serves one job, writing events to stdout; the exit code is 0 when the job finished.
pub fn serve(args: WorkerArgs) -> ExitCode {
    let mut stdout = std::io::stdout();
    let mut emit = |event: RunEvent| {
        // One write per event, so a plugin's own output cannot split it.
        let _ = stdout.write_all(event.encode().as_bytes());
        let _ = stdout.flush();
    };
    let result = (|| -> Result<()> {
        if args.protocol != WORKER_PROTOCOL {
            bail!(
                "worker protocol {} asked for; this harness speaks {WORKER_PROTOCOL}",
                args.protocol
            );
        }
        if let Some(parent) = args.parent
            && !die_with_parent(parent).context("tying the worker to the harness")?
        {
            bail!("the harness that started this worker has ended");
        }
        match &args.job {
            WorkerJob::Run { plan, index } => {
                let plan_file = PlanFile::read(plan)?;
                crate::compare::single_run::execute(plan, &plan_file, *index, &mut emit)
            }
            WorkerJob::Probe { library, config } => {
                let sampler = create(library, config)?;
                emit(RunEvent::Probed {
                    neighbours_needed: sampler_api::Sampler::neighbours_needed(&sampler) as u64,
                });
                Ok(())
            }
            WorkerJob::Inspect { libraries } => {
                for library in libraries {
                    // Refusals are the harness's to report; only surviving the load matters here.
                    let _ = LoadedPlugin::load(library);
                    emit(RunEvent::Inspected);
                }
                Ok(())
            }
            WorkerJob::Check { library, config } => {
                let plugin = PluginRegistry::new(&[]).resolve(&library.to_string_lossy())?;
                crate::conformance::run_streaming(&plugin, config, &mut |row| {
                    emit(RunEvent::CheckRow {
                        check: row.check.clone(),
                        passed: row.passed,
                        detail: row.detail.clone(),
                    })
                });
                Ok(())
            }
        }
    })();
    match result {
        Ok(()) => {
            emit(RunEvent::Finished);
            ExitCode::SUCCESS
        }
        Err(error) => {
            emit(RunEvent::Failed {
                message: format!("{error:#}"),
            });
            ExitCode::FAILURE
        }
    }
}

/// A sampler created from a library path.
fn create(library: &Path, config: &str) -> Result<ForeignSampler> {
    let plugin = PluginRegistry::new(&[]).resolve(&library.to_string_lossy())?;
    Ok(ForeignSampler::new(&plugin, config)?)
}

/// The command that starts a worker for `job` (its arguments after `worker ...`).
pub fn command(job: &[&std::ffi::OsStr]) -> Result<Command> {
    let executable = std::env::current_exe().context("locating the harness executable")?;
    let mut command = Command::new(executable);
    command
        .arg("worker")
        .args(["--protocol", &WORKER_PROTOCOL.to_string()])
        .args(["--parent", &std::process::id().to_string()])
        .args(job)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Ok(command)
}

/// How a synchronous worker job ended.
#[derive(Debug)]
pub struct JobEnd {
    pub status: ExitStatus,
    pub timed_out: bool,
    pub finished: bool,
    /// The job's own error message, when it reported one.
    pub error: Option<String>,
}

/// Runs a worker to its end, handing every event to `on_event` and the plugin's own output to
/// stderr; kills it after `timeout`.
pub fn run_to_end(
    mut command: Command,
    timeout: Option<Duration>,
    on_event: &mut dyn FnMut(&RunEvent),
) -> Result<JobEnd> {
    let mut child = command.spawn().context("starting a worker process")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            if sender
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut end = JobEnd {
        status: ExitStatus::default(),
        timed_out: false,
        finished: false,
        error: None,
    };
    loop {
        let wait = match timeout {
            Some(limit) => limit.saturating_sub(started.elapsed()),
            None => Duration::from_secs(3600),
        };
        match receiver.recv_timeout(wait) {
            Ok(line) => {
                let event = match decode(&line) {
                    StreamLine::Output(text) => {
                        eprintln!("{text}");
                        continue;
                    }
                    StreamLine::Event {
                        output_before,
                        event,
                    } => {
                        if !output_before.is_empty() {
                            eprintln!("{output_before}");
                        }
                        event
                    }
                };
                match &event {
                    RunEvent::Finished => end.finished = true,
                    RunEvent::Failed { message } => end.error = Some(message.clone()),
                    _ => {}
                }
                on_event(&event);
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if timeout.is_some_and(|limit| started.elapsed() >= limit) {
                    end.timed_out = true;
                    let _ = child.kill();
                    break;
                }
            }
        }
    }
    end.status = child.wait().context("waiting for a worker process")?;
    Ok(end)
}
