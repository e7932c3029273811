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
    scored(src, dst, src.copied_to(dst))
}

/// The score of `src` → `dst` when they have `copied` bytes in common.
fn scored(src: &Spans, dst: &Spans, copied: u64) -> u64 {
    if dst.size == 0 {
        return 0;
    }
    copied * MAX_SCORE / src.size.max(dst.size)
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

/// Scores of (source, destination) pairs, for [`pair`].
pub trait Scores {
    /// The score of source `s` → destination `d`.
    fn one(&mut self, s: usize, d: usize) -> u64;

    /// The scores of destination `d` against each of `sources` (in any order); a source whose
    /// score is 0 may be left out.
    fn row(&mut self, d: usize, sources: &[usize]) -> Vec<(usize, u64)> {
        pair_by_pair(self, d, sources)
    }
}

/// The scores of destination `d` against each of `sources`, one [`Scores::one`] at a time.
fn pair_by_pair<S: Scores + ?Sized>(
    scores: &mut S,
    d: usize,
    sources: &[usize],
) -> Vec<(usize, u64)> {
    sources.iter().map(|&s| (s, scores.one(s, d))).collect()
}

/// A score function is [`Scores`] pair by pair.
impl<F: FnMut(usize, usize) -> u64> Scores for F {
    fn one(&mut self, s: usize, d: usize) -> u64 {
        self(s, d)
    }
}

/// Which side of a possible move a file is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

/// [`Scores`] from the files' content, each file hashed once (`load` gives its [`Spans`], or
/// `None` for a file that is never scored, such as a symlink or one that could not be read).
///
/// A row is scored through an index of the sources' chunk hashes, so only the sources that
/// share a chunk with the destination are visited: the bytes they have in common add up per
/// source to exactly what [`Spans::copied_to`] finds pair by pair, and a source that shares
/// nothing scores 0. Pair by pair, a large move (900 files whose names changed) took 810,000
/// span merges, as long as git's own `diff -M` takes on it.
pub struct ContentScores<F> {
    load: F,
    sources: Vec<Option<Option<Spans>>>,
    destinations: Vec<Option<Option<Spans>>>,
    /// Chunk hash → its last posting in `postings`, for every source indexed so far.
    heads: HashMap<u32, u32>,
    /// (source, bytes of the hash in it, the previous posting of the same hash or `NONE`).
    postings: Vec<(u32, u32, u32)>,
    indexed: Vec<bool>,
    /// Set when the postings would not fit 32-bit positions (billions of chunk hashes, so
    /// never in practice): every row is then scored pair by pair.
    full: bool,
    /// Per source: the bytes in common with the current row's destination, and the last row
    /// that touched it and that asked for it (rows count from 1).
    copied: Vec<u64>,
    touched_in: Vec<usize>,
    wanted_in: Vec<usize>,
    rows: usize,
}

/// No posting (the end of a hash's list).
const NONE: u32 = u32::MAX;

/// A row with at most this many sources is scored pair by pair (the same scores).
const FEW_SOURCES: usize = 8;

impl<F: FnMut(Side, usize) -> Option<Spans>> ContentScores<F> {
    pub fn new(sources: usize, destinations: usize, load: F) -> Self {
        ContentScores {
            load,
            sources: vec![None; sources],
            destinations: vec![None; destinations],
            heads: HashMap::new(),
            postings: Vec::new(),
            indexed: vec![false; sources],
            full: u32::try_from(sources).is_err(),
            copied: vec![0; sources],
            touched_in: vec![0; sources],
            wanted_in: vec![0; sources],
            rows: 0,
        }
    }

    fn spans(&mut self, side: Side, i: usize) -> Option<&Spans> {
        let slot = match side {
            Side::Source => &mut self.sources[i],
            Side::Destination => &mut self.destinations[i],
        };
        if slot.is_none() {
            *slot = Some((self.load)(side, i));
        }
        slot.as_ref().and_then(|s| s.as_ref())
    }

    /// Add source `s`'s chunk hashes to the index (once).
    fn index(&mut self, s: usize) {
        if self.full
            || std::mem::replace(&mut self.indexed[s], true)
            || self.spans(Side::Source, s).is_none()
        {
            return;
        }
        let Some(Some(spans)) = &self.sources[s] else {
            return;
        };
        let (Ok(source), true) = (
            u32::try_from(s),
            self.postings.len() + spans.spans.len() < NONE as usize,
        ) else {
            self.full = true;
            return;
        };
        for &(hash, bytes) in &spans.spans {
            let head = self.heads.entry(hash).or_insert(NONE);
            // Below `NONE`: checked above.
            let at = self.postings.len() as u32;
            self.postings.push((source, bytes, *head));
            *head = at;
        }
    }
}

impl<F: FnMut(Side, usize) -> Option<Spans>> Scores for ContentScores<F> {
    fn one(&mut self, s: usize, d: usize) -> u64 {
        if self.spans(Side::Source, s).is_none() || self.spans(Side::Destination, d).is_none() {
            return 0;
        }
        // `pair` asks only for pairs whose sizes allow the score.
        match (&self.sources[s], &self.destinations[d]) {
            (Some(Some(a)), Some(Some(b))) => scored(a, b, a.copied_to(b)),
            _ => 0,
        }
    }

    fn row(&mut self, d: usize, sources: &[usize]) -> Vec<(usize, u64)> {
        // A few merges cost less than indexing their sources.
        let few = sources.len() <= FEW_SOURCES;
        if !few {
            for &s in sources {
                self.index(s);
            }
        }
        if few || self.full {
            return pair_by_pair(self, d, sources);
        }
        if self.spans(Side::Destination, d).is_none() {
            return Vec::new();
        }
        self.rows += 1;
        let row = self.rows;
        for &s in sources {
            self.wanted_in[s] = row;
        }
        let Some(Some(dst)) = &self.destinations[d] else {
            return Vec::new();
        };
        let mut touched: Vec<usize> = Vec::new();
        for &(hash, dst_bytes) in &dst.spans {
            let mut at = self.heads.get(&hash).copied().unwrap_or(NONE);
            while at != NONE {
                let (s, src_bytes, previous) = self.postings[at as usize];
                at = previous;
                let s = s as usize;
                if self.wanted_in[s] != row {
                    continue;
                }
                if self.touched_in[s] != row {
                    self.touched_in[s] = row;
                    self.copied[s] = 0;
                    touched.push(s);
                }
                self.copied[s] += u64::from(src_bytes.min(dst_bytes));
            }
        }
        touched
            .into_iter()
            .filter_map(|s| match &self.sources[s] {
                Some(Some(src)) => Some((s, scored(src, dst, self.copied[s]))),
                _ => None,
            })
            .collect()
    }
}

/// Pair sources with destinations as git (2.33 and later) does, after exact renames:
/// 1. a source and a destination whose file name is unique among the sources and among the
///    destinations pair when they score at least halfway between `min_score` and 100%;
/// 2. the rest (unless sources × destinations exceed `limit_pairs`): every pair at or above
///    `min_score`, each destination keeping its best four, best scores first (a shared file
///    name breaks ties); a source and a destination are used once.
///
/// `scores` is asked only for pairs whose sizes allow the score. Returns (source,
/// destination) indexes.
pub fn pair(
    sources: &[Candidate<'_>],
    destinations: &[Candidate<'_>],
    min_score: u64,
    limit_pairs: usize,
    scores: &mut impl Scores,
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
        if scores.one(s, *d) >= min_basename {
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
        let allowed: Vec<usize> = (0..sources.len())
            .filter(|&s| !used_src[s] && sizes_allow(sources[s].size, dst.size, min_score))
            .collect();
        if allowed.is_empty() {
            continue;
        }
        let mut best: Vec<(u64, bool, usize, usize)> = Vec::new();
        for (s, sc) in scores.row(d, &allowed) {
            if sc >= min_score && sc > 0 {
                best.push((sc, sources[s].basename == dst.basename, d, s));
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

    /// Files of 20 to 80 lines drawn from a small vocabulary (so they share some lines), one
    /// with CRLF line ends, one binary and one empty.
    fn corpus(n: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut x = seed;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let mut files: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let lines = 20 + next() % 60;
                (0..lines)
                    .map(|_| format!("common line {}\n", next() % 40))
                    .collect::<String>()
                    .into_bytes()
            })
            .collect();
        files[1] = String::from_utf8(files[0].clone())
            .expect("utf-8")
            .replace('\n', "\r\n")
            .into_bytes();
        files[2] = [&b"\0binary"[..], &files[3]].concat();
        files[4] = Vec::new();
        files
    }

    // The index finds, per source, the bytes it shares with a destination: exactly the score
    // a pairwise merge of the two span lists gives, and it leaves out only sources that score 0.
    #[test]
    fn content_scores_by_index_are_the_pairwise_scores() {
        let (srcs, dsts) = (corpus(30, 1), corpus(25, 2));
        let spans = |f: &Vec<Vec<u8>>| f.iter().map(|b| Spans::of(b)).collect::<Vec<_>>();
        let (sa, da) = (spans(&srcs), spans(&dsts));
        let mut scores = ContentScores::new(srcs.len(), dsts.len(), |side, i| {
            Some(match side {
                Side::Source => sa[i].clone(),
                Side::Destination => da[i].clone(),
            })
        });
        let all: Vec<usize> = (0..srcs.len()).collect();
        let mut nonzero = 0;
        for (d, dst) in da.iter().enumerate() {
            let row: std::collections::HashMap<usize, u64> =
                scores.row(d, &all).into_iter().collect();
            for (s, src) in sa.iter().enumerate() {
                let want = score(src, dst, 0);
                assert_eq!(row.get(&s).copied().unwrap_or(0), want, "source {s} → {d}");
                assert_eq!(scores.one(s, d), want, "one: source {s} → {d}");
                nonzero += usize::from(want > 0);
            }
        }
        assert!(nonzero > 100, "the corpus shares content: {nonzero} pairs");
        // Asked for some sources only (more than are scored pair by pair), a row leaves the
        // others out.
        let some: Vec<usize> = (0..srcs.len()).step_by(2).collect();
        assert!(some.len() > FEW_SOURCES);
        for (d, dst) in da.iter().enumerate() {
            let mut row: Vec<(usize, u64)> = scores
                .row(d, &some)
                .into_iter()
                .filter(|&(_, sc)| sc > 0)
                .collect();
            row.sort_unstable();
            let want: Vec<(usize, u64)> = some
                .iter()
                .map(|&s| (s, score(&sa[s], dst, 0)))
                .filter(|&(_, sc)| sc > 0)
                .collect();
            assert_eq!(row, want, "destination {d} against every other source");
        }
    }

    // Pairing through the index pairs exactly as pairing pair by pair.
    #[test]
    fn pairing_by_index_pairs_as_pairing_pair_by_pair() {
        for seed in 1..6 {
            let (srcs, dsts) = (corpus(30, seed), corpus(30, seed + 100));
            let (sa, da): (Vec<Spans>, Vec<Spans>) = (
                srcs.iter().map(|b| Spans::of(b)).collect(),
                dsts.iter().map(|b| Spans::of(b)).collect(),
            );
            let names = [&b"x.rs"[..], b"y.rs", b"z.rs"];
            let cand = |f: &[Vec<u8>]| -> Vec<Candidate<'static>> {
                f.iter()
                    .enumerate()
                    .map(|(i, b)| Candidate {
                        basename: names[i % 3],
                        size: b.len() as u64,
                    })
                    .collect()
            };
            let (sc, dc) = (cand(&srcs), cand(&dsts));
            for percent in [10, 50, 90] {
                let min = min_score(percent);
                let pairwise = pair(&sc, &dc, min, 10_000, &mut |s: usize, d: usize| {
                    score(&sa[s], &da[d], min)
                });
                let mut indexed = ContentScores::new(srcs.len(), dsts.len(), |side, i| {
                    Some(match side {
                        Side::Source => sa[i].clone(),
                        Side::Destination => da[i].clone(),
                    })
                });
                let by_index = pair(&sc, &dc, min, 10_000, &mut indexed);
                assert_eq!(by_index, pairwise, "seed {seed}, {percent}%");
            }
        }
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
        let got = pair(
            &[c(b"a"), c(b"b")],
            &[c(b"c"), c(b"d")],
            50,
            100,
            &mut |s: usize, d: usize| scores[s][d],
        );
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
                &mut |s: usize, d: usize| scores[s][d],
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
