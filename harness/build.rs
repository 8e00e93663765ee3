//! Links libtorch as `libtorch_link` decides (rpath, the CUDA backend on purpose, the
//! `libtorch_cuda` cfg) and records libtorch's version for reports and `--version`.

fn main() {
    let version = libtorch_link::emit()
        .and_then(|libtorch| libtorch.version())
        .map(|(version, header)| {
            println!("cargo:rerun-if-changed={}", header.display());
            version
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARNESS_LIBTORCH_VERSION={version}");
}
