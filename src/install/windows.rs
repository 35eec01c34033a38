//! The Windows installer's steps, run by the hidden `s1trust setup` as SYSTEM from the
//! MSI (Debian's wixl cannot express folder ACLs or scheduled tasks itself): pure
//! functions that build the command lines and the task XML, and the runner that
//! executes them. `install` creates `%ProgramData%\s1trust` and `tokens\`, copies
//! `config.example.toml` from beside the program to `config.toml` when there is none
//! (so upgrades keep the admin's file), makes Administrators the owner, lets only
//! SYSTEM and Administrators write (Users may read; `tokens\` only SYSTEM and
//! Administrators at all), and registers the scheduled refresh (SYSTEM, shortly after
//! boot and every 15 minutes) from a task XML kept as `refresh-task.xml`; `uninstall`
//! deletes the task and, unless asked to keep it, the data folder. Compiled on
//! Windows, and for the tests everywhere (they run on Linux).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::TASK_NAME;

/// The task definition kept in the data folder (what was registered, for admins).
pub const TASK_XML_FILE: &str = "refresh-task.xml";
/// The annotated example config the MSI installs beside the program.
pub const EXAMPLE_CONFIG_FILE: &str = "config.example.toml";

/// Well-known SIDs, so the ACLs do not depend on the Windows display language.
const SYSTEM: &str = "*S-1-5-18";
const ADMINISTRATORS: &str = "*S-1-5-32-544";
const USERS: &str = "*S-1-5-32-545";

/// A system program run by absolute path, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The program.
    pub program: PathBuf,
    /// Its arguments, each passed as one argument (no shell).
    pub args: Vec<OsString>,
}

impl ToolCall {
    fn new<I, S>(program: &Path, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self {
            program: program.to_owned(),
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        }
    }

    /// The arguments as text (lossy), for messages and tests.
    pub fn arg_strings(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn describe(&self) -> String {
        format!(
            "{} {}",
            self.program.display(),
            self.arg_strings().join(" ")
        )
    }
}

/// Where the Windows tools are (absolute paths: never looked up on PATH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// `%SystemRoot%\System32\schtasks.exe`.
    pub schtasks: PathBuf,
    /// `%SystemRoot%\System32\icacls.exe`.
    pub icacls: PathBuf,
}

impl Tools {
    /// The tools in `system32`.
    pub fn in_dir(system32: &Path) -> Self {
        Self {
            schtasks: system32.join("schtasks.exe"),
            icacls: system32.join("icacls.exe"),
        }
    }
}

/// Everything `install` and `uninstall` touch.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The installed program (the task runs it).
    pub exe: PathBuf,
    /// The example config shipped beside it.
    pub example_config: PathBuf,
    /// `%ProgramData%\s1trust`.
    pub data_dir: PathBuf,
    /// `%SystemRoot%\System32\Tasks`, where the registered task shows up.
    pub tasks_dir: PathBuf,
    /// The system tools.
    pub tools: Tools,
}

impl Layout {
    fn tokens_dir(&self) -> PathBuf {
        self.data_dir.join("tokens")
    }
    fn config(&self) -> PathBuf {
        self.data_dir.join("config.toml")
    }
    fn task_xml(&self) -> PathBuf {
        self.data_dir.join(TASK_XML_FILE)
    }
}

