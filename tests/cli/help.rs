//! `--help` is the documentation of every command: snapshot it so it cannot drift silently.

use crate::support::*;

fn help(bin: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(bin)
        .args(args)
        .env_clear()
        .env("COLUMNS", "100")
        .output()
        .expect("run");
    assert_ok(&out, &format!("{args:?}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn main_help() {
    insta::assert_snapshot!(help(TOMBSTONE, &["--help"]));
}

#[test]
fn archive_help() {
    insta::assert_snapshot!(help(TOMBSTONE, &["archive", "--help"]));
}

#[test]
fn archive_restore_help() {
    insta::assert_snapshot!(help(RESTORE, &["--help"]));
}

#[test]
fn every_subcommand_has_help_text() {
    let main = help(TOMBSTONE, &["--help"]);
    for cmd in [
        "init", "archive", "bind", "list", "show", "restore", "verify", "stub", "evidence",
    ] {
        let line = main
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} ")))
            .unwrap_or_else(|| panic!("{cmd} missing from --help"));
        assert!(
            line.split_whitespace().count() > 2,
            "{cmd} has no description: {line}"
        );
        let sub = help(TOMBSTONE, &[cmd, "--help"]);
        assert!(sub.contains("Usage:"), "{cmd}");
    }
}
