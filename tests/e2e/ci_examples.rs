//! The CI integrations users copy (examples/ci/, examples/k8s/): every shell
//! step is taken out of the files and run here, against the emulator, with
//! the code-host API (comments, notes, artifacts) and the webhook pointed at
//! a small local stand-in server.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::common::*;
use crate::pull_request::{git, scenario};

/// What the stand-in saw and holds.
#[derive(Default)]
struct Hub {
    /// `METHOD path` of every request.
    log: Vec<String>,
    /// Comments (GitHub) or notes (GitLab): `(id, body)`.
    comments: Vec<(u64, String)>,
    /// The bytes the GitLab artifact endpoint serves.
    artifact: Option<Vec<u8>>,
    /// Bodies posted to the webhook.
    hooks: Vec<Value>,
    /// The head commit of the merged pull request (GitHub look-up).
    pr_head: String,
}

/// A local HTTP/1.1 stand-in for the code host's API and a webhook.
struct StandIn {
    url: String,
    hub: Arc<Mutex<Hub>>,
}

impl StandIn {
    fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let hub = Arc::new(Mutex::new(Hub::default()));
        let shared = hub.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let hub = shared.clone();
                std::thread::spawn(move || serve(stream, &hub));
            }
        });
        StandIn { url, hub }
    }

    fn hub(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.hub.lock().expect("lock")
    }
}

