//! Shims for the knowledge base: open an index, update it on a worker,
//! search it, report its status.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use emacs::{defun, Env, IntoLisp, Result, Value};

use super::job::{LispJob, LispOutput};
use super::{list, plist, run};
use crate::error::Error;
use crate::graph::GraphStore;
use crate::knowledge::index::{IndexConfig, KnowledgeIndex, UpdateOutcome, UpdateScope};
use crate::knowledge::parse::ParseOptions;
use crate::knowledge::search::{Hit, SearchOptions};
use crate::knowledge::walk::WalkOptions;

/// An open index as Lisp holds it.  Jobs share it with the Emacs thread.
pub struct IndexHandle {
    /// The index.
    pub index: Arc<KnowledgeIndex>,
    /// The link graph of its notes, updated with it (see `crate::graph`).
    pub graph: Arc<GraphStore>,
}

/// Reads a Lisp list of strings.
pub fn strings(value: Value<'_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value;
    while rest.is_not_nil() {
        out.push(rest.car::<String>()?);
        rest = rest.cdr()?;
    }
    Ok(out)
}

/// Open (creating if needed) the index of ROOTS under DATA-DIR.
///
/// EXTENSIONS are the file extensions to index, EXCLUDE globs to leave
/// out, MAX-SIZE the largest file in bytes, TODO-KEYWORDS the Org TODO
/// keywords.  Return an index object for the other `artisan--index-*'
/// functions.
#[defun(user_ptr)]
fn index_open(
    env: &Env,
    roots: Value<'_>,
    data_dir: String,
    extensions: Value<'_>,
    exclude: Value<'_>,
    max_size: i64,
    todo_keywords: Value<'_>,
) -> Result<IndexHandle> {
    let roots: Vec<PathBuf> = strings(roots)?.into_iter().map(PathBuf::from).collect();
    let extensions = strings(extensions)?;
    let exclude = strings(exclude)?;
    let todo_keywords = strings(todo_keywords)?;
    run(env, || {
        let config = IndexConfig::new(
            roots,
            PathBuf::from(data_dir),
            WalkOptions {
                extensions,
                exclude,
                max_file_size: u64::try_from(max_size).unwrap_or(0),
            },
            ParseOptions { todo_keywords },
        );
        Ok(IndexHandle {
            index: Arc::new(KnowledgeIndex::open(config)?),
            graph: Arc::new(GraphStore::new()),
        })
    })
}

impl LispOutput for UpdateOutcome {
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>> {
        let s = &self.stats;
        plist(
            env,
            &[
                (":files", (s.files as i64).into_lisp(env)?),
                (":indexed", (s.indexed as i64).into_lisp(env)?),
                (":removed", (s.removed as i64).into_lisp(env)?),
                (":skipped", (s.skipped as i64).into_lisp(env)?),
                (":renamed", (s.renamed as i64).into_lisp(env)?),
                (":seconds", s.seconds.into_lisp(env)?),
            ],
        )
    }
}

/// Start updating INDEX on a worker thread and return the job.
///
/// SCOPE is `changed' (walk the roots, index what changed), `rebuild'
/// (reindex everything) or `files' (only FILES, a list of file names).
/// The job's result is a plist (:files :indexed :removed :skipped
/// :renamed :seconds :graph-seconds :graph-built); the link graph follows
/// the update in the same job.
#[defun(user_ptr)]
fn index_update(
    env: &Env,
    index: &IndexHandle,
    scope: Value<'_>,
    files: Value<'_>,
) -> Result<LispJob> {
    let scope_name: String = env.call("symbol-name", [scope])?.into_rust()?;
    let files = strings(files)?;
    let graph = Arc::clone(&index.graph);
    let index = Arc::clone(&index.index);
    run(env, || {
        let scope = match scope_name.as_str() {
            "changed" => UpdateScope::Changed,
            "rebuild" => UpdateScope::Rebuild,
            "files" => UpdateScope::Files(files.into_iter().map(PathBuf::from).collect()),
            other => {
                return Err(Error::index(format!(
                    "Unknown update scope {other} (changed, rebuild or files)"
                )))
            }
        };
        LispJob::spawn("index", move |progress| {
            graph.update(&index, scope, progress)
        })
    })
}

