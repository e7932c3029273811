//! git's rename score, as `git diff -M` computes it (diffcore-delta.c, diffcore-rename.c), so
//! the hook and `scan` call a deletion a move exactly when git would.
//!
//! Content is cut into chunks ending at a newline or after 64 bytes (a CR before an LF is
//! skipped in text); each chunk's hash counts its bytes. The bytes a source shares with a
//! destination are, per hash, the smaller of the two counts; the score is that over the larger
//! file's size, out of [`MAX_SCORE`]. Pairs whose sizes differ too much for the minimum score
//! are never hashed. Like git, a trailing chunk without a newline is not counted. This is linear
//! in the content, where a line diff (what gix's rename tracking runs) is not.

use std::collections::HashMap;

/// A score of 100%.
pub const MAX_SCORE: u64 = 60_000;
const HASHBASE: u32 = 107_927;
/// Destinations keep their best few sources, as git does.
const CANDIDATES_PER_DST: usize = 4;
// Inexact scores are for regular files only (git's `estimate_similarity`); callers give 0 for
// a symlink.

/// The chunk hashes of one file: (hash, bytes), sorted by hash.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    spans: Vec<(u32, u32)>,
    size: u64,
}

/// git's binary test: a NUL byte in the first 8,000 bytes.
fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8000)].contains(&0)
}

impl Spans {
    /// Hash `data` the way git's `hash_chars` does.
    pub fn of(data: &[u8]) -> Spans {
        let text = !is_binary(data);
        // (hash, bytes) per chunk, then sorted and summed per hash: no hash map (hashing the
        // hashes again cost more than the sort), and no input that makes it quadratic.
        let mut chunks: Vec<(u32, u32)> = Vec::new();
        let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u32);
        let mut i = 0;
        while i < data.len() {
            let c = u32::from(data[i]);
            i += 1;
            if text && c == u32::from(b'\r') && data.get(i) == Some(&b'\n') {
                continue;
            }
            let old1 = accum1;
            accum1 = (accum1 << 7) ^ (accum2 >> 25);
            accum2 = (accum2 << 7) ^ (old1 >> 25);
            accum1 = accum1.wrapping_add(c);
            n += 1;
            if n < 64 && c != u32::from(b'\n') {
                continue;
            }
            let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
            chunks.push((hash, n));
            n = 0;
            accum1 = 0;
            accum2 = 0;
        }
        Spans {
            spans: per_hash(chunks),
            size: data.len() as u64,
        }
    }

    /// Bytes of `self` found in `dst` (git's `src_copied`).
    fn copied_to(&self, dst: &Spans) -> u64 {
        let (mut copied, mut d) = (0u64, 0usize);
        for &(hash, count) in &self.spans {
            while d < dst.spans.len() && dst.spans[d].0 < hash {
                d += 1;
            }
            if d < dst.spans.len() && dst.spans[d].0 == hash {
                copied += u64::from(count.min(dst.spans[d].1));
                d += 1;
            }
        }
        copied
    }
}

/// Sort (hash, bytes) chunks by hash and sum the bytes of each hash. The sums are 32-bit and
/// wrap, as the `cnt` of git's `struct spanhash` (an `unsigned int`) does, so a file whose
/// chunks of one hash add up past 4 GiB scores as git scores it (and a debug build does not
/// panic on the overflow).
fn per_hash(mut chunks: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    chunks.sort_unstable_by_key(|&(hash, _)| hash);
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(chunks.len());
    for (hash, n) in chunks {
        match spans.last_mut() {
            Some((last, total)) if *last == hash => *total = total.wrapping_add(n),
            _ => spans.push((hash, n)),
        }
    }
    spans
}

/// Whether files of these sizes can reach `min_score` at all (git's size check).
pub fn sizes_allow(src: u64, dst: u64, min_score: u64) -> bool {
    let (max, min) = (src.max(dst), src.min(dst));
    max * (MAX_SCORE - min_score.min(MAX_SCORE)) >= (max - min) * MAX_SCORE
}

/// git's rename score of `src` → `dst` (0 when an empty destination or sizes rule it out).
pub fn score(src: &Spans, dst: &Spans, min_score: u64) -> u64 {
    if dst.size == 0 || !sizes_allow(src.size, dst.size, min_score) {
        return 0;
    }
    src.copied_to(dst) * MAX_SCORE / src.size.max(dst.size)
}

/// The minimum score for a similarity in percent (git's `-M<n>%`).
pub fn min_score(percent: u8) -> u64 {
    MAX_SCORE * u64::from(percent.min(100)) / 100
}

/// One side of a possible rename: its file name (after the last `/`) and size.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub basename: &'a [u8],
    pub size: u64,
}

/// The file name part of a path.
pub fn basename(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// File name → the index of the one candidate with it (`None` when several have it).
fn unique_names<'a>(side: &[Candidate<'a>]) -> HashMap<&'a [u8], Option<usize>> {
    let mut m: HashMap<&'a [u8], Option<usize>> = HashMap::new();
    for (i, c) in side.iter().enumerate() {
        m.entry(c.basename)
            .and_modify(|v| *v = None)
            .or_insert(Some(i));
    }
    m
}