fn serve(mut stream: std::net::TcpStream, hub: &Mutex<Hub>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    if headers
        .get("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let (status, reply) = route(&method, &target, &headers, &body, hub);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply);
}

fn route(
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    hub: &Mutex<Hub>,
) -> (&'static str, Vec<u8>) {
    let mut hub = hub.lock().expect("lock");
    let path = target.split('?').next().unwrap_or("");
    hub.log.push(format!("{method} {path}"));
    let authed = headers.get("authorization").map(String::as_str) == Some("Bearer gh-token")
        || headers.get("private-token").map(String::as_str) == Some("gl-token");
    let ok = |v: Value| ("200 OK", v.to_string().into_bytes());
    if path == "/hook" && method == "POST" {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        hub.hooks.push(v);
        return ok(json!({"ok": true}));
    }
    if !authed {
        return ("401 Unauthorized", b"{}".to_vec());
    }
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    let text = |body: &[u8]| {
        serde_json::from_slice::<Value>(body).ok()?["body"]
            .as_str()
            .map(str::to_owned)
    };
    let list = |hub: &Hub| {
        Value::from(
            hub.comments
                .iter()
                .map(|(id, b)| json!({"id": id, "body": b}))
                .collect::<Vec<_>>(),
        )
    };
    match (method, seg.as_slice()) {
        // GitHub.
        ("GET", ["repos", "o", "r", "issues", "7", "comments"])
        | ("GET", ["api", "v4", "projects", "5", "merge_requests", "3", "notes"]) => ok(list(&hub)),
        ("POST", ["repos", "o", "r", "issues", "7", "comments"])
        | ("POST", ["api", "v4", "projects", "5", "merge_requests", "3", "notes"]) => {
            let Some(b) = text(body) else {
                return ("400 Bad Request", b"{}".to_vec());
            };
            let id = 100 + hub.comments.len() as u64;
            hub.comments.push((id, b));
            ok(json!({"id": id}))
        }
        ("PATCH", ["repos", "o", "r", "issues", "comments", id])
        | (
            "PUT",
            [
                "api",
                "v4",
                "projects",
                "5",
                "merge_requests",
                "3",
                "notes",
                id,
            ],
        ) => {
            let Some(b) = text(body) else {
                return ("400 Bad Request", b"{}".to_vec());
            };
            let id: u64 = id.parse().unwrap_or(0);
            match hub.comments.iter_mut().find(|(i, _)| *i == id) {
                Some(c) => {
                    c.1 = b;
                    ok(json!({"id": id}))
                }
                None => ("404 Not Found", b"{}".to_vec()),
            }
        }
        ("GET", ["repos", "o", "r", "commits", _, "pulls"]) => {
            let head = hub.pr_head.clone();
            ok(json!([{"number": 7, "head": {"sha": head}}]))
        }
        ("GET", ["repos", "o", "r", "actions", "runs"]) => {
            let want = format!("head_sha={}", hub.pr_head);
            let runs = if target.contains(&want) && target.contains("event=pull_request") {
                json!([{"id": 99, "name": "zadig-sync"}, {"id": 98, "name": "other"}])
            } else {
                json!([])
            };
            ok(json!({"workflow_runs": runs}))
        }
        // GitLab.
        (
            "GET",
            [
                "api",
                "v4",
                "projects",
                "5",
                "repository",
                "commits",
                _,
                "merge_requests",
            ],
        ) => ok(json!([{"iid": 3, "source_branch": "pr"}])),
        (
            "GET",
            [
                "api",
                "v4",
                "projects",
                "5",
                "jobs",
                "artifacts",
                "pr",
                "raw",
                "zadig-sync.plan",
            ],
        ) if target
            .to_ascii_lowercase()
            .contains("job=zadig-sync%3aplan") =>
        {
            match &hub.artifact {
                Some(a) => ("200 OK", a.clone()),
                None => ("404 Not Found", b"{}".to_vec()),
            }
        }
        _ => ("404 Not Found", b"{}".to_vec()),
    }
}

/// PATH with the binary under test first.
fn path_env() -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_zadig-sync"));
    let dir = bin.parent().expect("bin dir").display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs a shell step as the CI runner does; returns (exit code, stdout, stderr).
fn shell(shell: &[&str], script: &str, cwd: &Path, env: &BTreeMap<String, String>) -> Run {
    let file = tempfile::NamedTempFile::new().expect("script file");
    std::fs::write(file.path(), script).expect("write script");
    let out = Command::new(shell[0])
        .args(&shell[1..])
        .arg(file.path())
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .output()
        .expect("the shell runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.all().contains(TOKEN),
        "the token leaked:\n{}",
        run.all()
    );
    run
}

fn yaml_file(rel: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(rel)).expect("example exists");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

/// A GitHub expression's value in the test; an unknown one fails the test,
/// so that a new expression in the workflow gets a value here.
fn github_expr(expr: &str, ctx: &BTreeMap<&str, String>) -> String {
    let expr = expr.trim();
    ctx.get(expr)
        .cloned()
        .unwrap_or_else(|| panic!("no test value for ${{{{ {expr} }}}}"))
}

fn substitute(value: &str, ctx: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("closed expression") + i;
        out.push_str(&github_expr(&rest[i + 3..end], ctx));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn env_of(v: &Value, ctx: &BTreeMap<&str, String>, env: &mut BTreeMap<String, String>) {
    if let Some(m) = v["env"].as_object() {
        for (k, val) in m {
            let s = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            env.insert(k.clone(), substitute(&s, ctx));
        }
    }
}

/// Runs every `run:` step of a job of the GitHub workflow; the action steps
/// (`uses:`) are left to the caller, which stands in for them.
fn run_github_job(
    workflow: &Value,
    job: &str,
    cwd: &Path,
    base_env: &BTreeMap<String, String>,
    ctx: &BTreeMap<&str, String>,
) -> Vec<(String, Run)> {
    let mut env = base_env.clone();
    env_of(workflow, ctx, &mut env);
    env_of(&workflow["jobs"][job], ctx, &mut env);
    let mut runs = Vec::new();
    for step in workflow["jobs"][job]["steps"].as_array().expect("steps") {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        assert!(
            !script.contains("${{"),
            "expressions belong in env:, not in run: scripts (injection):\n{script}"
        );
        let mut step_env = env.clone();
        env_of(step, ctx, &mut step_env);
        let name = step["name"].as_str().unwrap_or("run").to_owned();
        let run = shell(
            &["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            script,
            cwd,
            &step_env,
        );
        assert_eq!(run.code, 0, "step {name:?} failed:\n{}", run.all());
        runs.push((name, run));
    }
    runs
}

fn base_env(emu_url: &str, cwd: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("PATH".into(), path_env());
    env.insert("HOME".into(), cwd.display().to_string());
    env.insert("NO_COLOR".into(), "1".into());
    env.insert("ZADIG_ENDPOINT".into(), emu_url.to_owned());
    env
}

#[test]
fn the_github_workflow_comments_once_and_applies_on_main() {
    let s = scenario();
    let root = s.repo.path();
    let hub = StandIn::start();
    let workflow = yaml_file("examples/ci/github-actions/zadig-sync.yml");
    let main_sha = git(root, &["rev-parse", "main"]).trim().to_owned();
    let pr_sha = git(root, &["rev-parse", "HEAD"]).trim().to_owned();
    hub.hub().pr_head = pr_sha.clone();
    let output = root.join("github-output");
    let mut env = base_env(&s.emu.base_url(), root);
    env.insert("GITHUB_API_URL".into(), hub.url.clone());
    env.insert("GITHUB_REPOSITORY".into(), "o/r".into());
    env.insert("GITHUB_OUTPUT".into(), output.display().to_string());
    env.insert(
        "GITHUB_WORKFLOW".into(),
        workflow["name"].as_str().expect("name").into(),
    );
    let ctx: BTreeMap<&str, String> = [
        ("vars.ZADIG_ENDPOINT", s.emu.base_url()),
        (
            "vars.ZADIG_SYNC_GIT",
            "unused: zadig-sync is on PATH".into(),
        ),
        ("secrets.ZADIG_TOKEN", TOKEN.into()),
        ("github.token", "gh-token".into()),
        ("github.event.pull_request.base.sha", main_sha.clone()),
        ("github.event.pull_request.number", "7".into()),
    ]
    .into_iter()
    .collect();

    // The pull request: validate, plan, comment; twice, as on two pushes.
    for round in 0..2 {
        let runs = run_github_job(&workflow, "plan", root, &env, &ctx);
        let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Install zadig-sync",
                "Validate",
                "Plan",
                "Post or update the plan comment"
            ]
        );
        let h = hub.hub();
        assert_eq!(h.comments.len(), 1, "one comment, updated: {:?}", h.log);
        let body = &h.comments[0].1;
        assert!(
            body.starts_with("<!-- zadig-sync plan: defs -->\n"),
            "{body}"
        );
        assert!(body.contains("#### Conflicts"), "{body}");
        let verb = if round == 0 { "POST" } else { "PATCH" };
        assert!(h.log.iter().any(|l| l.starts_with(verb)), "{:?}", h.log);
    }
    let out = std::fs::read_to_string(&output).expect("outputs");
    assert!(out.contains("exit_code=2"), "{out}");
    // The saved plan, as actions/upload-artifact would keep it.
    let saved = std::fs::read(root.join("zadig-sync.plan")).expect("plan saved");

    // Zadig changes after the plan was made: the saved plan no longer
    // matches for that build.
    let h = s.emu.handle();
    let mut web = h.stored_build("demo", "web").expect("web");
    web.scripts = "make another-hotfix\n".into();
    h.put_stored_build(web);

    // The merge; a fresh checkout of main with the downloaded artifact.
    git(root, &["checkout", "-q", "main"]);
    git(root, &["merge", "-q", "--ff-only", "pr"]);
    let merged = git(root, &["rev-parse", "HEAD"]).trim().to_owned();
    env.insert("GITHUB_SHA".into(), merged);
    for f in [
        "zadig-sync.plan",
        "plan.md",
        "comment.json",
        "github-output",
    ] {
        let _ = std::fs::remove_file(root.join(f));
    }
    std::fs::write(root.join("zadig-sync.plan"), &saved).expect("artifact");
    let runs = run_github_job(&workflow, "apply", root, &env, &ctx);
    let out = std::fs::read_to_string(&output).expect("outputs");
    assert!(out.contains("run_id=99"), "the plan run was found: {out}");
    // The saved plan was applied but for `web`, changed in Zadig since the
    // plan: skipped; the re-plan then applied it.
    let apply = &runs.last().expect("apply step").1;
    let replanned = apply.stdout.rfind("~ web").expect("the re-plan shows web");
    assert!(
        apply.stdout[..replanned].contains("demo/gone"),
        "the saved plan came first:\n{}",
        apply.all()
    );
    assert!(apply.all().contains("fresh.plan"), "{}", apply.all());

    // Zadig now matches main.
    let check = run(
        &s.emu,
        &[
            "plan",
            root.join("defs").to_str().expect("utf-8"),
            "--detailed-exitcode",
        ],
    );
    assert_eq!(check.code, 0, "{}", check.all());
}

#[test]
fn the_gitlab_pipeline_keeps_one_note_and_applies_the_saved_plan() {
    let s = scenario();
    let root = s.repo.path();
    let hub = StandIn::start();
    let ci = yaml_file("examples/ci/gitlab-ci.yml");
    let base = git(root, &["merge-base", "main", "HEAD"]).trim().to_owned();
    let mut env = base_env(&s.emu.base_url(), root);
    for (k, v) in ci["variables"].as_object().expect("variables") {
        env.insert(k.clone(), v.as_str().expect("string").to_owned());
    }
    for (k, v) in [
        ("CI_API_V4_URL", format!("{}/api/v4", hub.url)),
        ("CI_PROJECT_ID", "5".into()),
        ("CI_MERGE_REQUEST_IID", "3".into()),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base),
        ("CI_DEFAULT_BRANCH", "main".into()),
        ("GITLAB_TOKEN", "gl-token".into()),
        ("ZADIG_TOKEN", TOKEN.into()),
        ("ZADIG_SYNC_GIT", "unused: zadig-sync is on PATH".into()),
    ] {
        env.insert(k.into(), v);
    }
    let before: Vec<&str> = ci["default"]["before_script"]
        .as_array()
        .expect("before_script")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The runner runs before_script and script in one shell, stopping at the
    // first failing line.
    let job = |name: &str, env: &BTreeMap<String, String>| {
        let script: Vec<&str> = ci[name]["script"]
            .as_array()
            .expect("script")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let text = [before.clone(), script].concat().join("\n");
        let run = shell(
            &["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            &text,
            root,
            env,
        );
        assert_eq!(run.code, 0, "job {name} failed:\n{}", run.all());
        run
    };
    for round in 0..2 {
        job("zadig-sync:plan", &env);
        let h = hub.hub();
        assert_eq!(h.comments.len(), 1, "{:?}", h.log);
        assert!(
            h.comments[0]
                .1
                .starts_with("<!-- zadig-sync plan: defs -->\n")
        );
        let verb = if round == 0 { "POST" } else { "PUT" };
        assert!(h.log.iter().any(|l| l.starts_with(verb)), "{:?}", h.log);
    }
    let artifacts = ci["zadig-sync:plan"]["artifacts"]["paths"]
        .as_array()
        .expect("paths");
    for a in artifacts {
        assert!(
            root.join(a.as_str().expect("path")).is_file(),
            "artifact {a}"
        );
    }
    hub.hub().artifact = Some(std::fs::read(root.join("zadig-sync.plan")).expect("plan"));

    // The merge, a fresh workspace: the plan comes from the API.
    git(root, &["checkout", "-q", "main"]);
    git(root, &["merge", "-q", "--ff-only", "pr"]);
    for f in ["zadig-sync.plan", "plan.md", "note.json"] {
        let _ = std::fs::remove_file(root.join(f));
    }
    env.insert(
        "CI_COMMIT_SHA".into(),
        git(root, &["rev-parse", "HEAD"]).trim().into(),
    );
    env.insert("CI_COMMIT_BRANCH".into(), "main".into());
    let run = job("zadig-sync:apply", &env);
    assert!(
        hub.hub()
            .log
            .iter()
            .any(|l| l.contains("/jobs/artifacts/pr/raw/zadig-sync.plan")),
        "{:?}",
        hub.hub().log
    );
    // The saved plan still matched: it was applied, and nothing was left.
    assert!(run.all().contains("Zadig matches main."), "{}", run.all());
    assert!(!run.all().contains("re-planning"), "{}", run.all());
    let check = run_plain(&s, root);
    assert_eq!(check.code, 0, "{}", check.all());
}

fn run_plain(s: &crate::pull_request::Scenario, root: &Path) -> Run {
    run(
        &s.emu,
        &[
            "plan",
            root.join("defs").to_str().expect("utf-8"),
            "--detailed-exitcode",
        ],
    )
}

/// The fields of the `batch/v1` CronJob schema and the types it uses, from
/// the Kubernetes API reference (v1.32: CronJob, CronJobSpec,
/// JobTemplateSpec, JobSpec, PodTemplateSpec, PodSpec, Container, EnvVar,
/// EnvVarSource, SecretKeySelector, Volume, EmptyDirVolumeSource,
/// VolumeMount, ResourceRequirements, SecurityContext, PodSecurityContext,
/// Capabilities, ObjectMeta). `*` marks a map of free keys.
const SCHEMA: &[(&str, &[(&str, &str)])] = &[
    (
        "CronJob",
        &[
            ("apiVersion", ""),
            ("kind", ""),
            ("metadata", "ObjectMeta"),
            ("spec", "CronJobSpec"),
        ],
    ),
    (
        "ObjectMeta",
        &[
            ("name", ""),
            ("namespace", ""),
            ("labels", "*"),
            ("annotations", "*"),
            ("generateName", ""),
            ("finalizers", ""),
            ("ownerReferences", ""),
        ],
    ),
    (
        "CronJobSpec",
        &[
            ("schedule", ""),
            ("timeZone", ""),
            ("concurrencyPolicy", ""),
            ("suspend", ""),
            ("startingDeadlineSeconds", ""),
            ("successfulJobsHistoryLimit", ""),
            ("failedJobsHistoryLimit", ""),
            ("jobTemplate", "JobTemplateSpec"),
        ],
    ),
    (
        "JobTemplateSpec",
        &[("metadata", "ObjectMeta"), ("spec", "JobSpec")],
    ),
    (
        "JobSpec",
        &[
            ("activeDeadlineSeconds", ""),
            ("backoffLimit", ""),
            ("backoffLimitPerIndex", ""),
            ("completionMode", ""),
            ("completions", ""),
            ("managedBy", ""),
            ("manualSelector", ""),
            ("maxFailedIndexes", ""),
            ("parallelism", ""),
            ("podFailurePolicy", ""),
            ("podReplacementPolicy", ""),
            ("selector", ""),
            ("successPolicy", ""),
            ("suspend", ""),
            ("template", "PodTemplateSpec"),
            ("ttlSecondsAfterFinished", ""),
        ],
    ),
    (
        "PodTemplateSpec",
        &[("metadata", "ObjectMeta"), ("spec", "PodSpec")],
    ),
    (
        "PodSpec",
        &[
            ("activeDeadlineSeconds", ""),
            ("affinity", ""),
            ("automountServiceAccountToken", ""),
            ("containers", "Container"),
            ("dnsConfig", ""),
            ("dnsPolicy", ""),
            ("enableServiceLinks", ""),
            ("ephemeralContainers", ""),
            ("hostAliases", ""),
            ("hostIPC", ""),
            ("hostNetwork", ""),
            ("hostPID", ""),
            ("hostUsers", ""),
            ("hostname", ""),
            ("imagePullSecrets", ""),
            ("initContainers", "Container"),
            ("nodeName", ""),
            ("nodeSelector", "*"),
            ("os", ""),
            ("overhead", "*"),
            ("preemptionPolicy", ""),
            ("priority", ""),
            ("priorityClassName", ""),
            ("readinessGates", ""),
            ("resourceClaims", ""),
            ("resources", "ResourceRequirements"),
            ("restartPolicy", ""),
            ("runtimeClassName", ""),
            ("schedulerName", ""),
            ("schedulingGates", ""),
            ("securityContext", "PodSecurityContext"),
            ("serviceAccountName", ""),
            ("setHostnameAsFQDN", ""),
            ("shareProcessNamespace", ""),
            ("subdomain", ""),
            ("terminationGracePeriodSeconds", ""),
            ("tolerations", ""),
            ("topologySpreadConstraints", ""),
            ("volumes", "Volume"),
        ],
    ),
    (
        "Container",
        &[
            ("args", ""),
            ("command", ""),
            ("env", "EnvVar"),
            ("envFrom", ""),
            ("image", ""),
            ("imagePullPolicy", ""),
            ("lifecycle", ""),
            ("livenessProbe", ""),
            ("name", ""),
            ("ports", ""),
            ("readinessProbe", ""),
            ("resizePolicy", ""),
            ("resources", "ResourceRequirements"),
            ("restartPolicy", ""),
            ("securityContext", "SecurityContext"),
            ("startupProbe", ""),
            ("stdin", ""),
            ("stdinOnce", ""),
            ("terminationMessagePath", ""),
            ("terminationMessagePolicy", ""),
            ("tty", ""),
            ("volumeDevices", ""),
            ("volumeMounts", "VolumeMount"),
            ("workingDir", ""),
        ],
    ),
    (
        "EnvVar",
        &[("name", ""), ("value", ""), ("valueFrom", "EnvVarSource")],
    ),
    (
        "EnvVarSource",
        &[
            ("configMapKeyRef", ""),
            ("fieldRef", ""),
            ("resourceFieldRef", ""),
            ("secretKeyRef", "SecretKeySelector"),
        ],
    ),
    (
        "SecretKeySelector",
        &[("key", ""), ("name", ""), ("optional", "")],
    ),
    (
        "Volume",
        &[
            ("name", ""),
            ("emptyDir", "EmptyDirVolumeSource"),
            ("configMap", ""),
            ("secret", ""),
            ("persistentVolumeClaim", ""),
            ("projected", ""),
            ("csi", ""),
            ("ephemeral", ""),
            ("hostPath", ""),
            ("image", ""),
            ("nfs", ""),
        ],
    ),
    ("EmptyDirVolumeSource", &[("medium", ""), ("sizeLimit", "")]),
    (
        "VolumeMount",
        &[
            ("mountPath", ""),
            ("mountPropagation", ""),
            ("name", ""),
            ("readOnly", ""),
            ("recursiveReadOnly", ""),
            ("subPath", ""),
            ("subPathExpr", ""),
        ],
    ),
    (
        "ResourceRequirements",
        &[("claims", ""), ("limits", "*"), ("requests", "*")],
    ),
    (
        "SecurityContext",
        &[
            ("allowPrivilegeEscalation", ""),
            ("appArmorProfile", ""),
            ("capabilities", "Capabilities"),
            ("privileged", ""),
            ("procMount", ""),
            ("readOnlyRootFilesystem", ""),
            ("runAsGroup", ""),
            ("runAsNonRoot", ""),
            ("runAsUser", ""),
            ("seLinuxOptions", ""),
            ("seccompProfile", ""),
            ("windowsOptions", ""),
        ],
    ),
    (
        "PodSecurityContext",
        &[
            ("appArmorProfile", ""),
            ("fsGroup", ""),
            ("fsGroupChangePolicy", ""),
            ("runAsGroup", ""),
            ("runAsNonRoot", ""),
            ("runAsUser", ""),
            ("seLinuxChangePolicy", ""),
            ("seLinuxOptions", ""),
            ("seccompProfile", ""),
            ("supplementalGroups", ""),
            ("supplementalGroupsPolicy", ""),
            ("sysctls", ""),
            ("windowsOptions", ""),
        ],
    ),
    ("Capabilities", &[("add", ""), ("drop", "")]),
];

/// Every key of `v` (of schema type `ty`) that the schema does not have.
fn unknown_fields(v: &Value, ty: &str, path: &str, out: &mut Vec<String>) {
    if ty == "*" || ty.is_empty() {
        return;
    }
    let fields = SCHEMA
        .iter()
        .find(|(t, _)| *t == ty)
        .unwrap_or_else(|| panic!("type {ty} missing from the table"))
        .1;
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        let Some(obj) = item.as_object() else {
            out.push(format!("{path}: not an object"));
            continue;
        };
        for (k, child) in obj {
            match fields.iter().find(|(f, _)| f == k) {
                Some((_, t)) => unknown_fields(child, t, &format!("{path}.{k}"), out),
                None => out.push(format!("{path}.{k}")),
            }
        }
    }
}

