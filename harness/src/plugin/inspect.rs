//! Trying libraries in a worker process before the harness loads them: a library whose
//! initialisers or entry call crash or hang kills that worker, not the harness, and is reported
//! as not loaded with the cause.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use super::PluginError;
use crate::compare::events::RunEvent;
use crate::signals::describe_exit;
use crate::worker;

/// Longest that loading one library may take in the worker.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// For each of `libraries`, whether loading it harmed nothing (`Ok`) or crashed or hung the
/// worker that tried it (`Err`, naming the cause). One worker tries the libraries in order; after
/// a crash, a fresh one goes on with the next library.
pub(super) fn try_in_worker(libraries: &[PathBuf]) -> Vec<Result<(), PluginError>> {
    let mut outcomes = Vec::with_capacity(libraries.len());
    while outcomes.len() < libraries.len() {
        let rest = &libraries[outcomes.len()..];
        let mut survived = 0;
        let end = worker::command(&arguments(rest)).and_then(|command| {
            worker::run_to_end(command, Some(LOAD_TIMEOUT), &mut |event| {
                if matches!(event, RunEvent::Inspected) {
                    survived += 1;
                }
            })
        });
        outcomes.extend(rest[..survived.min(rest.len())].iter().map(|_| Ok(())));
        let Some(culprit) = rest.get(survived) else {
            break;
        };
        let cause = match end {
            Err(error) => format!("the inspection process did not start: {error:#}"),
            Ok(end) if end.timed_out => format!(
                "it did not finish loading within {} s",
                LOAD_TIMEOUT.as_secs()
            ),
            Ok(end) => match end.error {
                Some(error) => error,
                None => format!("the process {}", describe_exit(end.status)),
            },
        };
        outcomes.push(Err(PluginError::Crashed {
            path: culprit.clone(),
            cause,
        }));
    }
    outcomes
}

/// The worker job's arguments: `inspect --library A --library B ...`.
fn arguments(libraries: &[PathBuf]) -> Vec<&OsStr> {
    let mut arguments = vec![OsStr::new("inspect")];
    for library in libraries {
        arguments.extend([OsStr::new("--library"), library.as_os_str()]);
    }
    arguments
}
