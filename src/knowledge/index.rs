//! A knowledge index on disk: one tantivy index per set of roots, updated
//! incrementally and atomically.
//!
//! The index lives in `<data>/index/<hash of the roots>-v<schema version>/`,
//! so a schema change starts a fresh index (a full rebuild) and the old one is
//! removed once no process is writing it.  The per-file state that makes
//! updates incremental (modification time, size, content hash) is stored in
//! the file documents' fast fields, so it is committed atomically with the
//! documents: killing Emacs mid-update leaves the previous commit, state
//! included, searchable.  Writes take tantivy's writer lock; a second Emacs on
//! the same index can search but gets a clear error if it tries to write
//! while the first one is.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::directory::error::LockError;
use tantivy::schema::Term;
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError,
};

use super::directory::CacheDirectory;
use super::parse::{self, Format, Note, ParseOptions};
use super::schema::{self, Fields, KIND_FILE, KIND_SECTION, SCHEMA_VERSION};
use super::search::{self, Hit, SearchOptions};
use super::walk::{self, FileEntry, Skipped, WalkOptions};
use crate::error::{Error, Kind, Result, ResultExt};
use crate::job::Progress;

/// Everything that defines an index and how it is filled.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// The note directories, absolute.
    pub roots: Vec<PathBuf>,
    /// `artisan-data-directory`; the index goes below it.
    pub data_dir: PathBuf,
    /// What to walk.
    pub walk: WalkOptions,
    /// How to parse.
    pub parse: ParseOptions,
    /// The schema version (tests change it to check rebuilds).
    pub schema_version: u32,
}

impl IndexConfig {
    /// A configuration with the default schema version.
    pub fn new(
        roots: Vec<PathBuf>,
        data_dir: PathBuf,
        walk: WalkOptions,
        parse: ParseOptions,
    ) -> IndexConfig {
        IndexConfig {
            roots,
            data_dir,
            walk,
            parse,
            schema_version: SCHEMA_VERSION,
        }
    }

    fn roots_key(&self) -> String {
        let mut roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        roots.sort();
        format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(roots.join("\n").as_bytes())
        )
    }

    /// The index directory for these roots and schema version.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir
            .join("index")
            .join(format!("{}-v{}", self.roots_key(), self.schema_version))
    }
}

/// What the index knows about one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
    /// xxh3 of the file's bytes.
    pub hash: u64,
}

/// Counts from one update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Files under the roots (indexed ones, after the update).
    pub files: u64,
    /// Files (re)indexed.
    pub indexed: u64,
    /// Files removed from the index (deleted, renamed away, now excluded).
    pub removed: u64,
    /// Files skipped (too big, binary, unreadable).
    pub skipped: u64,
    /// Of the removed and indexed files, those that were renames (same content).
    pub renamed: u64,
    /// Wall time of the update in seconds.
    pub seconds: f64,
}

/// What an update changed, for whoever keeps derived data (the link graph).
#[derive(Debug, Default)]
pub struct UpdateOutcome {
    /// The counts.
    pub stats: UpdateStats,
    /// Notes (re)indexed, by absolute path, without their section bodies.
    pub indexed: Vec<(String, Note)>,
    /// Paths removed from the index.
    pub removed: Vec<String>,
    /// Whether every document was replaced (a rebuild).
    pub full: bool,
}

/// Which files an update looks at.
#[derive(Debug, Clone)]
pub enum UpdateScope {
    /// Walk the roots; (re)index what changed, remove what is gone.
    Changed,
    /// Walk the roots and reindex everything.
    Rebuild,
    /// Only these files (for example the one just saved).
    Files(Vec<PathBuf>),
}

/// The persisted result of the last update, shown by `artisan-index-status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LastUpdate {
    /// When it finished, seconds since the epoch.
    pub time: f64,
    /// Its counts.
    pub stats: UpdateStats,
    /// Files skipped during the last walk: (path, reason).
    pub skipped: Vec<(String, String)>,
}

/// The index's status for `artisan-index-status`.
#[derive(Debug, Clone)]
pub struct Status {
    /// The roots.
    pub roots: Vec<String>,
    /// The index directory.
    pub dir: String,
    /// Files in the index.
    pub files: u64,
    /// Documents (files and sections).
    pub documents: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// The last update, if any.
    pub last: Option<LastUpdate>,
    /// Whether the index needs a build before searching (see
    /// [`KnowledgeIndex::is_fresh`]).
    pub fresh: bool,
}

/// An open knowledge index.
pub struct KnowledgeIndex {
    config: IndexConfig,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    state: RwLock<HashMap<String, FileState>>,
    last: RwLock<Option<LastUpdate>>,
    writing: Mutex<()>,
    /// The notes were parsed with other options: the next walk-based
    /// update parses them all again.
    reparse: AtomicBool,
}

impl std::fmt::Debug for KnowledgeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KnowledgeIndex({})", self.dir.display())
    }
}

const STATUS_FILE: &str = "artisan-status.json";

fn index_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::index(format!("{context}: {e}"))
}

/// Does another process hold the writer lock of the index in `dir`?
fn writer_busy(dir: &Path) -> bool {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(".tantivy-writer.lock"))
    {
        Ok(file) => file.try_lock().is_err(),
        Err(_) => false,
    }
}

/// Maps a failure to take tantivy's writer lock to a readable error.
fn writer_error(e: TantivyError, dir: &Path) -> Error {
    match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => Error::new(
            Kind::Locked,
            format!(
                "The index in {} is being updated by another Emacs; searching still works, \
                 update again when it is done",
                dir.display()
            ),
        ),
        e => index_error("Cannot write the index", e),
    }
}

