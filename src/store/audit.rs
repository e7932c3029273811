//! Auditing the tables against the evidence log: what `verify` checks beyond the hash chain.
//!
//! The chain proves the log was not edited; this proves the tables agree with it, so a row
//! changed by hand in SQLite is found even when the log is intact:
//! - every item id re-derives from its path, content hash and source commit;
//! - every item was recorded by an evidence line (`archive`, or the id list of an `import`), with
//!   the same path, content hash and mode;
//! - every item's state and legal hold are what the log's operations leave them at (`bind`,
//!   `restore`, `hold`, `release`, `vacuum`, `purge`);
//! - no item the log recorded is missing;
//! - every item has its blob row, of the same size; every blob whose item still needs it has
//!   bytes; every blob's bytes hash to its address and have its size (read with the size
//!   bounded before anything is allocated, see [`blobs::decompress`]).

use std::collections::HashMap;

use rusqlite::Connection;

use super::items::state;
use super::{blobs, StoreError};

/// One disagreement between the tables and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `item` or `blob`.
    pub check: &'static str,
    /// An item id or a sha256.
    pub subject: String,
    pub problem: String,
}

/// What the log says an item is. Kept compact, one per item in memory at once: the path,
/// content hash and mode as 128-bit digests (SHA-256, truncated), which is all an equality
/// check needs, 53 bytes in all (a 1M-item store is replayed in about 130 MB).
#[derive(Debug, Default)]
struct Expected {
    /// From its `archive` line (None for imported items, whose line carries only the id).
    path: Option<Digest>,
    sha256: Option<Digest>,
    mode: Option<Digest>,
    /// The last state an operation set, if any.
    state: Option<Set>,
    hold: bool,
}

/// A state an operation of the log sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Restored,
    Vacuumed,
    Purged,
}

impl Set {
    fn as_str(self) -> &'static str {
        match self {
            Set::Restored => state::RESTORED,
            Set::Vacuumed => state::VACUUMED,
            Set::Purged => state::PURGED,
        }
    }
}

/// The first 128 bits of a SHA-256: equal digests mean equal values (a second preimage
/// costs 2^128 work).
type Digest = [u8; 16];

fn digest(bytes: &[u8]) -> Digest {
    use sha2::Digest as _;
    let full = sha2::Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An item id of the shape the store makes (`tb_` and 20 lowercase hex digits) in its 10
/// bytes.
type PackedId = [u8; 10];

fn pack_id(id: &str) -> Option<PackedId> {
    crate::id::lower_hex_bytes(id.strip_prefix("tb_")?)
}

/// The most entries a map or array of the audit is sized for up front from a count the
/// store reports (the items, the blobs): a million (about 128 MiB of replay map).
pub(super) const PRESIZE_MAX: usize = 1 << 20;

/// What the log says every item is, by id: ids of the store's shape packed (no allocation
/// each), any other id a log may hold (one edited by hand) as text.
#[derive(Default)]
struct Replayed {
    packed: HashMap<PackedId, Expected>,
    other: HashMap<Box<str>, Expected>,
}

impl Replayed {
    /// Room for `n` items, up to [`PRESIZE_MAX`]: a count read from the store is never
    /// allocated for unchecked (past that, the map grows as the log fills it).
    fn with_capacity(n: usize) -> Replayed {
        Replayed {
            packed: HashMap::with_capacity(n.min(PRESIZE_MAX)),
            other: HashMap::new(),
        }
    }

    fn entry(&mut self, id: &str) -> &mut Expected {
        match pack_id(id) {
            Some(key) => self.packed.entry(key).or_default(),
            None => self.other.entry(id.into()).or_default(),
        }
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Expected> {
        match pack_id(id) {
            Some(key) => self.packed.get_mut(&key),
            None => self.other.get_mut(id),
        }
    }

    fn remove(&mut self, id: &str) -> Option<Expected> {
        match pack_id(id) {
            Some(key) => self.packed.remove(&key),
            None => self.other.remove(id),
        }
    }

    /// What is left, with each id spelt out again.
    fn into_remaining(self) -> impl Iterator<Item = (String, Expected)> {
        let packed = self
            .packed
            .into_iter()
            .map(|(key, e)| (format!("tb_{}", crate::id::hex(&key)), e));
        packed.chain(self.other.into_iter().map(|(id, e)| (String::from(id), e)))
    }
}

/// The operations whose line lists the ids they apply to (`data.ids`; `data.items` for a
/// purge).
const LIST_OPS: [&str; 5] = ["import", "vacuum", "purge", "hold", "release"];

/// A line of an operation on a list of ids, read without building the line's JSON tree (an
/// import's line lists every id it imported: a million ids took about 85 MB as a tree).
#[derive(serde::Deserialize)]
struct IdList<'a> {
    #[serde(borrow)]
    op: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    data: IdListData<'a>,
}

#[derive(serde::Deserialize)]
struct IdListData<'a> {
    #[serde(borrow, default)]
    ids: Vec<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    items: Vec<std::borrow::Cow<'a, str>>,
}

