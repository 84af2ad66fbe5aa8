//! The terminal (#12, findings 22, 23 and 28), in a real pseudo-terminal: the
//! progress bar is cleared on every exit path and never drawn full at 0/0,
//! apply shows progress while it writes, Ctrl-C is acknowledged at once, and
//! the confirmation prompt names the endpoint and the counts. The screen is
//! read back through a terminal emulator (vt100), as a user would see it.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use zadig_sync::emulator::{EmulatorConfig, ThreadEmulator, spawn_in_thread};

use crate::common::*;

const ROWS: u16 = 60;
const COLS: u16 = 160;

/// The binary running in a pseudo-terminal.
struct Pty {
    output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    // Kept open for the child's lifetime.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn spawn(emu: &ThreadEmulator, args: &[&str]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_zadig-sync"));
        cmd.args(args);
        cmd.env("ZADIG_ENDPOINT", emu.base_url());
        cmd.env("ZADIG_TOKEN", TOKEN);
        cmd.env("DEMO_SONAR_TOKEN", "sonar-value-1");
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env_remove("ZADIG_SYNC_LOG");
        cmd.cwd(repo());
        let child = pair.slave.spawn_command(cmd).expect("spawn in the pty");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().expect("lock").extend_from_slice(&buf[..n]);
                }
            });
        }
        Pty {
            output,
            writer,
            child,
            _master: pair.master,
        }
    }

    /// Everything written to the terminal so far, escape sequences included.
    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("lock")).into_owned()
    }

    /// The screen as a user sees it now.
    fn screen(&self) -> String {
        let nz = |n: u16| std::num::NonZeroU16::new(n).expect("non-zero");
        let mut parser = vt100::Parser::new(nz(ROWS), nz(COLS), 0);
        parser.process(&self.output.lock().expect("lock"));
        parser.screen().contents()
    }

    /// Waits until the output contains `needle`; how long it took.
    fn wait_for(&self, needle: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        while !self.raw().contains(needle) {
            assert!(
                started.elapsed() < timeout,
                "`{needle}` did not appear in {timeout:?}; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        started.elapsed()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush");
    }

    /// Waits for the exit; the exit code (1 for a signal).
    fn wait_exit(&mut self, timeout: Duration) -> u32 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the reader drain the last output.
                std::thread::sleep(Duration::from_millis(150));
                assert!(
                    status.signal().is_none(),
                    "killed by {:?}; the screen:\n{}",
                    status.signal(),
                    self.screen()
                );
                return status.exit_code();
            }
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "did not exit in {timeout:?}; the screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// An emulator where every request takes `ms`: slow enough to see progress
/// and to press Ctrl-C in the middle.
fn slow_emulator(ms: u64) -> ThreadEmulator {
    spawn_in_thread(EmulatorConfig {
        seed: examples_seed(),
        latency: Duration::from_millis(ms),
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

#[test]
fn finding_22_ctrl_c_during_a_plan_clears_the_progress_bar() {
    let emu = slow_emulator(400);
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let mut pty = Pty::spawn(&emu, &["plan", dir]);
    pty.wait_for("reading builds", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    pty.send(b"\x03");
    let code = pty.wait_exit(Duration::from_secs(5));
    assert_eq!(code, 1, "{}", pty.screen());
    let screen = pty.screen();
    assert!(
        !screen.contains("reading builds"),
        "the bar is cleared:\n{screen}\n{:?}",
        pty.raw()
    );
    assert!(screen.contains("interrupted (Ctrl-C)"), "{screen}");
    assert!(!pty.raw().contains("0/0"), "never drawn at 0/0");
}

#[test]
fn finding_22_the_bar_is_cleared_after_an_error_and_never_full_at_0_of_0() {
    // A directory with nothing to read: the bar has nothing to count.
    let emu = slow_emulator(50);
    let tmp = demo_dir("");
    write(tmp.path(), "demo/x.yaml", &build_yaml("x", "demo", "make"));
    let dir = tmp.path().to_str().expect("utf-8");
    let mut pty = Pty::spawn(&emu, &["plan", dir]);
    let code = pty.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{}", pty.screen());
    assert!(!pty.raw().contains("0/0"), "never 0/0:\n{}", pty.raw());
    assert!(!pty.screen().contains("reading builds"), "{}", pty.screen());

    // A listing that fails: the error is on a clean screen.
    emu.handle().set_faults(zadig_sync::emulator::Faults {
        fail_next: 1000,
        ..Default::default()
    });
    let mut pty = Pty::spawn(&emu, &["plan", dir, "--retry-budget", "1"]);
    let code = pty.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 1, "{}", pty.screen());
    assert!(!pty.screen().contains("reading builds"), "{}", pty.screen());
}

#[test]
fn finding_23_and_28_apply_prompts_with_the_endpoint_shows_progress_and_acknowledges_ctrl_c() {
    let emu = slow_emulator(300);
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let mut pty = Pty::spawn(&emu, &["apply", dir]);
    pty.wait_for("Only 'yes' will be accepted", Duration::from_secs(30));
    let screen = pty.screen();
    let prompt = screen
        .lines()
        .find(|l| l.contains("Only 'yes'"))
        .expect("the prompt line")
        .trim()
        .to_owned();
    assert!(prompt.contains(&emu.base_url()), "{prompt}");
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT")]}, {
        insta::assert_snapshot!("apply_prompt", prompt);
    });
    pty.send(b"yes\r");
    pty.wait_for("writing", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));
    pty.send(b"\x03");
    let took = pty.wait_for("stopping: ", Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(2),
        "acknowledged at once: {took:?}"
    );
    let code = pty.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 1, "an interrupted apply is not a success");
    let screen = pty.screen();
    let ack = screen
        .lines()
        .find(|l| l.starts_with("stopping: "))
        .expect("the acknowledgement");
    insta::with_settings!({filters => vec![(r"\d+ writes?", "N writes")]}, {
        insta::assert_snapshot!("ctrl_c_acknowledged", ack.trim());
    });
    assert!(screen.contains("Interrupted."), "{screen}");
    assert!(
        !screen
            .lines()
            .any(|l| l.contains("writing") || l.contains("reading builds")),
        "no bar is left on screen:\n{screen}"
    );
}

#[test]
fn finding_21_and_22_the_outage_warning_is_written_above_the_bar_not_into_it() {
    let emu = slow_emulator(20);
    emu.handle().set_faults(zadig_sync::emulator::Faults {
        outage: Duration::from_secs(3),
        retry_after_secs: 1,
        ..Default::default()
    });
    // A short plan, so that the whole run fits on the screen.
    let tmp = demo_dir("");
    write(tmp.path(), "demo/x.yaml", &build_yaml("x", "demo", "make"));
    let dir = tmp.path().to_str().expect("utf-8");
    let mut pty = Pty::spawn(&emu, &["plan", dir]);
    let code = pty.wait_exit(Duration::from_secs(40));
    assert_eq!(code, 0, "{}", pty.screen());
    let screen = pty.screen();
    let warnings: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("Zadig answered"))
        .collect();
    assert_eq!(warnings.len(), 1, "{screen}");
    assert!(
        warnings[0].trim_start().starts_with("WARN Zadig answered"),
        "on a line of its own: {screen}"
    );
    assert!(!screen.contains("reading builds"), "{screen}");
}