impl KnowledgeIndex {
    /// Opens the index for `config`, creating it if needed.  An index that
    /// cannot be read (a damaged file) is removed and recreated empty: it
    /// is only a cache of the notes, and the next update refills it.
    pub fn open(config: IndexConfig) -> Result<KnowledgeIndex> {
        let dir = config.index_dir();
        std::fs::create_dir_all(&dir).map_err(|e| {
            index_error(
                &format!(
                    "Cannot create the index directory {} (check artisan-data-directory)",
                    dir.display()
                ),
                e,
            )
        })?;
        match Self::open_dir(&config, &dir) {
            Ok(this) => Ok(this),
            Err(e) if e.kind == Kind::Index => {
                if writer_busy(&dir) {
                    return Err(Error::new(
                        Kind::Locked,
                        format!(
                            "The index in {} cannot be read ({}) while another Emacs \
                             updates it; try again when it is done",
                            dir.display(),
                            e.message
                        ),
                    ));
                }
                // Damaged: start again; the notes are the source of truth.
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e2| index_error(&format!("Cannot recreate {}", dir.display()), e2))?;
                Self::open_dir(&config, &dir).map_err(|e2| {
                    e2.context(format!(
                        "The index in {} was unreadable ({}) and cannot be recreated",
                        dir.display(),
                        e.message
                    ))
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Opens (or creates) the index in `dir` and reads all of it that a
    /// search or an update needs, so that a damaged file shows here.
    fn open_dir(config: &IndexConfig, dir: &Path) -> Result<KnowledgeIndex> {
        let (schema, fields) = schema::build();
        let directory = CacheDirectory::open(dir)
            .map_err(|e| index_error(&format!("Cannot open {}", dir.display()), e))?;
        let index = if dir.join("meta.json").exists() {
            Index::open(directory).map_err(|e| index_error("Cannot read the index", e))?
        } else {
            Index::create(directory, schema.clone(), IndexSettings::default())
                .map_err(|e| index_error("Cannot create the index", e))?
        };
        if index.schema() != schema {
            return Err(Error::index(format!(
                "The index in {} has an unexpected schema",
                dir.display()
            )));
        }
        schema::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(|e| index_error("Cannot read the index", e))?;
        let last = std::fs::read(dir.join(STATUS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        // Notes parsed with other options (TODO keywords) are parsed again.
        let parsed_with = index
            .load_metas()
            .map_err(|e| index_error("Cannot read the index", e))?
            .payload;
        let this = KnowledgeIndex {
            config: config.clone(),
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            state: RwLock::new(HashMap::new()),
            last: RwLock::new(last),
            writing: Mutex::new(()),
            reparse: AtomicBool::new(false),
        };
        this.load_state()?;
        this.check_stores()?;
        let stale = parsed_with.is_some_and(|p| p != this.parse_digest());
        this.reparse
            .store(stale && this.file_count() > 0, Ordering::Relaxed);
        this.remove_old_versions();
        Ok(this)
    }

    /// Opens the document store of every segment (what reading a result
    /// needs), so that a damaged store shows when the index is opened.
    fn check_stores(&self) -> Result<()> {
        for segment in self.reader.searcher().segment_readers() {
            segment
                .get_store_reader(0)
                .map_err(|e| index_error("Cannot read the index", e))?;
        }
        Ok(())
    }

    /// A digest of the parse options, recorded with each commit: notes
    /// indexed with other options are parsed again.
    fn parse_digest(&self) -> String {
        format!(
            "parse-{:016x}",
            xxhash_rust::xxh3::xxh3_64(format!("{:?}", self.config.parse).as_bytes())
        )
    }

    /// The configuration this index was opened with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes index directories of the same roots with other schema
    /// versions, when no process holds their writer lock.
    fn remove_old_versions(&self) {
        let Some(parent) = self.dir.parent() else {
            return;
        };
        let key = self.config.roots_key();
        let Ok(entries) = std::fs::read_dir(parent) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path == self.dir || !name.starts_with(&format!("{key}-v")) {
                continue;
            }
            if !writer_busy(&path) {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }

    /// Reads the per-file state from the file documents' fast fields.
    fn load_state(&self) -> Result<()> {
        self.reader
            .reload()
            .map_err(|e| index_error("Cannot read the index", e))?;
        let searcher = self.reader.searcher();
        let mut state = HashMap::new();
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let kind = ff
                .u64("kind")
                .map_err(|e| index_error("Reading kinds", e))?;
            let mtime = ff
                .i64("mtime")
                .map_err(|e| index_error("Reading mtimes", e))?;
            let size = ff
                .u64("size")
                .map_err(|e| index_error("Reading sizes", e))?;
            let hash = ff
                .u64("hash")
                .map_err(|e| index_error("Reading hashes", e))?;
            let Some(path) = ff
                .str("path")
                .map_err(|e| index_error("Reading paths", e))?
            else {
                continue;
            };
            let mut buf = String::new();
            for doc in segment.doc_ids_alive() {
                if kind.first(doc) != Some(KIND_FILE) {
                    continue;
                }
                let Some(ord) = path.ords().first(doc) else {
                    continue;
                };
                buf.clear();
                if path.ord_to_str(ord, &mut buf).unwrap_or(false) {
                    state.insert(
                        buf.clone(),
                        FileState {
                            mtime: mtime.first(doc).unwrap_or(0),
                            size: size.first(doc).unwrap_or(0),
                            hash: hash.first(doc).unwrap_or(0),
                        },
                    );
                }
            }
        }
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = state;
        Ok(())
    }

    /// Number of files in the index.
    pub fn file_count(&self) -> usize {
        self.state.read().map(|s| s.len()).unwrap_or(0)
    }

    /// The state of one file, if indexed.
    pub fn file_state(&self, path: &str) -> Option<FileState> {
        self.state.read().ok().and_then(|s| s.get(path).copied())
    }

    /// Searches the index.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        search::search(&searcher, &self.fields, query, options)
    }

    /// The stored metadata (without section bodies) of the note at `path`,
    /// or None when it is not indexed.  The link graph reads the contexts
    /// of links from here instead of keeping them in memory.
    pub fn note(&self, path: &str) -> Result<Option<Note>> {
        use tantivy::query::{BooleanQuery, TermQuery};
        use tantivy::schema::{IndexRecordOption, Value};
        let searcher = self.reader.searcher();
        let query = BooleanQuery::intersection(vec![
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.path, path),
                IndexRecordOption::Basic,
            )),
            Box::new(TermQuery::new(
                Term::from_field_u64(self.fields.kind, KIND_FILE),
                IndexRecordOption::Basic,
            )),
        ]);
        let addresses = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .or_kind(Kind::Index, "Finding a note")?;
        let Some(address) = addresses.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher
            .doc(address)
            .or_kind(Kind::Index, "Reading a note")?;
        let json = doc
            .get_first(self.fields.note)
            .and_then(|v| v.as_str())
            .unwrap_or("{}");
        Ok(serde_json::from_str::<Note>(json).ok())
    }

    /// Calls `f` with the path and metadata (without bodies) of every note in
    /// the index: what the link graph is built from.
    pub fn for_each_note(&self, mut f: impl FnMut(String, Note)) -> Result<()> {
        let searcher = self.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_u64(self.fields.kind, KIND_FILE),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let addresses = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .or_kind(Kind::Index, "Listing notes")?;
        for address in addresses {
            let doc: TantivyDocument = searcher
                .doc(address)
                .or_kind(Kind::Index, "Reading a note")?;
            use tantivy::schema::Value;
            let path = doc
                .get_first(self.fields.path)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let json = doc
                .get_first(self.fields.note)
                .and_then(|v| v.as_str())
                .unwrap_or("{}");
            if let Ok(note) = serde_json::from_str::<Note>(json) {
                f(path, note);
            }
        }
        Ok(())
    }

    /// True when the index needs a build before searching: no walk of the
    /// roots ever completed (saving single notes does not count), or the
    /// notes were parsed with other options.
    pub fn is_fresh(&self) -> bool {
        self.reparse.load(Ordering::Relaxed)
            || self.last.read().map(|l| l.is_none()).unwrap_or(true)
    }

    /// The index's status.
    pub fn status(&self) -> Status {
        let searcher = self.reader.searcher();
        let last = self.last.read().ok().and_then(|l| l.clone());
        Status {
            roots: self
                .config
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect(),
            dir: self.dir.display().to_string(),
            files: self.file_count() as u64,
            documents: searcher.num_docs(),
            bytes: dir_size(&self.dir),
            fresh: self.is_fresh(),
            last,
        }
    }

    /// Updates the index.  Runs on a worker; checks `progress` for
    /// cancellation between files and rolls back when cancelled, leaving
    /// the previous commit intact.
    pub fn update(&self, scope: UpdateScope, progress: &Progress) -> Result<UpdateOutcome> {
        let started = Instant::now();
        let _one_at_a_time = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let single = matches!(scope, UpdateScope::Files(_));
        let reparse = self.reparse.load(Ordering::Relaxed);
        let full = matches!(scope, UpdateScope::Rebuild) || (reparse && !single);

        progress.set_phase("scanning");
        let (entries, walked_skipped, removed_paths) = match &scope {
            UpdateScope::Files(paths) => self.stat_files(paths)?,
            _ => {
                let (entries, skipped) =
                    walk::walk(&self.config.roots, &self.config.walk, progress)?;
                let present: HashSet<String> = entries
                    .iter()
                    .map(|e| e.path.display().to_string())
                    .collect();
                let removed: Vec<String> = self
                    .state
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .keys()
                    .filter(|p| !present.contains(*p))
                    .cloned()
                    .collect();
                (entries, skipped, removed)
            }
        };
        progress.check()?;

        // What changed.
        let to_index: Vec<&FileEntry> = {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            entries
                .iter()
                .filter(|e| {
                    full || state
                        .get(&e.path.display().to_string())
                        .is_none_or(|s| s.mtime != e.mtime || s.size != e.size)
                })
                .collect()
        };
        if to_index.is_empty() && removed_paths.is_empty() && !full {
            let stats = UpdateStats {
                files: self.file_count() as u64,
                skipped: walked_skipped.len() as u64,
                seconds: started.elapsed().as_secs_f64(),
                ..UpdateStats::default()
            };
            if !single {
                self.record(&stats, &walked_skipped);
            }
            return Ok(UpdateOutcome {
                stats,
                ..UpdateOutcome::default()
            });
        }

        let mut writer = self.writer(single)?;
        if full {
            writer
                .delete_all_documents()
                .map_err(|e| index_error("Cannot clear the index", e))?;
        }

        progress.set_phase("indexing");
        progress.set_total(to_index.len() as u64);
        progress.set_done(0);
        let skipped = Mutex::new(walked_skipped);
        let results: Vec<Option<(String, FileState, Note)>> = to_index
            .par_iter()
            .map(|entry| -> Result<Option<(String, FileState, Note)>> {
                progress.check()?;
                let r = self.index_file(&writer, entry, &skipped);
                progress.advance(1);
                r
            })
            .collect::<Result<_>>()
            .inspect_err(|_| {
                let _ = writer.rollback();
            })?;

        for path in &removed_paths {
            writer.delete_term(Term::from_field_text(self.fields.path, path));
        }

        progress.check().inspect_err(|_| {
            let _ = writer.rollback();
        })?;
        progress.set_phase("committing");
        // The commit records the options the notes were parsed with; while
        // some are stale, a mark that differs from every digest.
        let parsed_with = if reparse && !full {
            "stale".to_string()
        } else {
            self.parse_digest()
        };
        let mut prepared = writer
            .prepare_commit()
            .map_err(|e| index_error("Cannot commit the index", e))?;
        prepared.set_payload(&parsed_with);
        prepared
            .commit()
            .map_err(|e| index_error("Cannot commit the index", e))?;
        if full {
            self.reparse.store(false, Ordering::Relaxed);
        }
        // Merges run on tantivy's threads; waiting keeps segments few and
        // releases the writer lock when the job ends.
        let _ = writer.wait_merging_threads();
        self.reader
            .reload()
            .map_err(|e| index_error("Cannot reload the index", e))?;

        // The new state.
        let mut skipped = skipped.into_inner().unwrap_or_default();
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let skipped_paths: HashSet<&str> = skipped.iter().map(|s| s.path.as_str()).collect();
        let mut outcome = UpdateOutcome {
            full,
            ..UpdateOutcome::default()
        };
        {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            if full {
                state.clear();
            }
            let mut removed_hashes: HashMap<u64, usize> = HashMap::new();
            for path in &removed_paths {
                if let Some(s) = state.remove(path) {
                    *removed_hashes.entry(s.hash).or_default() += 1;
                }
                outcome.removed.push(path.clone());
            }
            for entry in &to_index {
                let p = entry.path.display().to_string();
                if skipped_paths.contains(p.as_str()) && state.remove(&p).is_some() {
                    outcome.removed.push(p);
                }
            }
            for (path, file_state, note) in results.into_iter().flatten() {
                if let Some(n) = removed_hashes.get_mut(&file_state.hash).filter(|n| **n > 0) {
                    *n -= 1;
                    outcome.stats.renamed += 1;
                }
                state.insert(path.clone(), file_state);
                outcome.indexed.push((path, note));
            }
            outcome.stats.files = state.len() as u64;
        }
        outcome.stats.indexed = outcome.indexed.len() as u64;
        outcome.stats.removed = outcome.removed.len() as u64;
        outcome.stats.skipped = skipped.len() as u64;
        outcome.stats.seconds = started.elapsed().as_secs_f64();
        if !single {
            self.record(&outcome.stats, &skipped);
        }
        Ok(outcome)
    }

    /// A writer: all cores for walks, one small thread for single files.
    fn writer(&self, single: bool) -> Result<IndexWriter<TantivyDocument>> {
        let (threads, memory) = if single {
            (1, 15_000_000)
        } else {
            let n = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
            (n, n * 40_000_000)
        };
        self.index
            .writer_with_num_threads(threads, memory)
            .map_err(|e| writer_error(e, &self.dir))
    }

    /// For single-file updates: stat each file; missing or no longer
    /// indexable files are removed.  A file is indexable when the walk of
    /// its root would index it (see [`walk::would_walk`]); a file reached
    /// through another path than its root's (the real path of a root that
    /// is a symbolic link) is indexed under the path the walk gives it.
    fn stat_files(&self, paths: &[PathBuf]) -> Result<(Vec<FileEntry>, Vec<Skipped>, Vec<String>)> {
        let excludes = walk::Excludes::new(&self.config.walk.exclude)?;
        let canonical_roots: Vec<Option<PathBuf>> = self
            .config
            .roots
            .iter()
            .map(|r| std::fs::canonicalize(r).ok())
            .collect();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        let mut removed = Vec::new();
        for given in paths {
            let (path, root) = match self.in_roots(given, &canonical_roots) {
                Some((path, root)) => (path, Some(root)),
                None => (given.clone(), None),
            };
            let key = path.display().to_string();
            let indexable = root.is_some_and(|r| {
                walk::would_walk(&self.config.roots[r], &path, &self.config.walk, &excludes)
            });
            match (indexable, std::fs::metadata(&path)) {
                (true, Ok(meta)) if meta.is_file() => {
                    if meta.len() > self.config.walk.max_file_size {
                        skipped.push(Skipped {
                            path: key.clone(),
                            reason: format!(
                                "larger than {} ({})",
                                walk::human_size(self.config.walk.max_file_size),
                                walk::human_size(meta.len())
                            ),
                        });
                        if state.contains_key(&key) {
                            removed.push(key);
                        }
                    } else {
                        entries.push(FileEntry {
                            path,
                            root: root.unwrap_or(0),
                            size: meta.len(),
                            mtime: walk::mtime_of(&meta),
                        });
                    }
                }
                _ => {
                    if state.contains_key(&key) {
                        removed.push(key);
                    }
                }
            }
        }
        Ok((entries, skipped, removed))
    }

    /// The path under which the walk reaches `path`, and the index of its
    /// root: `path` itself when it is under a root as written, else the
    /// root joined with its place under the root's real directory.
    fn in_roots(
        &self,
        path: &Path,
        canonical_roots: &[Option<PathBuf>],
    ) -> Option<(PathBuf, usize)> {
        let roots = &self.config.roots;
        if let Some(i) = roots.iter().position(|r| path.starts_with(r)) {
            return Some((path.to_path_buf(), i));
        }
        // A deleted file has no real path; its folder does.
        let real = std::fs::canonicalize(path).ok().or_else(|| {
            let parent = std::fs::canonicalize(path.parent()?).ok()?;
            Some(parent.join(path.file_name()?))
        })?;
        roots
            .iter()
            .zip(canonical_roots)
            .enumerate()
            .find_map(|(i, (root, canonical))| {
                let relative = real.strip_prefix(canonical.as_ref()?).ok()?;
                Some((root.join(relative), i))
            })
    }

    /// Reads, parses and adds one file's documents (after deleting its old
    /// ones).  Returns None (and records why) when the file is skipped.
    fn index_file(
        &self,
        writer: &IndexWriter<TantivyDocument>,
        entry: &FileEntry,
        skipped: &Mutex<Vec<Skipped>>,
    ) -> Result<Option<(String, FileState, Note)>> {
        let path_str = entry.path.display().to_string();
        let path_term = Term::from_field_text(self.fields.path, &path_str);
        let skip = |reason: String| {
            if let Ok(mut s) = skipped.lock() {
                s.push(Skipped {
                    path: path_str.clone(),
                    reason,
                });
            }
            // A file that can no longer be indexed leaves the index.
            writer.delete_term(path_term.clone());
            Ok(None)
        };
        if entry.path.to_str().is_none() {
            return skip("file name is not valid UTF-8".into());
        }
        let bytes = match std::fs::read(&entry.path) {
            Ok(b) => b,
            Err(e) => return skip(format!("unreadable: {e}")),
        };
        if bytes.len() as u64 > self.config.walk.max_file_size {
            return skip(format!(
                "larger than {} ({})",
                walk::human_size(self.config.walk.max_file_size),
                walk::human_size(bytes.len() as u64)
            ));
        }
        if bytes.iter().take(8192).any(|&b| b == 0) {
            return skip("binary (contains NUL bytes)".into());
        }
        let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
        let text = parse::decode(&bytes);
        drop(bytes);
        let ext = entry
            .path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let stem = entry
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        // A parser bug costs this one file, reported, not the whole update.
        let parsed = crate::error::catch_panics(|| {
            Ok(parse::parse(
                &text,
                Format::from_extension(&ext),
                stem,
                &self.config.parse,
            ))
        });
        let mut note = match parsed {
            Ok(note) => note,
            Err(e) => return skip(format!("could not be parsed: {e}")),
        };
        let relative = self
            .config
            .roots
            .get(entry.root)
            .and_then(|r| entry.path.strip_prefix(r).ok())
            .unwrap_or(&entry.path)
            .display()
            .to_string();
        let state = FileState {
            mtime: entry.mtime,
            size: entry.size,
            hash,
        };
        let title_column = title_column(&text, &note);
        drop(text);
        let docs = self.documents(&path_str, &relative, &ext, &note, &state, title_column);
        writer.delete_term(path_term);
        for doc in docs {
            writer
                .add_document(doc)
                .map_err(|e| index_error("Cannot add a document", e))?;
        }
        // The graph does not need the section texts.
        for s in &mut note.sections {
            s.body = String::new();
        }
        Ok(Some((path_str, state, note)))
    }

    /// The file document and the section documents of one note.
    fn documents(
        &self,
        path: &str,
        relative: &str,
        ext: &str,
        note: &Note,
        state: &FileState,
        title_column: Option<u32>,
    ) -> Vec<TantivyDocument> {
        let f = &self.fields;
        let mut docs = Vec::with_capacity(note.sections.len() + 1);
        let name = Path::new(relative)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");

        let key = schema::file_key(path);
        let mut file = TantivyDocument::default();
        file.add_u64(f.kind, KIND_FILE);
        file.add_u64(f.file, key);
        file.add_text(f.path, path);
        file.add_text(f.path_text, relative);
        file.add_text(f.name, name);
        file.add_text(f.ext, ext);
        file.add_text(f.title, &note.title);
        for a in &note.aliases {
            file.add_text(f.alias, a);
        }
        for t in &note.tags {
            file.add_text(f.tag, t);
            file.add_text(f.scope_tag, t);
        }
        let mut all_tags: Vec<&str> = Vec::new();
        for t in note
            .tags
            .iter()
            .chain(note.sections.iter().flat_map(|s| &s.all_tags))
        {
            if !all_tags.contains(&t.as_str()) {
                all_tags.push(t);
            }
        }
        for t in &all_tags {
            file.add_text(f.note_tag, t);
        }
        for t in &note.tags {
            file.add_text(f.all_tags, t);
        }
        if let Some(id) = &note.id {
            file.add_text(f.id, id);
            file.add_text(f.scope_id, id);
        }
        file.add_u64(f.line, u64::from(note.title_line));
        if let Some(column) = title_column {
            file.add_u64(f.title_column, u64::from(column));
        }
        file.add_u64(f.body_line, 1);
        file.add_u64(f.level, 0);
        file.add_i64(f.mtime, state.mtime);
        file.add_u64(f.size, state.size);
        file.add_u64(f.hash, state.hash);
        // Section bodies are not serialized (see `Section::body`).
        file.add_text(f.note, serde_json::to_string(note).unwrap_or_default());
        docs.push(file);

        // The IDs of the headings above the current one, with their levels.
        let mut ids: Vec<(u32, &str)> = Vec::new();
        for s in &note.sections {
            while ids.last().is_some_and(|(level, _)| *level >= s.level) {
                ids.pop();
            }
            if let Some(id) = s.id.as_deref().filter(|_| s.level > 0) {
                ids.push((s.level, id));
            }
            if s.level == 0 && s.body.trim().is_empty() {
                continue;
            }
            let mut d = TantivyDocument::default();
            d.add_u64(f.kind, KIND_SECTION);
            d.add_u64(f.file, key);
            d.add_text(f.path, path);
            d.add_text(f.path_text, relative);
            d.add_text(f.ext, ext);
            d.add_text(f.note_title, &note.title);
            for a in &s.aliases {
                d.add_text(f.alias, a);
            }
            if !s.heading.is_empty() {
                d.add_text(f.heading, &s.heading);
            }
            for o in &s.outline {
                d.add_text(f.outline, o);
            }
            d.add_text(f.body, &s.body);
            // The heading's own and inherited heading tags: file tags are the
            // file document's, so `tag:` on a file tag finds the note once.
            for t in s.all_tags.iter().filter(|t| !note.tags.contains(t)) {
                d.add_text(f.tag, t);
            }
            for t in &s.all_tags {
                d.add_text(f.all_tags, t);
            }
            for t in note.tags.iter().chain(&s.all_tags) {
                d.add_text(f.scope_tag, t);
            }
            for id in note
                .id
                .iter()
                .map(String::as_str)
                .chain(ids.iter().map(|(_, id)| *id))
            {
                d.add_text(f.scope_id, id);
            }
            // The preamble's ID is the file's, on the file document.
            if let Some(id) = s.id.as_ref().filter(|_| s.level > 0) {
                d.add_text(f.id, id);
            }
            if let Some(todo) = &s.todo {
                d.add_text(f.todo, todo);
                d.add_text(f.todo_raw, todo);
            }
            d.add_u64(f.line, u64::from(s.line));
            d.add_u64(f.body_line, u64::from(s.body_line));
            d.add_u64(f.level, u64::from(s.level));
            d.add_i64(f.mtime, state.mtime);
            docs.push(d);
        }
        docs
    }

    /// Persists the result of a walk-based update for `status`.
    fn record(&self, stats: &UpdateStats, skipped: &[Skipped]) {
        let last = LastUpdate {
            time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            stats: stats.clone(),
            skipped: skipped
                .iter()
                .map(|s| (s.path.clone(), s.reason.clone()))
                .collect(),
        };
        if let Ok(json) = serde_json::to_vec_pretty(&last) {
            let tmp = self.dir.join(format!("{STATUS_FILE}.tmp"));
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, self.dir.join(STATUS_FILE));
            }
        }
        if let Ok(mut l) = self.last.write() {
            *l = Some(last);
        }
    }
}

