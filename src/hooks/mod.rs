//! Git hooks: the shims we install, and what each hook does when git runs it.
//!
//! - [`install`]: put shims in place without clobbering: a foreign hook is kept beside ours as
//!   `<hook>.tombstone-chained` and run after ours; uninstall puts it back byte for byte.
//! - [`pre_commit`]: capture staged deletions, write and stage stubs.
//! - [`post_commit`]: bind pending records to the new commit, add a git note.
//! - [`post_rewrite`]: move records to the new commit ids after amend or rebase.

pub mod install;
pub mod post_commit;
pub mod post_rewrite;
pub mod pre_commit;

/// The stable marker every shim carries on its second line.
pub const MARKER: &str = "# git-tombstone hook v1";
/// Suffix of a foreign hook kept beside ours and run after it.
pub const CHAINED_SUFFIX: &str = ".tombstone-chained";
/// The notes ref where post-commit records what a commit archived.
pub const NOTES_REF: &str = "tombstone";

/// The hooks we install, with their shim text.
pub const SHIMS: [(&str, &str); 3] = [
    ("pre-commit", include_str!("../../hooks/pre-commit")),
    ("post-commit", include_str!("../../hooks/post-commit")),
    ("post-rewrite", include_str!("../../hooks/post-rewrite")),
];

/// Whether hook text is one of our shims (any version of v1).
pub fn is_ours(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n')
        .take(3)
        .any(|l| l == MARKER.as_bytes())
}