/// Pair sources with destinations as git (2.33 and later) does, after exact renames:
/// 1. a source and a destination whose file name is unique among the sources and among the
///    destinations pair when they score at least halfway between `min_score` and 100%;
/// 2. the rest (unless sources × destinations exceed `limit_pairs`): every pair at or above
///    `min_score`, each destination keeping its best four, best scores first (a shared file
///    name breaks ties); a source and a destination are used once.
///
/// `score(s, d)` is asked only for pairs whose sizes allow the score. Returns (source,
/// destination) indexes.
pub fn pair(
    sources: &[Candidate<'_>],
    destinations: &[Candidate<'_>],
    min_score: u64,
    limit_pairs: usize,
    mut score: impl FnMut(usize, usize) -> u64,
) -> Vec<(usize, usize)> {
    let mut used_src = vec![false; sources.len()];
    let mut used_dst = vec![false; destinations.len()];
    let mut out = Vec::new();
    // 1. Same file name, unique on both sides.
    let src_names = unique_names(sources);
    let dst_names = unique_names(destinations);
    let min_basename = min_score + (MAX_SCORE - min_score.min(MAX_SCORE)) / 2;
    for (s, c) in sources.iter().enumerate() {
        let (Some(Some(si)), Some(Some(d))) =
            (src_names.get(c.basename), dst_names.get(c.basename))
        else {
            continue;
        };
        if *si != s || used_dst[*d] || !sizes_allow(c.size, destinations[*d].size, min_basename) {
            continue;
        }
        if score(s, *d) >= min_basename {
            used_src[s] = true;
            used_dst[*d] = true;
            out.push((s, *d));
        }
    }
    // 2. Best scores first.
    let left_src = used_src.iter().filter(|u| !**u).count();
    let left_dst = used_dst.iter().filter(|u| !**u).count();
    if left_src.saturating_mul(left_dst) > limit_pairs {
        return out;
    }
    let mut found: Vec<(u64, bool, usize, usize)> = Vec::new();
    for (d, dst) in destinations.iter().enumerate() {
        if used_dst[d] {
            continue;
        }
        let mut best: Vec<(u64, bool, usize, usize)> = Vec::new();
        for (s, src) in sources.iter().enumerate() {
            if used_src[s] || !sizes_allow(src.size, dst.size, min_score) {
                continue;
            }
            let sc = score(s, d);
            if sc >= min_score && sc > 0 {
                best.push((sc, src.basename == dst.basename, d, s));
            }
        }
        best.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
        best.truncate(CANDIDATES_PER_DST);
        found.extend(best);
    }
    found.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    for (_, _, d, s) in found {
        if used_src[s] || used_dst[d] {
            continue;
        }
        used_src[s] = true;
        used_dst[d] = true;
        out.push((s, d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, tag: &str) -> Vec<u8> {
        (0..n)
            .map(|i| format!("line {i} of {tag} with some words\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn the_bytes_of_one_hash_wrap_at_32_bits_as_gits_spanhash_count_does() {
        let half = 1u32 << 31;
        // Two chunks of hash 7 whose bytes add up to 2^32 + 5, and one of hash 3.
        let spans = per_hash(vec![(7, half), (3, 9), (7, half + 5)]);
        assert_eq!(spans, [(3, 9), (7, 5)]);
    }

    #[test]
    fn identical_content_scores_full_and_unrelated_scores_nothing() {
        let a = Spans::of(&lines(40, "a"));
        assert_eq!(score(&a, &a, min_score(50)), MAX_SCORE);
        let b = Spans::of(&lines(40, "b"));
        assert_eq!(score(&a, &b, min_score(50)), 0);
    }

    #[test]
    fn the_score_is_the_shared_part_of_the_larger_file() {
        let mut src = lines(10, "x");
        let dst = src.clone();
        src.extend(lines(10, "y")); // src is twice dst: half of it is shared
        let s = score(&Spans::of(&src), &Spans::of(&dst), 0);
        assert_eq!(s, MAX_SCORE / 2);
        // Sizes alone rule out 60% for a file twice the other's size.
        assert!(!sizes_allow(200, 100, min_score(60)));
        assert!(sizes_allow(200, 100, min_score(50)));
    }

    #[test]
    fn crlf_counts_as_lf_in_text_and_a_trailing_partial_chunk_is_not_counted() {
        let lf = Spans::of(b"one\ntwo\n");
        let crlf = Spans::of(b"one\r\ntwo\r\n");
        assert_eq!(lf.spans, crlf.spans);
        assert!(Spans::of(b"no newline").spans.is_empty());
    }

    #[test]
    fn pairing_takes_best_scores_first_and_uses_each_side_once() {
        // Source 0 matches destination 0 at 90 and destination 1 at 80; source 1 matches
        // destination 0 at 85: 0→0 first, then 1 has only 0 (taken), so 1 stays unpaired.
        let scores = [[90u64, 80], [85, 0]];
        let c = |name: &'static [u8]| Candidate {
            basename: name,
            size: 10,
        };
        let got = pair(&[c(b"a"), c(b"b")], &[c(b"c"), c(b"d")], 50, 100, |s, d| {
            scores[s][d]
        });
        assert_eq!(got, vec![(0, 0)]);
        // A unique shared file name pairs first when the score is at least halfway to 100%.
        // (Without that pass, 0→0 at 90% would win and source 1 stay unpaired.)
        let pct = |p: u64| p * MAX_SCORE / 100;
        let named = |scores: [[u64; 2]; 2]| {
            pair(
                &[c(b"a"), c(b"x")],
                &[c(b"x"), c(b"d")],
                pct(50),
                100,
                |s, d| scores[s][d],
            )
        };
        assert_eq!(
            named([[pct(90), pct(80)], [pct(80), 0]]),
            vec![(1, 0), (0, 1)]
        );
        // Below halfway (75% at a 50% threshold) the shared name does not pair first.
        let got = named([[pct(90), pct(80)], [pct(70), 0]]);
        assert_eq!(got, vec![(0, 0)]);
    }
}