/// `line` read as an [`IdList`], if it is one of those operations and reads as one; any other
/// line, or one of another shape (a list holding something else than strings, a key given
/// twice), is left to the general reading, which keeps the rules it always had.
fn id_list(line: &str) -> Option<IdList<'_>> {
    // Most lines are `archive` lines: they are told apart by the op the line names first (the
    // log writes `op` before `data`) without reading them twice. A line that names another
    // op first (one edited by hand) is still read as a list below only if its own `op` is
    // one of these.
    let (_, after) = line.split_once("\"op\":\"")?;
    if !LIST_OPS.iter().any(|op| {
        after
            .strip_prefix(op)
            .is_some_and(|rest| rest.starts_with('"'))
    }) {
        return None;
    }
    let list: IdList<'_> = serde_json::from_str(line).ok()?;
    LIST_OPS.contains(&list.op.as_ref()).then_some(list)
}

/// What an operation on a list of ids (one of `LIST_OPS`) leaves each of them: recorded
/// (`import`), vacuumed, purged, held or released.
fn apply_list<'s>(out: &mut Replayed, op: &str, ids: impl Iterator<Item = &'s str>) {
    for id in ids {
        let e = out.entry(id);
        match op {
            "vacuum" => e.state = Some(Set::Vacuumed),
            "purge" => e.state = Some(Set::Purged),
            "hold" => e.hold = true,
            "release" => e.hold = false,
            _ => {}
        }
    }
}

