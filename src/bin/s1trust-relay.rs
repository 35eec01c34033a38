//! `s1trust-relay`: see docs/relay.md. Everything it does is in `s1trust::relay`.

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    s1trust::relay::main()
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    eprintln!("s1trust-relay runs on Linux and other Unix systems only");
    std::process::ExitCode::FAILURE
}
