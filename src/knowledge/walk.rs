//! Finding the notes under the roots: a parallel walk that honours
//! `.gitignore` and `.ignore` files and exclude globs, skips hidden folders,
//! follows symlinks without looping, and reports what it skips and why.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{Match, WalkBuilder, WalkState};

use crate::error::{Error, Result};
use crate::job::Progress;

/// What to look for under the roots.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Extensions (without dot, compared case-insensitively) of files to index.
    pub extensions: Vec<String>,
    /// Globs of files and folders to leave out, matched against the file
    /// name, the path relative to its root and the full path.
    pub exclude: Vec<String>,
    /// Files larger than this many bytes are skipped (and reported).
    pub max_file_size: u64,
}

/// A file to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The path as reached from its root (symlinks are not resolved).
    pub path: PathBuf,
    /// Index of its root in the roots given to [`walk`].
    pub root: usize,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the epoch.
    pub mtime: i64,
}

/// A file that was not indexed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file or folder.
    pub path: String,
    /// A short, readable reason ("larger than 10 MB", "binary", ...).
    pub reason: String,
}

/// The exclude globs, compiled.
#[derive(Debug, Clone)]
pub struct Excludes(GlobSet);

impl Excludes {
    /// Compiles `globs`; a malformed glob is an error naming it.
    pub fn new(globs: &[String]) -> Result<Excludes> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            let glob = Glob::new(g)
                .map_err(|e| Error::index(format!("Invalid exclude glob {g:?}: {e}")))?;
            b.add(glob);
        }
        b.build()
            .map(Excludes)
            .map_err(|e| Error::index(format!("Invalid exclude globs: {e}")))
    }

    /// Does `path` match an exclude glob (by file name or full path)?
    pub fn matches(&self, path: &Path) -> bool {
        self.0.is_match(path) || path.file_name().is_some_and(|n| self.0.is_match(n))
    }

    /// Does `path`, under `root`, match an exclude glob: by file name, by
    /// full path, or by its path relative to the root (`daily/**`)?
    pub fn matches_under(&self, path: &Path, root: &Path) -> bool {
        self.matches(path)
            || path
                .strip_prefix(root)
                .is_ok_and(|r| !r.as_os_str().is_empty() && self.0.is_match(r))
    }
}

/// The `.ignore` and `.gitignore` rules of one directory.
struct DirRules {
    ignore: Gitignore,
    gitignore: Gitignore,
}

impl DirRules {
    fn read(dir: &Path) -> DirRules {
        let rules = |name: &str| {
            let file = dir.join(name);
            if !file.is_file() {
                return Gitignore::empty();
            }
            let mut b = GitignoreBuilder::new(dir);
            // A line that is no valid glob is left out, as the walk does.
            let _ = b.add(file);
            b.build().unwrap_or_else(|_| Gitignore::empty())
        };
        DirRules {
            ignore: rules(".ignore"),
            gitignore: rules(".gitignore"),
        }
    }
}

/// Is `entry` ignored by the rules of the directories above it, given from
/// the outermost to the innermost?  As in the walk, `.ignore` files take
/// precedence over `.gitignore` files, and a deeper file over a shallower one.
fn ignored(rules: &[DirRules], entry: &Path, is_dir: bool) -> bool {
    let decide = |pick: fn(&DirRules) -> &Gitignore| {
        rules
            .iter()
            .rev()
            .find_map(|r| match pick(r).matched(entry, is_dir) {
                Match::None => None,
                Match::Ignore(_) => Some(true),
                Match::Whitelist(_) => Some(false),
            })
    };
    decide(|r| &r.ignore)
        .or_else(|| decide(|r| &r.gitignore))
        .unwrap_or(false)
}