/// Replay the log into what every item should be; `items` is how many the table holds (room
/// is made for them up front, so the map is not copied while it grows).
fn replay(conn: &Connection, items: usize) -> Result<Replayed, StoreError> {
    let mut out = Replayed::with_capacity(items);
    let mut stmt = conn.prepare("SELECT line FROM evidence ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let line: String = row.get(0)?;
        if let Some(list) = id_list(&line) {
            let ids = if list.op == "purge" {
                &list.data.items
            } else {
                &list.data.ids
            };
            apply_list(&mut out, &list.op, ids.iter().map(|id| id.as_ref()));
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue; // the chain check reports it
        };
        let d = &v["data"];
        match v["op"].as_str().unwrap_or_default() {
            "archive" => {
                let Some(id) = d["id"].as_str() else { continue };
                let path = match d["path_bytes_hex"].as_str() {
                    Some(h) => crate::id::unhex(h),
                    None => d["path"].as_str().map(|p| p.as_bytes().to_vec()),
                };
                let e = out.entry(id);
                e.path = path.as_deref().map(digest);
                e.sha256 = d["sha256"].as_str().map(|s| digest(s.as_bytes()));
                e.mode = d["mode"].as_str().map(|s| digest(s.as_bytes()));
            }
            "restore" => {
                let Some(id) = d["id"].as_str() else { continue };
                // Restored to its own path (older lines have no `state`: written_to == path).
                let to_original = d["state"] == state::RESTORED
                    || (d["state"].is_null() && d["written_to"] == d["path"]);
                if to_original {
                    if let Some(e) = out.get_mut(id) {
                        e.state = Some(Set::Restored);
                    }
                }
            }
            op if LIST_OPS.contains(&op) => {
                let ids = ids(&d[if op == "purge" { "items" } else { "ids" }]);
                apply_list(&mut out, op, ids.iter().map(String::as_str));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Every disagreement between the `items` and `blobs` tables and the evidence log.
pub fn check(conn: &Connection) -> Result<Vec<Problem>, StoreError> {
    check_with_progress(conn, &|_, _| {})
}

/// [`check`], reporting `(done, total)` as it goes: the items, then the blobs (one pass each,
/// so the time is linear in the store).
pub fn check_with_progress(
    conn: &Connection,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<Problem>, StoreError> {
    let items_total: i64 = conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
    let blobs_total = blobs::count_with_bytes(conn)?;
    let total = items_total.max(0) as usize + blobs_total;
    let mut done = 0usize;
    let mut tick = || {
        done += 1;
        if done.is_multiple_of(4096) {
            progress(done.min(total), total);
        }
    };
    let mut problems = Vec::new();
    let mut expected = replay(conn, items_total.max(0) as usize)?;
    each_item(conn, blobs_total, &mut |row| {
        tick();
        let found = expected.remove(row.id.as_str());
        check_item(&row, found, &mut problems);
    })?;
    missing_items(expected, &mut problems);
    // Every blob with bytes, one row at a time: its bytes decompress to its size and hash to
    // its address. Read in table order (by address would be a random read per blob), and
    // reported by address.
    let mut damaged = Vec::new();
    blobs::check_all(conn, &mut |sha, problem| {
        tick();
        if let Some(e) = problem {
            damaged.push(Problem {
                check: "blob",
                subject: sha.to_owned(),
                problem: e.to_string(),
            });
        }
    })?;
    damaged.sort_by(|a, b| a.subject.cmp(&b.subject));
    problems.extend(damaged);
    if total > 0 {
        progress(total, total);
    }
    Ok(problems)
}

/// An item row as the audit reads it, with its blob's size and whether the blob still has
/// bytes (`None`: no blob row).
struct ItemRow {
    id: String,
    path: Vec<u8>,
    sha256: String,
    size: i64,
    mode: String,
    source_commit: String,
    state: String,
    hold: bool,
    blob: Option<(i64, bool)>,
}

/// Every item with its blob's size and whether it has bytes, in table order.
///
/// Both tables are read front to back: first every blob's address, size and whether it
/// has bytes ([`blobs::Facts`], 48 bytes a blob), then every item, looked up in that. A join
/// looked each item's blob up in the blob table's index instead, a random read of the
/// 1.3 GB file per item: 2.6 s of a 1M-item store's 8.5 s `verify`, and 20 times the
/// time of a 100,000-item store's.
fn each_item(
    conn: &Connection,
    blobs_expected: usize,
    f: &mut dyn FnMut(ItemRow),
) -> Result<(), StoreError> {
    let blobs = blobs::facts(conn, blobs_expected)?;
    let mut stmt = conn.prepare(
        "SELECT id, path, sha256, size, mode, source_commit, state, legal_hold FROM items",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let sha256: String = r.get(2)?;
        let blob = blobs::Address::parse(&sha256).and_then(|a| blobs.get(&a));
        f(ItemRow {
            id: r.get(0)?,
            path: r.get(1)?,
            sha256,
            size: r.get(3)?,
            mode: r.get(4)?,
            source_commit: r.get(5)?,
            state: r.get(6)?,
            hold: r.get(7)?,
            blob,
        });
    }
    Ok(())
}

/// What is wrong with one item: its id, its path, its blob, and its agreement with what the
/// log says it is (`expected`, `None` when no line records it).
fn check_item(row: &ItemRow, expected: Option<Expected>, problems: &mut Vec<Problem>) {
    let id = row.id.as_str();
    let mut item = |problem: String| {
        problems.push(Problem {
            check: "item",
            subject: id.to_owned(),
            problem,
        })
    };
    let (sha, size, mode, st) = (&row.sha256, row.size, &row.mode, &row.state);
    let shown = crate::stub::encode_path(&row.path);
    let derived = crate::id::tombstone_id(&row.path, sha, &row.source_commit);
    if derived != id {
        item(format!("its id does not re-derive from its path {shown}, sha256 and source commit (expected {derived})"));
    }
    if let Err(e) = crate::stub::check_relative_as(&row.path, mode == "120000") {
        item(format!("unsafe path: {e}"));
    }
    match row.blob {
        None => item(format!("its content {sha} has no blob row")),
        Some((blob_size, _)) if blob_size != size => item(format!(
            "its size {size} differs from its blob's {blob_size}"
        )),
        Some((_, false)) if ![state::VACUUMED, state::PURGED].contains(&st.as_str()) => item(
            format!("it is {st}, but the bytes of its content {sha} are gone"),
        ),
        _ => {}
    }
    let Some(e) = expected else {
        item("no evidence line records this item".to_owned());
        return;
    };
    if e.path.is_some_and(|p| p != digest(&row.path)) {
        item(format!("its path {shown} differs from its evidence line"));
    }
    if e.sha256.is_some_and(|s| s != digest(sha.as_bytes())) {
        item("its sha256 differs from its evidence line".to_owned());
    }
    if e.mode.is_some_and(|m| m != digest(mode.as_bytes())) {
        item(format!("its mode {mode} differs from its evidence line"));
    }
    let state_ok = match e.state {
        Some(s) => s.as_str() == st,
        // Captured and not yet restored, vacuumed or purged: pending until bound.
        None => st == state::PENDING || st == state::ARCHIVED,
    };
    if !state_ok {
        item(format!(
            "its state is {st}, the evidence log leaves it {}",
            e.state.map_or("pending or archived", Set::as_str)
        ));
    }
    if e.hold != row.hold {
        item(format!(
            "its legal hold is {}, the evidence log leaves it {}",
            if row.hold { "on" } else { "off" },
            if e.hold { "on" } else { "off" }
        ));
    }
}

/// The items the log recorded (by an `archive` line) that the table has no row for.
fn missing_items(expected: Replayed, problems: &mut Vec<Problem>) {
    let mut missing: Vec<String> = expected
        .into_remaining()
        .filter(|(_, e)| e.sha256.is_some())
        .map(|(id, _)| id)
        .collect();
    missing.sort();
    for id in missing {
        problems.push(Problem {
            check: "item",
            subject: id,
            problem: "the evidence log records this item, the table has no row for it".to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_the_store_s_shape_pack_into_ten_bytes_and_back() {
        let id = crate::id::tombstone_id(b"a.txt", &"a".repeat(64), &"c".repeat(40));
        let key = pack_id(&id).expect("a store id packs");
        assert_eq!(format!("tb_{}", crate::id::hex(&key)), id);
        for other in [
            "tb_0123456789ABCDEF0123",
            "tb_0123456789abcdef012",
            "tb_0123456789abcdef01234",
            "xx_0123456789abcdef0123",
            "tb_0123456789abcdef012g",
            "",
        ] {
            assert_eq!(pack_id(other), None, "{other}");
        }
    }

    /// Counts read from the store size nothing past [`PRESIZE_MAX`] (a hand-edited store can
    /// report any count; without the bound these would fail to allocate).
    #[test]
    fn counts_from_the_store_are_bounded_before_allocating() {
        let r = Replayed::with_capacity(usize::MAX);
        assert!(r.packed.capacity() >= PRESIZE_MAX && r.packed.capacity() < 4 * PRESIZE_MAX);
        let conn = super::super::schema::in_memory();
        let facts = blobs::facts(&conn, usize::MAX).expect("facts");
        let absent = blobs::Address::parse(&"0".repeat(64)).expect("address");
        assert_eq!(facts.get(&absent), None);
        assert_eq!(std::mem::size_of::<Expected>(), 53, "the documented size");
    }

    #[test]
    fn replayed_keeps_packed_and_other_ids_apart_and_spells_them_back() {
        let mut r = Replayed::with_capacity(2);
        let id = "tb_00112233445566778899";
        r.entry(id).hold = true;
        r.entry("hand-made").sha256 = Some(digest(b"x"));
        assert!(r.get_mut(id).is_some_and(|e| e.hold));
        assert!(r.get_mut("tb_00112233445566778898").is_none());
        assert_eq!((r.packed.len(), r.other.len()), (1, 1));
        let mut left: Vec<String> = r.into_remaining().map(|(id, _)| id).collect();
        left.sort();
        assert_eq!(left, ["hand-made", id]);
    }

    #[test]
    fn blob_facts_are_found_by_address_whatever_the_table_order() {
        let conn = super::super::schema::in_memory();
        let shas: Vec<String> = (0..50u8).map(|i| crate::id::sha256_hex(&[i])).collect();
        for (i, sha) in shas.iter().enumerate() {
            conn.execute(
                "INSERT INTO blobs (sha256, size, compression, stored_size, bytes, created_at)
                 VALUES (?1, ?2, 'none', 1, CASE WHEN ?2 % 2 = 0 THEN x'00' END, 't')",
                rusqlite::params![sha, i as i64],
            )
            .expect("blob");
        }
        let facts = blobs::facts(&conn, 0).expect("facts");
        for (i, sha) in shas.iter().enumerate() {
            let address = blobs::Address::parse(sha).expect("address");
            assert_eq!(facts.get(&address), Some((i as i64, i % 2 == 0)), "{sha}");
        }
        let absent = blobs::Address::parse(&crate::id::sha256_hex(b"none")).expect("address");
        assert_eq!(facts.get(&absent), None);

        // Addresses that share their first bytes, at both ends of the range, and absent ones
        // inside a run and in an empty one.
        let conn = super::super::schema::in_memory();
        let made = ["abcd01", "abcd02", "abcd03", "abce00", "000000", "ffffff"];
        let full = |head: &str| format!("{head}{}", "7".repeat(64 - head.len()));
        for (i, head) in made.iter().enumerate() {
            conn.execute(
                "INSERT INTO blobs (sha256, size, compression, stored_size, created_at)
                 VALUES (?1, ?2, 'none', 1, 't')",
                rusqlite::params![full(head), i as i64],
            )
            .expect("blob");
        }
        let facts = blobs::facts(&conn, 6).expect("facts");
        let get = |head: &str| facts.get(&blobs::Address::parse(&full(head)).expect("address"));
        for (i, head) in made.iter().enumerate() {
            assert_eq!(get(head), Some((i as i64, false)), "{head}");
        }
        for head in ["abcd00", "abcd04", "abcc00", "ffff00", "000001", "123456"] {
            assert_eq!(get(head), None, "{head}");
        }
    }

    /// Lines of operations on lists of ids are read without building their JSON tree; what
    /// they leave is what the general reading leaves, and a list of another shape is still
    /// read by the general rules (strings taken, anything else skipped).
    #[test]
    fn list_lines_replay_as_the_general_reading_does() {
        let conn = super::super::schema::in_memory();
        let a = "tb_aaaaaaaaaaaaaaaaaaaa";
        let b = "tb_bbbbbbbbbbbbbbbbbbbb";
        let c = "tb_cccccccccccccccccccc";
        let lines = [
            format!(
                r#"{{"seq":1,"prev":"p","at":"t","op":"import","actor":"x","data":{{"ids":["{a}","{b}","{c}","odd"]}}}}"#
            ),
            format!(
                r#"{{"seq":2,"prev":"p","at":"t","op":"hold","actor":"x","data":{{"ids":["{a}","{b}"],"reason":"r"}}}}"#
            ),
            format!(
                r#"{{"seq":3,"prev":"p","at":"t","op":"release","actor":"x","data":{{"ids":["{b}"]}}}}"#
            ),
            format!(
                r#"{{"seq":4,"prev":"p","at":"t","op":"vacuum","actor":"x","data":{{"ids":["{b}"]}}}}"#
            ),
            format!(
                r#"{{"seq":5,"prev":"p","at":"t","op":"purge","actor":"x","data":{{"items":["{c}"],"request":1}}}}"#
            ),
            // Another shape: a number in the list (the general reading skips it), and the op
            // after the data, whose metadata names another op first.
            format!(
                r#"{{"seq":6,"prev":"p","at":"t","op":"hold","actor":"x","data":{{"ids":[7,"{c}"]}}}}"#
            ),
            format!(
                r#"{{"seq":7,"data":{{"metadata":{{"op":"archive"}},"ids":["{b}"]}},"op":"hold"}}"#
            ),
        ];
        for (seq, line) in lines.iter().enumerate() {
            assert_eq!(id_list(line).is_some(), seq < 5, "{line}");
            conn.execute(
                "INSERT INTO evidence (seq, op, line, digest) VALUES (?1, 'x', ?2, '')",
                rusqlite::params![seq as i64 + 1, line],
            )
            .expect("line");
        }
        let mut r = replay(&conn, 4).expect("replay");
        let mut state = |id: &str| {
            r.get_mut(id)
                .map(|e| (e.state.map(Set::as_str), e.hold))
                .expect(id)
        };
        assert_eq!(state(a), (None, true));
        assert_eq!(state(b), (Some("vacuumed"), true));
        assert_eq!(state(c), (Some("purged"), true));
        assert_eq!(state("odd"), (None, false));
    }

    /// The audit by its findings: an item the log records that the table lacks is named by
    /// its id as the log spells it (packed or not), and a row's state is held to the log's.
    #[test]
    fn the_audit_names_missing_items_and_states_the_log_does_not_leave() {
        let conn = super::super::schema::in_memory();
        let sha = crate::id::sha256_hex(b"x\n");
        let line = |seq: i64, op: &str, data: serde_json::Value| {
            let line = serde_json::json!({ "seq": seq, "op": op, "data": data }).to_string();
            conn.execute(
                "INSERT INTO evidence (seq, op, line, digest) VALUES (?1, ?2, ?3, '')",
                rusqlite::params![seq, op, line],
            )
            .expect("line");
        };
        let kept = crate::id::tombstone_id(b"a.txt", &sha, "c");
        let archive = |id: &str| serde_json::json!({ "id": id, "path": "a.txt", "sha256": sha, "mode": "100644" });
        line(1, "archive", archive(&kept));
        line(2, "archive", archive("tb_ffffffffffffffffffff"));
        line(3, "archive", archive("odd-id"));
        conn.execute(
            "INSERT INTO blobs (sha256, size, compression, stored_size, bytes, created_at)
             VALUES (?1, 2, 'none', 2, x'780a', 't')",
            [&sha],
        )
        .expect("blob");
        conn.execute(
            "INSERT INTO items (id, path, path_text, mode, mime, binary, size, sha256, category,
                 action, reason, actor, source_commit, archived_at, updated_at, state)
             VALUES (?1, x'612e747874', 'a.txt', '100644', 'text/plain', 0, 2, ?2, 'code',
                 'archive', 'r', 'a', 'c', 't', 't', 'vacuumed')",
            rusqlite::params![kept, sha],
        )
        .expect("item");
        let problems = check(&conn).expect("audit");
        let about = |subject: &str| -> Vec<&str> {
            problems
                .iter()
                .filter(|p| p.subject == subject)
                .map(|p| p.problem.as_str())
                .collect()
        };
        assert_eq!(
            about(&kept),
            ["its state is vacuumed, the evidence log leaves it pending or archived"]
        );
        for missing in ["tb_ffffffffffffffffffff", "odd-id"] {
            assert_eq!(
                about(missing),
                ["the evidence log records this item, the table has no row for it"],
                "{problems:?}"
            );
        }
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
