//! Renderers: plans, reports and diagnostics as text, JSON and Markdown.

pub mod diagnostics;
