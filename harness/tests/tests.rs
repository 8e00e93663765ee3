//! Integration tests: the real plugins and the real binary, loaded and run as a user would.

mod abi;
mod commands;
mod compare;
mod readme;
mod regress;
mod support;
