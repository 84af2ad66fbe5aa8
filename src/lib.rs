//! zadig-sync: keep Zadig build definitions in git.
//!
//! Layout:
//! - [`core`]: the pure core (model, loading and validation, normalisation, diff, plan);
//! - [`zadig`]: the wire types and the HTTP client;
//! - [`emulator`]: a local Zadig look-alike;
//! - [`render`]: human, JSON and Markdown views;
//! - [`cli`]: the command-line shell, one module per subcommand;
//! - [`fuzzing`]: entry points of the fuzz targets;
//! - [`kinds`]: the resource kinds: the registry, and one folder per kind
//!   holding all of it (spec, pure plan, wire, client endpoints, shell, view);
//! - [`scrub`] and [`names`]: leaves every layer uses (the one scrubber; how
//!   names are shown and which ones Zadig's URLs can address).

pub mod cli;
pub mod core;
pub mod emulator;
pub mod fuzzing;
pub mod kinds;
pub mod names;
pub mod render;
pub mod scrub;
pub mod zadig;
