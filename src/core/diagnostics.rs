//! Diagnostics: problems found in definition files, with their location.
