//! Integration tests: the real plugins and the real binary, loaded and run as a user would.

mod abi;
mod c_plugins;
mod commands;
mod compare;
mod diff;
mod gpu_route;
mod isolation;
mod libtorch_check;
mod own_model;
mod plan_runs;
mod plugin_dirs;
mod readme;
mod regress;
mod regress_update;
mod support;
mod sweep;
