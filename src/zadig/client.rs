//! The Zadig HTTP client.
