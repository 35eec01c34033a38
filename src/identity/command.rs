//! Running the SentinelOne agent's command-line tool (and macOS `ioreg`) safely.
//!
//! s1trust runs as root/SYSTEM on a schedule, so a program it starts must be
//! the one the vendor installed: only absolute, known paths; on Unix the program
//! and every folder above it (up to the sources root) must be owned by root,
//! not writable by group or others, and not symbolic links. The child gets a
//! cleared environment with `LC_ALL=C` (stable, untranslated output), no stdin,
//! no stderr (Windows builds print benign warnings there), a time limit after
//! which it is killed, and a cap on the output read. Only the read-only queries
//! in [`Query`] can be run, so a mutating argument cannot be passed by mistake.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::ProblemReason;
use crate::fs_trust::{self, Rule, TrustError};

/// Default time limit for one command (the CLI can hang during agent upgrades).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default budget for every agent-CLI call of one identity read together.
pub const IDENTITY_BUDGET: Duration = Duration::from_secs(10);
/// Default cap on a command's output; real outputs are a few KiB.
pub const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;

/// The read-only questions s1trust asks; nothing else can be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// Linux `sentinelctl management status`: UUID, URL, connectivity.
    ManagementStatus,
    /// Linux `sentinelctl version`.
    Version,
    /// macOS `sentinelctl status`, Windows `SentinelCtl.exe status`.
    Status,
    /// Windows `SentinelCtl.exe agent_id` (without flags: `-r`/`-k` reset the identity).
    AgentId,
    /// Windows `SentinelCtl.exe config server.mgmtServer` (read; never with a value or `-k`).
    MgmtServer,
    /// macOS `ioreg -rd1 -c IOPlatformExpertDevice`.
    PlatformExpert,
}

impl Query {
    /// The exact arguments.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Self::ManagementStatus => &["management", "status"],
            Self::Version => &["version"],
            Self::Status => &["status"],
            Self::AgentId => &["agent_id"],
            Self::MgmtServer => &["config", "server.mgmtServer"],
            Self::PlatformExpert => &["-rd1", "-c", "IOPlatformExpertDevice"],
        }
    }
}

/// Why a command produced no output to read.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program does not exist.
    #[error("{} does not exist", .0.display())]
    NotPresent(PathBuf),
    /// The program or a folder above it could be replaced by someone other than root.
    #[error("refusing to run {}: {why}", program.display())]
    Unsafe {
        /// The program.
        program: PathBuf,
        /// Which path is unsafe and why.
        why: String,
    },
    /// The OS refused to read or start it.
    #[error("permission denied for {}", .0.display())]
    PermissionDenied(PathBuf),
    /// No exit within the time limit; the process was killed.
    #[error("{} did not finish within {}s and was stopped", program.display(), after.as_secs_f32())]
    TimedOut {
        /// The program.
        program: PathBuf,
        /// The limit.
        after: Duration,
    },
    /// More output than the cap.
    #[error("{} printed more than {limit} bytes", program.display())]
    TooLarge {
        /// The program.
        program: PathBuf,
        /// The cap.
        limit: usize,
    },
    /// Non-zero exit status.
    #[error("{} failed ({status})", program.display())]
    Failed {
        /// The program.
        program: PathBuf,
        /// The exit status as the OS describes it.
        status: String,
    },
    /// Another I/O error.
    #[error("{}: {source}", program.display())]
    Io {
        /// The program.
        program: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl CommandError {
    /// The code of the [`super::IdentityProblem`] this failure becomes.
    pub fn reason(&self) -> ProblemReason {
        match self {
            Self::NotPresent(_) => ProblemReason::NotPresent,
            Self::Unsafe { .. } => ProblemReason::Unsafe,
            Self::PermissionDenied(_) => ProblemReason::PermissionDenied,
            Self::TimedOut { .. } => ProblemReason::TimedOut,
            Self::TooLarge { .. } => ProblemReason::Unparsable,
            Self::Failed { .. } | Self::Io { .. } => ProblemReason::Failed,
        }
    }

    fn io(program: &Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => Self::NotPresent(program.to_owned()),
            std::io::ErrorKind::PermissionDenied => Self::PermissionDenied(program.to_owned()),
            _ => Self::Io {
                program: program.to_owned(),
                source,
            },
        }
    }
}

