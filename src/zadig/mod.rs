//! Talking to Zadig: the wire types and the HTTP client.
//!
//! Layers: [`wire`] is a leaf; [`client`] (the transport) and its endpoint
//! catalogue (`builds`, `lookups`, and the template library in
//! `client/templates`) depend on [`wire`], [`error`], [`retry`],
//! [`adaptive`] and the crate's leaves ([`crate::scrub`], [`crate::names`])
//! only, never on the core or the shell.

pub mod adaptive;
mod builds;
pub mod client;
pub mod error;
mod lookups;
pub mod retry;
pub mod wire;

pub use client::{Client, ClientConfig, ClientStats, KindStats, RequestKind, WriteOutcome};
pub use error::{ApiError, RequestDesc, TransportKind};
pub use retry::RetryPolicy;