/// Would a walk of `root` index `path`, a file under it?  The same rules
/// as [`walk`]: the extension, no hidden file or folder on the way, no
/// exclude glob matching it or a folder above it, and no `.ignore` or
/// `.gitignore` rule (of the root, its parents or the folders on the way)
/// leaving it or a folder above it out.  For a single saved file, without
/// walking the root.
pub fn would_walk(root: &Path, path: &Path, options: &WalkOptions, excludes: &Excludes) -> bool {
    if !has_extension(path, &options.extensions) {
        return false;
    }
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let mut rules: Vec<DirRules> = root
        .ancestors()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(DirRules::read)
        .collect();
    let components: Vec<&std::ffi::OsStr> = relative.iter().collect();
    let mut entry = root.to_path_buf();
    for (i, name) in components.iter().enumerate() {
        entry.push(name);
        let is_dir = i + 1 < components.len();
        if name.to_string_lossy().starts_with('.')
            || excludes.matches_under(&entry, root)
            || ignored(&rules, &entry, is_dir)
        {
            return false;
        }
        if is_dir {
            rules.push(DirRules::read(&entry));
        }
    }
    !components.is_empty()
}

/// The file and the reason to report for an error of the walk.
fn describe_walk_error(err: &ignore::Error) -> (Option<PathBuf>, String) {
    match err {
        ignore::Error::Loop { child, .. } => (Some(child.clone()), "symbolic link loop".into()),
        ignore::Error::WithPath { path, err } => {
            let (inner, reason) = describe_walk_error(err);
            let broken = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                && std::fs::metadata(path).is_err();
            let reason = if broken {
                "broken symbolic link".into()
            } else {
                reason
            };
            (inner.or_else(|| Some(path.clone())), reason)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe_walk_error(err)
        }
        ignore::Error::Partial(errors) => errors
            .first()
            .map_or((None, "unreadable".into()), describe_walk_error),
        ignore::Error::Io(e) => (None, format!("unreadable: {e}")),
        other => (None, format!("unreadable: {other}")),
    }
}

/// Modification time of `meta` in nanoseconds since the epoch (0 if unknown).
pub fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// Does `path` have one of `extensions`?
pub fn has_extension(path: &Path, extensions: &[String]) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        extensions
            .iter()
            .any(|x| x.trim_start_matches('.').eq_ignore_ascii_case(e))
    })
}

/// A human size: "12.3 MB".
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// Walks `roots` in parallel.  Returns the files to index, sorted by path
/// and without duplicates (overlapping roots, several symlinks to one file),
/// and the files skipped with their reasons.  A missing root is an error.
pub fn walk(
    roots: &[PathBuf],
    options: &WalkOptions,
    progress: &Progress,
) -> Result<(Vec<FileEntry>, Vec<Skipped>)> {
    if roots.is_empty() {
        return Err(Error::index(
            "No note directories are configured (set artisan-knowledge-roots)",
        ));
    }
    for root in roots {
        if !root.is_dir() {
            return Err(Error::index(format!(
                "The notes directory {} does not exist or is not a directory",
                root.display()
            )));
        }
    }
    let excludes = Excludes::new(&options.exclude)?;
    let found: Mutex<Vec<FileEntry>> = Mutex::new(Vec::new());
    let skipped: Mutex<Vec<Skipped>> = Mutex::new(Vec::new());

    for (root_index, root) in roots.iter().enumerate() {
        progress.check()?;
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(true)
            .parents(true)
            .ignore(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .follow_links(true)
            .threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(4)));
        let excludes_for_filter = excludes.clone();
        let root_for_filter = root.clone();
        builder
            .filter_entry(move |e| !excludes_for_filter.matches_under(e.path(), &root_for_filter));
        builder.build_parallel().run(|| {
            let found = &found;
            let skipped = &skipped;
            Box::new(move |entry| {
                if progress.is_cancelled() {
                    return WalkState::Quit;
                }
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        let (path, reason) = describe_walk_error(&err);
                        let path = path.map_or_else(
                            || root.display().to_string(),
                            |p| p.display().to_string(),
                        );
                        if let Ok(mut s) = skipped.lock() {
                            s.push(Skipped { path, reason });
                        }
                        return WalkState::Continue;
                    }
                };
                let path = entry.path();
                if entry.file_type().is_some_and(|t| t.is_dir()) {
                    return WalkState::Continue;
                }
                if !has_extension(path, &options.extensions) {
                    return WalkState::Continue;
                }
                let meta = match std::fs::metadata(path) {
                    Ok(m) => m,
                    Err(e) => {
                        if let Ok(mut s) = skipped.lock() {
                            s.push(Skipped {
                                path: path.display().to_string(),
                                reason: format!("unreadable: {e}"),
                            });
                        }
                        return WalkState::Continue;
                    }
                };
                if !meta.is_file() {
                    return WalkState::Continue;
                }
                if meta.len() > options.max_file_size {
                    if let Ok(mut s) = skipped.lock() {
                        s.push(Skipped {
                            path: path.display().to_string(),
                            reason: format!(
                                "larger than {} ({})",
                                human_size(options.max_file_size),
                                human_size(meta.len())
                            ),
                        });
                    }
                    return WalkState::Continue;
                }
                let file = FileEntry {
                    path: path.to_path_buf(),
                    root: root_index,
                    size: meta.len(),
                    mtime: mtime_of(&meta),
                };
                if let Ok(mut f) = found.lock() {
                    f.push(file);
                    progress.set_done(f.len() as u64);
                }
                WalkState::Continue
            })
        });
    }
    progress.check()?;
    let mut files = found.into_inner().unwrap_or_default();
    let mut skipped = skipped.into_inner().unwrap_or_default();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    dedup_same_file(&mut files);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, skipped))
}

