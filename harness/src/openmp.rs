//! How libtorch's OpenMP threads wait for work. By default libgomp spins for about 300,000
//! iterations before sleeping (forever with `OMP_WAIT_POLICY=ACTIVE`): on a shared machine the
//! spinning threads starve each other and a 2-thread run crawls. Never spinning
//! (`OMP_WAIT_POLICY=PASSIVE`) fixes that but doubles a graph-transformer epoch on an idle
//! machine, whose many small parallel regions then each pay a wake-up. A short bounded spin
//! keeps both cases fast (measured figures in the README). libgomp reads these variables when
//! libtorch is loaded, before `main`, so the harness re-executes itself once with
//! `GOMP_SPINCOUNT` set, unless the user chose a wait policy or a spin count.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The variables libgomp reads; setting either is the user's choice and is respected.
pub const WAIT_POLICY_ENV: &str = "OMP_WAIT_POLICY";
pub const SPIN_COUNT_ENV: &str = "GOMP_SPINCOUNT";
/// Spin iterations before an idle OpenMP thread sleeps.
pub const SPIN_COUNT: &str = "3000";

/// Replaces this process with itself under `GOMP_SPINCOUNT=3000` when neither variable is set;
/// returns (with a warning) only if that fails, and the run goes on as it is.
pub fn ensure_bounded_spin() {
    if std::env::var_os(WAIT_POLICY_ENV).is_some() || std::env::var_os(SPIN_COUNT_ENV).is_some() {
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
    let error = command.args(args).env(SPIN_COUNT_ENV, SPIN_COUNT).exec();
    eprintln!(
        "warning: could not restart {} with {SPIN_COUNT_ENV}={SPIN_COUNT} ({error}); idle OpenMP threads will spin",
        executable.display()
    );
}
