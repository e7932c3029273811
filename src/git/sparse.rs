//! Sparse checkout: which paths lie outside the checkout's sparse patterns.
//!
//! A stub for a path outside the sparse cone must not appear in the work tree (git keeps those
//! directories absent); it is staged with `SKIP_WORKTREE`, as git stages the files it does not
//! check out. The decision is git's own: the patterns of `info/sparse-checkout` (cone or
//! ordinary), applied by gix-worktree's implementation of git's matching rules.

use std::collections::HashSet;

use super::{GitError, Repo};

impl Repo {
    /// The subset of `paths` that a sparse checkout leaves out of the work tree. Empty when
    /// `core.sparseCheckout` is off or there are no patterns.
    pub fn sparse_excluded(&self, paths: &[&[u8]]) -> Result<HashSet<Vec<u8>>, GitError> {
        let config = self.repo.config_snapshot();
        if paths.is_empty() || !config.boolean("core.sparseCheckout").unwrap_or(false) {
            return Ok(HashSet::new());
        }
        let failed = |e: Box<dyn std::error::Error + Send + Sync>| GitError::Gix {
            context: "reading the sparse-checkout patterns".into(),
            source: e,
        };
        let Some(patterns) = gix::worktree::sparse::read_patterns(self.repo.git_dir())
            .map_err(|e| failed(e.into()))?
        else {
            return Ok(HashSet::new());
        };
        // git's default for `core.sparseCheckoutCone` is true since 2.37.
        let cone = config.boolean("core.sparseCheckoutCone").unwrap_or(true);
        let case = if config.boolean("core.ignoreCase").unwrap_or(false) {
            gix::glob::pattern::Case::Fold
        } else {
            gix::glob::pattern::Case::Sensitive
        };
        let mut state = gix::index::State::new(self.repo.object_hash());
        let null = gix::ObjectId::null(self.repo.object_hash());
        for p in paths {
            state.dangerously_push_entry(
                Default::default(),
                null,
                gix::index::entry::Flags::empty(),
                gix::index::entry::Mode::FILE,
                (*p).into(),
            );
        }
        let source = self.repo.git_dir().join("info/sparse-checkout");
        gix::worktree::sparse::apply_patterns(&mut state, &patterns, &source, cone, case)
            .map_err(|e| failed(e.into()))?;
        Ok(state
            .entries_with_paths_by_filter_map(|path, e| {
                e.flags
                    .contains(gix::index::entry::Flags::SKIP_WORKTREE)
                    .then(|| path.to_vec())
            })
            .map(|(_, p)| p)
            .collect())
    }
}
