//! The libtorch this harness was built against, and whether it can use CUDA now.

use std::fmt;

/// libtorch's version, read from its headers at build time (`unknown` when they were not found).
pub const LIBTORCH_VERSION: &str = env!("HARNESS_LIBTORCH_VERSION");

/// What this harness can do with CUDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaSupport {
    /// The libtorch it was built against has no CUDA backend (`libtorch_cuda`).
    NotBuilt,
    /// The CUDA backend is linked and `devices` GPUs are usable now (0: no GPU, or no driver).
    Built { devices: usize },
}

impl CudaSupport {
    /// Asks libtorch now. This initialises the CUDA driver where there is one (a fraction of a
    /// second), so only code that needs the answer calls it.
    pub fn detect() -> Self {
        // Counted first: a backend loaded some other way (LD_PRELOAD) counts too.
        let devices = if tch::Cuda::is_available() {
            usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
        } else {
            0
        };
        if devices > 0 || cfg!(libtorch_cuda) {
            CudaSupport::Built { devices }
        } else {
            CudaSupport::NotBuilt
        }
    }
}

impl fmt::Display for CudaSupport {
    /// One line for `--version`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CudaSupport::NotBuilt => f.write_str(
                "CUDA: not built in (this libtorch has no libtorch_cuda); see the README's GPU route",
            ),
            CudaSupport::Built { devices: 0 } => f.write_str(
                "CUDA: built in; usable now: no (no GPU visible, or no NVIDIA driver)",
            ),
            CudaSupport::Built { devices } => {
                write!(f, "CUDA: built in; usable now: yes, {}", device_count(devices))
            }
        }
    }
}

/// `1 device (cuda:0)`, `4 devices (cuda:0 to cuda:3)`; `devices` is at least 1.
pub(crate) fn device_count(devices: usize) -> String {
    match devices {
        1 => "1 device (cuda:0)".into(),
        n => format!("{n} devices (cuda:0 to cuda:{})", n - 1),
    }
}

/// The `harness --version` text: the harness, its libtorch and what it can do with CUDA now.
pub fn version_report() -> String {
    format!(
        "harness {}\nlibtorch {LIBTORCH_VERSION}\n{}\n",
        env!("CARGO_PKG_VERSION"),
        CudaSupport::detect()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cuda_state_reads_as_a_sentence() {
        let lines: Vec<String> = [
            CudaSupport::NotBuilt,
            CudaSupport::Built { devices: 0 },
            CudaSupport::Built { devices: 1 },
            CudaSupport::Built { devices: 4 },
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert!(lines[0].contains("not built in"), "{}", lines[0]);
        assert!(lines[1].ends_with("usable now: no (no GPU visible, or no NVIDIA driver)"));
        assert!(lines[2].ends_with("yes, 1 device (cuda:0)"), "{}", lines[2]);
        assert!(
            lines[3].ends_with("yes, 4 devices (cuda:0 to cuda:3)"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn this_build_is_described_as_linked() {
        let support = CudaSupport::detect();
        if cfg!(libtorch_cuda) {
            assert!(matches!(support, CudaSupport::Built { .. }), "{support}");
        } else if !tch::Cuda::is_available() {
            assert_eq!(support, CudaSupport::NotBuilt);
        }
        let report = version_report();
        assert!(
            report.starts_with(&format!(
                "harness {}\nlibtorch {LIBTORCH_VERSION}\nCUDA: ",
                env!("CARGO_PKG_VERSION")
            )),
            "{report}"
        );
    }
}
