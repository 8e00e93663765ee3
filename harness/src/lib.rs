//! The harness: loads sampler plugins, checks their batches against the contract, trains one
//! fixed protocol per sampler and reports retrieval metrics.
//!
//! Data flows one way: dataset -> neighbour table -> sampler batches -> training -> evaluation
//! -> CSV rows -> summary.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod compare;
pub mod conformance;
pub mod dataset;
pub mod device;
pub mod epochs;
pub use models::fnv;
pub mod libtorch;
pub mod neighbours;
pub mod npy;
pub mod openmp;
pub mod plugin;
pub mod regress;
pub mod report;
pub mod sampler_set;
pub mod selftest;
pub mod signals;
pub mod sweep;
pub mod table;
pub mod text_embeddings;
pub mod worker;
