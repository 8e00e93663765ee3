//! The GPU route: what `--version` says about libtorch and CUDA, and the one explanation every
//! command gives for a GPU it cannot use.

use harness::libtorch::{CudaSupport, LIBTORCH_VERSION};

use crate::support::run;

#[test]
fn version_names_libtorch_and_what_it_can_do_with_cuda() {
    let (code, stdout, stderr) = run(&["--version"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("harness {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(lines[1], format!("libtorch {LIBTORCH_VERSION}"));
    assert_eq!(lines[2], CudaSupport::detect().to_string());
    assert_ne!(
        LIBTORCH_VERSION, "unknown",
        "build.rs found no version header"
    );
    if cfg!(libtorch_cuda) {
        assert!(lines[2].starts_with("CUDA: built in;"), "{stdout}");
    }
}

#[test]
fn a_gpu_this_build_cannot_use_fails_knn_and_compare_alike_before_any_work() {
    // One past the visible GPUs: unusable on every machine, for one of the three reasons.
    let device = match CudaSupport::detect() {
        CudaSupport::Built { devices } => format!("cuda:{devices}"),
        CudaSupport::NotBuilt => "cuda".to_string(),
    };
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("run");
    let table = folder.path().join("table.npy");
    let (knn_code, _, knn_stderr) = run(&[
        "knn",
        "--synthetic",
        "200",
        "--dim",
        "8",
        "--device",
        &device,
        "--output",
        table.to_str().unwrap(),
    ]);
    let (compare_code, _, compare_stderr) = run(&[
        "compare",
        "--samplers",
        "random",
        "--device",
        &device,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        (knn_code, compare_code),
        (2, 2),
        "{knn_stderr}{compare_stderr}"
    );
    assert_eq!(knn_stderr, compare_stderr);
    let index = device.strip_prefix("cuda:").unwrap_or("0");
    assert!(
        knn_stderr.starts_with(&format!("error: --device: cuda:{index} cannot be used: ")),
        "{knn_stderr}"
    );
    if !cfg!(libtorch_cuda) {
        assert!(
            knn_stderr.contains("built against a CPU-only libtorch")
                && knn_stderr.contains("scripts/build-against-pytorch"),
            "{knn_stderr}"
        );
    }
    assert!(!out.exists() && !table.exists(), "something was created");
}
