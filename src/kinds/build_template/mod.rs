//! The second kind: build templates (`kind: BuildTemplate`), Zadig's
//! build-template library (`/api/aslan/template/build…`). All of the kind is
//! in this folder, one submodule per layer:
//! - [`spec`] and [`plan`]: pure (the file form, validation, normalisation,
//!   the credential walker, the write body, import, the plan); they import
//!   the core and this kind's wire only;
//! - [`wire`]: Zadig's JSON for templates, a leaf (uses `zadig::wire` only);
//! - [`client`]: the endpoints, an `impl Client` block over the transport;
//! - [`shell`]: the reads and writes, and the kind's [`crate::cli::driver::Driver`];
//! - [`view`]: the kind's words (render layer).

pub mod client;
pub mod plan;
pub mod shell;
pub mod spec;
pub mod view;
pub mod wire;

pub use plan::*;
pub use spec::{BuildTemplateSpec, BuildTemplatesConfig};
