//! What a build script of this workspace tells cargo about the libtorch that torch-sys found:
//! an rpath to its folder (so binaries, tests and benches run without `LD_LIBRARY_PATH`), its
//! CUDA backend linked on purpose when it has one, and its version for reports.
//!
//! Why the CUDA backend needs linking on purpose: torch-sys asks for `-ltorch_cuda`, but rustc
//! links with `--as-needed` and no symbol of `libtorch_cuda.so` is referenced (the backend
//! registers itself from a static initialiser when the library loads), so the linker drops it
//! and a binary built against a CUDA PyTorch reports CUDA as unavailable.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// The `cfg` set on a package whose binaries link libtorch's CUDA backend.
pub const CUDA_CFG: &str = "libtorch_cuda";

/// The library that holds libtorch's CUDA backend (Linux; a libtorch without it is CPU-only).
const CUDA_LIBRARY: &str = "libtorch_cuda.so";

/// The libtorch folder a package links against, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Libtorch {
    lib: PathBuf,
    cuda: bool,
}

impl Libtorch {
    /// The folder torch-sys exports to build scripts (`links = "tch"`, hence `DEP_TCH_`); absent
    /// on Windows.
    pub fn from_build_env() -> Option<Self> {
        std::env::var_os("DEP_TCH_LIBTORCH_LIB").map(|lib| Self::in_folder(Path::new(&lib)))
    }

    /// The libtorch whose libraries are in `lib`.
    pub fn in_folder(lib: &Path) -> Self {
        Libtorch {
            lib: lib.to_path_buf(),
            cuda: lib.join(CUDA_LIBRARY).is_file(),
        }
    }

    /// Whether this libtorch has its CUDA backend (so binaries link it).
    pub fn has_cuda(&self) -> bool {
        self.cuda
    }

    /// The cargo directives for a package whose binaries use this libtorch, in order.
    ///
    /// With a CUDA backend, `libtorch_cuda` is linked outside `--as-needed`, and the linker
    /// accepts undefined symbols inside shared libraries: the CUDA libraries that
    /// `libtorch_cuda.so` needs (cuBLAS, cuDNN, ...) belong to the machine that runs the binary
    /// and need not be on the one that builds it.
    pub fn directives(&self) -> Vec<String> {
        let lib = self.lib.display();
        // The folder itself: a libtorch_cuda.so appearing or going changes the decision.
        let mut lines = vec![
            format!("cargo:rerun-if-changed={lib}"),
            format!("cargo:rustc-link-arg=-Wl,-rpath,{lib}"),
        ];
        if self.cuda {
            lines.extend(
                [
                    "-Wl,--no-as-needed",
                    "-ltorch_cuda",
                    "-Wl,--as-needed",
                    "-Wl,--allow-shlib-undefined",
                ]
                .map(|arg| format!("cargo:rustc-link-arg={arg}")),
            );
            lines.push(format!("cargo:rustc-cfg={CUDA_CFG}"));
        }
        lines
    }

    /// libtorch's `major.minor.patch` and the header it was read from (for `rerun-if-changed`),
    /// from the headers beside the library folder (libtorch and PyTorch-wheel layouts).
    pub fn version(&self) -> Option<(String, PathBuf)> {
        let include = self.lib.parent()?.join("include/torch");
        ["headeronly/version.h", "csrc/api/include/torch/version.h"]
            .iter()
            .find_map(|relative| {
                let header = include.join(relative);
                let version = version_from_header(&std::fs::read_to_string(&header).ok()?)?;
                Some((version, header))
            })
    }
}

/// Prints the directives for the libtorch torch-sys found (nothing to link when there is none)
/// and declares [`CUDA_CFG`]; returns that libtorch.
pub fn emit() -> Option<Libtorch> {
    println!("cargo:rustc-check-cfg=cfg({CUDA_CFG})");
    let libtorch = Libtorch::from_build_env()?;
    for line in libtorch.directives() {
        println!("{line}");
    }
    Some(libtorch)
}

/// `major.minor.patch` from the `TORCH_VERSION_*` defines of a version header.
fn version_from_header(text: &str) -> Option<String> {
    let part = |name: &str| {
        let prefix = format!("#define TORCH_VERSION_{name} ");
        text.lines()
            .find_map(|line| line.trim().strip_prefix(&prefix))
            .map(|value| value.trim().to_string())
    };
    Some(format!(
        "{}.{}.{}",
        part("MAJOR")?,
        part("MINOR")?,
        part("PATCH")?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake libtorch: `lib/` holding empty files of the given names.
    fn fake_libtorch(libraries: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("lib")).unwrap();
        for name in libraries {
            std::fs::write(root.path().join("lib").join(name), b"").unwrap();
        }
        root
    }

    #[test]
    fn a_cpu_only_libtorch_gets_only_an_rpath() {
        let root = fake_libtorch(&["libtorch_cpu.so", "libtorch.so", "libc10.so"]);
        let lib = root.path().join("lib");
        let libtorch = Libtorch::in_folder(&lib);
        assert!(!libtorch.has_cuda());
        assert_eq!(
            libtorch.directives(),
            [
                format!("cargo:rerun-if-changed={}", lib.display()),
                format!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display()),
            ]
        );
    }

    #[test]
    fn a_cuda_libtorch_links_its_backend_outside_as_needed() {
        let root = fake_libtorch(&["libtorch_cpu.so", "libtorch_cuda.so", "libc10_cuda.so"]);
        let libtorch = Libtorch::in_folder(&root.path().join("lib"));
        assert!(libtorch.has_cuda());
        let directives = libtorch.directives();
        let link_args: Vec<&str> = directives
            .iter()
            .filter_map(|line| line.strip_prefix("cargo:rustc-link-arg="))
            .skip(1)
            .collect();
        assert_eq!(
            link_args,
            [
                "-Wl,--no-as-needed",
                "-ltorch_cuda",
                "-Wl,--as-needed",
                "-Wl,--allow-shlib-undefined"
            ]
        );
        assert!(directives.contains(&"cargo:rustc-cfg=libtorch_cuda".to_string()));
    }

    #[test]
    fn a_folder_named_like_the_backend_is_not_the_backend() {
        let root = fake_libtorch(&[]);
        std::fs::create_dir(root.path().join("lib/libtorch_cuda.so")).unwrap();
        assert!(!Libtorch::in_folder(&root.path().join("lib")).has_cuda());
    }

    #[test]
    fn the_version_comes_from_either_header_layout() {
        let header = "#pragma once\n#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 11\n\
                      #define TORCH_VERSION_PATCH 0\n#define TORCH_VERSION \"2.11.0\"\n";
        for relative in ["headeronly/version.h", "csrc/api/include/torch/version.h"] {
            let root = fake_libtorch(&[]);
            let path = root.path().join("include/torch").join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, header).unwrap();
            assert_eq!(
                Libtorch::in_folder(&root.path().join("lib")).version(),
                Some(("2.11.0".to_string(), path)),
                "{relative}"
            );
        }
        let root = fake_libtorch(&[]);
        assert_eq!(
            Libtorch::in_folder(&root.path().join("lib")).version(),
            None
        );
    }

    #[test]
    fn a_header_without_all_three_parts_gives_no_version() {
        assert_eq!(
            version_from_header("#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 13\n"),
            None
        );
    }
}
