//! Bad local input that is not the network's doing: SMBIOS tables with wrong
//! lengths, missing string sets and self-references, through the public parsers
//! (`from_dump`, `from_sysfs`); and configuration files that are FIFOs, larger
//! than 1 MiB, deeply nested, not UTF-8 or full of problems, through the real
//! binary. Each must give a clear error or a sane value, never a panic, in
//! bounded time (generous bounds: they guard against hangs, not for speed).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use s1trust::identity::SerialReading;
use s1trust::identity::smbios::{self, SmbiosError, SmbiosSerials, TableString};

use crate::helpers::smbios::{
    Sm2EntryPoint, Structure, dump, end_of_table, fix_checksum, raw_structure, sm3_entry_point,
};
use crate::helpers::{Run, path_arg, run_s1trust};

/// One parse of a hostile table, however large (1 MiB: what Linux reads at most).
const PARSE_BOUND: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- SMBIOS

/// Every structure here has handle 1.
const HANDLE: u16 = 0x0001;

fn structure(kind: u8, formatted: &[u8], strings: &[&str]) -> Vec<u8> {
    Structure {
        kind,
        handle: HANDLE,
        formatted,
        strings,
    }
    .bytes()
}

/// Type 1 formatted area: manufacturer 1, product 2, version 3, serial `serial`.
fn type1_fields(serial: u8) -> Vec<u8> {
    let mut fields = vec![1, 2, 3, serial];
    fields.extend_from_slice(&[0; 16]);
    fields.push(6);
    fields
}

fn type1(serial: &str) -> Vec<u8> {
    structure(1, &type1_fields(4), &["Acme", "Laptop", "1.0", serial])
}

/// An SMBIOS 2.8 entry point.
fn sm2(length: u16, address: u32) -> Vec<u8> {
    Sm2EntryPoint {
        major: 2,
        minor: 8,
        max_structure: 0x40,
        table_length: length,
        table_address: address,
        structures: 5,
        bcd_revision: 0x28,
    }
    .bytes()
}

/// Runs a parser on hostile bytes: no panic, bounded time.
fn parse(
    what: &str,
    f: impl FnOnce() -> Result<SmbiosSerials, SmbiosError>,
) -> Result<SmbiosSerials, SmbiosError> {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what}: panicked"));
    assert!(
        started.elapsed() < PARSE_BOUND,
        "{what}: took {:?}",
        started.elapsed()
    );
    result
}

/// Both public entry points on one table: the sysfs pair and a dump.
fn both(what: &str, table: &[u8]) -> [Result<SmbiosSerials, SmbiosError>; 2] {
    let len = u32::try_from(table.len()).unwrap();
    [
        parse(&format!("{what} (sysfs)"), || {
            smbios::from_sysfs(&sm3_entry_point(len, 0x7A00_0000), table)
        }),
        parse(&format!("{what} (dump)"), || {
            smbios::from_dump(&dump(&sm3_entry_point(len, 0x20), table))
        }),
    ]
}

#[test]
fn structures_with_wrong_lengths_are_skipped_or_refused() {
    // A header length below the 4-byte header itself ends the table there.
    for length in 0..4 {
        let mut table = raw_structure(
            1,
            length,
            HANDLE,
            &type1_fields(4),
            b"Acme\0L\0V\0SER-1\0\0",
        );
        table.extend(end_of_table(HANDLE));
        for result in both(&format!("header length {length}"), &table) {
            assert_eq!(result, Err(SmbiosError::NoStructures), "length {length}");
        }
    }
    // A length past the end of the table: nothing to decode.
    let table = raw_structure(1, 0xFF, HANDLE, &type1_fields(4), b"Acme\0\0");
    for result in both("length past the end", &table) {
        assert_eq!(result, Err(SmbiosError::NoStructures));
    }
    // A Type 1 too short to hold the serial field: no serial, not garbage.
    let mut table = raw_structure(1, 6, HANDLE, &[1, 2], b"Acme\0Laptop\0\0");
    table.extend(end_of_table(HANDLE));
    for result in both("Type 1 cut before its serial", &table) {
        let serials = result.unwrap();
        assert_eq!(serials.system, [TableString::Absent]);
        assert_eq!(serials.system_vendor.as_deref(), Some("Acme"));
    }
    // A length that swallows the next structure's header into its formatted area.
    let mut table = raw_structure(1, 0x40, HANDLE, &type1_fields(4), b"");
    table.extend(type1("HIDDEN-1"));
    table.extend(end_of_table(HANDLE));
    for serials in both("length swallowing the next structure", &table)
        .into_iter()
        .flatten()
    {
        assert!(serials.system.len() <= 2, "{serials:?}");
    }
}

