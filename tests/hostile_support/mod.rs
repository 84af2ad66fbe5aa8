//! A hostile server: a proxy in front of the in-process emulator that, by
//! [`Mode`], echoes the token and the request body back, redirects to a URL
//! holding the token, streams an endless answer, never stops paginating,
//! answers 200 with a Zadig error object, answers for another build, or lists
//! builds whose names Zadig's API cannot address.
//!
//! It speaks HTTP/1.1 by hand over a TCP socket (one request per connection,
//! `Connection: close`), so that it can send what no well-behaved framework
//! would. It never forwards a write to the emulator, and counts the writes it
//! was sent.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zadig_sync::emulator::{EmulatorConfig, Seed, ThreadEmulator, spawn_in_thread};

/// The token every run uses; no output may contain it.
pub const TOKEN: &str = "hostile-secret-token-5d2b8e41c7";
/// The value of the examples' credential variable; no output may contain it.
pub const CREDENTIAL: &str = "sonar-credential-value-77aa";

/// What the server does wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every request: 403, with the `Authorization` header echoed in
    /// `x-zadig-auth-reason` and in the JSON `reason`.
    ForbiddenEcho,
    /// The listing: 200 whose `total` is a string quoting the header, so the
    /// decode error quotes it.
    DecodeEcho,
    /// The listing: a redirect whose `Location` path holds the token.
    RedirectEcho,
    /// The listing: an unexpected status with a text body holding the token
    /// across the 200th character.
    LongBodyEcho,
    /// Reads pass; every write gets a 400 whose description quotes the body.
    WriteEcho,
    /// The listing: an endless 200 body.
    HugeListing,
    /// The listing: a total of a billion and new names on every page.
    EndlessPages,
    /// The listing: 200 with a Zadig error object.
    ErrorIn200,
    /// Stored model and detail: 200 for another build.
    WrongBuild,
    /// The listing: extra builds named `.`, `..` and `a\nb`.
    UnaddressableNames,
}

/// A running hostile server and the emulator behind it.
pub struct Hostile {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The emulator the reads are forwarded to.
    pub emu: ThreadEmulator,
    writes: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    /// Starts the emulator (the examples' seed) and the proxy.
    pub fn start(mode: Mode) -> Hostile {
        let seed = Seed::from_file(repo().join("examples/emulator-seed.json")).expect("seed");
        let emu = spawn_in_thread(EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        })
        .expect("emulator starts");
        let upstream = emu.base_url();
        let writes = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let (w, p) = (writes.clone(), paths.clone());
        // reqwest is built without a default crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("addr")).expect("send");
                let http = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("client");
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let ctx = Ctx {
                        mode,
                        upstream: upstream.clone(),
                        http: http.clone(),
                        writes: w.clone(),
                        paths: p.clone(),
                    };
                    tokio::spawn(async move {
                        let _ = serve(sock, ctx).await;
                    });
                }
            });
        });
        let addr = rx.recv().expect("the proxy starts");
        Hostile {
            url: format!("http://{addr}"),
            emu,
            writes,
            paths,
        }
    }

    /// Writes (POST, PUT, DELETE) the server was sent.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Every request the server was sent: `METHOD path?query`.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().expect("lock").clone()
    }
}

/// The repository root.
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone)]
struct Ctx {
    mode: Mode,
    upstream: String,
    http: reqwest::Client,
    writes: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

struct Request {
    method: String,
    target: String,
    auth: String,
    body: Vec<u8>,
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut auth = String::new();
    let mut len = 0usize;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                auth = v.trim().to_owned();
            } else if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Request {
        method,
        target,
        auth,
        body,
    })
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.flush().await
}

fn json(status: u16, v: serde_json::Value) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    (
        status,
        vec![("content-type", "application/json".to_owned())],
        v.to_string().into_bytes(),
    )
}

async fn forward(ctx: &Ctx, req: &Request) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let resp = ctx
        .http
        .request(method, format!("{}{}", ctx.upstream, req.target))
        .header("authorization", req.auth.clone())
        .header("content-type", "application/json")
        .body(req.body.clone())
        .send()
        .await;
    match resp {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            (
                status,
                vec![("content-type", "application/json".to_owned())],
                body,
            )
        }
        Err(_) => (502, Vec::new(), Vec::new()),
    }
}

fn is_listing(req: &Request) -> bool {
    req.method == "GET"
        && (req.target.starts_with("/openapi/build?") || req.target == "/openapi/build")
}