/// The Task Scheduler definition: as SYSTEM, 2 minutes after boot and every 15 minutes
/// (up to 3 minutes random delay), also on laptops on battery, at most one at a time,
/// stopped after 5 minutes, run as soon as possible after a missed start.
pub(crate) fn task_xml(exe: &str) -> String {
    let exe = xml_escape(exe);
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>s1trust</Author>
    <Description>Refreshes the s1trust posture snapshot from the SentinelOne tenant (s1trust refresh). Installed and removed by the s1trust MSI.</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT2M</Delay>
    </BootTrigger>
    <TimeTrigger>
      <Repetition>
        <Interval>PT15M</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <StartBoundary>2000-01-01T00:00:00</StartBoundary>
      <Enabled>true</Enabled>
      <RandomDelay>PT3M</RandomDelay>
    </TimeTrigger>
  </Triggers>
  <Principals>
    <Principal id="System">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT5M</ExecutionTimeLimit>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="System">
    <Exec>
      <Command>"{exe}"</Command>
      <Arguments>refresh</Arguments>
    </Exec>
  </Actions>
</Task>
"#
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// UTF-16LE with a byte order mark: what `schtasks /Create /XML` reads reliably
/// (the XML declares UTF-16).
pub(crate) fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// `schtasks /Create /TN s1trust-refresh /XML <file> /F` (replaces an older task).
pub(crate) fn schtasks_create(tools: &Tools, xml_file: &Path) -> ToolCall {
    ToolCall::new(
        &tools.schtasks,
        [
            OsStr::new("/Create"),
            OsStr::new("/TN"),
            OsStr::new(TASK_NAME),
            OsStr::new("/XML"),
            xml_file.as_os_str(),
            OsStr::new("/F"),
        ],
    )
}

/// `schtasks /Delete /TN s1trust-refresh /F`.
pub(crate) fn schtasks_delete(tools: &Tools) -> ToolCall {
    ToolCall::new(&tools.schtasks, ["/Delete", "/TN", TASK_NAME, "/F"])
}

/// The ACL commands, in order: Administrators own the whole tree (an owner can always
/// rewrite an ACL, and users may create folders in %ProgramData% before the install);
/// the data folder stops inheriting %ProgramData%'s ACL (which lets Users create
/// files) and grants full control to SYSTEM and Administrators and read to Users;
/// `tokens\` stops inheriting and grants SYSTEM and Administrators only.
pub(crate) fn icacls_calls(tools: &Tools, data_dir: &Path, tokens_dir: &Path) -> Vec<ToolCall> {
    let full = |sid: &str| format!("{sid}:(OI)(CI)F");
    let read = |sid: &str| format!("{sid}:(OI)(CI)RX");
    vec![
        ToolCall::new(
            &tools.icacls,
            [
                data_dir.as_os_str(),
                OsStr::new("/setowner"),
                OsStr::new(ADMINISTRATORS),
                OsStr::new("/T"),
            ],
        ),
        ToolCall::new(
            &tools.icacls,
            [
                data_dir.as_os_str().to_owned(),
                "/inheritance:r".into(),
                "/grant:r".into(),
                full(SYSTEM).into(),
                full(ADMINISTRATORS).into(),
                read(USERS).into(),
            ],
        ),
        ToolCall::new(
            &tools.icacls,
            [
                tokens_dir.as_os_str().to_owned(),
                "/inheritance:r".into(),
                "/grant:r".into(),
                full(SYSTEM).into(),
                full(ADMINISTRATORS).into(),
            ],
        ),
    ]
}

/// Runs one tool; Err carries a message with its output.
pub type Runner<'a> = dyn FnMut(&ToolCall) -> Result<(), String> + 'a;

/// The install steps, in an order that leaves no task behind when an ACL step fails.
pub(crate) fn install(layout: &Layout, run: &mut Runner<'_>) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    for dir in [&layout.data_dir, &layout.tokens_dir()] {
        refuse_link(dir)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        refuse_link(dir)?;
    }
    done.push(format!("folders {} and tokens", layout.data_dir.display()));
    let config = layout.config();
    if config.exists() {
        done.push(format!("kept the existing {}", config.display()));
    } else {
        std::fs::copy(&layout.example_config, &config).map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                layout.example_config.display(),
                config.display()
            )
        })?;
        done.push(format!("created {} from the example", config.display()));
    }
    let exe = layout
        .exe
        .to_str()
        .ok_or_else(|| format!("the program path {} is not Unicode", layout.exe.display()))?;
    let xml_file = layout.task_xml();
    std::fs::write(&xml_file, utf16le_with_bom(&task_xml(exe)))
        .map_err(|e| format!("cannot write {}: {e}", xml_file.display()))?;
    done.push(format!("task definition {}", xml_file.display()));
    for call in icacls_calls(&layout.tools, &layout.data_dir, &layout.tokens_dir()) {
        run(&call)?;
        done.push(call.describe());
    }
    let call = schtasks_create(&layout.tools, &xml_file);
    run(&call)?;
    done.push(call.describe());
    Ok(done)
}