#[test]
fn entry_points_with_wrong_lengths_and_addresses() {
    let mut table = type1("SER-OK-1");
    table.extend(end_of_table(HANDLE));
    let good = smbios::from_table(&table, None).unwrap();
    let len = table.len();
    // A table length of 0, of 1 byte, and far larger than the data.
    for (what, ep) in [
        ("SM3 length 0", sm3_entry_point(0, 0x20)),
        ("SM3 length 1", sm3_entry_point(1, 0x20)),
        ("SM2 length 0", sm2(0, 0x20)),
    ] {
        assert!(
            parse(what, || smbios::from_dump(&dump(&ep, &table))).is_err(),
            "{what}"
        );
        assert!(
            parse(what, || smbios::from_sysfs(&ep, &table)).is_err(),
            "{what}"
        );
    }
    for (what, ep) in [
        ("SM3 length u32::MAX", sm3_entry_point(u32::MAX, 0x20)),
        ("SM2 length u16::MAX", sm2(u16::MAX, 0x20)),
    ] {
        assert_eq!(
            parse(what, || smbios::from_dump(&dump(&ep, &table))).unwrap(),
            good
        );
        assert_eq!(
            parse(what, || smbios::from_sysfs(&ep, &table)).unwrap(),
            good
        );
    }
    // Addresses outside the dump, at its very end, and at u64::MAX.
    for address in [u64::from(u32::MAX), (0x20 + len) as u64, u64::MAX] {
        let result = parse("address outside", || {
            smbios::from_dump(&dump(&sm3_entry_point(64, address), &table))
        });
        assert!(
            matches!(result, Err(SmbiosError::TableOutsideDump { .. })),
            "{address:#x}: {result:?}"
        );
    }
    // An entry point whose own length byte is wrong (0, or past its 24/31 bytes).
    for bad_length in [0u8, 0x30, 0xFF] {
        let mut ep = sm3_entry_point(64, 0x20);
        ep[6] = bad_length;
        fix_checksum(&mut ep, 5);
        let _ = parse("SM3 entry point length byte", || {
            smbios::from_dump(&dump(&ep, &table))
        });
        let mut ep = sm2(64, 0x20);
        ep[5] = bad_length;
        fix_checksum(&mut ep, 4);
        let _ = parse("SM2 entry point length byte", || {
            smbios::from_dump(&dump(&ep, &table))
        });
    }
    // Entry points cut short, byte by byte.
    for ep in [sm3_entry_point(64, 0x20), sm2(64, 0x20)] {
        for end in 0..ep.len() {
            let _ = parse("entry point cut short", || {
                smbios::from_sysfs(&ep[..end], &table)
            });
        }
    }
}

#[test]
fn missing_or_broken_string_sets() {
    // No string-set terminator at all: the structure never ends.
    let table = raw_structure(1, 25, HANDLE, &type1_fields(4), b"Acme\0Laptop\0V\0SER");
    for result in both("no terminator", &table) {
        assert_eq!(result, Err(SmbiosError::NoStructures));
    }
    // Strings that run into the next structure: the serial string number points
    // past the strings that are there.
    let mut table = raw_structure(1, 25, HANDLE, &type1_fields(9), b"Acme\0\0");
    table.extend(end_of_table(HANDLE));
    for result in both("string number past the set", &table) {
        assert_eq!(result.unwrap().system, [TableString::BadIndex]);
    }
    // An empty string set (just the double NUL) with every string number set.
    let mut table = raw_structure(1, 25, HANDLE, &type1_fields(4), b"\0\0");
    table.extend(end_of_table(HANDLE));
    for result in both("empty string set", &table) {
        let serials = result.unwrap();
        assert_eq!(serials.system, [TableString::BadIndex]);
        assert_eq!(serials.system_vendor, None);
    }
    // String bytes that are not UTF-8 become replacement characters, not errors.
    let mut table = raw_structure(
        1,
        25,
        HANDLE,
        &type1_fields(4),
        b"Acme\0L\0V\0SER\xFF\xFE-1\0\0",
    );
    table.extend(end_of_table(HANDLE));
    for result in both("invalid UTF-8 string", &table) {
        let serials = result.unwrap();
        assert!(
            matches!(&serials.system[..], [TableString::Text(s)] if s.starts_with("SER") && s.ends_with("-1")),
            "{serials:?}"
        );
    }
    // Every truncation of a table decodes or fails cleanly.
    let mut table = type1("SER-1");
    table.extend(structure(3, &[1, 0x0A, 0, 2, 0], &["Acme", "CHS-3"]));
    table.extend(end_of_table(HANDLE));
    for end in 0..table.len() {
        let _ = both("truncated table", &table[..end]);
    }
}

