//! Failure injection for tests, through `GIT_TOMBSTONE_FAILPOINT`:
//! - `<name>`: [`hit`] aborts the process there, the way a kill or power loss would, so tests
//!   can show that a rerun completes the work;
//! - `error:<name>`: [`error`] returns true there, so tests can show that an ordinary failure
//!   at that point is reported and undone;
//! - `pause:<name>`: [`hit`] waits there until the test says go on (see [`hit`]);
//! - `panic:<name>`: [`panic_at`] panics there (in a worker thread), so tests can show that a
//!   bug is reported as an internal error and nothing half-done is committed.
//!
//! Only builds with the `testing` feature (which only the test suite turns on) read the
//! variable: in a release build no caller can abort the binary at a chosen point.

/// Abort the process if `GIT_TOMBSTONE_FAILPOINT` names this point; with `pause:<name>`, wait
/// there the first time instead (`testing` builds only): the point creates the file
/// `$GIT_TOMBSTONE_FAILPOINT_DIR/paused` and goes on once the test removes it (after at most
/// two minutes), so a test can act in the middle of an operation, such as stopping a server.
pub fn hit(name: &str) {
    if !cfg!(feature = "testing") {
        return;
    }
    let Ok(v) = std::env::var("GIT_TOMBSTONE_FAILPOINT") else {
        return;
    };
    if v == name {
        std::process::abort();
    }
    static PAUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if v.strip_prefix("pause:") == Some(name)
        && !PAUSED.swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        if let Some(dir) = std::env::var_os("GIT_TOMBSTONE_FAILPOINT_DIR") {
            let marker = std::path::Path::new(&dir).join("paused");
            if std::fs::write(&marker, name).is_ok() {
                for _ in 0..6000 {
                    if !marker.exists() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }
}

/// Whether `GIT_TOMBSTONE_FAILPOINT` asks for an error at this point (`error:<name>`;
/// `testing` builds only).
pub fn error(name: &str) -> bool {
    cfg!(feature = "testing")
        && std::env::var("GIT_TOMBSTONE_FAILPOINT")
            .is_ok_and(|v| v.strip_prefix("error:") == Some(name))
}

/// Panic if `GIT_TOMBSTONE_FAILPOINT` is `panic:<name>` (`testing` builds only).
pub fn panic_at(name: &str) {
    if cfg!(feature = "testing")
        && std::env::var("GIT_TOMBSTONE_FAILPOINT")
            .is_ok_and(|v| v.strip_prefix("panic:") == Some(name))
    {
        panic!("injected panic at {name} (GIT_TOMBSTONE_FAILPOINT)");
    }
}
