//! Talking to Zadig: the wire types and the HTTP client.

pub mod adaptive;
pub mod client;
pub mod error;
pub mod retry;
pub mod wire;

pub use client::{Client, ClientConfig, ClientStats, KindStats, RequestKind, WriteOutcome};
pub use error::{ApiError, RequestDesc, TransportKind};
pub use retry::RetryPolicy;
