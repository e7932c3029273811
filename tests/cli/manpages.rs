//! git conventions: manual pages that `git tombstone --help` opens, and shell completions
//! that make `git tombstone <TAB>` work in bash.

use crate::support::*;

/// `man --install` writes a page per command to ~/.local/share/man/man1, and from then on git's
/// own `git tombstone --help` and `git archive-restore --help` (which git hands to `man`) show
/// them. man-db finds the directory from `~/.local/bin` on PATH, as on a stock Debian/Ubuntu.
#[test]
fn git_help_opens_the_installed_manual() {
    require("man");
    let repo = Repo::with_files(&[("a.txt", b"a\n")]);
    let local_bin = repo.home.join(".local/bin");
    std::fs::create_dir_all(&local_bin).expect("bin");
    let path =
        std::env::join_paths(std::iter::once(local_bin).chain(std::env::split_paths(&tool_path())))
            .expect("PATH");
    let man = |args: &[&str]| {
        let mut c = repo.command("git");
        c.args(args)
            .env("PATH", &path)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100");
        c.output().expect("git help")
    };
    // Before: git's `--help` finds no manual (git's exit code; the message names the page).
    let before = man(&["tombstone", "--help"]);
    assert!(!before.status.success(), "no page yet");

    let out = repo.tomb(&["--json", "man", "--install"]);
    assert_ok(&out, "man --install");
    let dir = repo.home.join(".local/share/man/man1");
    let reported = &json_lines(&out)[0];
    assert_eq!(reported["dir"], dir.display().to_string());
    for page in [
        "git-tombstone.1",
        "git-tombstone-scan.1",
        "git-tombstone-evidence-verify.1",
        "git-archive-restore.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} installed");
    }

    let out = man(&["tombstone", "--help"]);
    assert_ok(&out, "git tombstone --help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("git-tombstone"), "{text}");
    assert!(
        text.contains("Make deleting code safe"),
        "the manual: {text}"
    );
    assert!(text.contains("archive"), "lists the subcommands: {text}");
    let out = man(&["archive-restore", "--help"]);
    assert_ok(&out, "git archive-restore --help");
    assert!(String::from_utf8_lossy(&out.stdout).contains("--dry-run"));

    // One page to stdout; an unknown page is a usage error naming the real ones.
    let out = repo.tomb(&["man", "git-tombstone-scan"]);
    assert_ok(&out, "man PAGE");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(".ie"));
    let err = assert_code(
        &repo.tomb(&["man", "git-tombstone-nope"]),
        2,
        "unknown page",
    );
    assert!(err.contains("git-tombstone-scan"), "{err}");
}

/// `completions bash` completes `git-tombstone` and, through git's own completion
/// (git-completion.bash calls `_git_tombstone`), `git tombstone <TAB>`: checked in an
/// interactive bash (`bash -ic`) that loads git's completion and ours.
#[test]
fn bash_completes_git_tombstone_subcommands_and_flags() {
    let git_completion = "/usr/share/bash-completion/completions/git";
    assert!(
        std::path::Path::new(git_completion).exists(),
        "git's bash completion is missing: run `bash scripts/test.sh`, which installs what the tests need"
    );
    let repo = Repo::with_files(&[("a.txt", b"a\n")]);
    let out = repo.tomb(&["completions", "bash"]);
    assert_ok(&out, "completions bash");
    let script = repo.home.join("git-tombstone.bash");
    std::fs::write(&script, &out.stdout).expect("script");
    let probe = format!(
        r#"source {git_completion}
source {script}
complete -p git-tombstone git-archive-restore >/dev/null || exit 9
try() {{
  local f="$1"; shift
  COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
  read -r -a COMP_WORDS <<< "$*"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
  COMPREPLY=()
  "$f" "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
  echo "$*|$(compgen -W "${{COMPREPLY[*]}}" -- "${{COMP_WORDS[COMP_CWORD]}}" | sort | tr '\n' ' ')"
}}
try _git__tombstone git-tombstone ar
try _git__tombstone git-tombstone scan --fail
try __git_wrap__git_main git tombstone ar
try __git_wrap__git_main git tombstone evidence ve
try __git_wrap__git_main git tombstone ci --pu
try __git_wrap__git_main git archive-restore --dry
"#,
        script = script.display()
    );
    let out = repo
        .command("bash")
        .args(["-ic", &probe])
        .output()
        .expect("bash");
    assert_ok(&out, "bash -ic");
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "git-tombstone ar|archive ",
        "git-tombstone scan --fail|--fail-on-violation ",
        "git tombstone ar|archive ",
        "git tombstone evidence ve|verify ",
        "git tombstone ci --pu|--publish ",
        "git archive-restore --dry|--dry-run ",
    ] {
        assert!(
            text.lines().any(|l| l == expected),
            "{expected:?} in:\n{text}"
        );
    }
}

/// zsh and fish get clap's completions for both commands.
#[test]
fn zsh_and_fish_completions_name_both_commands() {
    let repo = Repo::with_files(&[("a.txt", b"a\n")]);
    let zsh = String::from_utf8_lossy(&repo.tomb(&["completions", "zsh"]).stdout).into_owned();
    assert!(zsh.contains("#compdef git-tombstone") && zsh.contains("#compdef git-archive-restore"));
    let fish = String::from_utf8_lossy(&repo.tomb(&["completions", "fish"]).stdout).into_owned();
    assert!(
        fish.contains("complete -c git-tombstone")
            && fish.contains("complete -c git-archive-restore")
    );
    assert_code(&repo.tomb(&["completions", "tcsh"]), 2, "unknown shell");
}