fn hit_to_lisp<'e>(env: &'e Env, hit: &Hit) -> Result<Value<'e>> {
    let heading = if hit.outline.is_empty() {
        ().into_lisp(env)?
    } else {
        hit.outline.join(" › ").into_lisp(env)?
    };
    let mut outline = Vec::with_capacity(hit.outline.len());
    for o in &hit.outline {
        outline.push(o.as_str().into_lisp(env)?);
    }
    let mut highlights = Vec::with_capacity(hit.highlights.len());
    for &(from, to) in &hit.highlights {
        highlights.push(env.cons(i64::from(from), i64::from(to))?);
    }
    let mut tags = Vec::with_capacity(hit.tags.len());
    for t in &hit.tags {
        tags.push(t.as_str().into_lisp(env)?);
    }
    plist(
        env,
        &[
            (":file", hit.file.as_str().into_lisp(env)?),
            (":line", i64::from(hit.line).into_lisp(env)?),
            (":column", i64::from(hit.column).into_lisp(env)?),
            (":title", hit.title.as_str().into_lisp(env)?),
            (":heading", heading),
            (":outline", list(env, &outline)?),
            (":snippet", hit.snippet.as_str().into_lisp(env)?),
            (":highlights", list(env, &highlights)?),
            (":score", f64::from(hit.score).into_lisp(env)?),
            (":todo", hit.todo.as_deref().into_lisp(env)?),
            (":tags", list(env, &tags)?),
            (":fuzzy", hit.fuzzy.into_lisp(env)?),
        ],
    )
}

/// Search INDEX for QUERY; return at most LIMIT result plists, best first.
///
/// MAX-PER-FILE caps the results from one file (0: no cap).  Each result
/// has :file :line :column :title :heading :outline :snippet :highlights
/// :score :todo :tags :fuzzy.  A malformed QUERY signals
/// `artisan-query-error'.
#[defun]
fn index_search<'e>(
    env: &'e Env,
    index: &IndexHandle,
    query: String,
    limit: i64,
    max_per_file: i64,
) -> Result<Value<'e>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let options = SearchOptions {
        limit: usize::try_from(limit).unwrap_or(0),
        max_per_file: usize::try_from(max_per_file).unwrap_or(0),
        now,
    };
    let hits = run(env, || index.index.search(&query, &options))?;
    let mut values = Vec::with_capacity(hits.len());
    for hit in &hits {
        values.push(hit_to_lisp(env, hit)?);
    }
    list(env, &values)
}

/// Return t if INDEX needs a build before searching.
///
/// That is when no update of the whole index ever completed (saving
/// single notes does not count), or when its notes were parsed with
/// other TODO keywords.
#[defun]
fn index_fresh(index: &IndexHandle) -> Result<bool> {
    Ok(index.index.is_fresh())
}

/// Return the status of INDEX as a plist.
///
/// Keys: :roots :dir :files :documents :bytes :fresh, and :last-update
/// (seconds since the epoch), :last-stats (a plist like an update's
/// result) and :skipped (a list of (FILE . REASON)) when it was updated.
#[defun]
fn index_status<'e>(env: &'e Env, index: &IndexHandle) -> Result<Value<'e>> {
    let status = index.index.status();
    let mut roots = Vec::new();
    for r in &status.roots {
        roots.push(r.as_str().into_lisp(env)?);
    }
    let mut pairs = vec![
        (":roots", list(env, &roots)?),
        (":dir", status.dir.as_str().into_lisp(env)?),
        (":files", (status.files as i64).into_lisp(env)?),
        (":documents", (status.documents as i64).into_lisp(env)?),
        (":bytes", (status.bytes as i64).into_lisp(env)?),
        (":fresh", status.fresh.into_lisp(env)?),
    ];
    if let Some(last) = &status.last {
        let mut skipped = Vec::new();
        for (path, reason) in &last.skipped {
            skipped.push(env.cons(path.as_str(), reason.as_str())?);
        }
        let stats = UpdateOutcome {
            stats: last.stats.clone(),
            ..UpdateOutcome::default()
        };
        pairs.push((":last-update", last.time.into_lisp(env)?));
        pairs.push((":last-stats", stats.into_lisp_output(env)?));
        pairs.push((":skipped", list(env, &skipped)?));
    }
    plist(env, &pairs)
}
