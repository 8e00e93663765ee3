//! The `--device` value of every command: parsed once into libtorch's device, and checked
//! against what this build can use before a command does any work.

use std::fmt;
use std::str::FromStr;

use crate::libtorch::{CudaSupport, LIBTORCH_VERSION, device_count};

/// Where tensors live: `cpu`, `cuda` (the first GPU) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceChoice(pub tch::Device);

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let device = match text.trim() {
            "cpu" => tch::Device::Cpu,
            "cuda" => tch::Device::Cuda(0),
            other => other
                .strip_prefix("cuda:")
                .and_then(|index| index.parse().ok())
                .map(tch::Device::Cuda)
                .ok_or_else(|| format!("expected cpu, cuda or cuda:N, not '{other}'"))?,
        };
        Ok(DeviceChoice(device))
    }
}

impl fmt::Display for DeviceChoice {
    /// The name reports use: `cpu` or `cuda:N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            tch::Device::Cuda(index) => write!(f, "cuda:{index}"),
            _ => f.write_str("cpu"),
        }
    }
}

/// A device this harness cannot use now, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{device} cannot be used: {reason}")]
pub struct DeviceUnusable {
    device: DeviceChoice,
    reason: String,
}

impl DeviceChoice {
    /// Checks that this harness can compute on the device now; the error says why not (a
    /// CPU-only build, no GPU, too few GPUs) and what to do. Every command with `--device` calls
    /// this before doing any work.
    pub fn ensure_usable(self) -> Result<(), DeviceUnusable> {
        match self.0 {
            tch::Device::Cuda(_) => self.usable_with(CudaSupport::detect()),
            _ => Ok(()),
        }
    }

    fn usable_with(self, cuda: CudaSupport) -> Result<(), DeviceUnusable> {
        let tch::Device::Cuda(index) = self.0 else {
            return Ok(());
        };
        let reason = match cuda {
            CudaSupport::NotBuilt => format!(
                "this harness was built against a CPU-only libtorch ({LIBTORCH_VERSION}, no \
                 libtorch_cuda): use --device cpu, or build it against a CUDA PyTorch with \
                 scripts/build-against-pytorch (README, \"The GPU route\")"
            ),
            CudaSupport::Built { devices: 0 } => format!(
                "this harness has CUDA (libtorch {LIBTORCH_VERSION}) but sees no GPU: none is \
                 visible (CUDA_VISIBLE_DEVICES?) or the NVIDIA driver is missing (nvidia-smi \
                 tells); use --device cpu"
            ),
            CudaSupport::Built { devices } if index >= devices => format!(
                "only {} {} visible",
                device_count(devices),
                if devices == 1 { "is" } else { "are" }
            ),
            CudaSupport::Built { .. } => return Ok(()),
        };
        Err(DeviceUnusable {
            device: self,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_print_as_reports_name_them() {
        for (text, shown) in [("cpu", "cpu"), ("cuda", "cuda:0"), ("cuda:3", "cuda:3")] {
            assert_eq!(text.parse::<DeviceChoice>().unwrap().to_string(), shown);
        }
        for bad in ["tpu", "cuda:", "cuda:x", "gpu"] {
            let error = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(error.contains("expected cpu, cuda or cuda:N"), "{error}");
        }
    }

    #[test]
    fn unusable_devices_are_explained_by_cause() {
        let cuda = |index| DeviceChoice(tch::Device::Cuda(index));
        let cpu = DeviceChoice(tch::Device::Cpu);
        let error =
            |device: DeviceChoice, support| device.usable_with(support).unwrap_err().to_string();
        let built = error(cuda(0), CudaSupport::NotBuilt);
        assert!(
            built.starts_with(
                "cuda:0 cannot be used: this harness was built against a CPU-only libtorch"
            ) && built.contains("scripts/build-against-pytorch"),
            "{built}"
        );
        let no_gpu = error(cuda(0), CudaSupport::Built { devices: 0 });
        assert!(no_gpu.contains("sees no GPU"), "{no_gpu}");
        assert_eq!(
            error(cuda(2), CudaSupport::Built { devices: 2 }),
            "cuda:2 cannot be used: only 2 devices (cuda:0 to cuda:1) are visible"
        );
        assert_eq!(
            error(cuda(1), CudaSupport::Built { devices: 1 }),
            "cuda:1 cannot be used: only 1 device (cuda:0) is visible"
        );
        assert_eq!(
            cuda(1).usable_with(CudaSupport::Built { devices: 2 }),
            Ok(())
        );
        for support in [CudaSupport::NotBuilt, CudaSupport::Built { devices: 0 }] {
            assert_eq!(cpu.usable_with(support), Ok(()));
        }
        assert_eq!(cpu.ensure_usable(), Ok(()));
    }
}