#[test]
fn self_references_and_repetition_are_bounded() {
    let mut table = type1("SER-LOOP-1");
    table.extend(end_of_table(HANDLE));
    // A dump whose entry point places the table inside the entry point itself,
    // and one that places it at the padding just before the table.
    for address in [0x0F_u64, 0x10, 0x18, 0x1F] {
        let file = dump(&sm3_entry_point(u32::MAX, address), &table);
        let _ = parse("table inside the entry point", || smbios::from_dump(&file));
    }
    // A table that holds another entry point naming the same table.
    let mut nested = sm3_entry_point(64, 0x20);
    nested.extend(&table);
    let _ = parse("entry point inside the table", || {
        smbios::from_dump(&dump(&sm3_entry_point(64, 0x20), &nested))
    });
    // Structures after the end-of-table marker are not read.
    let mut table = type1("SER-FIRST");
    table.extend(end_of_table(HANDLE));
    table.extend(type1("SER-AFTER-END"));
    for result in both("structures after the end marker", &table) {
        let serials = result.unwrap();
        assert_eq!(serials.system, [TableString::Text("SER-FIRST".into())]);
    }
    // A megabyte of end-of-table markers, and of one structure repeated.
    let markers: Vec<u8> = std::iter::repeat_n(end_of_table(HANDLE), (1 << 20) / 6)
        .flatten()
        .collect();
    let _ = both("a megabyte of end markers", &markers);
    let same: Vec<u8> = std::iter::repeat_n(type1("SAME-SERIAL"), (1 << 20) / 48)
        .flatten()
        .collect();
    for result in both("one structure repeated", &same) {
        let serials = result.unwrap();
        assert_eq!(serials.system.len(), (1 << 20) / 48);
        let started = Instant::now();
        let reading = SerialReading::from_smbios(&serials);
        assert_eq!(reading.candidates.len(), 1, "listed once");
        assert!(started.elapsed() < PARSE_BOUND);
    }
}

#[test]
fn a_megabyte_of_distinct_serials_is_bounded() {
    // Every Type 1 different: the candidate list may not grow quadratically.
    let table: Vec<u8> = (0..(1 << 20) / 44)
        .flat_map(|i| structure(1, &type1_fields(2), &["A", &format!("S{i:07}")]))
        .collect();
    for result in both("distinct serials", &table) {
        let serials = result.unwrap();
        let started = Instant::now();
        let reading = SerialReading::from_smbios(&serials);
        let elapsed = started.elapsed();
        assert_eq!(reading.candidates.len(), serials.system.len());
        assert!(
            elapsed < PARSE_BOUND,
            "{} candidates took {elapsed:?}",
            serials.system.len()
        );
    }
}

// ---------------------------------------------------------------- configuration

/// Commands that read the configuration before anything else.
const READERS: [&[&str]; 4] = [
    &["config", "validate"],
    &["check", "--json"],
    &["lookup", "--serial", "PF2ABCDE"],
    &["integration", "list"],
];

/// Bound for a command that only reads a local file.
const LOCAL_BOUND: Duration = Duration::from_secs(20);

/// Runs every reader on `config`; each must fail with `expected` in one error line.
fn every_reader_refuses(config: &Path, expected: &str) {
    for args in READERS {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let run = run_s1trust(&args, config, &[]);
        assert_refused(&run, &args, expected);
    }
    // doctor lists it as its first failed step instead.
    let run = run_s1trust(&["doctor"], config, &[]);
    assert_eq!(run.code, 1, "doctor: {}", run.stdout);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("config file"))
        .unwrap_or_default();
    assert!(
        line.contains('✗') && line.contains(expected),
        "doctor: {expected:?} not in {line:?}"
    );
}

