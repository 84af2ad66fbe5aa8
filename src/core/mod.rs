//! The pure core: loading and validation, normalisation, diffing and planning.
//! Functions over plain data: no network, no printing, no clock, no environment.

pub mod diagnostics;
pub mod load;
pub mod model;
pub mod validate;
