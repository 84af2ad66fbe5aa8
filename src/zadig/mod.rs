//! Talking to Zadig: the wire types and the HTTP client.

pub mod client;
pub mod wire;
