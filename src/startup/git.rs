//! The configuration's git commit and dirty state, read with libgit2 (no
//! `git` executable needed).

use std::path::Path;

use git2::{Repository, StatusOptions};
use serde::{Deserialize, Serialize};

/// Where a configuration stands in its repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// Full commit id of HEAD.
    pub commit: String,
    /// Abbreviated commit id (10 digits).
    pub short: String,
    /// The commit's summary line.
    pub summary: String,
    /// The checked-out branch, when HEAD is on one.
    #[serde(default)]
    pub branch: Option<String>,
    /// Whether tracked files differ from HEAD or untracked files exist.
    pub dirty: bool,
}

/// Whether the directory `dir` holds anything but `ignore` (and the
/// directories leading to it).
fn holds_other_than(dir: &Path, ignore: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == ignore {
            continue;
        }
        if ignore.starts_with(&path) && path.is_dir() {
            if holds_other_than(&path, ignore) {
                return true;
            }
            continue;
        }
        return true;
    }
    false
}

/// Describes the repository holding `dir` (which may be a subdirectory of
/// it).  `None` when `dir` is in no repository or HEAD has no commit yet.
/// Changes under `ignore` (artisan's own data directory, which by default
/// lies inside the configuration) do not make it dirty.
pub fn describe(dir: &Path, ignore: Option<&Path>) -> Option<GitInfo> {
    let repo = Repository::discover(dir).ok()?;
    let head = repo.head().ok()?;
    let commit = head.peel_to_commit().ok()?;
    let id = commit.id().to_string();
    let branch = if head.is_branch() {
        head.shorthand().ok().map(String::from)
    } else {
        None
    };
    let dirty = if repo.is_bare() {
        false
    } else {
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let workdir = repo.workdir().and_then(|w| w.canonicalize().ok());
        let ignore = ignore.and_then(|i| i.canonicalize().ok());
        // The ignored directory relative to the work tree, and absolute.
        let ignored = match (&workdir, &ignore) {
            (Some(w), Some(i)) => i
                .strip_prefix(w)
                .ok()
                .map(|rel| (rel.to_path_buf(), i.clone())),
            _ => None,
        };
        repo.statuses(Some(&mut options))
            .map(|statuses| {
                statuses.iter().any(|entry| {
                    let (Some((rel, abs)), Some(w), Some(path)) =
                        (&ignored, &workdir, entry.path().ok())
                    else {
                        return true;
                    };
                    let path = Path::new(path);
                    if path.starts_with(rel) {
                        return false;
                    }
                    // An untracked directory is reported whole: it counts
                    // only if it holds more than the ignored directory.
                    if rel.starts_with(path) && entry.status().is_wt_new() {
                        return holds_other_than(&w.join(path), abs);
                    }
                    true
                })
            })
            .unwrap_or(false)
    };
    Some(GitInfo {
        short: id.chars().take(10).collect(),
        commit: id,
        summary: commit.summary().ok().flatten().unwrap_or("").to_string(),
        branch,
        dirty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_all(repo: &Repository, message: &str) -> git2::Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("Test", "test@example.org").unwrap();
        let parents: Vec<git2::Commit> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    #[test]
    fn detects_the_commit_and_dirty_state_of_a_temp_repository() {
        let dir = std::env::temp_dir().join(format!(
            "artisan-git-{}-{}",
            std::process::id(),
            crate::startup::event::monotonic_ns()
        ));
        std::fs::create_dir_all(dir.join("lisp")).unwrap();
        let repo = Repository::init(&dir).unwrap();
        // A repository without commits has nothing to describe.
        assert_eq!(describe(&dir, None), None);
        std::fs::write(dir.join("init.el"), "(setq x 1)\n").unwrap();
        let oid = commit_all(&repo, "First config\n\nBody.");
        let info = describe(&dir, None).unwrap();
        assert_eq!(info.commit, oid.to_string());
        assert_eq!(info.short.len(), 10);
        assert_eq!(info.summary, "First config");
        assert!(!info.dirty);
        assert!(info.branch.is_some());
        // From a subdirectory too.
        assert_eq!(
            describe(&dir.join("lisp"), None).unwrap().commit,
            oid.to_string()
        );
        // A modified file makes it dirty; so does an untracked one.
        std::fs::write(dir.join("init.el"), "(setq x 2)\n").unwrap();
        assert!(describe(&dir, None).unwrap().dirty);
        let oid2 = commit_all(&repo, "Second");
        assert!(!describe(&dir, None).unwrap().dirty);
        std::fs::write(dir.join("new.el"), "").unwrap();
        let info = describe(&dir, None).unwrap();
        assert!(info.dirty);
        assert_eq!(info.commit, oid2.to_string());
        std::fs::remove_file(dir.join("new.el")).unwrap();
        // artisan's own data directory inside the configuration does not
        // make it dirty, even deep inside an untracked directory...
        let data = dir.join("var").join("artisan");
        std::fs::create_dir_all(data.join("startup")).unwrap();
        std::fs::write(data.join("startup").join("history.jsonl"), "{}\n").unwrap();
        assert!(describe(&dir, None).unwrap().dirty);
        assert!(!describe(&dir, Some(&data)).unwrap().dirty);
        // ... but anything else there does.
        std::fs::write(dir.join("var").join("other"), "").unwrap();
        assert!(describe(&dir, Some(&data)).unwrap().dirty);
        std::fs::remove_dir_all(dir.join("var")).unwrap();
        std::fs::create_dir_all(dir.join("artisan")).unwrap();
        std::fs::write(dir.join("artisan").join("x"), "").unwrap();
        assert!(!describe(&dir, Some(&dir.join("artisan"))).unwrap().dirty);
        std::fs::write(dir.join("init.el"), "(setq x 3)\n").unwrap();
        assert!(describe(&dir, Some(&dir.join("artisan"))).unwrap().dirty);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
