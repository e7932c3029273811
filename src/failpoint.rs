//! Crash injection for tests: `GIT_TOMBSTONE_FAILPOINT=<name>` aborts the process at the named
//! point, the way a kill or power loss would, so tests can show that a rerun completes the work.

/// Abort the process if `GIT_TOMBSTONE_FAILPOINT` names this point.
pub fn hit(name: &str) {
    if std::env::var_os("GIT_TOMBSTONE_FAILPOINT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}
