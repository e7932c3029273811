//! The Action's binary download (action/install.sh) against a local HTTP server serving
//! release assets: a good checksum installs, a bad one fails closed, a missing asset or a
//! version with no committed checksum falls back to building from source (exit 3).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::*;

const VERSION: &str = "9.9.9";
const ASSET: &str = "git-tombstone-v9.9.9-x86_64-unknown-linux-musl.tar.gz";

/// `python3 -m http.server` on a free port, serving `root`; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(root: &Path) -> Server {
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server banner");
    let port = line
        .split("port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("port in the banner");
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A copy of the action (install.sh and a checksums.txt listing `listed`), a release tree with
/// the asset (when `with_asset`), and a run of install.sh; returns (exit code, stderr, dest).
fn install(
    listed: Option<&str>,
    with_asset: bool,
) -> (i32, String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().to_path_buf();
    let action = tmp.join("action");
    std::fs::create_dir_all(&action).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/action/install.sh"),
        action.join("install.sh"),
    )
    .expect("copy install.sh");
    // The asset: two executables at the archive's top level (small stand-ins for the release
    // binaries, which are built by the release workflow on GitHub's runners).
    let bins = tmp.join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    for name in ["git-tombstone", "git-archive-restore"] {
        std::fs::write(
            bins.join(name),
            format!("#!/bin/sh\necho '{name} {VERSION}'\n"),
        )
        .expect("write");
        std::fs::set_permissions(
            bins.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
    }
    let release = tmp.join("release").join(format!("v{VERSION}"));
    std::fs::create_dir_all(&release).expect("mkdir");
    let asset = release.join(ASSET);
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&asset)
        .arg("-C")
        .arg(&bins)
        .args(["git-tombstone", "git-archive-restore"])
        .status()
        .expect("tar");
    assert!(tar.success());
    let real = git_tombstone::id::sha256_hex(&std::fs::read(&asset).expect("asset"));
    let sums = match listed {
        Some("real") => format!("{real}  {ASSET}\n"),
        Some(other) => format!("{other}  {ASSET}\n"),
        None => "# no release yet\n".to_owned(),
    };
    std::fs::write(action.join("checksums.txt"), sums).expect("checksums");
    if !with_asset {
        std::fs::remove_file(&asset).expect("rm asset");
    }
    let server = serve(&tmp.join("release"));
    let dest = tmp.join("dest");
    let out = Command::new("bash")
        .arg(action.join("install.sh"))
        .arg(&dest)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("TOMBSTONE_VERSION", VERSION)
        .env("TOMBSTONE_RELEASE_URL", &server.url)
        .output()
        .expect("install.sh");
    drop(server);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dest,
        dir,
    )
}

#[test]
fn a_release_asset_with_the_committed_checksum_is_installed() {
    require("curl");
    let (code, err, dest, _tmp) = install(Some("real"), true);
    assert_eq!(code, 0, "{err}");
    let out = Command::new(dest.join("bin/git-tombstone"))
        .arg("--version")
        .output()
        .expect("installed binary runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "git-tombstone 9.9.9"
    );
    assert!(dest.join("bin/git-archive-restore").exists());
}

#[test]
fn a_checksum_mismatch_fails_closed() {
    require("curl");
    let wrong = "0".repeat(64);
    let (code, err, dest, _tmp) = install(Some(&wrong), true);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing it"), "{err}");
    assert!(
        !dest.join("bin/git-tombstone").exists(),
        "nothing installed"
    );
}

#[test]
fn a_missing_asset_or_an_unreleased_version_falls_back_to_building() {
    require("curl");
    let (code, err, _, _tmp) = install(Some("real"), false);
    assert_eq!(code, 3, "a listed asset the server does not have: {err}");
    assert!(err.contains("404"), "{err}");
    let (code, err, _, _tmp2) = install(None, true);
    assert_eq!(code, 3, "no checksum committed: {err}");
    assert!(err.contains("no checksum committed"), "{err}");
}
