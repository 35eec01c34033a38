//! `attest`: the privileged signer behind `check --jwt --nonce`, on a Unix socket.
//!
//! The protocol is one JSON line each way: `{"nonce": "…", "aud": "…"}` (aud
//! optional) in, `{"token": "…"}` or `{"error": "…"}` out, then the connection
//! closes. A request line is at most [`MAX_REQUEST`] bytes and must arrive within
//! [`READ_DEADLINE`]; a fixed pool of [`WORKERS`] threads answers, fed by a queue of
//! [`QUEUE`] connections, and a connection that finds the queue full is closed
//! unanswered: many clients cost waiting, never threads or memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Error;
use super::verdict::Signer;

/// Longest request line.
pub const MAX_REQUEST: usize = 4096;
/// Longest answer line a client accepts.
const MAX_ANSWER: u64 = 64 * 1024;
/// How long a client has to send its whole request.
pub const READ_DEADLINE: Duration = Duration::from_secs(2);
/// Threads answering requests.
pub const WORKERS: usize = 4;
/// Connections waiting for a worker.
pub const QUEUE: usize = 64;
/// How long the client waits for the signer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default socket.
pub fn default_socket() -> PathBuf {
    if cfg!(target_vendor = "apple") {
        PathBuf::from("/var/run/s1trust/attest.sock")
    } else {
        PathBuf::from("/run/s1trust/attest.sock")
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    nonce: String,
    #[serde(default)]
    aud: Option<String>,
}

/// The socket to serve: systemd's (socket activation), else `listen` bound here.
pub fn listener(listen: Option<&Path>) -> Result<UnixListener, Error> {
    if let Some(inherited) = inherited()? {
        return Ok(inherited);
    }
    match listen {
        Some(path) => bind(path),
        None => Err(Error::usage(
            "no socket to serve: not started by a socket unit, and no --listen PATH",
            format!(
                "start it through s1trust-attest.socket, or run `s1trust attest --listen {}`",
                default_socket().display()
            ),
        )),
    }
}

/// The socket systemd passed as fd 3 (`LISTEN_PID` is this process, `LISTEN_FDS` ≥ 1).
fn inherited() -> Result<Option<UnixListener>, Error> {
    use std::os::fd::FromRawFd;
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok());
    if !ours || count.unwrap_or(0) < 1 {
        return Ok(None);
    }
    const FD: i32 = 3;
    // SAFETY: fstat and fcntl only read and set flags of a descriptor number.
    let is_socket = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        libc::fstat(FD, &mut stat) == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFSOCK
    };
    if !is_socket {
        return Err(Error::usage(
            "LISTEN_FDS is set but descriptor 3 is not a socket",
            "check the socket unit (ListenStream=)",
        ));
    }
    // SAFETY: as above; the descriptor is ours (systemd passed it) and not used elsewhere.
    unsafe { libc::fcntl(FD, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: descriptor 3 is an open socket owned by nothing else in this process.
    Ok(Some(unsafe { UnixListener::from_raw_fd(FD) }))
}

/// Binds `path` (mode 0666) in a folder only root may change, replacing only a
/// stale socket, never another kind of file.
fn bind(path: &Path) -> Result<UnixListener, Error> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    let refuse = |why: String| {
        Error::usage(
            format!("cannot serve {}: {why}", path.display()),
            "name a socket path in a root-owned folder (default /run/s1trust)",
        )
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::atomic::ensure_folder(folder, 0o755).map_err(|e| refuse(e.to_string()))?;
    let meta = std::fs::symlink_metadata(folder).map_err(|e| refuse(e.to_string()))?;
    if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(refuse(format!(
            "its folder {} must be root's and not writable by others",
            folder.display()
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(|e| refuse(e.to_string()))?;
        }
        Ok(_) => return Err(refuse("something that is not a socket is there".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(refuse(e.to_string())),
    }
    let listener = UnixListener::bind(path).map_err(|e| refuse(e.to_string()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| refuse(e.to_string()))?;
    Ok(listener)
}

/// Serves until the listener fails.
pub fn serve(signer: Signer, listener: &UnixListener) -> Result<(), Error> {
    let signer = Arc::new(signer);
    let (queue, waiting) = sync_channel::<UnixStream>(QUEUE);
    let waiting = Arc::new(Mutex::new(waiting));
    for _ in 0..WORKERS {
        let signer = Arc::clone(&signer);
        let waiting = Arc::clone(&waiting);
        std::thread::spawn(move || work(&signer, &waiting));
    }
    accept(listener, &queue)
}

fn accept(listener: &UnixListener, queue: &SyncSender<UnixStream>) -> Result<(), Error> {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => match queue.try_send(stream) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    tracing::warn!("attest: queue full, a connection was closed unanswered")
                }
                Err(TrySendError::Disconnected(_)) => break,
            },
            // A client that hung up before accept, or a descriptor limit: keep serving.
            Err(e) => {
                tracing::warn!("attest: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    Err(Error::Unavailable(
        "attest: the socket stopped accepting".into(),
    ))
}

fn work(signer: &Signer, waiting: &Mutex<Receiver<UnixStream>>) {
    loop {
        let next = match waiting.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(stream) = next else { return };
        if let Err(e) = answer(signer, stream) {
            tracing::debug!("attest: a client went away: {e}");
        }
    }
}

fn answer(signer: &Signer, mut stream: UnixStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(READ_DEADLINE))?;
    let (reply, unread) = match read_request(&mut stream) {
        Ok(request) => match signer.sign(&request.nonce, request.aud.as_deref()) {
            Ok(token) => (serde_json::json!({ "token": token }), false),
            Err(error) => (serde_json::json!({ "error": error }), false),
        },
        Err(error) => (serde_json::json!({ "error": error }), true),
    };
    let mut line = reply.to_string();
    line.push('\n');
    stream.write_all(line.as_bytes())?;
    if unread {
        // Closing with unread input resets the connection, and the client would see
        // the reset instead of the reason: take a little more, briefly, then close.
        stream.shutdown(std::net::Shutdown::Write)?;
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        let _ = std::io::copy(&mut (&stream).take(MAX_ANSWER), &mut std::io::sink());
    }
    Ok(())
}

/// One line of at most [`MAX_REQUEST`] bytes, all of it within [`READ_DEADLINE`].
fn read_request(stream: &mut UnixStream) -> Result<Request, String> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut line = Vec::new();
    let mut chunk = [0u8; 512];
    while !line.contains(&b'\n') {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the request did not arrive in time".into());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("the request did not arrive in time".into());
            }
            Err(e) => return Err(e.to_string()),
        };
        line.extend_from_slice(&chunk[..n]);
        if line.len() > MAX_REQUEST + 1 {
            return Err(format!("the request is longer than {MAX_REQUEST} bytes"));
        }
    }
    let end = line.iter().position(|b| *b == b'\n').unwrap_or(line.len());
    if end > MAX_REQUEST {
        return Err(format!("the request is longer than {MAX_REQUEST} bytes"));
    }
    serde_json::from_slice(&line[..end])
        .map_err(|e| format!("the request is not {{\"nonce\": \"…\", \"aud\": \"…\"}}: {e}"))
}

