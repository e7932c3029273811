//! The tombstone parsers (in-place and sidecar stubs, directory tombstones) on hostile bytes:
//! never panic; whatever they accept is canonical (renders back to the same bytes), stands at
//! its own location, and names only paths the gate accepts.
#![no_main]

use git_tombstone::stub::{Stub, Tombstone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: how long the location path is; then the path; then the file's bytes.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (path, bytes) = rest.split_at((n as usize).min(rest.len()));
    if let Ok(stub) = Stub::parse(path, bytes) {
        assert!(
            stub.path == path || git_tombstone::stub::sidecar_of(&stub.path) == path,
            "a stub restores only where it stands (or beside it)"
        );
        assert!(git_tombstone::stub::check_relative(&stub.path).is_ok());
        assert_eq!(stub.render(path).expect("an accepted stub renders"), bytes);
    }
    if let Ok(Tombstone::Dir(d)) = Tombstone::parse(path, bytes) {
        assert_eq!(git_tombstone::stub::sidecar_of(&d.path), path);
        assert_eq!(d.render().expect("an accepted tombstone renders"), bytes);
        for f in &d.files {
            assert!(f.path.starts_with(&d.path));
            assert!(git_tombstone::stub::check_relative(&f.path).is_ok());
        }
    }
});