/// Gives the heap that a large update freed (file texts, parse results,
/// the writer's buffers) back to the operating system, so that Emacs'
/// resident size reflects what it still uses.  Call it once the update's
/// outcome has been consumed.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The column (in characters) where the note's title is written on its
/// title line, when it is written there as is.
fn title_column(text: &str, note: &Note) -> Option<u32> {
    let index = usize::try_from(note.title_line.checked_sub(1)?).ok()?;
    let line = text.lines().nth(index)?;
    let at = line
        .find(note.title.as_str())
        .filter(|_| !note.title.is_empty())?;
    Some(parse::char_count(&line[..at]))
}

/// Total size of the files in `dir`.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::walk::tempfile_lite::TempDir;
    use std::fs;

    struct Fixture {
        notes: TempDir,
        data: TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            let f = Fixture {
                notes: TempDir::new("notes"),
                data: TempDir::new("data"),
            };
            f.write(
                "emacs.org",
                ":PROPERTIES:\n:ID: e1\n:END:\n#+title: Emacs\n#+filetags: :editor:\n\nIntro text.\n\n* Keyboard macros\nRecord with F3, replay with F4.\n* Completion :ui:\nVertico and consult.\n",
            );
            f.write(
                "cooking/bread.md",
                "---\ntitle: Sourdough bread\ntags: [cooking]\n---\n\n# Starter\n\nFeed the starter the evening before.\n\n# Résumé\n\nA crème fraîche topping.\n",
            );
            f.write(
                "reading.txt",
                "Reading list\n\nStructure and Interpretation of Computer Programs\n",
            );
            f
        }

        fn write(&self, rel: &str, content: &str) {
            let p = self.notes.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, content).unwrap();
        }

        fn config(&self) -> IndexConfig {
            IndexConfig::new(
                vec![self.notes.path().to_path_buf()],
                self.data.path().to_path_buf(),
                WalkOptions {
                    extensions: vec!["org".into(), "md".into(), "txt".into()],
                    exclude: vec![],
                    max_file_size: 1 << 20,
                },
                ParseOptions::default(),
            )
        }

        fn open(&self) -> KnowledgeIndex {
            KnowledgeIndex::open(self.config()).unwrap()
        }
    }

    fn opts() -> SearchOptions {
        SearchOptions {
            limit: 20,
            max_per_file: 3,
            now: 0,
        }
    }

    fn places(index: &KnowledgeIndex, q: &str) -> Vec<(String, u32, u32)> {
        index
            .search(q, &opts())
            .unwrap()
            .into_iter()
            .map(|h| {
                let name = Path::new(&h.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                (name, h.line, h.column)
            })
            .collect()
    }

    #[test]
    fn a_full_update_indexes_every_note_and_search_lands_on_the_line() {
        let fx = Fixture::new();
        let index = fx.open();
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(out.stats.files, 3);
        assert_eq!(out.stats.indexed, 3);
        assert_eq!(
            places(&index, "replay"),
            vec![("emacs.org".to_string(), 10, 16)]
        );
        // Accent folding both ways.
        assert_eq!(
            places(&index, "creme fraiche"),
            vec![("bread.md".to_string(), 12, 2)]
        );
        assert_eq!(
            places(&index, "résumé"),
            vec![("bread.md".to_string(), 10, 2)]
        );
        // Prefix of the last word while typing.
        assert_eq!(
            places(&index, "verti"),
            vec![("emacs.org".to_string(), 12, 0)]
        );
        // Fields.
        assert_eq!(places(&index, "tag:ui").len(), 1);
        assert_eq!(
            places(&index, "tag:cooking feed"),
            vec![("bread.md".to_string(), 8, 0)]
        );
        assert_eq!(
            places(&index, "title:sourdough")
                .first()
                .map(|p| p.0.clone()),
            Some("bread.md".to_string())
        );
        assert_eq!(places(&index, "id:e1").len(), 1);
        assert_eq!(
            places(&index, "ext:txt"),
            vec![("reading.txt".to_string(), 1, 0)]
        );
        assert_eq!(
            places(&index, "path:cooking starter")
                .first()
                .map(|p| p.0.clone()),
            Some("bread.md".to_string())
        );
        // Phrase, OR, exclusion.
        assert_eq!(
            places(&index, "\"computer programs\""),
            vec![("reading.txt".to_string(), 3, 32)]
        );
        assert_eq!(places(&index, "\"programs computer\""), vec![]);
        assert_eq!(places(&index, "vertico OR starter").len(), 2);
        assert_eq!(places(&index, "starter -evening"), vec![]);
        // Words spread over two sections match the file, at its first match.
        assert_eq!(
            places(&index, "intro replay"),
            vec![("emacs.org".to_string(), 7, 0)]
        );
        // Fuzzy when exact finds nothing.
        let hits = index.search("sourdouh", &opts()).unwrap();
        assert!(hits
            .first()
            .is_some_and(|h| h.fuzzy && h.file.ends_with("bread.md")));
    }

    #[test]
    fn results_carry_titles_outlines_snippets_and_highlights() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        let hit = index.search("consult", &opts()).unwrap().remove(0);
        assert_eq!(hit.title, "Emacs");
        assert_eq!(hit.outline, vec!["Completion"]);
        assert_eq!(hit.snippet, "Vertico and consult.");
        assert_eq!(hit.highlights, vec![(12, 19)]);
        assert_eq!(hit.tags, vec!["editor", "ui"]);
        assert!(hit.score > 0.0);
    }

    #[test]
    fn incremental_updates_add_modify_delete_and_rename() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        // Nothing changed: nothing reindexed.
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(
            (out.stats.indexed, out.stats.removed, out.stats.files),
            (0, 0, 3)
        );
        // Add, modify, delete, rename.
        fx.write("new.org", "* Fresh\nzucchini season\n");
        fx.write("reading.txt", "Reading list\n\nGödel, Escher, Bach\n");
        fs::remove_file(fx.notes.path().join("cooking/bread.md")).unwrap();
        fs::rename(
            fx.notes.path().join("emacs.org"),
            fx.notes.path().join("editor.org"),
        )
        .unwrap();
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(out.stats.indexed, 3, "{:?}", out.stats);
        assert_eq!(out.stats.removed, 2);
        assert_eq!(out.stats.renamed, 1);
        assert_eq!(out.stats.files, 3);
        assert_eq!(
            places(&index, "zucchini"),
            vec![("new.org".to_string(), 2, 0)]
        );
        assert_eq!(
            places(&index, "escher"),
            vec![("reading.txt".to_string(), 3, 7)]
        );
        assert!(places(&index, "interpretation").is_empty());
        assert!(places(&index, "starter").is_empty());
        assert_eq!(
            places(&index, "replay"),
            vec![("editor.org".to_string(), 10, 16)]
        );
        // State survives reopening.
        drop(index);
        let index = fx.open();
        assert_eq!(index.file_count(), 3);
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(out.stats.indexed, 0);
    }

    #[test]
    fn single_file_updates_touch_only_that_file() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        fx.write("emacs.org", "#+title: Emacs\n* Saved\nquokka\n");
        let out = index
            .update(
                UpdateScope::Files(vec![fx.notes.path().join("emacs.org")]),
                &Progress::default(),
            )
            .unwrap();
        assert_eq!((out.stats.indexed, out.stats.removed), (1, 0));
        assert_eq!(
            places(&index, "quokka"),
            vec![("emacs.org".to_string(), 3, 0)]
        );
        // A file outside the roots or of another extension is ignored; a deleted one removed.
        fs::remove_file(fx.notes.path().join("reading.txt")).unwrap();
        let out = index
            .update(
                UpdateScope::Files(vec![
                    fx.notes.path().join("reading.txt"),
                    PathBuf::from("/etc/hosts"),
                ]),
                &Progress::default(),
            )
            .unwrap();
        assert_eq!((out.stats.indexed, out.stats.removed), (0, 1));
        assert_eq!(index.file_count(), 2);
    }

    #[test]
    fn binary_unreadable_and_huge_files_are_skipped_with_reasons() {
        let fx = Fixture::new();
        fs::write(fx.notes.path().join("blob.org"), b"\x00\x01binary").unwrap();
        fx.write("huge.md", &"x".repeat(2 << 20));
        fs::write(fx.notes.path().join("latin1.txt"), b"caf\xe9 au lait\n").unwrap();
        let index = fx.open();
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(out.stats.files, 4);
        assert_eq!(out.stats.skipped, 2);
        let status = index.status();
        let reasons: Vec<String> = status
            .last
            .unwrap()
            .skipped
            .into_iter()
            .map(|(p, r)| {
                format!(
                    "{}: {r}",
                    Path::new(&p).file_name().unwrap().to_string_lossy()
                )
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                "blob.org: binary (contains NUL bytes)",
                "huge.md: larger than 1.0 MB (2.1 MB)"
            ]
        );
        // Invalid UTF-8 is decoded lossily, not rejected.
        assert_eq!(
            places(&index, "lait"),
            vec![("latin1.txt".to_string(), 1, 8)]
        );
    }

    #[test]
    fn a_cancelled_update_leaves_the_previous_index_intact() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        fx.write("emacs.org", "#+title: Emacs\n* Replaced\nwombat\n");
        let progress = Progress::default();
        progress.cancel();
        let err = index.update(UpdateScope::Changed, &progress).unwrap_err();
        assert_eq!(err.kind, Kind::Cancelled);
        assert_eq!(
            places(&index, "replay"),
            vec![("emacs.org".to_string(), 10, 16)]
        );
        assert!(places(&index, "wombat").is_empty());
        // A writer that dies before committing (Emacs killed) changes nothing either.
        {
            let writer: IndexWriter<TantivyDocument> = index.index.writer(15_000_000).unwrap();
            writer.delete_all_documents().unwrap();
            drop(writer);
        }
        drop(index);
        let index = fx.open();
        assert_eq!(
            places(&index, "replay"),
            vec![("emacs.org".to_string(), 10, 16)]
        );
        // And the next update picks the change up.
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(places(&index, "wombat").len(), 1);
    }

    #[test]
    fn a_second_writer_gets_a_clear_error_and_can_still_search() {
        let fx = Fixture::new();
        let first = fx.open();
        first
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        let second = fx.open();
        let held: IndexWriter<TantivyDocument> = first.index.writer(15_000_000).unwrap();
        fx.write("new.org", "* x\nnew words\n");
        let err = second
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap_err();
        assert_eq!(err.kind, Kind::Locked);
        assert!(
            err.message.contains("being updated by another Emacs"),
            "{}",
            err.message
        );
        assert_eq!(places(&second, "replay").len(), 1);
        drop(held);
        second
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(places(&second, "words").len(), 1);
    }

    #[test]
    fn a_schema_version_change_rebuilds_in_a_new_directory() {
        let fx = Fixture::new();
        let mut old_config = fx.config();
        old_config.schema_version = SCHEMA_VERSION + 100;
        let old = KnowledgeIndex::open(old_config).unwrap();
        old.update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        let old_dir = old.dir().to_path_buf();
        drop(old);
        let index = fx.open();
        assert_ne!(index.dir(), old_dir);
        assert!(!old_dir.exists(), "the old version's directory is removed");
        assert_eq!(index.file_count(), 0);
        let out = index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(out.stats.indexed, 3);
    }

    #[test]
    fn a_corrupt_index_is_recreated() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        let dir = index.dir().to_path_buf();
        drop(index);
        fs::write(dir.join("meta.json"), b"{ not json").unwrap();
        let index = fx.open();
        assert_eq!(index.file_count(), 0);
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        assert_eq!(places(&index, "replay").len(), 1);
    }

    #[test]
    fn a_rebuild_replaces_everything_and_notes_carry_links() {
        let fx = Fixture::new();
        fx.write(
            "links.org",
            "#+title: Links\nSee [[id:e1][Emacs]] and [[file:reading.txt]].\n",
        );
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        let out = index
            .update(UpdateScope::Rebuild, &Progress::default())
            .unwrap();
        assert!(out.full);
        assert_eq!(out.stats.indexed, 4);
        let mut notes = Vec::new();
        index.for_each_note(|p, n| notes.push((p, n))).unwrap();
        assert_eq!(notes.len(), 4);
        let links = notes
            .iter()
            .find(|(p, _)| p.ends_with("links.org"))
            .unwrap();
        assert_eq!(links.1.links.len(), 2);
        assert_eq!(links.1.links[0].target, "e1");
        assert!(links.1.sections.iter().all(|s| s.body.is_empty()));
    }

    fn search_with(index: &KnowledgeIndex, q: &str, limit: usize, max_per_file: usize) -> Vec<Hit> {
        index
            .search(
                q,
                &SearchOptions {
                    limit,
                    max_per_file,
                    now: 0,
                },
            )
            .unwrap()
    }

    fn names(hits: &[Hit]) -> Vec<String> {
        let mut names: Vec<String> = hits
            .iter()
            .map(|h| {
                Path::new(&h.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn update(index: &KnowledgeIndex) -> UpdateStats {
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap()
            .stats
    }

    #[test]
    fn saving_a_note_before_the_first_update_still_needs_a_build() {
        let fx = Fixture::new();
        let index = fx.open();
        assert!(index.is_fresh());
        index
            .update(
                UpdateScope::Files(vec![fx.notes.path().join("emacs.org")]),
                &Progress::default(),
            )
            .unwrap();
        assert_eq!(index.file_count(), 1);
        assert!(index.is_fresh(), "one saved note is not a built index");
        update(&index);
        assert!(!index.is_fresh());
        assert_eq!(places(&index, "sourdough").len(), 1);
        // Reopened, it is still built.
        drop(index);
        assert!(!fx.open().is_fresh());
    }

    #[test]
    fn a_damaged_segment_is_recreated_and_rebuilt() {
        // Each way of damaging a segment file, as a crash or a disk error would.
        type Damage = fn(&Path);
        let damages: [(&str, Damage); 4] = [
            ("store", |p| fs::remove_file(p).unwrap()),
            ("term", |p| {
                let len = fs::metadata(p).unwrap().len();
                fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .unwrap()
                    .set_len(len / 2)
                    .unwrap();
            }),
            ("fast", |p| {
                let len = fs::metadata(p).unwrap().len() as usize;
                fs::write(p, vec![0x5a; len]).unwrap();
            }),
            ("idx", |p| fs::write(p, b"").unwrap()),
        ];
        for (ext, damage) in damages {
            let fx = Fixture::new();
            let index = fx.open();
            update(&index);
            let dir = index.dir().to_path_buf();
            drop(index);
            let mut damaged = 0;
            for entry in fs::read_dir(&dir).unwrap() {
                let p = entry.unwrap().path();
                if p.extension().is_some_and(|e| e == ext) {
                    damage(&p);
                    damaged += 1;
                }
            }
            assert!(damaged > 0, "no .{ext} file");
            let index = fx.open();
            assert!(index.is_fresh(), ".{ext}: recreated empty, to be built");
            let out = index
                .update(UpdateScope::Rebuild, &Progress::default())
                .unwrap();
            assert_eq!(out.stats.indexed, 3, ".{ext}");
            assert_eq!(places(&index, "replay").len(), 1, ".{ext}");
        }
    }

    #[test]
    fn a_search_error_says_how_to_recover() {
        let e = search::read_error("Footer magic byte mismatch");
        assert_eq!(e.kind, Kind::Index);
        assert!(
            e.message.contains("M-x artisan-index-rebuild"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_per_file_cap_does_not_hide_other_notes() {
        let fx = Fixture::new();
        let mut big = String::from("#+title: Big\n");
        for i in 0..60 {
            big.push_str(&format!("* Section {i}\nwombat wombat wombat {i}\n"));
        }
        fx.write("big.org", &big);
        let filler = "filler words here ".repeat(200);
        for n in ["b", "c", "d"] {
            fx.write(
                &format!("{n}.org"),
                &format!("#+title: {n}\n* One\n{filler} wombat\n"),
            );
        }
        let index = fx.open();
        update(&index);
        let hits = search_with(&index, "wombat", 6, 3);
        assert_eq!(hits.len(), 6);
        assert_eq!(names(&hits), vec!["b.org", "big.org", "c.org", "d.org"]);
        assert_eq!(
            hits.iter().filter(|h| h.file.ends_with("big.org")).count(),
            3
        );
        // Without a cap, every section.
        assert_eq!(search_with(&index, "wombat", 1000, 0).len(), 63);
    }

    #[test]
    fn excluded_tags_and_ids_leave_out_what_they_apply_to() {
        let fx = Fixture::new();
        fx.write(
            "tools.org",
            "#+title: Tools\n* Vertico notes\nvertico is fine\n* Old :old:\n** Deeper\nvertico before\n:PROPERTIES:\n:ID: h1\n:END:\n* Ivy\n:PROPERTIES:\n:ID: h2\n:END:\nvertico or ivy\n** Under ivy\nvertico again\n",
        );
        let index = fx.open();
        update(&index);
        let lines = |q: &str| -> Vec<(String, u32)> {
            let mut v: Vec<(String, u32)> = search_with(&index, q, 100, 0)
                .into_iter()
                .map(|h| (names(std::slice::from_ref(&h))[0].clone(), h.line))
                .collect();
            v.sort();
            v
        };
        let all = lines("vertico");
        assert!(all.contains(&("emacs.org".to_string(), 12)), "{all:?}");
        // emacs.org has the file tag editor: all of it goes.
        let without_editor = lines("vertico -tag:editor");
        assert!(without_editor.iter().all(|(f, _)| f != "emacs.org"));
        assert_eq!(without_editor.len(), all.len() - 1);
        // A heading tag excludes its subtree only.
        assert_eq!(
            lines("vertico -tag:old"),
            all.iter()
                .filter(|(f, l)| !(f == "tools.org" && *l == 6))
                .cloned()
                .collect::<Vec<_>>()
        );
        // A file ID excludes the note, a heading ID the heading and its children.
        assert!(lines("vertico -id:e1")
            .iter()
            .all(|(f, _)| f != "emacs.org"));
        let without_h2 = lines("vertico -id:h2");
        assert!(without_h2.contains(&("tools.org".to_string(), 2)));
        assert!(!without_h2.iter().any(|(f, l)| f == "tools.org" && *l >= 10));
        // NOT does the same.
        assert_eq!(lines("vertico NOT tag:editor"), without_editor);
    }

    #[test]
    fn words_spread_over_sections_find_every_note_ranked_by_relevance() {
        let fx = Fixture::new();
        // 450 notes with the words in different sections, more than any
        // former candidate cap, and none holding both in one section.
        for i in 0..450 {
            fx.write(
                &format!("spread/n{i:03}.org"),
                &format!("#+title: Note {i}\n* A\nquokka here\n* B\nplatypus there\n"),
            );
        }
        fx.write(
            "rank/a.md",
            "---\ntitle: Misc kitchen\ntags: [cooking]\n---\n\n# Pots\n\nBuy pots. Unrelated mention of a starter once.\n",
        );
        fx.write(
            "rank/z.md",
            "---\ntitle: Bread guide\ntags: [cooking]\n---\n\n# Starter\n\nThe starter needs feeding. Starter starter starter.\n",
        );
        let index = fx.open();
        update(&index);
        let hits = search_with(&index, "quokka platypus ", 100_000, 0);
        assert_eq!(names(&hits).len(), 450);
        assert_eq!(hits.len(), 450);
        // Each lands on a match, in the section of one of the words.
        assert!(hits.iter().all(|h| h.line == 3 || h.line == 5), "{hits:?}");
        // The limit counts notes, best first.
        assert_eq!(search_with(&index, "quokka platypus", 7, 3).len(), 7);
        // Ranked by how well each note matches, not by name.
        let hits = search_with(&index, "tag:cooking starter", 10, 3);
        assert_eq!(names(&hits[..1]), vec!["z.md"]);
        assert_eq!(names(&hits), vec!["a.md", "bread.md", "z.md"]);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        // Landing on the word, in the heading of z.md.
        assert_eq!((hits[0].line, hits[0].column), (6, 2));
    }

    #[test]
    fn a_heading_filter_with_a_file_tag_lands_on_the_heading() {
        let fx = Fixture::new();
        fx.write(
            "tasks.org",
            "#+title: Tasks\n#+filetags: :editor:\n\nIntro.\n* Notes\nsome text\n* TODO Fix the config\nDetails.\n",
        );
        let index = fx.open();
        update(&index);
        assert_eq!(
            places(&index, "todo:TODO tag:editor"),
            vec![("tasks.org".to_string(), 7, 0)]
        );
    }

    #[test]
    fn note_filters_alone_give_each_note_once() {
        let fx = Fixture::new();
        let index = fx.open();
        update(&index);
        for q in ["title:emacs", "path:emacs", "ext:org", "ext:.org"] {
            let hits = search_with(&index, q, 100, 0);
            assert_eq!(names(&hits), vec!["emacs.org"], "{q}");
            assert_eq!(hits.len(), 1, "{q}: {hits:?}");
            assert_eq!(hits[0].line, 4, "{q}: the title line");
        }
        // With words, the sections holding them.
        assert_eq!(
            places(&index, "title:emacs replay"),
            vec![("emacs.org".to_string(), 10, 16)]
        );
        // Tags complete while typing.
        assert_eq!(
            names(&search_with(&index, "tag:cook", 10, 0)),
            vec!["bread.md"]
        );
    }

    #[test]
    fn a_front_matter_title_hit_lands_on_the_word() {
        let fx = Fixture::new();
        let index = fx.open();
        update(&index);
        // "title: Sourdough bread" on line 2.
        assert_eq!(
            places(&index, "sourdough"),
            vec![("bread.md".to_string(), 2, 7)]
        );
        assert_eq!(
            places(&index, "title:bread"),
            vec![("bread.md".to_string(), 2, 17)]
        );
    }

    #[cfg(unix)]
    #[test]
    fn saving_through_the_real_path_of_a_symlinked_root_reindexes_it() {
        let real = TempDir::new("real");
        let links = TempDir::new("links");
        fs::write(real.path().join("emacs.org"), "* Old\nold text\n").unwrap();
        let root = links.path().join("notes");
        std::os::unix::fs::symlink(real.path(), &root).unwrap();
        let data = TempDir::new("data");
        let index = KnowledgeIndex::open(IndexConfig::new(
            vec![root.clone()],
            data.path().to_path_buf(),
            WalkOptions {
                extensions: vec!["org".into()],
                exclude: vec![],
                max_file_size: 1 << 20,
            },
            ParseOptions::default(),
        ))
        .unwrap();
        update(&index);
        fs::write(real.path().join("emacs.org"), "* New\nnumbat text\n").unwrap();
        let out = index
            .update(
                UpdateScope::Files(vec![real.path().join("emacs.org")]),
                &Progress::default(),
            )
            .unwrap();
        assert_eq!(out.stats.indexed, 1);
        let hits = index.search("numbat", &opts()).unwrap();
        assert_eq!(hits.len(), 1);
        // Under the path the walk gives it: one note, not two.
        assert_eq!(hits[0].file, root.join("emacs.org").display().to_string());
        assert_eq!(index.file_count(), 1);
        assert!(index.search("old", &opts()).unwrap().is_empty());
    }

    #[test]
    fn saving_a_note_the_walk_skips_does_not_index_it() {
        let fx = Fixture::new();
        fx.write(".gitignore", "build/\nsecret.org\n");
        fx.write("build/b.org", "* B\nnumbat\n");
        fx.write("secret.org", "* S\nnumbat\n");
        fx.write(".hidden/h.org", "* H\nnumbat\n");
        fx.write("archive/a.org", "* A\nnumbat\n");
        fx.write("daily/d.org", "* D\nnumbat\n");
        fx.write("kept/k.org", "* K\nnumbat\n");
        let mut config = fx.config();
        config.walk.exclude = vec!["archive".into(), "daily/*.org".into()];
        let index = KnowledgeIndex::open(config).unwrap();
        update(&index);
        let found = || names(&search_with(&index, "numbat", 100, 0));
        assert_eq!(found(), vec!["k.org"]);
        fx.write("kept/k.org", "* K\nnumbat, changed\n");
        let saved: Vec<PathBuf> = [
            "build/b.org",
            "secret.org",
            ".hidden/h.org",
            "archive/a.org",
            "daily/d.org",
            "kept/k.org",
        ]
        .iter()
        .map(|p| fx.notes.path().join(p))
        .collect();
        let out = index
            .update(UpdateScope::Files(saved), &Progress::default())
            .unwrap();
        assert_eq!(out.stats.indexed, 1);
        assert_eq!(found(), vec!["k.org"]);
    }

    #[test]
    fn changed_parse_options_parse_every_note_again() {
        let fx = Fixture::new();
        fx.write("tasks.org", "* WAIT Call the plumber\n");
        let index = fx.open();
        update(&index);
        assert!(places(&index, "todo:WAIT").is_empty());
        drop(index);
        let mut config = fx.config();
        config.parse.todo_keywords.push("WAIT".into());
        let index = KnowledgeIndex::open(config).unwrap();
        assert!(index.is_fresh(), "parsed with other TODO keywords");
        // A saved note alone does not make it current.
        index
            .update(
                UpdateScope::Files(vec![fx.notes.path().join("tasks.org")]),
                &Progress::default(),
            )
            .unwrap();
        assert!(index.is_fresh());
        let stats = update(&index);
        assert_eq!(stats.indexed, 4);
        assert!(!index.is_fresh());
        assert_eq!(
            places(&index, "todo:WAIT"),
            vec![("tasks.org".to_string(), 1, 0)]
        );
        assert_eq!(update(&index).indexed, 0);
    }

    #[test]
    fn a_file_that_cannot_be_read_is_skipped_with_the_reason() {
        let fx = Fixture::new();
        let index = fx.open();
        let writer = index.writer(true).unwrap();
        let skipped = Mutex::new(Vec::new());
        let entry = FileEntry {
            path: fx.notes.path().join("gone.org"),
            root: 0,
            size: 10,
            mtime: 1,
        };
        assert!(index
            .index_file(&writer, &entry, &skipped)
            .unwrap()
            .is_none());
        let skipped = skipped.into_inner().unwrap();
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.starts_with("unreadable: "), "{skipped:?}");
    }

    #[test]
    fn bad_queries_are_query_errors() {
        let fx = Fixture::new();
        let index = fx.open();
        index
            .update(UpdateScope::Changed, &Progress::default())
            .unwrap();
        for q in ["\"open", "a OR", "-x", "title:"] {
            assert_eq!(
                index.search(q, &opts()).unwrap_err().kind,
                Kind::Query,
                "{q}"
            );
        }
        assert!(index.search("", &opts()).unwrap().is_empty());
        // Punctuation alone has no words to search for, and says so.
        let e = index.search("+++", &opts()).unwrap_err();
        assert_eq!(e.kind, Kind::Query);
        assert!(
            e.message.contains("no words to search for"),
            "{}",
            e.message
        );
    }
}

/// Profiling harnesses, run by hand:
/// `ARTISAN_PROFILE_DIR=dir cargo test --release profile_ -- --ignored --nocapture`.
#[cfg(test)]
mod profile {
    use super::*;

    /// Indexes $ARTISAN_PROFILE_DIR and prints where the time goes.
    #[test]
    #[ignore]
    fn profile_full_index() {
        let Ok(dir) = std::env::var("ARTISAN_PROFILE_DIR") else {
            return;
        };
        let data = crate::knowledge::walk::tempfile_lite::TempDir::new("profile");
        let config = IndexConfig::new(
            vec![PathBuf::from(&dir)],
            data.path().to_path_buf(),
            WalkOptions {
                extensions: vec!["org".into(), "md".into()],
                exclude: vec![],
                max_file_size: 10 << 20,
            },
            ParseOptions::default(),
        );
        let t = Instant::now();
        let (files, _) = walk::walk(&config.roots, &config.walk, &Progress::default()).unwrap();
        println!("walk: {:?} ({} files)", t.elapsed(), files.len());
        let t = Instant::now();
        let notes: Vec<(String, Note)> = files
            .par_iter()
            .map(|f| {
                let text = parse::decode(&std::fs::read(&f.path).unwrap());
                let ext = f.path.extension().unwrap().to_str().unwrap();
                (
                    text.clone(),
                    parse::parse(&text, Format::from_extension(ext), "x", &config.parse),
                )
            })
            .collect();
        println!("read+parse (parallel): {:?}", t.elapsed());
        let index = KnowledgeIndex::open(config).unwrap();
        let t = Instant::now();
        let out = index
            .update(UpdateScope::Rebuild, &Progress::default())
            .unwrap();
        println!("full update: {:?} {:?}", t.elapsed(), out.stats);
        let sections: usize = notes.iter().map(|(_, n)| n.sections.len()).sum();
        println!("sections: {sections}");
    }
}

#[cfg(test)]
mod profile_search {
    use super::*;

    #[test]
    #[ignore]
    fn profile_search() {
        let Ok(dir) = std::env::var("ARTISAN_PROFILE_DIR") else {
            return;
        };
        let data = PathBuf::from("/tmp/artisan-profile-search");
        let config = IndexConfig::new(
            vec![PathBuf::from(&dir)],
            data,
            WalkOptions {
                extensions: vec!["org".into(), "md".into()],
                exclude: vec![],
                max_file_size: 10 << 20,
            },
            ParseOptions::default(),
        );
        let index = KnowledgeIndex::open(config).unwrap();
        if index.file_count() == 0 {
            index
                .update(UpdateScope::Changed, &Progress::default())
                .unwrap();
        }
        let opts = SearchOptions {
            limit: 20,
            max_per_file: 0,
            now: 0,
        };
        let all = SearchOptions {
            limit: 100_000,
            max_per_file: 0,
            now: 0,
        };
        for q in [
            "babel",
            "export table",
            "\"org mode\"",
            "agen",
            "tag:emacs babel",
            "quote tangle",
            "babel export",
            "babel -tag:emacs",
            "quote tangle babel",
            "quote tangle ",
            "babel export ",
            "tag:emacs babel ",
        ] {
            let mut times: Vec<std::time::Duration> = (0..50)
                .map(|_| {
                    let t = Instant::now();
                    let _ = index.search(q, &opts).unwrap();
                    t.elapsed()
                })
                .collect();
            times.sort();
            let files: HashSet<String> = index
                .search(q, &all)
                .unwrap()
                .into_iter()
                .map(|h| h.file)
                .collect();
            println!(
                "{q:22} p50 {:?} p95 {:?}, {} files in all",
                times[25],
                times[47],
                files.len()
            );
        }
    }
}
