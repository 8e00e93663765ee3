#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    harness::openmp::ensure_bounded_spin();
    let cli = match harness::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --version also names libtorch and what it can do with CUDA (probed only when asked).
        Err(error) if error.kind() == clap::error::ErrorKind::DisplayVersion => {
            print!("{}", harness::libtorch::version_report());
            return ExitCode::SUCCESS;
        }
        Err(error) => error.exit(),
    };
    match harness::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