#[test]
fn the_cronjob_names_only_batch_v1_fields_and_its_steps_run() {
    let manifest = yaml_file("examples/k8s/drift-cronjob.yaml");
    assert_eq!(manifest["apiVersion"], "batch/v1");
    assert_eq!(manifest["kind"], "CronJob");
    let mut unknown = Vec::new();
    unknown_fields(&manifest, "CronJob", "", &mut unknown);
    assert!(
        unknown.is_empty(),
        "not in the batch/v1 CronJob schema: {unknown:?}"
    );
    // The table itself is checked: a misspelt field is caught.
    let mut typo = manifest.clone();
    typo["spec"]["jobTemplate"]["spec"]["backofLimit"] = json!(1);
    let mut found = Vec::new();
    unknown_fields(&typo, "CronJob", "", &mut found);
    assert_eq!(found, [".spec.jobTemplate.spec.backofLimit"]);

    let pod = &manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(manifest["spec"]["jobTemplate"]["spec"]["backoffLimit"], 0);
    let s = scenario();
    let hub = StandIn::start();
    let work = tempfile::tempdir().expect("work");
    let tmp = tempfile::tempdir().expect("tmp");
    // Each container's script, with the container's environment; the mount
    // /work is a temporary directory, the Secret's keys test values.
    let container_env = |c: &Value, webhook: bool| {
        let mut env = base_env(&s.emu.base_url(), work.path());
        env.insert("TMPDIR".into(), tmp.path().display().to_string());
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().expect("name").to_owned();
            let value = match (&e["value"], &e["valueFrom"]["secretKeyRef"]["key"]) {
                (Value::String(v), _) => v.replace("/work", &work.path().display().to_string()),
                (_, Value::String(k)) if k == "token" => TOKEN.into(),
                (_, Value::String(k)) if k == "webhook-url" => {
                    if !webhook {
                        continue;
                    }
                    format!("{}/hook", hub.url)
                }
                other => panic!("no test value for {name}: {other:?}"),
            };
            env.insert(name, value);
        }
        // The cluster's Zadig is the emulator here.
        env.insert("ZADIG_ENDPOINT".into(), s.emu.base_url());
        env
    };
    let script = |c: &Value| {
        assert_eq!(c["command"], json!(["/bin/sh", "-c"]));
        c["args"][0].as_str().expect("script").to_owned()
    };
    let init = &pod["initContainers"][0];
    let mut env = container_env(init, false);
    env.insert("REPO_URL".into(), s.repo.path().display().to_string());
    let clone = shell(&["sh"], &script(init), work.path(), &env);
    assert_eq!(clone.code, 0, "{}", clone.all());
    assert!(work.path().join("repo/defs/zadig-sync.yaml").is_file());

    let drift = &pod["containers"][0];
    for webhook in [false, true] {
        let env = container_env(drift, webhook);
        let run = shell(&["sh"], &script(drift), work.path(), &env);
        // Zadig was changed outside git: exit 2, which fails the Job.
        assert_eq!(run.code, 2, "{}", run.all());
        let report: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
        assert_eq!(report["command"], "drift");
        let hooks = &hub.hub().hooks;
        if webhook {
            assert_eq!(hooks.len(), 1);
            let text = hooks[0]["text"].as_str().expect("{text: ...}");
            assert!(text.starts_with("### zadig-sync drift"), "{text}");
        } else {
            assert!(hooks.is_empty());
        }
    }
}

#[test]
fn the_dockerfile_is_multi_stage_static_and_non_root() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "{froms:?}");
    assert_eq!(froms.last().copied(), Some("FROM scratch AS runtime"));
    let runtime = &text[text.rfind("FROM scratch").expect("runtime stage")..];
    assert!(runtime.contains("USER 65532:65532"));
    assert!(runtime.contains("ca-certificates.crt"));
    assert!(!runtime.contains("RUN "), "nothing runs in the final image");
    assert!(text.contains("--locked"));
    assert!(text.contains("-alpine"), "musl build");
    // Everything the build copies exists.
    for line in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        for src in &parts[1..parts.len() - 1] {
            assert!(repo().join(src).exists(), "{src} is copied but missing");
        }
    }
}
