//! Names: how one is shown in a message, and which ones Zadig's API can
//! address in a URL path. A leaf: the validator ([`crate::core::validate`])
//! and the client ([`crate::zadig`]) apply the same rule.

/// Why Zadig's API cannot address `name` in a URL path, if it cannot: such a
/// request would reach another route, or another build.
pub fn unaddressable_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is a path step (`.` or `..`)")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator (`/` or `\\`)")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else if name.trim() != name {
        Some("has leading or trailing whitespace")
    } else {
        None
    }
}

/// A name for a message: as is when it is plain, else quoted with its control
/// characters escaped (a newline in a name must not start a new line of
/// output).
pub fn shown_name(name: &str) -> String {
    if name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
        || name.is_empty()
    {
        format!("{:?}", name)
    } else {
        format!("`{name}`")
    }
}
