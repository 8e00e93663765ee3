//! libtorch's OpenMP threads spin while they wait for work by default; on a shared machine a
//! spinning 2-thread run measured several times slower than a 1-thread one. libgomp reads
//! `OMP_WAIT_POLICY` when libtorch is loaded, before `main`, so the harness re-executes itself
//! once with `PASSIVE` unless the user chose a policy.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The variable libgomp reads.
pub const WAIT_POLICY_ENV: &str = "OMP_WAIT_POLICY";

/// Replaces this process with itself under `OMP_WAIT_POLICY=PASSIVE` when the variable is
/// unset; returns (with a warning) only if that fails, and the run goes on as it is.
pub fn ensure_passive_wait_policy() {
    if std::env::var_os(WAIT_POLICY_ENV).is_some() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = Command::new(&executable);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(WAIT_POLICY_ENV, "PASSIVE").exec();
    eprintln!(
        "warning: could not restart {} with {WAIT_POLICY_ENV}=PASSIVE ({error}); idle OpenMP threads will spin",
        executable.display()
    );
}
