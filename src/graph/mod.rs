//! The link graph: nodes (notes, and headings with IDs) and the links
//! between them, built from the same parse the knowledge index does.
//!
//! [`GraphStore`] lives next to an open [`KnowledgeIndex`].  The graph is
//! derived data: the notes' metadata and links are committed atomically
//! with the index (the file documents' `note` field), so nothing else is
//! written to disk.  The graph is built in memory the first time it is
//! needed (from the stored notes, or directly from the parsed notes when
//! an update indexes everything), and every later update applies its
//! [`UpdateOutcome`] to it under the same lock, so the graph always
//! matches the last committed index.  The paragraphs around links are not
//! kept in memory: they are read from the stored notes when backlinks are
//! shown, and cached.

pub mod export;
pub mod model;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::job::Progress;
use crate::knowledge::index::{KnowledgeIndex, UpdateOutcome, UpdateScope};

pub use model::{Counts, Duplicate, Edge, EdgeIx, Graph, Node, NodeIx};

/// The most notes whose link contexts are kept in the cache.
const CONTEXT_CACHE_FILES: usize = 4096;

/// A link's place and context, as stored with its note.
#[derive(Debug, Clone)]
struct StoredContext {
    line: u32,
    column: u32,
    context: String,
}

/// The link graph of one index, shared by the Emacs thread and update jobs.
#[derive(Debug, Default)]
pub struct GraphStore {
    graph: RwLock<Option<Graph>>,
    /// Held while the index is updated and the graph follows, and while
    /// the graph is first built, so the two never disagree.
    sync: Mutex<()>,
    /// Bumped on every change, so Lisp can cache what it derives.
    generation: AtomicU64,
    contexts: Mutex<HashMap<String, Arc<Vec<StoredContext>>>>,
}

/// An index update and what it cost the graph.
#[derive(Debug)]
pub struct GraphUpdate {
    /// The index update.
    pub outcome: UpdateOutcome,
    /// Seconds spent updating (or building) the graph.
    pub graph_seconds: f64,
    /// Whether the graph was built from scratch by this update.
    pub graph_built: bool,
}

/// The result of building the graph from the index.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildStats {
    /// What the graph holds.
    pub counts: Counts,
    /// Seconds the build took (0 when it was already built).
    pub seconds: f64,
    /// Whether this call built it.
    pub built: bool,
}

/// At most this many notes indexed by one update have their link contexts
/// cached right away.
const CONTEXTS_KEPT_ON_UPDATE: usize = 16;

