//! Links libtorch as `libtorch_link` decides (rpath, the CUDA backend on purpose), so the tests,
//! benches and examples of this crate run without LD_LIBRARY_PATH and can use CUDA.

fn main() {
    libtorch_link::emit();
}
