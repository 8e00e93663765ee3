//! Embeds libtorch's folder as an rpath, so the harness, its tests and benches run without
//! LD_LIBRARY_PATH, and records the libtorch version for reports. torch-sys declares
//! `links = "tch"`, hence the `DEP_TCH_` prefix.

use std::path::Path;

fn main() {
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok();
    if let Some(lib) = &lib {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    let version = lib
        .as_deref()
        .and_then(libtorch_version)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARNESS_LIBTORCH_VERSION={version}");
}

/// `major.minor.patch` from the headers beside the library folder (libtorch and PyTorch layouts).
fn libtorch_version(lib: &str) -> Option<String> {
    let include = Path::new(lib).parent()?.join("include/torch");
    ["headeronly/version.h", "csrc/api/include/torch/version.h"]
        .iter()
        .find_map(|relative| {
            let header = include.join(relative);
            println!("cargo:rerun-if-changed={}", header.display());
            let text = std::fs::read_to_string(header).ok()?;
            let part = |name: &str| {
                text.lines()
                    .find_map(|line| {
                        line.trim()
                            .strip_prefix(&format!("#define TORCH_VERSION_{name} "))
                    })
                    .map(|value| value.trim().to_string())
            };
            Some(format!(
                "{}.{}.{}",
                part("MAJOR")?,
                part("MINOR")?,
                part("PATCH")?
            ))
        })
}