fn query(target: &str, key: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

async fn serve(mut sock: TcpStream, ctx: Ctx) -> std::io::Result<()> {
    let req = read_request(&mut sock).await?;
    ctx.paths
        .lock()
        .expect("lock")
        .push(format!("{} {}", req.method, req.target));
    let token = req.auth.trim_start_matches("Bearer ").to_owned();
    if req.method != "GET" {
        ctx.writes.fetch_add(1, Ordering::SeqCst);
    }
    let (status, headers, body) = match ctx.mode {
        Mode::ForbiddenEcho => (
            403,
            vec![
                (
                    "x-zadig-auth-reason",
                    format!("mfa required for {}", req.auth),
                ),
                ("content-type", "application/json".to_owned()),
            ],
            serde_json::json!({ "reason": format!("token {token} needs mfa") })
                .to_string()
                .into_bytes(),
        ),
        Mode::DecodeEcho if is_listing(&req) => json(
            200,
            serde_json::json!({ "total": format!("auth was {}", req.auth), "builds": [] }),
        ),
        Mode::RedirectEcho if is_listing(&req) => (
            302,
            vec![(
                "location",
                format!("https://sso.example.com/login/{token}/cb?next={token}"),
            )],
            Vec::new(),
        ),
        Mode::LongBodyEcho if is_listing(&req) => {
            // The token starts at character 181: 19 of its characters fall
            // inside a 200-character cut.
            let mut body = "x".repeat(175);
            body.push_str(&format!("echo: {token} and more"));
            (
                418,
                vec![("content-type", "text/plain".to_owned())],
                body.into_bytes(),
            )
        }
        Mode::WriteEcho if req.method != "GET" => json(
            400,
            serde_json::json!({
                "code": 6521,
                "message": "参数错误",
                "description": format!(
                    "cannot bind body {} (auth {})",
                    String::from_utf8_lossy(&req.body),
                    req.auth
                ),
            }),
        ),
        Mode::HugeListing if is_listing(&req) => {
            // Headers, then an endless body until the client hangs up.
            let head =
                "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\n\r\n";
            sock.write_all(head.as_bytes()).await?;
            sock.write_all(b"{\"total\":1,\"builds\":[").await?;
            let entry = format!("{{\"name\":\"{}\"}},", "n".repeat(1000));
            let block = entry.repeat(64);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(120) {
                sock.write_all(block.as_bytes()).await?;
            }
            return Ok(());
        }
        Mode::EndlessPages if is_listing(&req) => {
            let page: usize = query(&req.target, "pageNum")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let builds: Vec<serde_json::Value> = (0..100)
                .map(|i| serde_json::json!({"name": format!("p{page}-b{i}"), "source": "zadig", "update_time": 1}))
                .collect();
            json(
                200,
                serde_json::json!({ "total": 1_000_000_000u64, "builds": builds }),
            )
        }
        Mode::ErrorIn200 if is_listing(&req) => json(
            200,
            serde_json::json!({
                "code": 6521,
                "message": "项目不存在",
                "description": "project not found (echo: nothing secret here)",
            }),
        ),
        Mode::WrongBuild
            if req.method == "GET"
                && (req.target.starts_with("/api/aslan/build/build/")
                    || req.target.contains("/detail")) =>
        {
            let (status, headers, body) = forward(&ctx, &req).await;
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(obj) = v.as_object_mut()
                && obj.contains_key("name")
            {
                obj.insert("name".to_owned(), serde_json::json!("someone-else"));
            }
            (status, headers, v.to_string().into_bytes())
        }
        Mode::UnaddressableNames if is_listing(&req) => {
            let (status, headers, body) = forward(&ctx, &req).await;
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if query(&req.target, "projectKey").as_deref() == Some("demo")
                && let Some(builds) = v.get_mut("builds").and_then(|b| b.as_array_mut())
            {
                for name in [".", "..", "a\nb"] {
                    builds.push(
                        serde_json::json!({"name": name, "source": "zadig", "update_time": 1}),
                    );
                }
                let n = builds.len();
                v["total"] = serde_json::json!(n);
            }
            (status, headers, v.to_string().into_bytes())
        }
        // Never forward a write.
        _ if req.method != "GET" => json(
            500,
            serde_json::json!({"code": 500, "description": "the hostile server takes no writes", "message": "x"}),
        ),
        _ => forward(&ctx, &req).await,
    };
    respond(&mut sock, status, &headers, &body).await
}

/// What a run printed, and how long it took.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Run {
    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Most memory a run may map (`ulimit -v`), in KiB: without the size cap,
/// an endless answer exceeds it within seconds.
pub const MEMORY_LIMIT_KIB: u64 = 3 * 1024 * 1024;
/// Longest a run may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary against `server` in `dir` under a memory limit and a time
/// limit, with the token and the credential variable set and debug logs on.
pub fn run(server: &Hostile, args: &[&str]) -> Run {
    let bin = env!("CARGO_BIN_EXE_zadig-sync");
    let mut script = format!("ulimit -v {MEMORY_LIMIT_KIB}; exec '{bin}'");
    for a in args {
        script.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    script.push_str(" --color never -vv");
    let started = Instant::now();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("ZADIG_ENDPOINT", &server.url)
        .env("ZADIG_TOKEN", TOKEN)
        .env("DEMO_SONAR_TOKEN", CREDENTIAL)
        .env("NO_COLOR", "1")
        .env_remove("ZADIG_SYNC_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Drain the pipes while waiting, so a chatty run cannot block.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run took more than {TIME_LIMIT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&t_out.join().expect("stdout")).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().expect("stderr")).into_owned();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        elapsed,
    }
}

/// The token and the credential value in every form a leak could take.
pub fn leaks(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for secret in [TOKEN, CREDENTIAL] {
        // The whole value, and any 12-character piece of it (a cut leak).
        let pieces = secret.len().saturating_sub(11);
        if (0..pieces).any(|i| text.contains(&secret[i..i + 12])) {
            found.push(secret);
        }
    }
    found
}

/// A scratch copy of the examples.
pub fn examples() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo().join("examples"), tmp.path());
    tmp
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