/// The uninstall steps. Every step is tried; the errors are returned together.
pub(crate) fn uninstall(
    layout: &Layout,
    keep_data: bool,
    run: &mut Runner<'_>,
) -> (Vec<String>, Vec<String>) {
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    if layout.tasks_dir.join(TASK_NAME).exists() {
        let call = schtasks_delete(&layout.tools);
        match run(&call) {
            Ok(()) => done.push(call.describe()),
            Err(e) => failed.push(e),
        }
    } else {
        done.push(format!("no task {TASK_NAME} registered"));
    }
    if keep_data {
        done.push(format!("kept {}", layout.data_dir.display()));
    } else if let Err(e) = refuse_link(&layout.data_dir) {
        failed.push(e);
    } else if layout.data_dir.exists() {
        match std::fs::remove_dir_all(&layout.data_dir) {
            Ok(()) => done.push(format!("removed {}", layout.data_dir.display())),
            Err(e) => failed.push(format!("cannot remove {}: {e}", layout.data_dir.display())),
        }
    }
    (done, failed)
}

/// SYSTEM must not be steered by a link (or junction) a user planted in %ProgramData%.
fn refuse_link(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(format!(
            "{} is a link or junction; refusing to use it (delete it and reinstall)",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// Registers the `s1trust` event source (`EventCreate.exe` as message file: its
/// messages are "%1", so an event shows s1trust's own text).
#[cfg(windows)]
fn register_event_source() -> windows_registry::Result<()> {
    let key = windows_registry::LOCAL_MACHINE.create(super::EVENT_SOURCE_KEY)?;
    key.set_expand_string("EventMessageFile", r"%SystemRoot%\System32\EventCreate.exe")?;
    // Error, warning and information events.
    key.set_u32("TypesSupported", 7)?;
    key.set_u32("CustomSource", 1)
}

/// Runs a tool and checks its exit status.
#[cfg(windows)]
fn run_tool(call: &ToolCall) -> Result<(), String> {
    let output = std::process::Command::new(&call.program)
        .args(&call.args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", call.program.display()))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{}` failed ({}): {} {}",
        call.describe(),
        output.status,
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// The real layout on this Windows machine.
#[cfg(windows)]
fn layout() -> Result<Layout, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let install_dir = exe.parent().ok_or("this program has no folder")?.to_owned();
    let data_dir = crate::config::default_config_path()
        .parent()
        .ok_or("the config path has no folder")?
        .to_owned();
    let system32 = super::system32();
    Ok(Layout {
        example_config: install_dir.join(EXAMPLE_CONFIG_FILE),
        exe,
        data_dir,
        tasks_dir: system32.join("Tasks"),
        tools: Tools::in_dir(&system32),
    })
}

/// What the installer asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Folders, ACLs, config, event source, scheduled refresh.
    Install,
    /// Remove the scheduled refresh and, unless `keep_data`, the data folder.
    Uninstall {
        /// Keep `%ProgramData%\s1trust`.
        keep_data: bool,
    },
}

/// What a setup run did, for the caller to print.
#[derive(Debug, Default)]
pub struct Report {
    /// Steps done.
    pub done: Vec<String>,
    /// Steps that failed but did not stop the run (uninstall tries every step).
    pub failed: Vec<String>,
    /// Problems that leave s1trust working.
    pub warnings: Vec<String>,
}

/// Runs the installer's `action` on this machine. Err: the install stopped there.
#[cfg(windows)]
pub fn run(action: Action) -> Result<Report, String> {
    let layout = layout()?;
    let mut runner = run_tool;
    let mut report = Report::default();
    match action {
        Action::Install => {
            report.done = install(&layout, &mut runner)?;
            match register_event_source() {
                Ok(()) => report
                    .done
                    .push(format!("event log source {}", super::EVENT_SOURCE)),
                // Not fatal: refresh still works, its events just show without a message file.
                Err(e) => report
                    .warnings
                    .push(format!("cannot register the event log source: {e}")),
            }
        }
        Action::Uninstall { keep_data } => {
            (report.done, report.failed) = uninstall(&layout, keep_data, &mut runner);
            let _ = windows_registry::LOCAL_MACHINE.remove_tree(super::EVENT_SOURCE_KEY);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows_tools() -> Tools {
        Tools {
            schtasks: PathBuf::from(r"C:\Windows\System32\schtasks.exe"),
            icacls: PathBuf::from(r"C:\Windows\System32\icacls.exe"),
        }
    }

    #[test]
    fn task_runs_refresh_as_system_at_boot_and_every_15_minutes() {
        let xml = task_xml(r"C:\Program Files\s1trust\s1trust.exe");
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-16"?>"#));
        for want in [
            "<BootTrigger>",
            "<Delay>PT2M</Delay>",
            "<Interval>PT15M</Interval>",
            "<RandomDelay>PT3M</RandomDelay>",
            "<UserId>S-1-5-18</UserId>",
            "<RunLevel>HighestAvailable</RunLevel>",
            "<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>",
            "<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>",
            "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
            r#"<Command>"C:\Program Files\s1trust\s1trust.exe"</Command>"#,
            "<Arguments>refresh</Arguments>",
            r#"<Actions Context="System">"#,
        ] {
            assert!(xml.contains(want), "{want} missing from\n{xml}");
        }
        // Balanced tags: every element opened is closed (no XML parser in the deps).
        for tag in [
            "Task",
            "Triggers",
            "TimeTrigger",
            "Principal",
            "Settings",
            "Exec",
        ] {
            assert_eq!(
                xml.matches(&format!("<{tag}>")).count() + xml.matches(&format!("<{tag} ")).count(),
                xml.matches(&format!("</{tag}>")).count(),
                "{tag}"
            );
        }
    }

    #[test]
    fn task_xml_escapes_the_path() {
        let xml = task_xml(r"C:\R&D <x>\s1trust.exe");
        assert!(xml.contains(r#"<Command>"C:\R&amp;D &lt;x&gt;\s1trust.exe"</Command>"#));
    }

    #[test]
    fn utf16_has_a_bom_and_little_endian_units() {
        assert_eq!(utf16le_with_bom("<é"), vec![0xFF, 0xFE, b'<', 0, 0xE9, 0]);
    }

    #[test]
    fn schtasks_command_lines() {
        let tools = windows_tools();
        let create = schtasks_create(
            &tools,
            Path::new(r"C:\ProgramData\s1trust\refresh-task.xml"),
        );
        assert_eq!(create.program, tools.schtasks);
        assert_eq!(
            create.arg_strings(),
            [
                "/Create",
                "/TN",
                "s1trust-refresh",
                "/XML",
                r"C:\ProgramData\s1trust\refresh-task.xml",
                "/F"
            ]
        );
        assert_eq!(
            schtasks_delete(&tools).arg_strings(),
            ["/Delete", "/TN", "s1trust-refresh", "/F"]
        );
    }

    #[test]
    fn acl_command_lines() {
        let calls = icacls_calls(
            &windows_tools(),
            Path::new(r"C:\ProgramData\s1trust"),
            Path::new(r"C:\ProgramData\s1trust\tokens"),
        );
        let args: Vec<Vec<String>> = calls.iter().map(ToolCall::arg_strings).collect();
        assert!(
            calls
                .iter()
                .all(|c| c.program == Path::new(r"C:\Windows\System32\icacls.exe"))
        );
        assert_eq!(
            args,
            [
                vec![
                    r"C:\ProgramData\s1trust",
                    "/setowner",
                    "*S-1-5-32-544",
                    "/T"
                ],
                vec![
                    r"C:\ProgramData\s1trust",
                    "/inheritance:r",
                    "/grant:r",
                    "*S-1-5-18:(OI)(CI)F",
                    "*S-1-5-32-544:(OI)(CI)F",
                    "*S-1-5-32-545:(OI)(CI)RX"
                ],
                vec![
                    r"C:\ProgramData\s1trust\tokens",
                    "/inheritance:r",
                    "/grant:r",
                    "*S-1-5-18:(OI)(CI)F",
                    "*S-1-5-32-544:(OI)(CI)F"
                ],
            ]
        );
        // Users never get anything on tokens\.
        assert!(!args[2].iter().any(|a| a.contains("S-1-5-32-545")));
    }

    fn temp_layout(root: &Path) -> Layout {
        let install = root.join("Program Files/s1trust");
        std::fs::create_dir_all(&install).unwrap();
        std::fs::write(install.join(EXAMPLE_CONFIG_FILE), "# example\n").unwrap();
        let system32 = root.join("Windows/System32");
        std::fs::create_dir_all(system32.join("Tasks")).unwrap();
        Layout {
            exe: install.join("s1trust.exe"),
            example_config: install.join(EXAMPLE_CONFIG_FILE),
            data_dir: root.join("ProgramData/s1trust"),
            tasks_dir: system32.join("Tasks"),
            tools: Tools::in_dir(&system32),
        }
    }

    #[test]
    fn install_creates_folders_config_acls_then_task() {
        let root = tempfile::tempdir().unwrap();
        let layout = temp_layout(root.path());
        let mut calls = Vec::new();
        install(&layout, &mut |c: &ToolCall| {
            calls.push(c.clone());
            Ok(())
        })
        .unwrap();
        assert!(layout.data_dir.join("tokens").is_dir());
        assert_eq!(
            std::fs::read_to_string(layout.data_dir.join("config.toml")).unwrap(),
            "# example\n"
        );
        let xml = std::fs::read(layout.data_dir.join(TASK_XML_FILE)).unwrap();
        assert_eq!(&xml[..2], &[0xFF, 0xFE]);
        let programs: Vec<_> = calls
            .iter()
            .map(|c| c.program.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(
            programs,
            ["icacls.exe", "icacls.exe", "icacls.exe", "schtasks.exe"]
        );
        // A second install (upgrade, repair) keeps the admin's config.
        std::fs::write(layout.data_dir.join("config.toml"), "# mine\n").unwrap();
        install(&layout, &mut |_: &ToolCall| Ok(())).unwrap();
        assert_eq!(
            std::fs::read_to_string(layout.data_dir.join("config.toml")).unwrap(),
            "# mine\n"
        );
    }

    #[test]
    fn failed_acl_means_no_task() {
        let root = tempfile::tempdir().unwrap();
        let layout = temp_layout(root.path());
        let mut calls = Vec::new();
        let err = install(&layout, &mut |c: &ToolCall| {
            calls.push(c.clone());
            Err("access denied".into())
        })
        .unwrap_err();
        assert_eq!(err, "access denied");
        assert_eq!(calls.len(), 1);
        assert!(calls[0].program.ends_with("icacls.exe"));
    }

    #[cfg(unix)]
    #[test]
    fn install_refuses_a_planted_link() {
        let root = tempfile::tempdir().unwrap();
        let layout = temp_layout(root.path());
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::create_dir_all(layout.data_dir.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &layout.data_dir).unwrap();
        let err = install(&layout, &mut |_: &ToolCall| Ok(())).unwrap_err();
        assert!(err.contains("link or junction"), "{err}");
        assert!(!elsewhere.join("tokens").exists());
    }

    #[test]
    fn uninstall_deletes_task_and_data_unless_kept() {
        let root = tempfile::tempdir().unwrap();
        let layout = temp_layout(root.path());
        install(&layout, &mut |_: &ToolCall| Ok(())).unwrap();
        std::fs::write(layout.tasks_dir.join(TASK_NAME), "task").unwrap();

        let mut calls = Vec::new();
        let (_, failed) = uninstall(&layout, true, &mut |c: &ToolCall| {
            calls.push(c.clone());
            Ok(())
        });
        assert!(failed.is_empty());
        assert_eq!(calls, [schtasks_delete(&layout.tools)]);
        assert!(layout.data_dir.join("config.toml").exists());

        let (_, failed) = uninstall(&layout, false, &mut |_: &ToolCall| Ok(()));
        assert!(failed.is_empty());
        assert!(!layout.data_dir.exists());
    }

    #[test]
    fn uninstall_without_task_runs_no_tool_and_reports_failures() {
        let root = tempfile::tempdir().unwrap();
        let layout = temp_layout(root.path());
        let (done, failed) = uninstall(&layout, false, &mut |_: &ToolCall| {
            panic!("no tool should run")
        });
        assert!(failed.is_empty());
        assert!(done[0].contains("no task"));

        std::fs::write(layout.tasks_dir.join(TASK_NAME), "task").unwrap();
        let (_, failed) = uninstall(&layout, false, &mut |_: &ToolCall| Err("boom".into()));
        assert_eq!(failed, ["boom"]);
    }
}
