//! Unit tests for the stub format: round trips in every style and every way a stub can be bad.

use super::*;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const COMMIT: &str = "2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

fn sample(path: &[u8]) -> Stub {
    Stub::new(path, Mode::File, SHA, 5123, COMMIT, "deleted")
}

fn render(path: &str) -> String {
    String::from_utf8(
        sample(path.as_bytes())
            .render(path.as_bytes())
            .expect("render"),
    )
    .expect("utf-8")
}

#[test]
fn python_stub_matches_the_documented_layout() {
    let text = render("src/legacy/zendesk_v1.py");
    let id = id::tombstone_id(b"src/legacy/zendesk_v1.py", SHA, COMMIT);
    let expected = format!(
        "# git-tombstone v1\n# id {id}\n# mode 100644\n# path src/legacy/zendesk_v1.py\n\
         # reason deleted\n# restore git archive-restore src/legacy/zendesk_v1.py\n\
         # sha256 {SHA}\n# size 5123\n# source-commit {COMMIT}\n"
    );
    assert_eq!(text, expected);
}

#[test]
fn every_style_round_trips() {
    for path in [
        "a.py", "a.rs", "a.sql", "a.clj", "a.md", "a.c", "a.json", "LICENSE", "a.txt", "Makefile",
    ] {
        let stub = sample(path.as_bytes());
        let bytes = stub.render(path.as_bytes()).expect("render");
        assert!(bytes.len() < MAX_STUB_SIZE, "{path}: {} bytes", bytes.len());
        let parsed = Stub::parse(path.as_bytes(), &bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(parsed, stub, "{path}");
    }
}

#[test]
fn every_line_is_a_comment_of_the_files_language() {
    for (path, open, close) in [
        ("x.py", "# ", ""),
        ("x.go", "// ", ""),
        ("x.lua", "-- ", ""),
        ("x.el", "; ", ""),
        ("x.html", "<!-- ", " -->"),
        ("x.css", "/* ", " */"),
    ] {
        for line in render(path).lines() {
            assert!(
                line.starts_with(open) && line.ends_with(close),
                "{path}: {line}"
            );
        }
    }
}

#[test]
fn json_stub_is_one_json_object_of_strings() {
    let text = render("config/app.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let obj = v.as_object().expect("object");
    assert_eq!(obj["git-tombstone"], "v1");
    assert_eq!(obj["size"], "5123");
    assert!(obj.values().all(|v| v.is_string()));
}

#[test]
fn unknown_keys_are_kept_in_order() {
    let mut stub = sample(b"a.py");
    stub.extra.insert("owner".into(), "team-billing".into());
    stub.extra.insert("zz-note".into(), "kept".into());
    let bytes = stub.render(b"a.py").expect("render");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.contains("# owner team-billing\n# path"), "{text}");
    assert!(text.ends_with("# zz-note kept\n"), "{text}");
    assert_eq!(Stub::parse(b"a.py", &bytes).expect("parse"), stub);
}

#[test]
fn property_round_trip_over_generated_paths_and_fields() {
    // A small deterministic generator (no extra dependency): paths of awkward bytes, random
    // sizes, modes and extra keys must all survive render → parse unchanged.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"abcXYZ019 _-.\xc3\xa9\xff\t\"\\";
    let exts = ["py", "rs", "sql", "clj", "md", "c", "json", "txt", ""];
    let mut checked = 0;
    for _ in 0..2000 {
        let dirs = next() % 3;
        let mut path = Vec::new();
        for d in 0..=dirs {
            if d > 0 {
                path.push(b'/');
            }
            for _ in 0..(1 + next() % 8) {
                path.push(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
        }
        let ext = exts[(next() % exts.len() as u64) as usize];
        if !ext.is_empty() {
            path.push(b'.');
            path.extend_from_slice(ext.as_bytes());
        }
        if check_relative(&path).is_err() {
            continue;
        }
        let mode = [Mode::File, Mode::Executable, Mode::Symlink][(next() % 3) as usize];
        let sha = crate::id::sha256_hex(&next().to_le_bytes());
        let mut stub = Stub::new(&path, mode, &sha, next() % 1_000_000, COMMIT, "retired");
        if next() % 2 == 0 {
            stub.extra
                .insert("ticket".into(), format!("OPS-{}", next() % 10_000));
        }
        let Ok(bytes) = stub.render(&path) else {
            continue; // e.g. a path containing a comment closer
        };
        let parsed =
            Stub::parse(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", encode_path(&path)));
        assert_eq!(parsed, stub);
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} cases ran");
}

fn mutate(path: &str, from: &str, to: &str) -> Result<Stub, StubError> {
    let text = render(path);
    assert!(text.contains(from), "{from} not in {text}");
    Stub::parse(path.as_bytes(), text.replacen(from, to, 1).as_bytes())
}

#[test]
fn forged_sha256_is_rejected() {
    let err = mutate("a.py", SHA, &"0".repeat(64)).expect_err("forged");
    assert!(matches!(err, StubError::Forged { .. }), "{err}");
}

#[test]
fn bad_hex_and_wrong_lengths_are_rejected() {
    let cases = [
        (SHA, &SHA[..63]),
        (SHA, &SHA.to_uppercase()[..]),
        (COMMIT, &COMMIT[..39]),
        (COMMIT, "zz3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"),
        ("size 5123", "size 05123"),
        ("size 5123", "size -1"),
        ("mode 100644", "mode 160000"),
    ];
    for (from, to) in cases {
        let err = mutate("a.py", from, to).expect_err(to);
        assert!(matches!(err, StubError::BadValue { .. }), "{to}: {err}");
    }
    let text = render("a.py");
    let id = id::tombstone_id(b"a.py", SHA, COMMIT);
    let err = Stub::parse(b"a.py", text.replace(&id, "tb_123").as_bytes()).expect_err("short id");
    assert!(matches!(err, StubError::BadValue { .. }), "{err}");
}

#[test]
fn traversal_and_absolute_paths_are_rejected_even_with_a_matching_id() {
    for evil in [
        "../../x",
        "/etc/passwd",
        "a/../../b",
        ".git/hooks/pre-commit",
    ] {
        // Build a self-consistent stub (correct id) around the evil path by hand.
        let id = id::tombstone_id(evil.as_bytes(), SHA, COMMIT);
        let text = format!(
            "# git-tombstone v1\n# id {id}\n# mode 100644\n# path {evil}\n# reason x\n\
             # restore git archive-restore {evil}\n# sha256 {SHA}\n# size 1\n# source-commit {COMMIT}\n"
        );
        let err = Stub::parse(b"x.py", text.as_bytes()).expect_err(evil);
        assert!(matches!(err, StubError::UnsafePath { .. }), "{evil}: {err}");
    }
}

#[test]
fn duplicate_and_misordered_keys_are_rejected() {
    let text = render("a.py");
    let dup = text.replacen("# mode 100644\n", "# mode 100644\n# mode 100644\n", 1);
    assert!(matches!(
        Stub::parse(b"a.py", dup.as_bytes()),
        Err(StubError::DuplicateKey { .. })
    ));
    let lines: Vec<&str> = text.lines().collect();
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let swapped = swapped.join("\n") + "\n";
    assert!(matches!(
        Stub::parse(b"a.py", swapped.as_bytes()),
        Err(StubError::KeyOrder { .. })
    ));
    let json = render("a.json");
    let dup_json = json.replacen(",\n  \"mode\"", ",\n  \"id\": \"x\",\n  \"mode\"", 1);
    assert!(Stub::parse(b"a.json", dup_json.as_bytes()).is_err());
}

#[test]
fn missing_keys_marker_and_layout_are_rejected() {
    let text = render("a.py");
    let no_reason: String = text
        .lines()
        .filter(|l| !l.starts_with("# reason"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(matches!(
        Stub::parse(b"a.py", no_reason.as_bytes()),
        Err(StubError::MissingKey { .. })
    ));
    assert_eq!(
        Stub::parse(b"a.py", b"print('hello')\n"),
        Err(StubError::NoMarker)
    );
    assert!(
        Stub::parse(b"a.py", text.trim_end().as_bytes()).is_err(),
        "no final newline"
    );
    assert!(
        Stub::parse(b"a.py", text.replace('\n', "\r\n").as_bytes()).is_err(),
        "CRLF"
    );
    assert!(Stub::parse(b"a.py", text.replacen("# id", "#  id", 1).as_bytes()).is_err());
    assert!(
        Stub::parse(b"a.rs", text.as_bytes()).is_err(),
        "a `#` stub is not valid in a .rs file"
    );
    assert!(Stub::parse(b"a.py", &[0xff, 0xfe]).is_err());
    let big = format!("{text}{}", "# zz x\n".repeat(200));
    assert!(matches!(
        Stub::parse(b"a.py", big.as_bytes()),
        Err(StubError::TooLarge { .. })
    ));
}

#[test]
fn restore_line_must_name_the_path() {
    let err = mutate(
        "a.py",
        "restore git archive-restore a.py",
        "restore git archive-restore b.py",
    )
    .expect_err("restore mismatch");
    assert!(
        matches!(err, StubError::BadValue { ref key, .. } if key == "restore"),
        "{err}"
    );
}

#[test]
fn values_that_would_end_the_comment_cannot_be_rendered() {
    let stub = Stub::new(b"a*/b.c", Mode::File, SHA, 1, COMMIT, "x");
    assert!(matches!(
        stub.render(b"a*/b.c"),
        Err(StubError::Unrenderable { .. })
    ));
    let stub = Stub::new(b"a.md", Mode::File, SHA, 1, COMMIT, "see --> there");
    assert!(matches!(
        stub.render(b"a.md"),
        Err(StubError::Unrenderable { .. })
    ));
}

#[test]
fn non_utf8_path_round_trips_through_a_stub() {
    let path = b"bin/caf\xe9.py";
    let stub = Stub::new(path, Mode::Executable, SHA, 3, COMMIT, "deleted");
    let bytes = stub.render(path).expect("render");
    let text = String::from_utf8(bytes.clone()).expect("stub text is UTF-8");
    assert!(text.contains("# path \"bin/caf\\351.py\"\n"), "{text}");
    assert_eq!(Stub::parse(path, &bytes).expect("parse").path, path);
}

#[test]
fn may_be_stub_is_a_cheap_prefilter() {
    let bytes = sample(b"a.py").render(b"a.py").expect("render");
    assert!(may_be_stub(b"a.py", bytes.len() as u64, &bytes[..20]));
    assert!(!may_be_stub(b"a.py", 5000, &bytes));
    assert!(!may_be_stub(b"a.py", 10, b"print(1)\n"));
    let json = sample(b"a.json").render(b"a.json").expect("render");
    assert!(may_be_stub(b"a.json", json.len() as u64, &json));
}

fn dir_sample() -> DirTombstone {
    DirTombstone::new(
        b"crates/foo",
        "deleted",
        COMMIT,
        [
            (
                b"crates/foo/src/lib.rs".to_vec(),
                Mode::File,
                15,
                SHA.to_owned(),
            ),
            (
                b"crates/foo/Cargo.toml".to_vec(),
                Mode::File,
                30,
                SHA.to_owned(),
            ),
            (
                b"crates/foo/bin/run".to_vec(),
                Mode::Executable,
                3,
                SHA.to_owned(),
            ),
        ],
    )
}

#[test]
fn a_directory_tombstone_round_trips_sorted_and_strict() {
    let t = dir_sample();
    let bytes = t.render().expect("render");
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert!(
        text.starts_with("git-tombstone v2 directory\npath crates/foo\n"),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().skip(6).collect();
    assert!(
        lines[0].ends_with(" Cargo.toml") && lines[2].ends_with(" src/lib.rs"),
        "{text}"
    );
    let parsed = DirTombstone::parse(b"crates/foo.tombstone", &bytes).expect("parse");
    assert_eq!(parsed, t);
    assert_eq!(parsed.stubs().len(), 3);
    assert!(matches!(
        Tombstone::parse(b"crates/foo.tombstone", &bytes),
        Ok(Tombstone::Dir(_))
    ));
    // Anywhere else, it names another place.
    assert!(matches!(
        DirTombstone::parse(b"other.tombstone", &bytes),
        Err(StubError::Elsewhere { .. })
    ));
    // A forged entry (hash changed, id kept), a wrong count, reordered entries, a path that
    // leaves the directory: all refused.
    let forged = text.replacen(SHA, &"1".repeat(64), 1);
    assert!(matches!(
        DirTombstone::parse(b"crates/foo.tombstone", forged.as_bytes()),
        Err(StubError::Forged { .. })
    ));
    let count = text.replace("files 3\n", "files 2\n");
    assert!(DirTombstone::parse(b"crates/foo.tombstone", count.as_bytes()).is_err());
    let huge = text.replace("files 3\n", "files 99999999\n");
    assert!(DirTombstone::parse(b"crates/foo.tombstone", huge.as_bytes()).is_err());
    let mut swapped: Vec<&str> = text.lines().collect();
    swapped.swap(6, 7);
    let swapped = swapped.join("\n") + "\n";
    assert!(DirTombstone::parse(b"crates/foo.tombstone", swapped.as_bytes()).is_err());
    let id = crate::id::tombstone_id(b"crates/foo/../../x", SHA, COMMIT);
    let escape = format!(
        "git-tombstone v2 directory\npath crates/foo\nreason deleted\nrestore git archive-restore crates/foo\nsource-commit {COMMIT}\nfiles 1\n{id} 100644 1 {SHA} ../../x\n"
    );
    assert!(DirTombstone::parse(b"crates/foo.tombstone", escape.as_bytes()).is_err());
}

#[test]
fn sidecars_are_plain_text_beside_their_file() {
    let stub = sample(b"src/main.rs");
    let bytes = stub.render(b"src/main.rs.tombstone").expect("render");
    assert!(
        bytes.starts_with(b"git-tombstone v1\n"),
        "no comment syntax needed"
    );
    let parsed = Stub::parse(b"src/main.rs.tombstone", &bytes).expect("a sidecar parses");
    assert_eq!(parsed.path, b"src/main.rs");
    assert!(matches!(
        Stub::parse(b"src/other.rs.tombstone", &bytes),
        Err(StubError::Elsewhere { .. })
    ));
    assert_eq!(Placement::Sidecar.location(b"a/b.rs"), b"a/b.rs.tombstone");
    assert_eq!(Placement::InPlace.location(b"a/b.rs"), b"a/b.rs");
    let long = [b"d/".as_slice(), &[b'n'; 250]].concat();
    assert_eq!(
        Placement::Sidecar.location(&long),
        long,
        "too long for a sidecar name"
    );
}
