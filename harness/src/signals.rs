//! Signals around isolated runs: how a worker's death is described, how a worker follows the
//! harness when it dies, and how the harness notices Ctrl-C to stop cleanly.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::Signal;

/// How a process ended, in words: `exited with code 3`, `was killed by SIGSEGV (segmentation
/// fault: ...)`.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(number)) => format!("was killed by {}", signal_name(number)),
        (None, None) => "ended in an unknown way".to_string(),
    }
}

/// A signal's name and, for the ones a crashing plugin raises, what it means.
pub fn signal_name(number: i32) -> String {
    let Ok(signal) = Signal::try_from(number) else {
        return format!("signal {number}");
    };
    let meaning = match signal {
        Signal::SIGSEGV => "segmentation fault: an invalid memory access",
        Signal::SIGABRT => "abort: the plugin or its runtime gave up, e.g. a failed assertion",
        Signal::SIGBUS => "bus error: an invalid memory access",
        Signal::SIGFPE => "arithmetic error, e.g. an integer division by zero",
        Signal::SIGILL => "illegal instruction",
        Signal::SIGKILL => "killed, e.g. by the out-of-memory killer or a timeout",
        Signal::SIGTERM => "asked to terminate",
        Signal::SIGINT => "interrupted",
        _ => return signal.as_str().to_string(),
    };
    format!("{} ({meaning})", signal.as_str())
}

/// Whether the status is a death by SIGINT or SIGTERM: the user stopping things, not a crash.
pub fn is_interruption(status: ExitStatus) -> bool {
    status
        .signal()
        .is_some_and(|s| s == Signal::SIGINT as i32 || s == Signal::SIGTERM as i32)
}

/// Set when the harness receives SIGINT or SIGTERM; a second one ends the harness at once.
#[derive(Debug, Clone)]
pub struct InterruptFlag(Arc<AtomicBool>);

impl InterruptFlag {
    /// Starts listening for SIGINT and SIGTERM.
    pub fn install() -> std::io::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            // The first signal only sets the flag; a second one (flag already set) exits.
            signal_hook::flag::register_conditional_shutdown(signal as i32, 130, flag.clone())?;
            signal_hook::flag::register(signal as i32, flag.clone())?;
        }
        Ok(InterruptFlag(flag))
    }

    /// A flag that no signal sets (for runs inside tests and libraries).
    pub fn never() -> Self {
        InterruptFlag(Arc::new(AtomicBool::new(false)))
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Makes this process receive SIGKILL when its parent dies, so a worker never outlives a killed
/// harness; false when the parent (`expected_parent`) is already gone.
pub fn die_with_parent(expected_parent: u32) -> nix::Result<bool> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
    Ok(nix::unistd::getppid().as_raw() as u32 == expected_parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crashes_are_named_with_their_meaning() {
        assert_eq!(
            signal_name(11),
            "SIGSEGV (segmentation fault: an invalid memory access)"
        );
        assert!(signal_name(6).starts_with("SIGABRT (abort"));
        assert_eq!(signal_name(10), "SIGUSR1");
        assert_eq!(signal_name(999), "signal 999");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with code 3"
        );
        assert!(describe_exit(ExitStatus::from_raw(9)).starts_with("was killed by SIGKILL"));
        assert!(is_interruption(ExitStatus::from_raw(2)));
        assert!(!is_interruption(ExitStatus::from_raw(11)));
    }
}
