//! The GPU route: what `--version` says about libtorch and CUDA, the one explanation every
//! command gives for a GPU it cannot use, and how scripts/build-against-pytorch picks tch.

use std::path::Path;
use std::process::Command;

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

/// A fake PyTorch folder (`include/torch/headeronly/version.h`, `lib/`) of `version`.
fn fake_torch(root: &Path, version: &str, cuda: bool) {
    let [major, minor, patch]: [&str; 3] =
        version.split('.').collect::<Vec<_>>().try_into().unwrap();
    let header = root.join("include/torch/headeronly/version.h");
    std::fs::create_dir_all(header.parent().unwrap()).unwrap();
    std::fs::write(
        header,
        format!(
            "#pragma once\n#define TORCH_VERSION_MAJOR {major}\n#define TORCH_VERSION_MINOR {minor}\n\
             #define TORCH_VERSION_PATCH {patch}\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    if cuda {
        std::fs::write(root.join("lib/libtorch_cuda.so"), b"").unwrap();
    }
}

/// `scripts/build-against-pytorch --plan` with `LIBTORCH=torch`: (exit code, stderr).
fn plan(torch: &Path, cache: &Path) -> (i32, String) {
    let output = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/build-against-pytorch"
    ))
    .arg("--plan")
    .env("LIBTORCH", torch)
    .env_remove("LIBTORCH_USE_PYTORCH")
    .env("XDG_CACHE_HOME", cache)
    .output()
    .expect("the script runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The tch release Cargo.lock holds.
fn locked_tch() -> String {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let entry = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"tch\"\n"))
        .unwrap();
    entry
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string()
}

#[test]
fn the_build_script_picks_the_tch_release_of_the_pytorch_found() {
    let folder = tempfile::tempdir().unwrap();
    let cache = folder.path().join("cache");
    for (version, cuda, tch) in [("2.11.0", true, "0.24.0"), ("2.13.0", false, &locked_tch())] {
        let torch = folder.path().join(version);
        fake_torch(&torch, version, cuda);
        let (code, stderr) = plan(&torch, &cache);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains(&format!("PyTorch {version} from LIBTORCH=")),
            "{stderr}"
        );
        let backend = if cuda { "yes" } else { "no" };
        assert!(
            stderr.contains(&format!("(CUDA backend: {backend})")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "tch {tch}; building in {}",
                cache
                    .join(format!("sampler-harness/pytorch-builds/torch-{version}"))
                    .display()
            )),
            "{stderr}"
        );
    }
    assert!(!cache.exists(), "--plan wrote into the cache");

    let torch = folder.path().join("2.12.0");
    fake_torch(&torch, "2.12.0", true);
    let (code, stderr) = plan(&torch, &cache);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "is PyTorch 2.12.0, which this project does not build against; supported: \
             PyTorch 2.13.0 (tch 0.26.0), PyTorch 2.11.0 (tch 0.24.0)"
        ),
        "{stderr}"
    );
    let (code, stderr) = plan(folder.path(), &cache);
    assert_eq!(code, 2);
    assert!(stderr.contains("has no lib/ folder"), "{stderr}");
}
