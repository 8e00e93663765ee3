//! Report files and terminal output of a comparison.

pub mod csv_file;
pub mod stats;