fn assert_refused(run: &Run, args: &[String], expected: &str) {
    assert!(
        !run.stderr.contains("panicked"),
        "{args:?}: a panic:\n{}",
        run.stderr
    );
    assert_eq!(run.code, 2, "{args:?}:\n{}\n{}", run.stdout, run.stderr);
    assert!(
        run.elapsed < LOCAL_BOUND,
        "{args:?}: took {:?}",
        run.elapsed
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("s1trust: error:"))
        .collect();
    assert!(
        errors.len() == 1 && errors[0].contains(expected),
        "{args:?}: {expected:?} not in one error line:\n{}",
        run.stderr
    );
    // A zero-trust client reads stdout: `check --json` still answers there.
    if args[0] == "check" {
        let report = run.json();
        assert_eq!(report["result"], "unknown", "{args:?}");
        assert_eq!(report["reason"], "config_error", "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_config_is_refused_without_blocking() {
    let dir = crate::helpers::scratch();
    let fifo = dir.path().join("config.toml");
    let c_path = std::ffi::CString::new(path_arg(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    every_reader_refuses(&fifo, "not a regular file");
    // Named on the command line too, not only through S1TRUST_CONFIG.
    let other = dir.path().join("other.toml");
    let args = vec!["config".into(), "validate".into(), path_arg(&fifo)];
    assert_refused(
        &run_s1trust(&args, &other, &[]),
        &args,
        "not a regular file",
    );
}

#[test]
fn a_config_over_one_mib_is_refused() {
    let dir = crate::helpers::scratch();
    let big = dir.path().join("config.toml");
    let mut text = String::from("[[integration]]\nname = \"corp\"\nurl = \"https://a.example\"\n");
    while text.len() <= 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text).unwrap();
    every_reader_refuses(&big, "larger than 1024 KiB");
    // A sparse 8 GiB file: refused from its size, never read.
    let sparse = dir.path().join("sparse.toml");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    every_reader_refuses(&sparse, "larger than 1024 KiB");
}

#[test]
fn a_config_that_is_not_utf8_is_refused() {
    let dir = crate::helpers::scratch();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        b"[[integration]]\nname = \"corp\xFF\xFE\"\nurl = \"https://a.example\"\n",
    )
    .unwrap();
    every_reader_refuses(&path, "not UTF-8 text");
    // UTF-16 with a byte-order mark, as some Windows editors save.
    let utf16: Vec<u8> = "\u{feff}[http]\ndeadline = \"5s\"\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(&path, utf16).unwrap();
    every_reader_refuses(&path, "not UTF-8 text");
}

#[test]
fn deeply_nested_configs_are_refused_without_a_crash() {
    let dir = crate::helpers::scratch();
    let path = dir.path().join("config.toml");
    let deep = 200_000;
    let shapes = [
        (
            "arrays",
            format!("x = {}{}\n", "[".repeat(deep), "]".repeat(deep)),
        ),
        (
            "inline tables",
            format!(
                "x = {}1{}\n",
                "{ a = ".repeat(deep / 3),
                " }".repeat(deep / 3)
            ),
        ),
        (
            "dotted keys",
            format!("{} = 1\n", vec!["a"; deep].join(".")),
        ),
        (
            "table headers",
            format!("[{}]\n", vec!["a"; deep].join(".")),
        ),
        (
            "inside an integration",
            format!(
                "[[integration]]\nname = \"corp\"\nurl = \"https://a.example\"\nsite_ids = {}{}\n",
                "[".repeat(deep),
                "]".repeat(deep)
            ),
        ),
    ];
    for (what, text) in shapes {
        assert!(
            text.len() < 1024 * 1024,
            "{what} must get past the size cap"
        );
        std::fs::write(&path, &text).unwrap();
        for args in READERS {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let run = run_s1trust(&args, &path, &[]);
            assert!(
                !run.stderr.contains("panicked"),
                "{what} {args:?}: a panic:\n{}",
                run.stderr
            );
            // Exit 2 with a message: a stack overflow would be a signal (-1 here).
            assert_eq!(run.code, 2, "{what} {args:?}:\n{}", run.stderr);
            assert!(
                run.elapsed < LOCAL_BOUND,
                "{what} {args:?}: {:?}",
                run.elapsed
            );
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.starts_with("s1trust: error:") && l.contains("config.toml")),
                "{what} {args:?}: the error names the file:\n{}",
                run.stderr
            );
        }
    }
}

#[test]
fn a_config_full_of_problems_is_reported_in_bounded_time() {
    let dir = crate::helpers::scratch();
    let path = dir.path().join("config.toml");
    // Just under 1 MiB: 65 000 tables, each missing its name and URL.
    std::fs::write(&path, "[[integration]]\n".repeat(65_000)).unwrap();
    let args: Vec<String> = vec!["config".into(), "validate".into()];
    let run = run_s1trust(&args, &path, &[]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, 2);
    assert!(run.elapsed < LOCAL_BOUND, "took {:?}", run.elapsed);
    assert!(
        run.stderr
            .contains("config.toml:1: [[integration]] is missing `name`"),
        "{}",
        &run.stderr[..run.stderr.len().min(2000)]
    );
}