/// How long a command may run and how much it may print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time limit per command.
    pub timeout: Duration,
    /// Output cap in bytes.
    pub max_output: usize,
    /// No command runs past this (the identity read's budget); `None`: no budget.
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            deadline: None,
        }
    }
}

impl Limits {
    /// The default limits, with every call ending by `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline: Some(deadline),
            ..Self::default()
        }
    }
}

/// A vendor program that passed the safety checks and can answer [`Query`]s.
#[derive(Debug, Clone)]
pub struct Program {
    path: PathBuf,
    limits: Limits,
    /// Set once a call timed out: a tool that hung once is not started again.
    hung: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Program {
    /// Checks `path` (absolute, existing, a regular file; on Unix owned by
    /// `owner` and not group/world-writable, like every folder above it up to
    /// and including `trusted_root`, with no symbolic link on the way).
    pub fn open(
        path: &Path,
        trusted_root: &Path,
        owner: u32,
        limits: Limits,
    ) -> Result<Self, CommandError> {
        let rule = Rule {
            owner,
            stop_at: Some(trusted_root),
            ..Rule::system(u64::MAX)
        };
        fs_trust::check_program(path, &rule).map_err(|e| match e {
            TrustError::Missing(_) => CommandError::io(path, std::io::ErrorKind::NotFound.into()),
            TrustError::Io { path, source } => CommandError::io(&path, source),
            untrusted @ TrustError::Untrusted { .. } => CommandError::Unsafe {
                program: path.to_owned(),
                why: untrusted.why(),
            },
        })?;
        Ok(Self {
            path: path.to_owned(),
            limits,
            hung: Default::default(),
        })
    }

    /// Runs one query and returns its standard output (invalid UTF-8 replaced).
    /// The child runs in its own process group, and the whole group is killed when
    /// it outlives its time (a grandchild holding stdout included).
    pub fn run(&self, query: Query) -> Result<String, CommandError> {
        use std::sync::atomic::Ordering;
        let deadline = self.deadline();
        if self.hung.load(Ordering::Relaxed) || Instant::now() >= deadline {
            return Err(self.timed_out(deadline));
        }
        let mut command = Command::new(&self.path);
        command
            .args(query.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        harden(&mut command, &self.path);
        let mut child = command
            .spawn()
            .map_err(|e| CommandError::io(&self.path, e))?;
        let output = self.collect(&mut child, deadline);
        if output.is_err() {
            // Best effort: the processes may already be gone.
            kill_group(&mut child);
            let _ = child.wait();
            if matches!(output, Err(CommandError::TimedOut { .. })) {
                self.hung.store(true, Ordering::Relaxed);
            }
        }
        output
    }

    /// The per-call limit, cut short by the identity budget.
    fn deadline(&self) -> Instant {
        let own = Instant::now() + self.limits.timeout;
        self.limits.deadline.map_or(own, |budget| own.min(budget))
    }

    fn collect(&self, child: &mut Child, deadline: Instant) -> Result<String, CommandError> {
        let started = Instant::now();
        let reader = spawn_reader(child, self.limits.max_output);
        // Waiting for the end of stdout first costs no polling: a tool closes it as it
        // exits. A grandchild holding the pipe, or a hung tool, runs into the deadline.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let bytes = match reader.recv_timeout(remaining) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return Err(CommandError::io(&self.path, e)),
            Err(_) => return Err(self.timed_out_after(deadline - started)),
        };
        // Before the exit status: a tool that ignores the broken pipe is not waited for.
        if bytes.len() > self.limits.max_output {
            return Err(CommandError::TooLarge {
                program: self.path.clone(),
                limit: self.limits.max_output,
            });
        }
        let status = wait_until(child, deadline)
            .map_err(|e| CommandError::io(&self.path, e))?
            .ok_or_else(|| self.timed_out_after(deadline - started))?;
        if !status.success() {
            return Err(CommandError::Failed {
                program: self.path.clone(),
                status: status.to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn timed_out(&self, deadline: Instant) -> CommandError {
        self.timed_out_after(deadline.saturating_duration_since(Instant::now()))
    }

    fn timed_out_after(&self, after: Duration) -> CommandError {
        CommandError::TimedOut {
            program: self.path.clone(),
            after,
        }
    }
}

/// Kills the child's whole process group (Unix), or the child (elsewhere).
#[cfg(unix)]
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; a negative pid names the
        // group the child leads (it was started with process_group(0)).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

/// Reads stdout on a thread, stopping one byte past the cap so an endless
/// writer cannot exhaust memory (it gets a broken pipe once we stop reading).
fn spawn_reader(child: &mut Child, cap: usize) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take();
    std::thread::spawn(move || {
        let result = match stdout {
            Some(pipe) => {
                let mut bytes = Vec::new();
                let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
                pipe.take(limit).read_to_end(&mut bytes).map(|_| bytes)
            }
            None => Ok(Vec::new()),
        };
        let _ = tx.send(result);
    });
    rx
}

/// Polls for exit until the deadline; `None` when it is still running. Called once
/// stdout has closed, when the exit is usually a few microseconds away, so the first
/// pauses are short.
fn wait_until(
    child: &mut Child,
    deadline: Instant,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let mut pause = Duration::from_micros(50);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// A fixed, minimal environment: nothing the caller's environment holds
/// (`SENTINEL_OUTPUT_JSON`, `LD_PRELOAD`, locale…) reaches the child.
#[cfg(unix)]
fn harden(command: &mut Command, _program: &Path) {
    use std::os::unix::process::CommandExt;
    command
        .process_group(0)
        .env_clear()
        .env("LC_ALL", "C")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir("/");
}

/// Windows programs need a few system variables to start at all (e.g. Winsock
/// needs `SystemRoot`); those are copied, everything else is dropped.
#[cfg(windows)]
fn harden(command: &mut Command, program: &Path) {
    use std::os::windows::process::CommandExt;
    /// No console window flashing up when run from a scheduled task.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    command.env_clear().env("LC_ALL", "C");
    for name in [
        "SystemRoot",
        "SystemDrive",
        "windir",
        "ProgramData",
        "ProgramFiles",
        "TEMP",
        "TMP",
    ] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    if let Some(folder) = program.parent() {
        command.current_dir(folder);
    }
    command.creation_flags(CREATE_NO_WINDOW);
}

#[cfg(not(any(unix, windows)))]
fn harden(command: &mut Command, _program: &Path) {
    command.env_clear().env("LC_ALL", "C");
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    /// A private folder tree with a script in `bin/`; the trust owner is
    /// whoever runs the tests, so the checks work without root.
    struct Tree {
        dir: tempfile::TempDir,
        owner: u32,
    }

    impl Tree {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let owner = std::fs::metadata(dir.path()).unwrap().uid();
            std::fs::create_dir(dir.path().join("bin")).unwrap();
            std::fs::set_permissions(
                dir.path().join("bin"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            Self { dir, owner }
        }

        fn script(&self, name: &str, body: &str) -> PathBuf {
            let path = self.dir.path().join("bin").join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        }

        fn open(&self, path: &Path, limits: Limits) -> Result<Program, CommandError> {
            Program::open(path, self.dir.path(), self.owner, limits)
        }
    }

    fn quick() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            max_output: 4096,
            deadline: None,
        }
    }

    #[test]
    fn runs_with_fixed_args_and_a_clean_environment() {
        let tree = Tree::new();
        let path = tree.script(
            "ctl",
            r#"echo "args=$*"; echo "lc=$LC_ALL"; echo "home=${HOME:-unset}"; echo oops >&2"#,
        );
        let program = tree.open(&path, quick()).unwrap();
        let out = program.run(Query::ManagementStatus).unwrap();
        assert_eq!(out, "args=management status\nlc=C\nhome=unset\n");
        assert_eq!(
            program.run(Query::AgentId).unwrap().lines().next(),
            Some("args=agent_id")
        );
    }

    #[test]
    fn refuses_unsafe_paths() {
        let tree = Tree::new();
        let path = tree.script("ctl", "echo hi");
        // Group-writable program.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o775)).unwrap();
        let err = tree.open(&path, quick()).unwrap_err();
        assert_eq!(err.reason(), "unsafe");
        assert!(
            err.to_string()
                .contains("writable by its group or by others (mode 0775)"),
            "{err}"
        );
        // World-writable folder above it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = tree.dir.path().join("bin");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o757)).unwrap();
        let err = tree.open(&path, quick()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("{} is writable", bin.display())),
            "{err}"
        );
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Someone else's program: any owner but the expected one is refused.
        let err = Program::open(&path, tree.dir.path(), tree.owner + 1, quick()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("is owned by uid {}", tree.owner)),
            "{err}"
        );
        // A symbolic link, even to a safe program.
        let link = tree.dir.path().join("bin/link");
        symlink(&path, &link).unwrap();
        assert!(
            tree.open(&link, quick())
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        // Relative paths, folders, missing files.
        assert_eq!(
            tree.open(Path::new("bin/ctl"), quick())
                .unwrap_err()
                .reason(),
            "unsafe"
        );
        assert_eq!(tree.open(&bin, quick()).unwrap_err().reason(), "unsafe");
        let missing = tree.open(&bin.join("nope"), quick()).unwrap_err();
        assert_eq!(missing.reason(), "not_present");
        // The safe program passes.
        assert!(tree.open(&path, quick()).is_ok());
    }

    #[test]
    fn kills_a_hung_program() {
        let tree = Tree::new();
        let path = tree.script("hang", "echo started; exec sleep 30");
        let limits = Limits {
            timeout: Duration::from_millis(300),
            max_output: 4096,
            deadline: None,
        };
        let started = Instant::now();
        let err = tree
            .open(&path, limits)
            .unwrap()
            .run(Query::Status)
            .unwrap_err();
        assert_eq!(err.reason(), "timed_out");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn one_budget_for_every_call_and_a_hung_tool_is_not_started_again() {
        let tree = Tree::new();
        let marker = tree.dir.path().join("runs");
        let path = tree.script(
            "hang",
            &format!("echo x >> {}; exec sleep 30", marker.display()),
        );
        let limits = Limits::until(Instant::now() + Duration::from_millis(400));
        let program = tree.open(&path, limits).unwrap();
        let started = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                program.run(Query::Status).unwrap_err().reason(),
                "timed_out"
            );
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        let runs = std::fs::read_to_string(&marker).unwrap();
        assert_eq!(runs.lines().count(), 1, "started once, then not again");
        let spent = tree
            .open(&tree.script("ok", "echo fine"), limits)
            .unwrap()
            .run(Query::Status);
        assert_eq!(
            spent.unwrap_err().reason(),
            "timed_out",
            "the budget is spent"
        );
    }

    #[test]
    fn a_grandchild_holding_stdout_is_killed_with_its_group() {
        let tree = Tree::new();
        let pid_file = tree.dir.path().join("grandchild.pid");
        let path = tree.script(
            "fork",
            &format!("sleep 30 & echo $! > {}; echo out", pid_file.display()),
        );
        let limits = Limits {
            timeout: Duration::from_millis(500),
            ..quick()
        };
        let started = Instant::now();
        let err = tree
            .open(&path, limits)
            .unwrap()
            .run(Query::Status)
            .unwrap_err();
        assert_eq!(err.reason(), "timed_out");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let gone = (0..100).any(|_| {
            // SAFETY: signal 0 only asks whether the process exists.
            let alive = unsafe { libc::kill(pid, 0) } == 0
                && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z "));
            if alive {
                std::thread::sleep(Duration::from_millis(20));
            }
            !alive
        });
        assert!(gone, "the grandchild {pid} was left running");
    }

    #[test]
    fn caps_output_and_reports_failures() {
        let tree = Tree::new();
        let flood = tree.script("flood", "exec yes");
        let err = tree
            .open(&flood, quick())
            .unwrap()
            .run(Query::Status)
            .unwrap_err();
        assert!(
            matches!(err, CommandError::TooLarge { limit: 4096, .. }),
            "{err}"
        );
        let fail = tree.script("fail", "echo partial; exit 3");
        let err = tree
            .open(&fail, quick())
            .unwrap()
            .run(Query::Status)
            .unwrap_err();
        assert_eq!(err.reason(), "failed");
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }
}
