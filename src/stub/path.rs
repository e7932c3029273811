//! Encoding of repository paths inside a stub, and the safety rules for them.
//!
//! A stub is text, but git paths are bytes. A path that is plain printable UTF-8 is written as
//! is; anything else (non-UTF-8 bytes, control characters, `"` or `\`, leading or trailing
//! spaces) is written C-quoted the way git quotes paths with `core.quotePath`: `"` … `"` with
//! `\\`, `\"`, `\t`, `\n` and three-digit octal escapes for every other byte outside printable
//! ASCII. Exactly one encoding is valid for each path.

use super::StubError;

fn needs_quoting(path: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(path) else {
        return true;
    };
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.chars().any(|c| c.is_control() || c == '"' || c == '\\')
}

/// The one valid textual form of `path`.
pub fn encode(path: &[u8]) -> String {
    if !needs_quoting(path) {
        // Checked by needs_quoting: valid UTF-8.
        return String::from_utf8_lossy(path).into_owned();
    }
    let mut out = String::with_capacity(path.len() + 2);
    out.push('"');
    for &b in path {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

/// Decode a path written by [`encode`], rejecting any other spelling of it.
pub fn decode(text: &str) -> Result<Vec<u8>, StubError> {
    let bad = |why: &str| StubError::BadPath {
        path: text.to_owned(),
        why: why.to_owned(),
    };
    let bytes = if let Some(inner) = text.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| bad("quoted path has no closing quote"))?;
        let mut out = Vec::with_capacity(inner.len());
        let mut it = inner.bytes();
        while let Some(b) = it.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match it.next() {
                Some(b'\\') => out.push(b'\\'),
                Some(b'"') => out.push(b'"'),
                Some(b't') => out.push(b'\t'),
                Some(b'n') => out.push(b'\n'),
                Some(d0 @ b'0'..=b'3') => {
                    let (Some(d1 @ b'0'..=b'7'), Some(d2 @ b'0'..=b'7')) = (it.next(), it.next())
                    else {
                        return Err(bad("bad octal escape"));
                    };
                    out.push((d0 - b'0') * 64 + (d1 - b'0') * 8 + (d2 - b'0'));
                }
                _ => return Err(bad("unknown escape")),
            }
        }
        out
    } else {
        text.as_bytes().to_vec()
    };
    if encode(&bytes) != text {
        return Err(bad("not the canonical encoding of this path"));
    }
    Ok(bytes)
}

/// Check that `path` is a safe repository-relative path (git's rules: [`crate::git::path`]).
pub fn check_relative(path: &[u8]) -> Result<(), StubError> {
    check_relative_as(path, false)
}

/// [`check_relative`] for a file that is a symbolic link when `symlink` (a link may not be
/// called `.gitmodules`).
pub fn check_relative_as(path: &[u8], symlink: bool) -> Result<(), StubError> {
    crate::git::path::check(path, symlink).map_err(|e| StubError::UnsafePath {
        path: encode(path),
        why: e.why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_written_as_is() {
        assert_eq!(encode(b"src/a b.py"), "src/a b.py");
        assert_eq!(encode("docs/é.md".as_bytes()), "docs/é.md");
    }

    #[test]
    fn awkward_paths_are_quoted_and_round_trip() {
        let cases: &[&[u8]] = &[
            b"bad\xffname",
            b"tab\there",
            b"new\nline",
            b"quote\"d",
            b"back\\slash",
            b" leading",
            b"trailing ",
            b"\x01ctl",
            "é\u{7f}".as_bytes(),
        ];
        for &p in cases {
            let e = encode(p);
            assert!(e.starts_with('"') && e.ends_with('"'), "{e}");
            assert_eq!(decode(&e).expect("round trip"), p, "{e}");
        }
        assert_eq!(encode(b"bad\xffname"), "\"bad\\377name\"");
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (1u8..=255).collect();
        assert_eq!(decode(&encode(&all)).expect("round trip"), all);
    }

    #[test]
    fn non_canonical_spellings_are_rejected() {
        assert!(decode("\"plain\"").is_err(), "needless quotes");
        assert!(decode("\"\\101\"").is_err(), "escaped printable ASCII");
        assert!(decode("\"unterminated").is_err());
        assert!(decode("\"bad\\9\"").is_err());
        assert!(decode("\"bad\\x41\"").is_err());
    }

    #[test]
    fn traversal_and_absolute_paths_are_rejected() {
        for p in [
            &b"../../x"[..],
            b"a/../b",
            b"/etc/passwd",
            b"a//b",
            b"./a",
            b"a/.git/hooks/pre-commit",
            b".GIT/config",
            b"",
            b"a/",
        ] {
            assert!(check_relative(p).is_err(), "{}", encode(p));
        }
        assert!(check_relative(b"src/..ok/x...y").is_ok());
        assert!(check_relative(b".github/workflows/ci.yml").is_ok());
    }
}
