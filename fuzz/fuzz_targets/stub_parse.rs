//! The stub parser on hostile bytes: never panics; whatever it accepts is canonical (renders
//! back to the same bytes), stands at its own path, and names a path the gate accepts.
#![no_main]

use git_tombstone::stub::Stub;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: how long the location path is; then the path; then the file's bytes.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (path, bytes) = rest.split_at((n as usize).min(rest.len()));
    if let Ok(stub) = Stub::parse(path, bytes) {
        assert_eq!(stub.path, path, "a stub restores only where it stands");
        assert!(git_tombstone::stub::check_relative(&stub.path).is_ok());
        assert_eq!(stub.render(path).expect("an accepted stub renders"), bytes);
    }
});
