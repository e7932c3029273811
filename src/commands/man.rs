//! `git tombstone man` and `git tombstone completions`: manual pages (clap_mangen) and shell
//! completions (clap_complete), generated from the same clap definitions as `--help`, so they
//! cannot drift from it.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::{Cli, CompletionShell, CompletionsArgs, ManArgs, RestoreCli};
use crate::commands::CommandError;
use crate::error::{Error, Outcome};
use crate::output::Output;

/// Every manual page: (file name, roff).
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, std::io::Error> {
    fn walk(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            walk(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd).manual("Git Manual");
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        out.push((man.get_filename(), roff));
        Ok(())
    }
    let mut out = Vec::new();
    for mut cmd in [Cli::command(), RestoreCli::command()] {
        cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        walk(cmd, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| {
        CommandError::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    }
}

/// Run `man`.
pub fn run(args: &ManArgs, out: Output) -> Outcome {
    let pages = pages().map_err(io(Path::new("<stdout>")))?;
    let dir = match (&args.dir, args.install) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => Some(
            match &args.prefix {
                Some(p) => p.clone(),
                None => home()?.join(".local"),
            }
            .join("share/man/man1"),
        ),
        (None, false) => None,
    };
    let Some(dir) = dir else {
        let want = format!("{}.1", args.page.as_deref().unwrap_or("git-tombstone"));
        let Some((_, roff)) = pages.iter().find(|(name, _)| *name == want) else {
            return Err(CommandError::Invalid {
                what: "PAGE".into(),
                why: format!(
                    "no page {want}; the pages are: {}",
                    pages
                        .iter()
                        .map(|(n, _)| n.trim_end_matches(".1"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
            .into());
        };
        out.raw(&String::from_utf8_lossy(roff));
        return Ok(0);
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    for (name, roff) in &pages {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, roff, 0o644).map_err(io(&path))?;
    }
    #[derive(serde::Serialize)]
    struct Installed {
        dir: String,
        pages: usize,
    }
    out.json(&Installed {
        dir: dir.display().to_string(),
        pages: pages.len(),
    });
    out.text(&format!(
        "wrote {} manual page(s) to {}",
        pages.len(),
        dir.display()
    ));
    let on_manpath = std::process::Command::new("manpath")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .is_some_and(|p| {
            dir.parent()
                .is_some_and(|share_man| p.split(':').any(|d| Path::new(d.trim()) == share_man))
        });
    if !on_manpath {
        out.note(&format!(
            "`man` does not look in {} yet: put its `bin` sibling on PATH, or add it to MANPATH",
            dir.parent().unwrap_or(&dir).display()
        ));
    }
    Ok(0)
}

fn home() -> Result<PathBuf, Error> {
    crate::fsutil::home().ok_or_else(|| {
        CommandError::Invalid {
            what: "--install".into(),
            why: "HOME is not set; give --prefix DIR".into(),
        }
        .into()
    })
}

/// git's bash completion calls `_git_<command>` for `git <command> <TAB>`, with `words`,
/// `cword` and `__git_cmd_idx` set: hand clap's function the words from the command on, as if
/// the `git-<command>` binary had been typed.
const GIT_BRIDGE: &str = r#"
# `git tombstone <TAB>` and `git archive-restore <TAB>`: git's completion (git-completion.bash)
# calls _git_<command> with words/cword/__git_cmd_idx set.
__git_tombstone_bridge() {
    local func="$1" bin="$2"
    local idx="${__git_cmd_idx:-1}"
    local COMP_WORDS=("$bin" "${words[@]:idx+1}")
    local COMP_CWORD=$((cword - idx))
    local COMP_LINE="${COMP_WORDS[*]}"
    local COMP_POINT=${#COMP_LINE}
    "$func" "$bin" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
_git_tombstone() { __git_tombstone_bridge _git__tombstone git-tombstone; }
_git_archive_restore() { __git_tombstone_bridge _git__archive__restore git-archive-restore; }
"#;

/// Run `completions`.
pub fn completions(args: &CompletionsArgs, out: Output) -> Outcome {
    let mut text = Vec::new();
    for mut cmd in [Cli::command(), RestoreCli::command()] {
        let name = cmd.get_name().to_owned();
        match args.shell {
            CompletionShell::Bash => {
                clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, &mut text)
            }
            CompletionShell::Zsh => {
                clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, &mut text)
            }
            CompletionShell::Fish => {
                clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, &mut text)
            }
        }
    }
    let mut text = String::from_utf8_lossy(&text).into_owned();
    if matches!(args.shell, CompletionShell::Bash) {
        // clap_complete 4.6 names a hyphenated binary's subcommand states `git__tombstone__…`
        // where it assigns them and `git__subcmd__tombstone__…` where it dispatches on them,
        // so nothing past the first word completed; make the two agree.
        text = text.replace("git__subcmd__tombstone__", "git__tombstone__");
        text.push_str(GIT_BRIDGE);
    }
    out.raw(&text);
    Ok(0)
}
