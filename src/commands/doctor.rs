//! `git tombstone doctor`: is everything in place for deletions to be captured?
//!
//! Reports each hook (ours, outdated, foreign, missing; chained hooks; executable), whether
//! the `git-tombstone` on PATH — the one the shims run — exists and is this version, whether
//! the policy is valid, and whether the store opens and its evidence log is intact. Exit 1 if
//! anything needs fixing, each finding with its fix.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::commands::Ctx;
use crate::error::{Outcome, FAILURE};
use crate::hooks::install::{self, HookState};
use crate::store::{evidence, items, Store};

#[derive(Debug, Serialize)]
struct Check {
    check: String,
    ok: bool,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

fn check(name: &str, ok: bool, detail: String, fix: Option<&str>) -> Check {
    Check {
        check: name.to_owned(),
        ok,
        detail,
        fix: (!ok).then(|| fix.unwrap_or_default().to_owned()),
    }
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// The first `git-tombstone` on PATH.
fn on_path() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("git-tombstone"))
        .find(|p| p.is_file() && executable(p))
}

/// Run `doctor`.
pub fn run(_args: &DoctorArgs, ctx: &Ctx) -> Outcome {
    let mut checks = Vec::new();
    let dir = ctx.repo.hooks_dir()?;
    for s in install::status(&dir) {
        let chained = match &s.chained {
            Some(c) if executable(c) => format!(", then runs {}", c.display()),
            Some(c) => format!(
                ", chained {} is not executable (git would not run it)",
                c.display()
            ),
            None => String::new(),
        };
        let (ok, detail, fix) = match s.state {
            HookState::Ours if executable(&s.path) => (true, format!("installed{chained}"), None),
            HookState::Ours => (
                false,
                "installed but not executable".into(),
                Some("chmod +x the hook, or rerun `git tombstone install`"),
            ),
            HookState::Outdated => (
                false,
                format!("an older git-tombstone shim{chained}"),
                Some("run `git tombstone install` to upgrade it"),
            ),
            HookState::Foreign => (
                false,
                "another tool's hook; ours is not installed".into(),
                Some("run `git tombstone install` (it keeps and chains that hook)"),
            ),
            HookState::Missing => (
                false,
                "not installed".into(),
                Some("run `git tombstone install`"),
            ),
        };
        checks.push(check(
            &format!("hook {}", s.name),
            ok,
            format!("{}: {detail}", s.path.display()),
            fix,
        ));
    }

    let this = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok());
    match on_path() {
        None => checks.push(check(
            "binary",
            false,
            "no git-tombstone on PATH: the hooks cannot run it".into(),
            Some("install it (`cargo install --locked --path <checkout>`) or add its directory to PATH"),
        )),
        Some(p) => {
            let canonical = std::fs::canonicalize(&p).ok();
            let same = canonical.is_some() && canonical == this;
            let version = if same {
                Some(env!("CARGO_PKG_VERSION").to_owned())
            } else {
                std::process::Command::new(&p)
                    .arg("--version")
                    .output()
                    .ok()
                    .and_then(|o| String::from_utf8(o.stdout).ok())
                    .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
            };
            let current = version.as_deref() == Some(env!("CARGO_PKG_VERSION"));
            checks.push(check(
                "binary",
                current,
                format!(
                    "{} (version {}){}",
                    p.display(),
                    version.as_deref().unwrap_or("unknown"),
                    if same { ", the one running now" } else { "" }
                ),
                Some("the hooks run a different git-tombstone version than this one: reinstall it"),
            ));
        }
    }

    match ctx.policy() {
        Ok(p) => checks.push(check(
            "policy",
            true,
            match &p.file {
                Some(f) => format!("{} is valid ({} rules)", f.display(), p.rules.len()),
                None => "no .tombstone.toml: the built-in default applies".into(),
            },
            None,
        )),
        Err(e) => checks.push(check("policy", false, e.to_string(), Some("fix .tombstone.toml (README.md, \"Policy file\"; `git tombstone init` shows the template)"))),
    }

    match ctx
        .store_dir()
        .map(|d| (d.clone(), Store::open_existing(&d)))
    {
        Ok((d, Ok(None))) => checks.push(check(
            "store",
            true,
            format!(
                "{}: not created yet (the first capture creates it)",
                d.display()
            ),
            None,
        )),
        Ok((d, Ok(Some(store)))) => {
            let findings = evidence::verify(store.conn(), store.dir())
                .map(|f| f.len())
                .unwrap_or(usize::MAX);
            let pending = items::pending(store.conn()).map(|p| p.len()).unwrap_or(0);
            let stale = crate::bind::unreachable(&ctx.repo, &store)
                .map(|s| s.len())
                .unwrap_or(0);
            checks.push(check(
                "rewritten history",
                stale == 0,
                if stale == 0 {
                    "every bound record's commit is reachable".to_owned()
                } else {
                    format!("{stale} record(s) bound to commits no ref reaches")
                },
                (stale > 0).then_some(
                    "run `git tombstone bind`: each is bound to the commit that removes it now, or goes back to pending",
                ),
            ));
            checks.push(check(
                "store",
                findings == 0,
                format!(
                    "{}: opens; evidence log {}; {pending} pending record(s)",
                    d.display(),
                    if findings == 0 {
                        "intact".to_owned()
                    } else {
                        format!("has {findings} problem(s)")
                    }
                ),
                Some("run `git tombstone verify` for details"),
            ));
        }
        Ok((d, Err(e))) => checks.push(check(
            "store",
            false,
            format!("{}: {e}", d.display()),
            Some("see the error; `--store` or GIT_TOMBSTONE_STORE choose another store"),
        )),
        Err(e) => checks.push(check(
            "store",
            false,
            e.to_string(),
            Some("fix the policy first"),
        )),
    }

    let ok = checks.iter().all(|c| c.ok);
    ctx.out
        .json(&serde_json::json!({ "ok": ok, "checks": checks }));
    for c in &checks {
        ctx.out.text(&format!(
            "{:<4} {:<18} {}",
            if c.ok { "ok" } else { "FIX" },
            c.check,
            c.detail
        ));
        if let Some(fix) = &c.fix {
            ctx.out.text(&format!("     {:<18} → {fix}", ""));
        }
    }
    Ok(if ok { 0 } else { FAILURE })
}
