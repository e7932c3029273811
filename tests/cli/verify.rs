//! `git tombstone verify`: each kind of damage is caught.

use crate::support::*;

fn archived_three() -> Repo {
    let repo = Repo::with_files(&[
        ("a.py", b"a = 1\n"),
        ("b.py", b"b = 2\n"),
        ("c.py", b"c = 3\n"),
    ]);
    assert_ok(&repo.tomb(&["archive", "a.py", "b.py", "c.py"]), "archive");
    repo.commit_all("stubs");
    assert_ok(&repo.tomb(&["bind"]), "bind");
    assert_ok(&repo.tomb(&["verify"]), "clean store verifies");
    repo
}

fn verify_fails(repo: &Repo, expected: &str) {
    let out = repo.tomb(&["verify"]);
    assert_code(&out, 1, "verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(expected),
        "expected {expected:?} in:\n{stdout}"
    );
    let json = repo.tomb(&["--json", "verify"]);
    let v = &json_lines(&json)[0];
    assert_eq!(v["ok"], false);
    assert!(!v["findings"].as_array().expect("findings").is_empty());
}

fn rewrite_evidence(repo: &Repo, f: impl FnOnce(&mut Vec<String>)) {
    let mut lines = repo.evidence_lines();
    f(&mut lines);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(repo.store_dir().join("evidence.jsonl"), text).expect("rewrite log");
}

#[test]
fn an_edited_evidence_line_is_caught() {
    let repo = archived_three();
    rewrite_evidence(&repo, |l| l[1] = l[1].replace("b.py", "x.py"));
    verify_fails(&repo, "line 2: differs from the database");
}

#[test]
fn a_removed_middle_evidence_line_is_caught() {
    let repo = archived_three();
    rewrite_evidence(&repo, |l| {
        l.remove(1);
    });
    verify_fails(&repo, "chain broken");
}

#[test]
fn a_removed_last_evidence_line_is_caught() {
    let repo = archived_three();
    rewrite_evidence(&repo, |l| {
        l.pop();
    });
    verify_fails(&repo, "missing from evidence.jsonl");
}

#[test]
fn reordered_evidence_lines_are_caught() {
    let repo = archived_three();
    rewrite_evidence(&repo, |l| l.swap(0, 1));
    verify_fails(&repo, "reordered");
}

#[test]
fn a_flipped_byte_in_a_stored_blob_is_caught() {
    let repo = Repo::with_files(&[(
        "big.txt",
        "a long text that compresses well. ".repeat(50).as_bytes(),
    )]);
    assert_ok(&repo.tomb(&["archive", "big.txt"]), "archive");
    let db = repo.db();
    let (sha, mut bytes): (String, Vec<u8>) = db
        .query_row("SELECT sha256, bytes FROM blobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    db.execute(
        "UPDATE blobs SET bytes = ?1 WHERE sha256 = ?2",
        rusqlite::params![bytes, sha],
    )
    .expect("flip");
    verify_fails(&repo, &format!("blob: {sha}"));
}

#[test]
fn a_stub_whose_sha256_does_not_match_is_caught() {
    let repo = archived_three();
    let stub = String::from_utf8(repo.read("b.py.tombstone")).expect("stub");
    let sha = git_tombstone::id::sha256_hex(b"b = 2\n");
    repo.write(
        "b.py.tombstone",
        stub.replace(&sha, &"1".repeat(64)).as_bytes(),
    );
    repo.commit_all("tamper with a stub");
    verify_fails(&repo, "stub: b.py.tombstone: invalid stub");
}

#[test]
fn a_self_consistent_stub_for_other_content_is_caught() {
    // Forger recomputes the id too: the stub parses, but the archive has no such item, and the
    // real item's stub is gone from HEAD.
    let repo = archived_three();
    let stub = git_tombstone::stub::Stub::new(
        b"c.py",
        git_tombstone::stub::Mode::File,
        &"2".repeat(64),
        6,
        &"3".repeat(40),
        "deleted",
    );
    repo.write(
        "c.py.tombstone",
        &stub.render(b"c.py.tombstone").expect("render"),
    );
    repo.commit_all("swap stub");
    verify_fails(&repo, "no archive record");
    verify_fails(&repo, "its stub is missing from HEAD at c.py");
}

#[test]
fn a_stub_that_does_not_match_its_item_is_caught() {
    let repo = archived_three();
    repo.db()
        .execute(
            "UPDATE items SET size = size + 1 WHERE path = CAST('a.py' AS BLOB)",
            [],
        )
        .expect("edit item");
    verify_fails(&repo, "does not match item");
}

// The blobs are read in table order (by address was a random read of the store per blob: 2.3
// of a 1M-item store's 8.5 s `verify`), and damaged ones are still reported by address.
#[test]
fn damaged_blobs_are_reported_in_address_order_whatever_the_table_order() {
    let repo = archived_three();
    let db = repo.db();
    let shas: Vec<String> = db
        .prepare("SELECT sha256 FROM blobs ORDER BY rowid")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(shas.len(), 3);
    let mut sorted = shas.clone();
    sorted.sort();
    assert_ne!(
        shas, sorted,
        "the table order is not the address order here"
    );
    db.execute("UPDATE blobs SET size = size + 1", [])
        .expect("damage every blob");
    let out = repo.tomb(&["--json", "verify"]);
    assert_code(&out, 1, "verify");
    let findings = json_lines(&out)[0]["findings"].clone();
    let blobs: Vec<String> = findings
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "blob")
        .map(|f| f["subject"].as_str().expect("subject").to_owned())
        .collect();
    assert_eq!(blobs, sorted, "{findings}");
}
