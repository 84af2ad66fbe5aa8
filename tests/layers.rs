//! The layers (issue 15, item 3), checked on the source: the wire types and
//! the crate's leaves import nothing above them, the client depends on the
//! wire only, the core has no I/O, clock, environment or thread-count calls,
//! commands never import each other, and the environment is read in one
//! place of the shell.

use std::path::{Path, PathBuf};

/// The `.rs` files under `src/<dir>`, recursively.
fn files(dir: &str) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(p) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    if root.is_file() {
        out.push(root);
    } else {
        walk(&root, &mut out);
    }
    out.sort();
    assert!(!out.is_empty(), "no source under src/{dir}");
    out
}

/// `(file:line, line)` of every code line (comments left out) holding one of
/// `needles`. Unit tests are left out too: a `tests.rs` file, and a file's
/// `#[cfg(test)] mod …` (by the crate's convention the last item of a file),
/// may read fixtures from disk; the rules are about what the product does.
fn uses(dir: &str, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files(dir) {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]")
                && lines
                    .get(i + 1)
                    .is_some_and(|next| next.trim_start().starts_with("mod "))
            {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|n| code.contains(n)) {
                let rel = file
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                found.push(format!("{rel}:{}: {}", i + 1, code));
            }
        }
    }
    found
}

#[test]
fn the_client_depends_on_the_wire_and_the_leaves_only() {
    let up = uses(
        "zadig",
        &[
            "crate::core",
            "crate::cli",
            "crate::render",
            "crate::emulator",
        ],
    );
    assert!(up.is_empty(), "zadig/ imports upwards:\n{}", up.join("\n"));
}

#[test]
fn the_wire_types_and_the_leaves_are_leaves() {
    for leaf in ["zadig/wire.rs", "names.rs"] {
        let up = uses(leaf, &["crate::", "super::"]);
        assert!(up.is_empty(), "{leaf} imports:\n{}", up.join("\n"));
    }
    // The wire's submodules use the wire only.
    if Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/zadig/wire")
        .is_dir()
    {
        let up: Vec<String> = uses("zadig/wire", &["crate::"])
            .into_iter()
            .filter(|l| !l.contains("crate::zadig::wire"))
            .collect();
        assert!(up.is_empty(), "zadig/wire/ imports:\n{}", up.join("\n"));
    }
    // The scrubber knows Zadig's mask from the wire, nothing else.
    let up: Vec<String> = uses("scrub.rs", &["crate::"])
        .into_iter()
        .filter(|l| !l.contains("crate::zadig::wire::MASK"))
        .collect();
    assert!(up.is_empty(), "scrub.rs imports:\n{}", up.join("\n"));
}

/// What pure code never calls: I/O, the clock, the environment, the thread
/// count, stdio, the runtime, HTTP.
const IMPURE: &[&str] = &[
    "std::env",
    "std::fs",
    "std::io::std",
    "available_parallelism",
    "Instant::now",
    "SystemTime",
    "println!",
    "eprintln!",
    "tokio::",
    "reqwest",
];

#[test]
fn the_core_has_no_io_clock_environment_or_thread_count() {
    let impure = uses(
        "core",
        &[
            &["crate::cli", "crate::render", "crate::emulator"][..],
            IMPURE,
        ]
        .concat(),
    );
    assert!(
        impure.is_empty(),
        "the core is not pure:\n{}",
        impure.join("\n")
    );
}

