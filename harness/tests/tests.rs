//! Integration tests: the real plugins and the real binary, loaded and run as a user would.

mod abi;
mod c_plugins;
mod commands;
mod compare;
mod diff;
mod libtorch_check;
mod plugin_dirs;
mod readme;
mod regress;
mod regress_update;
mod support;
