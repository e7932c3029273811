//! One `import` record on hostile bytes: never panics, never allocates from a size it read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = git_tombstone::interchange::import::check_record(data);
});
