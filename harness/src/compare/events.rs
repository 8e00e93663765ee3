//! What a run tells the harness while it works: one JSON event a line on the worker's stdout.
//!
//! A plugin may print to stdout too, so each event line starts with a marker that ordinary text
//! does not contain; anything else on the stream (or before the marker on a line) is passed
//! through as the plugin's own output. The protocol is internal and versioned: the harness only
//! talks to a worker of its own build.

use serde::{Deserialize, Serialize};

/// Version of the worker protocol (the `worker` command refuses another).
pub const WORKER_PROTOCOL: u32 = 2;

/// Starts every event line: an ASCII record separator and a tag.
const MARKER: &str = "\u{1e}harness-event ";

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A line for the log (shown above the progress bar).
    Log { line: String },
    /// The sampler is asked for the epoch's batches.
    EpochStarted { epoch: u32 },
    /// The epoch's batches passed the contract checks and are being trained.
    Training { batches: u64 },
    /// One training batch is done.
    Batch,
    /// A probed sampler was created and needs this many neighbours per item.
    Probed { neighbours_needed: u64 },
    /// One row of the conformance suite.
    CheckRow {
        check: String,
        passed: bool,
        detail: String,
    },
    /// An inspected library was loaded (or refused) without harm to the worker.
    Inspected,
    /// The job is done (a run: its files are written).
    Finished,
    /// The job stopped with an error (the message is complete).
    Failed { message: String },
}

impl RunEvent {
    /// The event as one line of the stream (with its newline).
    pub fn encode(&self) -> String {
        format!(
            "{MARKER}{}\n",
            serde_json::to_string(self).expect("events serialise")
        )
    }
}

/// What one line of a worker's stdout holds.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine {
    /// Text from the plugin (or libraries), without the newline.
    Output(String),
    /// An event, after any plugin text that preceded it on the line.
    Event {
        output_before: String,
        event: RunEvent,
    },
}

/// Splits one line (without its newline) into plugin output and an event.
pub fn decode(line: &str) -> StreamLine {
    match line.split_once(MARKER) {
        Some((before, json)) => match serde_json::from_str(json) {
            Ok(event) => StreamLine::Event {
                output_before: before.to_string(),
                event,
            },
            Err(_) => StreamLine::Output(line.to_string()),
        },
        None => StreamLine::Output(line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_stream_and_plugin_text_is_kept_apart() {
        let events = [
            RunEvent::Log {
                line: "epoch 1/2 \"quoted\"".into(),
            },
            RunEvent::EpochStarted { epoch: 3 },
            RunEvent::Training { batches: 104 },
            RunEvent::Batch,
            RunEvent::Probed {
                neighbours_needed: 100,
            },
            RunEvent::CheckRow {
                check: "determinism".into(),
                passed: false,
                detail: "differs".into(),
            },
            RunEvent::Finished,
            RunEvent::Failed {
                message: "epoch 2: boom".into(),
            },
        ];
        for event in events {
            let line = event.encode();
            let line = line.strip_suffix('\n').unwrap();
            assert_eq!(
                decode(line),
                StreamLine::Event {
                    output_before: String::new(),
                    event: event.clone()
                }
            );
            let glued = format!("partial plugin text{line}");
            assert_eq!(
                decode(&glued),
                StreamLine::Event {
                    output_before: "partial plugin text".into(),
                    event
                }
            );
        }
        assert_eq!(
            decode("hello from a plugin"),
            StreamLine::Output("hello from a plugin".into())
        );
    }
}
