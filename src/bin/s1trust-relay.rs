//! `s1trust-relay`: see docs/relay.md. Everything it does is in `s1trust::relay`.

fn main() -> std::process::ExitCode {
    s1trust::relay::main()
}
