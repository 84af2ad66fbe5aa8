//! What was read from Zadig, as plain data: the input of the normaliser and
//! the planner. The shell fills it; the core never fetches.

use std::collections::BTreeMap;

use crate::zadig::wire::{BuildBrief, BuildDetail, StoredBuild};

/// One live build.
#[derive(Clone, Debug)]
pub struct LiveBuild {
    /// Project key.
    pub project: String,
    /// The listing entry (name, source, update_time).
    pub brief: BuildBrief,
    /// The full read, if one was made.
    pub read: LiveRead,
}

impl LiveBuild {
    /// Build name.
    pub fn name(&self) -> &str {
        &self.brief.name
    }

    /// Whether zadig-sync treats this build as read-only (`source` other than
    /// `zadig`, e.g. Jenkins builds: a PUT would leave a hybrid, §5.10).
    pub fn is_read_only(&self) -> bool {
        super::reads::read_only_source(&self.brief.source)
    }
}

/// How a live build was read.
#[derive(Clone, Debug)]
pub enum LiveRead {
    /// The stored model (`GET /api/aslan/build/build/:name`), full fidelity.
    Stored {
        /// The model.
        model: Box<StoredBuild>,
        /// Plain values of credential parameters that the stored model masked,
        /// read from the OpenAPI detail (key → value).
        credentials: BTreeMap<String, String>,
        /// The stored model's JSON text exactly as read, unknown fields
        /// included: the base of the preserving write, parsed only for a
        /// build that changes (text is a fraction of the memory of a
        /// `serde_json::Value` tree, and most builds do not change).
        /// `None`: `model` re-serialised.
        raw: Option<Box<str>>,
    },
    /// Only the OpenAPI detail could be read (the UI API is not reachable):
    /// some fields cannot be compared.
    Detail {
        /// The detail.
        detail: Box<BuildDetail>,
        /// Per-target details of a template build (`serviceName`/`serviceModule`).
        targets: Vec<BuildDetail>,
    },
    /// Not read: a read-only build, listed only.
    NotRead,
}
