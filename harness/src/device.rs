//! The `--device` value of every command: parsed once into libtorch's device.

use std::fmt;
use std::str::FromStr;

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

#[cfg(test)]
mod tests {
    use super::DeviceChoice;

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
}
