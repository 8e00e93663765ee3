//! Embeds libtorch's directory as an rpath so tests, benches and examples run without
//! LD_LIBRARY_PATH. torch-sys declares `links = "tch"`, hence the `DEP_TCH_` prefix.

fn main() {
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
