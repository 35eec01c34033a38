//! The real `s1trust` binary, run with a clean environment and a bound on its time.

use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Upper bound for one command, so a bug cannot hang the test suite (not a performance check).
const RUN_GUARD: Duration = Duration::from_secs(90);

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit status.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Time the run took (reported, never asserted on).
    pub elapsed: Duration,
}

impl Run {
    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit status, showing the outputs when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The binary under test: this build's, or `S1TRUST_BIN` (to run the same scenarios
/// against another build and compare outputs; see `benches/compare-outputs.sh`).
pub fn s1trust_bin() -> PathBuf {
    std::env::var_os("S1TRUST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_s1trust")),
        PathBuf::from,
    )
}

/// With `S1TRUST_CAPTURE_DIR` set, keeps a run's stdout there as
/// `<test name>.<n>.out`, so two builds' outputs can be compared scenario by scenario.
pub fn capture(stdout: &[u8]) {
    use std::sync::Mutex;
    static COUNTS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
    let Some(dir) = std::env::var_os("S1TRUST_CAPTURE_DIR") else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", ".");
    let n = {
        let mut counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner());
        match counts.iter_mut().find(|(name, _)| *name == test) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counts.push((test.clone(), 0));
                0
            }
        }
    };
    let _ = std::fs::write(Path::new(&dir).join(format!("{test}.{n:03}.out")), stdout);
}

/// Runs the `s1trust` binary with a clean environment, `config` as its configuration.
pub fn run_s1trust<A: AsRef<OsStr> + Debug>(
    args: &[A],
    config: &Path,
    env: &[(&str, &str)],
) -> Run {
    let started = Instant::now();
    let mut command = Command::new(s1trust_bin());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("S1TRUST_CONFIG", config)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("s1trust binary runs");
    // Drain both pipes while waiting, or a large answer would block the child forever.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_GUARD {
            let _ = child.kill();
            panic!("s1trust {args:?} did not finish within {RUN_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    capture(&output.stdout);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buffer);
        }
        buffer
    })
}

/// The spinner frames of the status line `s1trust` draws on a terminal's stderr.
pub const STATUS_FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// What reached a terminal from one run: stdout and stderr in the order written, as a
/// screen gets them.
#[cfg(unix)]
#[derive(Debug)]
pub struct Screen {
    /// Exit status.
    pub code: i32,
    /// Every byte written, `\r` and escape sequences included.
    pub raw: String,
}

#[cfg(unix)]
impl Screen {
    /// Each drawing of the status line, in order (`⠙ asking … 0.3s`).
    pub fn status_lines(&self) -> Vec<&str> {
        self.raw
            .split("\r\x1b[2K")
            .skip(1)
            .filter(|part| part.starts_with(STATUS_FRAMES))
            .collect()
    }

    /// What stays on the screen once the status line is erased, with `\n` line ends.
    pub fn lines(&self) -> String {
        let mut parts = self.raw.split("\r\x1b[2K");
        let first = parts.next().unwrap_or_default().to_owned();
        parts
            .filter(|part| !part.starts_with(STATUS_FRAMES))
            .fold(first, |text, part| text + part)
            .replace("\r\n", "\n")
    }
}

/// Runs `s1trust <args>` on a terminal (under `script`, which gives it one for stdin,
/// stdout and stderr) with `TERM=xterm`, `config` and `env`; `None` where `script` is
/// missing (a failure under CI).
#[cfg(unix)]
pub fn on_terminal(args: &[String], config: &Path, env: &[(&str, &str)]) -> Option<Screen> {
    if !super::have_tool("script") {
        return None;
    }
    let quoted = |word: &str| format!("'{}'", word.replace('\'', "'\\''"));
    let mut line = quoted(&s1trust_bin().display().to_string());
    for arg in args {
        line.push(' ');
        line.push_str(&quoted(arg));
    }
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("S1TRUST_CONFIG", config)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    Some(Screen {
        code: out.status.code().unwrap_or(-1),
        raw: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}