/// Drops entries that are the same file reached twice (through a symlink or
/// overlapping roots), keeping the first path in sort order.
fn dedup_same_file(files: &mut Vec<FileEntry>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mut seen = HashSet::new();
        files.retain(|f| match std::fs::metadata(&f.path) {
            Ok(m) => seen.insert((m.dev(), m.ino())),
            Err(_) => true,
        });
    }
    #[cfg(not(unix))]
    {
        let mut seen = HashSet::new();
        files.retain(|f| {
            let key = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
            seen.insert(key)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn options() -> WalkOptions {
        WalkOptions {
            extensions: vec!["org".into(), "md".into(), "txt".into()],
            exclude: vec!["*.draft.org".into(), "**/archive/**".into()],
            max_file_size: 100,
        }
    }

    fn tree() -> tempfile_lite::TempDir {
        let t = tempfile_lite::TempDir::new("walk");
        let w = |p: &str, content: &str| {
            let path = t.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        };
        w("a.org", "* a");
        w("sub/b.md", "# b");
        w("sub/c.txt", "c");
        w("sub/ignored.org", "x");
        w(".gitignore", "sub/ignored.org\n");
        w(".hidden/h.org", "hidden");
        w("x.draft.org", "draft");
        w("archive/old.org", "old");
        w("big.org", &"x".repeat(200));
        w("image.png", "png");
        t
    }

    #[test]
    fn walks_what_is_wanted_and_reports_what_is_too_big() {
        let t = tree();
        let (files, skipped) =
            walk(&[t.path().to_path_buf()], &options(), &Progress::default()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.path.strip_prefix(t.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["a.org", "sub/b.md", "sub/c.txt"]);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].path.ends_with("big.org"));
        assert_eq!(skipped[0].reason, "larger than 100 B (200 B)");
        assert!(files.iter().all(|f| f.mtime > 0 && f.size > 0));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_without_looping_or_duplicating() {
        let t = tree();
        std::os::unix::fs::symlink(t.path(), t.path().join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(t.path().join("a.org"), t.path().join("alias.org")).unwrap();
        let (files, skipped) =
            walk(&[t.path().to_path_buf()], &options(), &Progress::default()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.path.strip_prefix(t.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["a.org", "sub/b.md", "sub/c.txt"]);
        assert!(
            skipped.iter().any(|s| s.reason == "symbolic link loop"),
            "{skipped:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_broken_symlink_is_reported_under_its_own_name() {
        let t = tree();
        std::os::unix::fs::symlink("/no/such/target", t.path().join("dangling.org")).unwrap();
        let (_, skipped) =
            walk(&[t.path().to_path_buf()], &options(), &Progress::default()).unwrap();
        let dangling = skipped
            .iter()
            .find(|s| s.path.ends_with("dangling.org"))
            .unwrap_or_else(|| panic!("{skipped:?}"));
        assert_eq!(
            dangling.path,
            t.path().join("dangling.org").display().to_string()
        );
        assert_eq!(dangling.reason, "broken symbolic link");
    }

    #[test]
    fn root_relative_globs_and_dotted_extensions() {
        let t = tree();
        let mut o = options();
        o.exclude = vec!["sub/*.md".into()];
        o.extensions = vec![".org".into(), ".MD".into(), "txt".into()];
        let (files, _) = walk(&[t.path().to_path_buf()], &o, &Progress::default()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.path.strip_prefix(t.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            vec!["a.org", "archive/old.org", "sub/c.txt", "x.draft.org"]
        );
    }

    #[test]
    fn would_walk_agrees_with_the_walk() {
        let t = tree();
        let w = |p: &str, content: &str| {
            let path = t.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        };
        w("sub/.ignore", "kept.org\n");
        w("sub/kept.org", "x");
        w("sub/deeper/.gitignore", "!keep.tmp.org\n");
        w("sub/deeper/keep.tmp.org", "x");
        w("sub/deeper/drop.tmp.org", "x");
        w(".gitignore", "sub/ignored.org\nbuild/\n*.tmp.org\n");
        w("build/x.org", "x");
        let o = options();
        let (files, _) = walk(&[t.path().to_path_buf()], &o, &Progress::default()).unwrap();
        let walked: HashSet<PathBuf> = files.into_iter().map(|f| f.path).collect();
        let excludes = Excludes::new(&o.exclude).unwrap();
        for p in [
            "a.org",
            "sub/b.md",
            "sub/c.txt",
            "sub/ignored.org",
            "sub/kept.org",
            ".hidden/h.org",
            "x.draft.org",
            "archive/old.org",
            "build/x.org",
            "image.png",
            "sub/deeper/keep.tmp.org",
            "sub/deeper/drop.tmp.org",
        ] {
            let path = t.path().join(p);
            assert_eq!(
                would_walk(t.path(), &path, &o, &excludes),
                walked.contains(&path),
                "{p}"
            );
        }
    }

    #[test]
    fn overlapping_roots_give_each_file_once() {
        let t = tree();
        let roots = vec![t.path().to_path_buf(), t.path().join("sub")];
        let (files, _) = walk(&roots, &options(), &Progress::default()).unwrap();
        assert_eq!(files.len(), 3);
    }

    #[test]
    fn a_missing_root_or_a_bad_glob_is_an_error() {
        let e = walk(
            &[PathBuf::from("/no/such/notes")],
            &options(),
            &Progress::default(),
        )
        .unwrap_err();
        assert!(
            e.message.contains("/no/such/notes does not exist"),
            "{}",
            e.message
        );
        let t = tree();
        let mut o = options();
        o.exclude = vec!["a[".into()];
        let e = walk(&[t.path().to_path_buf()], &o, &Progress::default()).unwrap_err();
        assert!(
            e.message.contains("Invalid exclude glob \"a[\""),
            "{}",
            e.message
        );
        let e = walk(&[], &o, &Progress::default()).unwrap_err();
        assert!(e.message.contains("artisan-knowledge-roots"));
    }

    #[test]
    fn a_cancelled_walk_stops() {
        let t = tree();
        let p = Progress::default();
        p.cancel();
        let e = walk(&[t.path().to_path_buf()], &options(), &p).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Cancelled);
    }
}

/// A minimal temporary directory for tests (removed on drop).
#[cfg(test)]
pub(crate) mod tempfile_lite {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    /// A directory under the system temp dir, deleted on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        /// Creates a fresh directory whose name starts with `prefix`.
        pub fn new(prefix: &str) -> TempDir {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("artisan-{prefix}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        /// The directory.
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