/// The client: asks the signer at `socket` for a verdict bound to `nonce` and `aud`.
pub fn request(socket: &Path, nonce: &str, aud: Option<&str>) -> Result<String, Error> {
    super::verdict::check_nonce(nonce)
        .map_err(|e| Error::usage(e, "use a random challenge from the verifier"))?;
    if let Some(aud) = aud {
        super::verdict::check_audience(aud)
            .map_err(|e| Error::usage(e, "use the verifier's name or URL"))?;
    }
    let failed = |e: std::io::Error| {
        Error::Unavailable(format!(
            "cannot reach the signer at {}: {e}",
            socket.display()
        ))
    };
    let mut stream = UnixStream::connect(socket).map_err(failed)?;
    stream
        .set_read_timeout(Some(CLIENT_TIMEOUT))
        .map_err(failed)?;
    stream
        .set_write_timeout(Some(CLIENT_TIMEOUT))
        .map_err(failed)?;
    let mut line = serde_json::json!({ "nonce": nonce, "aud": aud }).to_string();
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(failed)?;
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_ANSWER))
        .read_line(&mut answer)
        .map_err(failed)?;
    let reply: serde_json::Value = serde_json::from_str(&answer).map_err(|_| {
        Error::Unavailable(format!("the signer at {} gave no answer", socket.display()))
    })?;
    match (
        reply.get("token").and_then(|t| t.as_str()),
        reply.get("error").and_then(|e| e.as_str()),
    ) {
        (Some(token), _) => Ok(token.to_owned()),
        (None, Some(error)) => Err(Error::Unavailable(format!("the signer refused: {error}"))),
        _ => Err(Error::Unavailable(
            "the signer's answer has neither token nor error".into(),
        )),
    }
}
