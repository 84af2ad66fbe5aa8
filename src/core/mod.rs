//! The pure core: loading and validation, normalisation, diffing and planning.
//! Functions over plain data: no network, no printing, no clock, no environment.

pub mod apply;
pub mod canonical;
pub mod catalog;
pub mod cause;
pub mod diagnostics;
pub mod diff;
pub mod import;
pub mod live;
pub mod load;
pub mod model;
pub mod normalize;
pub mod notice;
pub mod packed;
pub mod plan;
pub mod preserve;
pub mod reads;
pub mod report;
pub mod secrets;
pub mod validate;

/// The one scrubber, a leaf every layer uses (see [`crate::scrub`]).
pub use crate::scrub;
