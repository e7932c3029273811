//! The path gate on hostile bytes: never panics, and never lets through what git's own rules
//! forbid (checked here against a plain restatement of them).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flag, path)) = data.split_first() else {
        return;
    };
    let symlink = flag & 1 == 1;
    if git_tombstone::git::path::check(path, symlink).is_ok() {
        assert!(!path.is_empty() && !path.starts_with(b"/") && !path.contains(&0));
        for c in path.split(|&b| b == b'/') {
            assert!(!c.is_empty() && c != b"." && c != b"..");
            assert!(!c.eq_ignore_ascii_case(b".git"));
            let trimmed: &[u8] = {
                let mut end = c.len();
                while end > 0 && (c[end - 1] == b'.' || c[end - 1] == b' ') {
                    end -= 1;
                }
                &c[..end]
            };
            assert!(!trimmed.eq_ignore_ascii_case(b".git"), "NTFS alias");
            assert!(!c.eq_ignore_ascii_case(b"git~1"), "8.3 alias");
        }
    }
});
