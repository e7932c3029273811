//! Deterministic identities: the tombstone id and content hashes.
//!
//! The id of an archived file version depends only on what was archived (path bytes, content
//! SHA-256, source commit), so the pre-commit hook and a later CI scan of the same deletion
//! compute the same id and their records merge instead of duplicating.

use sha2::{Digest, Sha256};

/// Domain separator for tombstone ids; changing it would change every id ever issued.
const ID_DOMAIN: &[u8] = b"git-tombstone/v1\0";

/// Lowercase hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// The value of one hex digit (either case); `None` for anything else.
pub fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The bytes of hex text (either case); `None` if it is not whole pairs of hex digits.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2)
        .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
        .collect()
}

/// The `N` bytes spelt by exactly `2 * N` lowercase hex digits (how the store spells ids and
/// addresses); `None` for anything else.
pub fn lower_hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    if !is_lower_hex(text, 2 * N) {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        *byte = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
    }
    Some(out)
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The tombstone id: `tb_` + the first 20 hex digits of
/// SHA-256(`git-tombstone/v1\0` + path + `\0` + content sha256 + `\0` + source commit).
pub fn tombstone_id(path: &[u8], content_sha256: &str, source_commit: &str) -> String {
    let mut h = Sha256::new();
    h.update(ID_DOMAIN);
    h.update(path);
    h.update(b"\0");
    h.update(content_sha256.as_bytes());
    h.update(b"\0");
    h.update(source_commit.as_bytes());
    let digest = hex(&h.finalize());
    format!("tb_{}", &digest[..20])
}

/// Whether `s` is `n` lowercase hex digits.
pub fn is_lower_hex(s: &str, n: usize) -> bool {
    s.len() == n
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `s` has the shape of a tombstone id (`tb_` + 20 lowercase hex digits).
pub fn is_tombstone_id(s: &str) -> bool {
    s.strip_prefix("tb_")
        .is_some_and(|rest| is_lower_hex(rest, 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_hex_bytes_takes_exactly_the_store_s_spelling() {
        assert_eq!(lower_hex_bytes::<2>("0aff"), Some([0x0a, 0xff]));
        for refused in ["0AFF", "0af", "0aff0", "0agf", "", "0a ff"] {
            assert_eq!(lower_hex_bytes::<2>(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn sha256_of_known_vector() {
        assert_eq!(
            sha256_hex(b"test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn id_is_deterministic_and_depends_on_every_input() {
        let sha = sha256_hex(b"x");
        let c = "a".repeat(40);
        let id = tombstone_id(b"src/a.py", &sha, &c);
        assert!(is_tombstone_id(&id), "{id}");
        assert_eq!(id, tombstone_id(b"src/a.py", &sha, &c));
        assert_ne!(id, tombstone_id(b"src/b.py", &sha, &c));
        assert_ne!(id, tombstone_id(b"src/a.py", &sha256_hex(b"y"), &c));
        assert_ne!(id, tombstone_id(b"src/a.py", &sha, &"b".repeat(40)));
    }

    #[test]
    fn id_separator_prevents_ambiguous_concatenation() {
        // "ab" + "c" must not collide with "a" + "bc": the NUL separators make them distinct.
        let c = "a".repeat(40);
        assert_ne!(tombstone_id(b"ab", "c", &c), tombstone_id(b"a", "bc", &c));
    }

    #[test]
    fn hex_shape_checks() {
        assert!(is_lower_hex("00ff", 4));
        assert!(!is_lower_hex("00FF", 4));
        assert!(!is_lower_hex("00f", 4));
        assert!(!is_tombstone_id("tb_0123"));
        assert_eq!(unhex(&hex(b"caf\xe9")).as_deref(), Some(&b"caf\xe9"[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("+a"), None, "a sign is not a digit");
        assert_eq!(unhex("AbCd").as_deref(), Some(&[0xab, 0xcd][..]));
        assert!(!is_tombstone_id("xx_0123456789abcdef0123"));
        assert!(is_tombstone_id("tb_0123456789abcdef0123"));
    }
}
