//! The `s1trust` command.

fn main() -> std::process::ExitCode {
    s1trust::main()
}
