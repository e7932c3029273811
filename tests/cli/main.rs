//! Integration tests: the real binaries against real git repositories and real SQLite stores.

#[path = "../support/mod.rs"]
mod support;

mod action_install;
mod analytics;
mod architecture;
mod archive;
mod bucket;
mod catalog;
mod ci;
mod crash;
mod docs;
mod errors;
mod governance;
mod help;
mod hooks;
mod init;
mod interop;
mod list_show;
mod manpages;
mod outputs;
mod restore;
mod scan;
mod security;
mod snapshot;
mod stub_check;
mod toolchains;
mod verify;