#[test]
fn commands_never_import_each_other() {
    let commands: Vec<String> = files("cli/commands")
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .filter(|c| c != "mod")
        .collect();
    let mut found = Vec::new();
    for file in files("cli/commands") {
        let me = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if me == "mod" {
            continue;
        }
        let dir = format!("cli/commands/{me}.rs");
        for other in commands.iter().filter(|c| c.as_str() != me) {
            found.extend(uses(
                &dir,
                &[
                    &format!("commands::{other}::"),
                    &format!("super::{other}::"),
                    &format!("commands::{other};"),
                ],
            ));
        }
    }
    // The shared steps never call into a command either.
    for shared in [
        "cli/pipeline.rs",
        "cli/live.rs",
        "cli/output.rs",
        "cli/session.rs",
    ] {
        found.extend(uses(shared, &["commands::"]));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_environment_is_read_in_one_place() {
    let reads: Vec<String> = uses("cli", &["std::env::var", "env::var_os", "is_terminal()"])
        .into_iter()
        .filter(|l| !l.starts_with("src/cli/settings.rs:"))
        // The confirmation prompt asks whether stdin is a terminal, at the
        // moment it would ask.
        .filter(|l| !(l.starts_with("src/cli/confirm.rs:") && l.contains("stdin()")))
        .collect();
    assert!(
        reads.is_empty(),
        "the environment or the terminals are read outside cli/settings.rs:\n{}",
        reads.join("\n")
    );
}

/// The kinds' folders: `src/kinds/<kind>/`, one submodule per layer.
fn kind_dirs() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kinds");
    let mut out: Vec<String> = std::fs::read_dir(&root)
        .expect("src/kinds")
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(|n| format!("kinds/{n}")))
        .collect();
    out.sort();
    out
}

/// A kind's submodule, if the kind has it.
fn part(dir: &str, name: &str) -> Option<String> {
    let rel = format!("{dir}/{name}.rs");
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(&rel)
        .is_file()
        .then_some(rel)
}

/// The shell and the client of a kind, named from another submodule.
const KIND_SHELL: &[&str] = &[
    "super::shell",
    "super::client",
    "::shell::",
    "::client::",
    "crate::cli",
    "crate::emulator",
];

#[test]
fn a_kinds_pure_parts_are_pure() {
    let mut found = Vec::new();
    for dir in kind_dirs() {
        for name in ["spec", "plan"] {
            let Some(file) = part(&dir, name) else {
                continue;
            };
            found.extend(uses(
                &file,
                &[
                    &[
                        "crate::render",
                        "super::view",
                        "crate::zadig::client",
                        "crate::zadig::Client",
                    ][..],
                    IMPURE,
                ]
                .concat(),
            ));
            found.extend(uses(&file, KIND_SHELL));
        }
    }
    assert!(
        found.is_empty(),
        "a kind's pure part is not pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_kinds_wire_is_a_leaf_and_its_client_uses_the_wire_and_the_transport() {
    let mut found = Vec::new();
    for dir in kind_dirs() {
        if let Some(file) = part(&dir, "wire") {
            found.extend(
                uses(&file, &["crate::", "super::"])
                    .into_iter()
                    .filter(|l| !l.contains("crate::zadig::wire")),
            );
        }
        if let Some(file) = part(&dir, "client") {
            found.extend(
                uses(&file, &["crate::", "super::"])
                    .into_iter()
                    .filter(|l| !l.contains("crate::zadig") && !l.contains("super::wire")),
            );
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_kinds_view_makes_words_from_data_only() {
    let mut found = Vec::new();
    for dir in kind_dirs() {
        if let Some(file) = part(&dir, "view") {
            found.extend(uses(&file, KIND_SHELL));
            found.extend(uses(
                &file,
                &["crate::zadig", "tokio::", "std::fs", "std::env"],
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_core_names_no_kind_shell_and_no_driver() {
    // The core may read the registry's data and a kind's pure parts (a
    // config section's type), never its shell, client, view or the drivers.
    let found: Vec<String> = uses("core", &["crate::kinds"])
        .into_iter()
        .filter(|l| {
            ["shell", "client", "view", "driver", "wire"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_commands_and_the_renderers_never_name_a_kind() {
    // Every kind but builds is reached through the registry's drivers.
    let mut found = Vec::new();
    for dir in kind_dirs() {
        let kind = dir.trim_start_matches("kinds/");
        if kind == "build" {
            continue;
        }
        for layer in ["cli", "render"] {
            found.extend(
                uses(layer, &[&format!("kinds::{kind}"), &format!("{kind}::")])
                    .into_iter()
                    // The schema generator lists every spec type.
                    .filter(|l| !l.starts_with("src/cli/schemas.rs:")),
            );
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
