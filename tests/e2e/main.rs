//! End-to-end tests: the `zadig-sync` binary against the emulator, bound to
//! 127.0.0.1:0 in this process. One test binary (fast to link), one module per
//! command.

mod common;

mod apply;
mod ci_contract;
mod ci_examples;
mod faults;
mod flags;
mod import;
mod network;
mod plan;
mod pull_request;
mod settings;
mod templates;
mod terminal;
mod ui_made;
