//! Embeds libtorch's directory as an rpath so tests, benches and examples run without
//! LD_LIBRARY_PATH. torch-sys declares `links = "tch"`, hence `DEP_TCH_` (not `DEP_TORCH_SYS_`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Absent on Windows, where torch-sys exports nothing and there is no rpath.
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
