//! Integration tests: the real plugins and the real binary, loaded and run as a user would.

mod abi;
mod c_plugins;
mod commands;
mod compare;
mod gpu_route;
mod isolation;
mod own_model;
mod plan_runs;
mod readme;
mod regress;
mod support;
mod sweep;
