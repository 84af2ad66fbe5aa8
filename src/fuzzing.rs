//! Entry points for the fuzz targets (`fuzz/`, cargo-fuzz) and for the tests
//! that run them over the committed seed corpus (`tests/fuzz_seeds.rs`), so
//! that `cargo test` exercises what the fuzzers do. Each takes arbitrary bytes
//! and panics only when an invariant breaks: no secret in any output, spans
//! inside their file, bounded output.

use crate::core::diagnostics::Diagnostic;
use crate::core::load::{self, SourceFile};
use crate::core::scrub::{REDACTED, Scrubber};
use crate::render::diagnostics::render_masked;
use crate::zadig::client::error_object;
use crate::zadig::error::RequestDesc;
use crate::zadig::wire::{BuildDetail, BuildListResp, ProjectList, StoredBuild};

/// The secret the targets plant and look for.
pub const PLANTED: &str = "fuzz-planted-secret-9c1e";

const CONFIG: &str = "projects:\n  - key: demo\n";

/// The loader: `data` as a definition file (with a fixed config) and as the
/// config (with `data` as the only file too), loaded, validated, and the
/// diagnostics rendered.
pub fn load_bytes(data: &[u8]) {
    let config = SourceFile {
        path: load::CONFIG_FILE.to_owned(),
        bytes: CONFIG.as_bytes().to_vec(),
    };
    let file = SourceFile {
        path: "demo/fuzz.yaml".to_owned(),
        bytes: data.to_vec(),
    };
    let as_config = SourceFile {
        path: load::CONFIG_FILE.to_owned(),
        bytes: data.to_vec(),
    };
    for (config, files) in [
        (&config, vec![file.clone()]),
        (&as_config, vec![file.clone()]),
    ] {
        let result = load::load(Some(config), &files);
        let mut sources = files.clone();
        sources.push(config.clone());
        for d in &result.diagnostics {
            check_span(d, &sources);
        }
        let secrets: Vec<String> = result
            .builds
            .iter()
            .flat_map(|b| crate::core::secrets::credential_values(&b.def.unpack()))
            .collect();
        let out = render_masked(&result.diagnostics, &sources, false, &secrets);
        for s in secrets.iter().filter(|s| s.len() >= 8) {
            // A value may also appear in a message that quotes a key or a
            // name; the snippets are what must never show it.
            for line in out.lines().filter(|l| l.contains(" | ")) {
                assert!(
                    !line.contains(s.as_str()),
                    "a credential value in a snippet: {line}"
                );
            }
        }
    }
}

fn check_span(d: &Diagnostic, sources: &[SourceFile]) {
    let Some(span) = &d.span else { return };
    let Some(file) = sources.iter().find(|f| f.path == d.file) else {
        return;
    };
    // Spans are offsets in the text as shown: the file decoded lossily (a bad
    // byte becomes U+FFFD, 3 bytes), which may be longer than the file.
    let shown = String::from_utf8_lossy(&file.bytes).len();
    assert!(
        span.start <= span.end && span.end <= shown,
        "span {span:?} outside {} ({shown} bytes shown): {d}",
        d.file
    );
}

/// The diagnostics renderer: the first bytes say how many diagnostics and
/// where (any spans, in or out of the text), the rest is the file. The
/// planted secret, wherever it is in the file, never shows in a snippet.
pub fn render_bytes(data: &[u8]) {
    let (head, text) = data.split_at(data.len().min(16));
    let mut text = text.to_vec();
    // Plant the secret in the middle of the text, on a line of its own.
    let mid = text.len() / 2;
    let planted = format!("\npassword: {PLANTED}\n  - default_value: {PLANTED}\n");
    text.splice(mid..mid, planted.bytes());
    let len = text.len();
    let diags: Vec<Diagnostic> = head
        .chunks(2)
        .map(|c| {
            let a = usize::from(c[0]) * len / 256;
            let b = usize::from(*c.get(1).unwrap_or(&0)) * (len + 40) / 256;
            Diagnostic::error("f.yaml", "m").at(1, 1, Some(a..b))
        })
        .collect();
    let sources = vec![SourceFile {
        path: "f.yaml".to_owned(),
        bytes: text,
    }];
    let out = render_masked(
        &diags,
        &sources,
        data.first().is_some_and(|b| b & 1 == 1),
        &[PLANTED.to_owned()],
    );
    assert!(
        !out.contains(PLANTED),
        "the planted secret was shown:\n{out}"
    );
    // Each diagnostic shows one line at most: output stays proportional.
    assert!(out.len() <= 512 * (diags.len() + 1) + 4 * len.min(1 << 16) * diags.len());
}

/// The client's response parsers: `data` as a listing, a detail, a stored
/// model, a project list and an error object, through the client's own
/// decoder. A decode error never shows the token.
pub fn parse_response(data: &[u8]) {
    let desc = RequestDesc {
        method: "GET".to_owned(),
        path: "/openapi/build".to_owned(),
        build: None,
        project: None,
        attempts: 1,
    };
    let scrubber = Scrubber::with(PLANTED);
    let check = |r: Result<(), crate::zadig::ApiError>| {
        if let Err(e) = r {
            let text = e.to_string();
            assert!(!text.contains(PLANTED), "the token in an error: {text}");
            assert!(text.len() < 4096, "an unbounded error message");
        }
    };
    check(crate::zadig::client::decode::<BuildListResp>(data, &desc, &scrubber).map(|_| ()));
    check(crate::zadig::client::decode::<BuildDetail>(data, &desc, &scrubber).map(|_| ()));
    check(crate::zadig::client::decode::<StoredBuild>(data, &desc, &scrubber).map(|_| ()));
    check(crate::zadig::client::decode::<ProjectList>(data, &desc, &scrubber).map(|_| ()));
    if let Some(body) = error_object(data) {
        assert_ne!(body.code, 0);
    }
    let text = String::from_utf8_lossy(data);
    let out = scrubber.excerpt(&text, 200);
    assert!(!out.contains(PLANTED) || out.contains(REDACTED));
    assert!(!out.contains(PLANTED));
}