/// The places and contexts of a note's links.
fn stored_contexts(note: &crate::knowledge::parse::Note) -> Vec<StoredContext> {
    note.links
        .iter()
        .map(|l| StoredContext {
            line: l.line,
            column: l.column,
            context: l.context.clone(),
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GraphStore {
    /// A store whose graph is not built yet.
    pub fn new() -> GraphStore {
        GraphStore::default()
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, Option<Graph>> {
        self.graph.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, Option<Graph>> {
        self.graph.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the graph is in memory.
    pub fn is_built(&self) -> bool {
        self.read_guard().is_some()
    }

    /// A number that changes whenever the graph does.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Updates `index` and then the graph, as one step.  When the graph is
    /// built it follows the update; when it is not and the update indexed
    /// every note (a rebuild, or the first index), it is built from the
    /// parsed notes at hand; otherwise it stays unbuilt until needed.
    pub fn update(
        &self,
        index: &KnowledgeIndex,
        scope: UpdateScope,
        progress: &Progress,
    ) -> Result<GraphUpdate> {
        let _sync = lock(&self.sync);
        let everything = matches!(scope, UpdateScope::Rebuild) || index.file_count() == 0;
        let outcome = index.update(scope, progress)?;
        let started = Instant::now();
        let mut built = false;
        let touched = !outcome.indexed.is_empty() || !outcome.removed.is_empty();
        if outcome.full || (everything && !self.is_built()) {
            progress.set_phase("linking");
            let graph = Graph::from_notes(outcome.indexed.iter().map(|(p, n)| (p.as_str(), n)));
            *self.write_guard() = Some(graph);
            lock(&self.contexts).clear();
            built = true;
        } else if touched {
            let mut guard = self.write_guard();
            if let Some(graph) = guard.as_mut() {
                for path in &outcome.removed {
                    graph.remove_file(path);
                }
                for (path, note) in &outcome.indexed {
                    graph.set_note(path, note);
                }
            }
            drop(guard);
            let mut contexts = lock(&self.contexts);
            for path in &outcome.removed {
                contexts.remove(path);
            }
            // After an edit, the backlinks of its targets are asked for
            // next: keep the new contexts at hand rather than reading them
            // back from the index then.
            let few = outcome.indexed.len() <= CONTEXTS_KEPT_ON_UPDATE;
            for (path, note) in &outcome.indexed {
                contexts.remove(path);
                if few && contexts.len() < CONTEXT_CACHE_FILES {
                    contexts.insert(path.clone(), Arc::new(stored_contexts(note)));
                }
            }
        }
        if built || touched {
            self.generation.fetch_add(1, Ordering::Relaxed);
        }
        // The graph has taken what it needs from the parsed notes; Lisp only
        // needs the counts.  After a large update, give the freed heap back.
        let large = outcome.indexed.len() > 100;
        let mut outcome = outcome;
        outcome.indexed = Vec::new();
        outcome.removed = Vec::new();
        if large {
            crate::knowledge::index::release_free_memory();
        }
        Ok(GraphUpdate {
            outcome,
            graph_seconds: started.elapsed().as_secs_f64(),
            graph_built: built,
        })
    }

    /// Builds the graph from the notes stored in `index`, unless it is
    /// built.  Waits for a running update first.
    pub fn ensure(&self, index: &KnowledgeIndex, progress: &Progress) -> Result<BuildStats> {
        if let Some(g) = self.read_guard().as_ref() {
            return Ok(BuildStats {
                counts: g.counts(),
                ..BuildStats::default()
            });
        }
        let _sync = lock(&self.sync);
        if let Some(g) = self.read_guard().as_ref() {
            return Ok(BuildStats {
                counts: g.counts(),
                ..BuildStats::default()
            });
        }
        let started = Instant::now();
        progress.set_phase("loading the link graph");
        progress.set_total(index.file_count() as u64);
        let mut graph = Graph::new();
        index.for_each_note(|path, note| {
            graph.set_note(&path, &note);
            progress.advance(1);
        })?;
        progress.check()?;
        let counts = graph.counts();
        *self.write_guard() = Some(graph);
        lock(&self.contexts).clear();
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(BuildStats {
            counts,
            seconds: started.elapsed().as_secs_f64(),
            built: true,
        })
    }

    /// Runs `f` on the graph, building it first if needed.  `f` must not
    /// call back into the store's graph (the lock is held).
    pub fn read<T>(&self, index: &KnowledgeIndex, f: impl FnOnce(&Graph) -> T) -> Result<T> {
        {
            let guard = self.read_guard();
            if let Some(g) = guard.as_ref() {
                return Ok(f(g));
            }
        }
        self.ensure(index, &Progress::default())?;
        let guard = self.read_guard();
        match guard.as_ref() {
            Some(g) => Ok(f(g)),
            None => Err(Error::graph("The link graph could not be built")),
        }
    }

    /// The paragraph or list item around the link of `edge`, a link in the
    /// note at `path`, read from the index (and cached).  Empty when the
    /// stored note no longer has that link (another Emacs updated it).
    pub fn context(&self, index: &KnowledgeIndex, path: &str, edge: &Edge) -> String {
        let cached = lock(&self.contexts).get(path).cloned();
        let stored = match cached {
            Some(c) => c,
            None => {
                let links: Vec<StoredContext> = match index.note(path) {
                    Ok(Some(note)) => stored_contexts(&note),
                    _ => Vec::new(),
                };
                let links = Arc::new(links);
                let mut cache = lock(&self.contexts);
                if cache.len() >= CONTEXT_CACHE_FILES {
                    cache.clear();
                }
                cache.insert(path.to_string(), Arc::clone(&links));
                links
            }
        };
        stored
            .get(edge.link as usize)
            .filter(|s| s.line == edge.line && s.column == edge.column)
            .map(|s| s.context.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
