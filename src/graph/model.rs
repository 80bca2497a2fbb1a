//! The in-memory link graph: nodes, edges, the lookup tables that resolve
//! links, and the queries (backlinks, neighbourhoods, dead links, orphans,
//! duplicate titles).
//!
//! Edges keep the link as written (its kind and target), not what it
//! resolved to.  Resolution is a pure function of the link and the lookup
//! tables (IDs, paths, file names, titles, aliases), and every edge is also
//! filed under the keys it could resolve through.  So adding, changing or
//! removing a note only adds or removes that note's own nodes and edges:
//! links elsewhere that pointed at it (or were dead until it appeared)
//! resolve differently from then on without being touched.  Backlinks of a
//! node are the edges filed under the node's keys that resolve to it.
//!
//! One thing is shared by all wikilinks: which side of `[[a|b]]` names
//! the note when both sides are file names (Dendron writes
//! `[[label|note]]`, Obsidian `[[note|label]]`).  The collection's own
//! links vote on it, and the votes are kept up to date as notes come and
//! go, so answering never needs a pass over the links.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::knowledge::parse::{Format, LinkKind, Note, WikiSide};

/// Index of a node in the graph.  Stable while its note is unchanged.
pub type NodeIx = u32;
/// Index of a file in the graph.
pub type FileIx = u32;
/// Index of an edge in the graph.
pub type EdgeIx = u32;

/// A node: a note file, or a heading with an ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The `:ID:` (or front-matter `id`); None for notes identified by path.
    pub id: Option<String>,
    /// The title: the note's title, or the heading's text.
    pub title: String,
    /// `ROAM_ALIASES` or front-matter `aliases`.
    pub aliases: Vec<String>,
    /// File tags, and for headings the inherited and own tags.
    pub tags: Vec<String>,
    /// `ROAM_REFS`.
    pub refs: Vec<String>,
    /// The file holding the node.
    pub file: FileIx,
    /// 1-based line: 1 for files, the heading's line for headings.
    pub line: u32,
    /// Outline level: 0 for files.
    pub level: u32,
    /// The enclosing node: the nearest ancestor heading with an ID, else
    /// the file's node; None for file nodes.
    pub parent: Option<NodeIx>,
    /// For headings: the headings above it, from the top level down.
    pub outline: Vec<String>,
}

/// An edge: one link in a note, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The node the link is in: the nearest enclosing heading with an ID,
    /// else the file's node.
    pub source: NodeIx,
    /// What kind of link it is.
    pub kind: LinkKind,
    /// The target: an ID, an absolute normalised path (file and relative
    /// links), a title (`roam:`) or a wikilink's first side as written.
    pub target: String,
    /// A wikilink's other side (`[[a|b]]`) as written, tried as a target too.
    pub other: Option<String>,
    /// 1-based line of the link.
    pub line: u32,
    /// 0-based column (characters) of the link.
    pub column: u32,
    /// Index of the link in its note's links: where its context is found.
    pub link: u32,
    /// A relative Markdown link written from the root (`/notes/x.md`):
    /// tried as an absolute path, then below each directory above its note.
    pub rooted: bool,
}

impl Edge {
    /// The target as written: a wikilink's two sides joined by `|`.
    pub fn written_target(&self) -> String {
        match &self.other {
            Some(o) => format!("{}|{o}", self.target),
            None => self.target.clone(),
        }
    }
}

/// A note file in the graph.
#[derive(Debug, Clone)]
struct FileRec {
    path: String,
    /// The file name without directory and extension.
    stem: String,
    /// The file's own node.
    node: NodeIx,
    /// Heading nodes, in file order.
    headings: Vec<NodeIx>,
    /// Edges, in file order.
    edges: Vec<EdgeIx>,
    /// IDs of the file and headings marked `ROAM_EXCLUDE`.
    excluded: Vec<String>,
}

/// How a two-sided wikilink votes on which side names notes: the side
/// that is a file name written exactly, when the other is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vote {
    Neither,
    Left,
    Right,
}

/// What a name in [`Graph::by_name`] is of its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Stem,
    Title,
    Alias,
}

/// The reason two or more nodes are listed together in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The shared title or ID.
    pub name: String,
    /// The nodes sharing it, in file order.
    pub nodes: Vec<NodeIx>,
}

/// Counts for status and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Note files.
    pub files: usize,
    /// Nodes (files and headings with IDs).
    pub nodes: usize,
    /// Edges (links to notes, resolved or not).
    pub edges: usize,
}

/// The graph's hash maps: keys are the user's own IDs and names, so a
/// fast non-keyed hash (xxh3) is safe, and about twice as fast to build.
type Map<K, V> = HashMap<K, V, Xxh3DefaultBuilder>;

/// The link graph.
#[derive(Debug, Default)]
pub struct Graph {
    files: Vec<Option<FileRec>>,
    free_files: Vec<FileIx>,
    file_by_path: Map<String, FileIx>,
    nodes: Vec<Option<Node>>,
    free_nodes: Vec<NodeIx>,
    edges: Vec<Option<Edge>>,
    free_edges: Vec<EdgeIx>,
    /// ID -> nodes carrying it (more than one is a mistake the report shows).
    by_id: Map<String, Vec<NodeIx>>,
    /// Lower-cased file stem, title or alias -> nodes.
    by_name: Map<String, Vec<(NodeIx, NameKind)>>,
    /// Edges filed under the keys they may resolve through.
    edges_by_id: Map<String, Vec<EdgeIx>>,
    edges_by_path: Map<String, Vec<EdgeIx>>,
    /// Relative links written from the root (`/x.md`), by the target
    /// without its leading `/`.
    edges_by_root: Map<String, Vec<EdgeIx>>,
    edges_by_name: Map<String, Vec<EdgeIx>>,
    /// Wikilinks with a `#heading` anchor, by [`anchor_key`].
    edges_by_anchor: Map<String, Vec<EdgeIx>>,
    /// The vote of every wikilink with two sides (`[[a|b]]`).
    votes: Map<EdgeIx, Vote>,
    /// Votes for `[[note|label]]` (Obsidian, Foam) and `[[label|note]]`
    /// (Dendron).
    left_votes: usize,
    right_votes: usize,
    /// IDs marked `ROAM_EXCLUDE`, with how many nodes carry each: links to
    /// them resolve nowhere but are not dead.
    excluded_ids: Map<String, u32>,
    counts: Counts,
}

/// Is `path` a note the graph keeps: Org, Markdown or plain text (not code
/// files indexed as text)?
pub fn is_note_path(path: &str) -> bool {
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match Format::from_extension(ext) {
        Format::Org | Format::Markdown => !ext.eq_ignore_ascii_case("org_archive"),
        Format::Text => ext.eq_ignore_ascii_case("txt") || ext.eq_ignore_ascii_case("text"),
    }
}

/// The lookup form of a name: trimmed and lower-cased.
fn name_key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The file name of `path` without its directory and extension.
fn stem_of(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string()
}

/// A wikilink side without a note extension (`note.md` -> `note`).
fn strip_note_extension(s: &str) -> &str {
    match s.rfind('.') {
        Some(dot) if dot > 0 && is_note_path(s) => &s[..dot],
        _ => s,
    }
}

/// The form in which `#heading` anchors are compared with headings: lower
/// case, words joined by `-`, other punctuation dropped, so `Sub heading`
/// and GitHub's or Dendron's slug `sub-heading` agree.
pub fn anchor_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' || c == '_' {
            gap = true;
        }
    }
    out
}

/// The last path component of a wikilink side, for file-name lookups.
fn last_component(s: &str) -> &str {
    let s = s.trim();
    s.rsplit('/').next().unwrap_or(s)
}

/// Resolves `target` against `dir` lexically (`~/` is the home directory):
/// an absolute path with `.` and `..` folded, without touching the disk.
pub fn normalize_path(dir: &Path, target: &str) -> String {
    let expanded = match target.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(target)),
        None => PathBuf::from(target),
    };
    let joined = if expanded.is_absolute() {
        expanded
    } else {
        dir.join(expanded)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.display().to_string()
}

/// Files `ix` under `key` in `map`, or with `add` false removes it.
fn file_under(map: &mut Map<String, Vec<EdgeIx>>, key: &str, ix: EdgeIx, add: bool) {
    if !add {
        unfile(map, key, &ix);
    } else if let Some(list) = map.get_mut(key) {
        // Most keys are there already: no owned key to allocate.
        list.push(ix);
    } else {
        map.insert(key.to_string(), vec![ix]);
    }
}

/// Removes one occurrence of `value` from the list at `key`, dropping the
/// list when it becomes empty.
fn unfile<K, V, Q>(map: &mut Map<K, Vec<V>>, key: &Q, value: &V)
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
    V: PartialEq,
{
    if let Some(list) = map.get_mut(key) {
        if let Some(i) = list.iter().position(|v| v == value) {
            list.swap_remove(i);
        }
        if list.is_empty() {
            map.remove(key);
        }
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Builds a graph from notes (path and parsed note).
    pub fn from_notes<'a>(notes: impl IntoIterator<Item = (&'a str, &'a Note)>) -> Graph {
        let mut g = Graph::new();
        for (path, note) in notes {
            g.set_note(path, note);
        }
        g
    }

    /// Counts of files, nodes and edges.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The node at `ix`, if it exists.
    pub fn node(&self, ix: NodeIx) -> Option<&Node> {
        self.nodes.get(ix as usize).and_then(Option::as_ref)
    }

    /// The edge at `ix`, if it exists.
    pub fn edge(&self, ix: EdgeIx) -> Option<&Edge> {
        self.edges.get(ix as usize).and_then(Option::as_ref)
    }

    fn file(&self, ix: FileIx) -> Option<&FileRec> {
        self.files.get(ix as usize).and_then(Option::as_ref)
    }

    /// The path of a file.
    pub fn file_path(&self, ix: FileIx) -> &str {
        self.file(ix).map_or("", |f| f.path.as_str())
    }

    /// The path of the file holding node `ix`.
    pub fn node_path(&self, ix: NodeIx) -> &str {
        self.node(ix).map_or("", |n| self.file_path(n.file))
    }

    /// Is `path` in the graph?
    pub fn has_file(&self, path: &str) -> bool {
        self.file_by_path.contains_key(path)
    }

    /// The node of the file at `path`.
    pub fn file_node(&self, path: &str) -> Option<NodeIx> {
        self.file_by_path
            .get(path)
            .and_then(|&f| self.file(f))
            .map(|f| f.node)
    }

    /// The node a link to ID `id` resolves to.  When several nodes carry
    /// the ID (a mistake the report lists), the first by file and line wins.
    pub fn node_by_id(&self, id: &str) -> Option<NodeIx> {
        let list = self.by_id.get(id)?;
        list.iter()
            .copied()
            .min_by(|&a, &b| self.place(a).cmp(&self.place(b)))
    }

    /// (path, line) of a node, for deterministic ordering.
    fn place(&self, ix: NodeIx) -> (&str, u32) {
        (self.node_path(ix), self.node(ix).map_or(0, |n| n.line))
    }

    /// A stable key naming node `ix` outside the graph: its ID when that
    /// names it unambiguously, else its file name (for file nodes) or
    /// `ID@FILE:LINE`.
    pub fn node_key(&self, ix: NodeIx) -> String {
        let Some(node) = self.node(ix) else {
            return String::new();
        };
        let path = self.file_path(node.file);
        match &node.id {
            Some(id) if self.node_by_id(id) == Some(ix) => id.clone(),
            Some(id) => format!("{id}@{path}:{}", node.line),
            None => path.to_string(),
        }
    }

    /// The node named by `key`: an ID, or the absolute file name of a note.
    pub fn lookup(&self, key: &str) -> Option<NodeIx> {
        self.node_by_id(key).or_else(|| self.file_node(key))
    }

    /// Every node, in file order (by path, then line).
    pub fn nodes_sorted(&self) -> Vec<NodeIx> {
        let mut files: Vec<&FileRec> = self.files.iter().flatten().collect();
        files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let mut out = Vec::with_capacity(self.counts.nodes);
        for f in files {
            out.push(f.node);
            out.extend(f.headings.iter().copied());
        }
        out
    }

    /// Every edge, in file order.
    pub fn edges_sorted(&self) -> Vec<EdgeIx> {
        let mut files: Vec<&FileRec> = self.files.iter().flatten().collect();
        files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        files
            .into_iter()
            .flat_map(|f| f.edges.iter().copied())
            .collect()
    }

    /// The node and the heading nodes of the file holding node `ix`.
    pub fn nodes_of_file_of(&self, ix: NodeIx) -> Vec<NodeIx> {
        let Some(file) = self.node(ix).and_then(|n| self.file(n.file)) else {
            return Vec::new();
        };
        let mut out = vec![file.node];
        out.extend(file.headings.iter().copied());
        out
    }

    // ------------------------------------------------------------------
    // Updating

    /// Adds the note at `path`, replacing what the graph had for it.
    /// Files that are not notes (code indexed as text) are removed instead.
    pub fn set_note(&mut self, path: &str, note: &Note) {
        self.remove_file(path);
        if !is_note_path(path) {
            return;
        }
        let file_ix = self.alloc_file(FileRec {
            path: path.to_string(),
            stem: stem_of(path),
            node: 0,
            headings: Vec::new(),
            edges: Vec::new(),
            excluded: Vec::new(),
        });
        // A file or heading marked ROAM_EXCLUDE is no node by its ID (the
        // file stays a node by its path, like notes without IDs).
        let mut excluded = Vec::new();
        let mut node_id = |id: Option<&str>, exclude: bool| -> Option<String> {
            let id = id.map(str::trim).filter(|s| !s.is_empty())?;
            if exclude {
                excluded.push(id.to_string());
                return None;
            }
            Some(id.to_string())
        };
        let file_id = node_id(note.id.as_deref(), note.exclude);
        let file_node = self.alloc_node(Node {
            id: file_id,
            title: note.title.clone(),
            aliases: note.aliases.clone(),
            tags: note.tags.clone(),
            refs: note.refs.clone(),
            file: file_ix,
            line: 1,
            level: 0,
            parent: None,
            outline: Vec::new(),
        });
        let mut headings = Vec::new();
        // The node each section's links belong to.
        let mut section_node = Vec::with_capacity(note.sections.len());
        let mut stack: Vec<(u32, NodeIx)> = Vec::new();
        for section in &note.sections {
            if section.level == 0 {
                section_node.push(file_node);
                continue;
            }
            while stack.last().is_some_and(|&(l, _)| l >= section.level) {
                stack.pop();
            }
            let enclosing = stack.last().map_or(file_node, |&(_, n)| n);
            match node_id(section.id.as_deref(), section.exclude) {
                Some(id) => {
                    let outline = section
                        .outline
                        .split_last()
                        .map(|(_, above)| above.to_vec())
                        .unwrap_or_default();
                    let n = self.alloc_node(Node {
                        id: Some(id),
                        title: section.heading.clone(),
                        aliases: section.aliases.clone(),
                        tags: section.all_tags.clone(),
                        refs: section.refs.clone(),
                        file: file_ix,
                        line: section.line,
                        level: section.level,
                        parent: Some(enclosing),
                        outline,
                    });
                    headings.push(n);
                    stack.push((section.level, n));
                    section_node.push(n);
                }
                None => section_node.push(enclosing),
            }
        }
        let dir = Path::new(path).parent().unwrap_or(Path::new("/"));
        let mut edges = Vec::new();
        for (i, link) in note.links.iter().enumerate() {
            let source = section_node.get(link.section).copied().unwrap_or(file_node);
            let mut rooted = false;
            let (target, other) = match link.kind {
                LinkKind::Id | LinkKind::Roam => (link.target.trim().to_string(), None),
                LinkKind::Wiki => (
                    link.target.trim().to_string(),
                    link.label
                        .as_deref()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string),
                ),
                LinkKind::File | LinkKind::Relative => {
                    rooted = link.kind == LinkKind::Relative && link.target.starts_with('/');
                    let mut p = normalize_path(dir, link.target.trim());
                    if link.kind == LinkKind::Relative
                        && Path::new(&p).extension().is_none()
                        && !link.target.ends_with('/')
                    {
                        p.push_str(".md");
                    }
                    if !is_note_path(&p) {
                        continue;
                    }
                    (p, None)
                }
                LinkKind::Url | LinkKind::Internal => continue,
            };
            if target.is_empty() {
                continue;
            }
            let e = self.alloc_edge(Edge {
                source,
                kind: link.kind,
                target,
                other,
                line: link.line,
                column: link.column,
                link: u32::try_from(i).unwrap_or(u32::MAX),
                rooted,
            });
            edges.push(e);
        }
        for id in &excluded {
            *self.excluded_ids.entry(id.clone()).or_default() += 1;
        }
        let stem = name_key(&stem_of(path));
        if let Some(Some(f)) = self.files.get_mut(file_ix as usize) {
            f.node = file_node;
            f.headings = headings.clone();
            f.edges = edges.clone();
            f.excluded = excluded;
        }
        self.file_by_path.insert(path.to_string(), file_ix);
        for n in std::iter::once(file_node).chain(headings) {
            self.file_node_names(n, true);
        }
        // A new file name may change how other wikilinks vote.
        self.revote(&stem);
        for e in edges {
            self.file_edge(e, true);
        }
        self.counts.files += 1;
    }

    /// Removes the note at `path` and its nodes and edges.  Returns whether
    /// it was there.
    pub fn remove_file(&mut self, path: &str) -> bool {
        let Some(&file_ix) = self.file_by_path.get(path) else {
            return false;
        };
        self.file_by_path.remove(path);
        let Some(rec) = self.file(file_ix).cloned() else {
            return false;
        };
        for id in &rec.excluded {
            if let Some(n) = self.excluded_ids.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    self.excluded_ids.remove(id);
                }
            }
        }
        // Unfile while the nodes, edges and file record are still there:
        // their keys are computed from them.
        for &e in &rec.edges {
            self.file_edge(e, false);
        }
        let nodes: Vec<NodeIx> = std::iter::once(rec.node).chain(rec.headings).collect();
        for &n in &nodes {
            self.file_node_names(n, false);
        }
        // The file name is gone: other wikilinks may vote differently.
        self.revote(&name_key(&rec.stem));
        for &e in &rec.edges {
            if let Some(slot) = self.edges.get_mut(e as usize) {
                if slot.take().is_some() {
                    self.free_edges.push(e);
                    self.counts.edges -= 1;
                }
            }
        }
        for n in nodes {
            if let Some(slot) = self.nodes.get_mut(n as usize) {
                if slot.take().is_some() {
                    self.free_nodes.push(n);
                    self.counts.nodes -= 1;
                }
            }
        }
        if let Some(slot) = self.files.get_mut(file_ix as usize) {
            *slot = None;
        }
        self.free_files.push(file_ix);
        self.counts.files -= 1;
        true
    }

    fn alloc_file(&mut self, rec: FileRec) -> FileIx {
        match self.free_files.pop() {
            Some(ix) => {
                if let Some(slot) = self.files.get_mut(ix as usize) {
                    *slot = Some(rec);
                }
                ix
            }
            None => {
                self.files.push(Some(rec));
                u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    fn alloc_node(&mut self, node: Node) -> NodeIx {
        self.counts.nodes += 1;
        match self.free_nodes.pop() {
            Some(ix) => {
                if let Some(slot) = self.nodes.get_mut(ix as usize) {
                    *slot = Some(node);
                }
                ix
            }
            None => {
                self.nodes.push(Some(node));
                u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    fn alloc_edge(&mut self, edge: Edge) -> EdgeIx {
        self.counts.edges += 1;
        match self.free_edges.pop() {
            Some(ix) => {
                if let Some(slot) = self.edges.get_mut(ix as usize) {
                    *slot = Some(edge);
                }
                ix
            }
            None => {
                self.edges.push(Some(edge));
                u32::try_from(self.edges.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    /// The names a node is found by: (lower-cased name, kind).
    fn node_names(&self, ix: NodeIx) -> Vec<(String, NameKind)> {
        let Some(node) = self.node(ix) else {
            return Vec::new();
        };
        let mut names = Vec::new();
        if node.level == 0 {
            if let Some(f) = self.file(node.file) {
                names.push((name_key(&f.stem), NameKind::Stem));
            }
        }
        names.push((name_key(&node.title), NameKind::Title));
        for a in &node.aliases {
            names.push((name_key(a), NameKind::Alias));
        }
        names.retain(|(n, _)| !n.is_empty());
        names
    }

    /// Files (or unfiles) node `ix` under its ID and names.
    fn file_node_names(&mut self, ix: NodeIx, add: bool) {
        let names = self.node_names(ix);
        let id = self.node(ix).and_then(|n| n.id.clone());
        if add {
            if let Some(id) = id {
                self.by_id.entry(id).or_default().push(ix);
            }
            for (name, kind) in names {
                self.by_name.entry(name).or_default().push((ix, kind));
            }
        } else {
            if let Some(id) = id {
                unfile(&mut self.by_id, &id, &ix);
            }
            for (name, kind) in names {
                unfile(&mut self.by_name, &name, &(ix, kind));
            }
        }
    }

    /// The name keys a wikilink or `roam:` link may resolve through.
    fn edge_name_keys(edge: &Edge) -> Vec<String> {
        let mut keys = Vec::with_capacity(4);
        let mut push = |k: String| {
            if !k.is_empty() && !keys.contains(&k) {
                keys.push(k);
            }
        };
        if edge.kind == LinkKind::Wiki {
            for side in std::iter::once(&edge.target).chain(&edge.other) {
                let name = WikiSide::parse(side).name;
                push(name_key(name));
                push(name_key(last_component(name)));
                push(name_key(last_component(strip_note_extension(name))));
            }
        } else {
            push(name_key(&edge.target));
        }
        keys
    }

    /// The anchor keys of a wikilink's sides (`[[note#Heading]]`).
    fn edge_anchor_keys(edge: &Edge) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        if edge.kind == LinkKind::Wiki {
            for side in std::iter::once(&edge.target).chain(&edge.other) {
                if let Some(a) = WikiSide::parse(side).anchor {
                    let k = anchor_key(a);
                    if !k.is_empty() && !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
        keys
    }

    /// The path keys a file or relative link may resolve through: its
    /// target, and for links written from the root (`/x.md`) the target
    /// without its leading `/`, filed apart.
    fn file_edge_paths(&mut self, ix: EdgeIx, edge_target: &str, rooted: bool, add: bool) {
        file_under(&mut self.edges_by_path, edge_target, ix, add);
        if rooted {
            let below_root = edge_target.trim_start_matches('/');
            file_under(&mut self.edges_by_root, below_root, ix, add);
        }
    }

    /// Files (or unfiles) edge `ix` under the keys it may resolve through.
    fn file_edge(&mut self, ix: EdgeIx, add: bool) {
        let Some(edge) = self.edges.get(ix as usize).and_then(Option::as_ref) else {
            return;
        };
        let two_sided = edge.kind == LinkKind::Wiki && edge.other.is_some();
        let (map, keys) = match edge.kind {
            LinkKind::Id => (&mut self.edges_by_id, vec![edge.target.clone()]),
            LinkKind::File | LinkKind::Relative => {
                let (target, rooted) = (edge.target.clone(), edge.rooted);
                self.file_edge_paths(ix, &target, rooted, add);
                return;
            }
            LinkKind::Roam | LinkKind::Wiki => {
                let anchors = Graph::edge_anchor_keys(edge);
                let keys = Graph::edge_name_keys(edge);
                for k in anchors {
                    file_under(&mut self.edges_by_anchor, &k, ix, add);
                }
                (&mut self.edges_by_name, keys)
            }
            LinkKind::Url | LinkKind::Internal => return,
        };
        for k in &keys {
            file_under(map, k, ix, add);
        }
        if two_sided {
            let vote = if add { Some(self.vote_of(ix)) } else { None };
            self.set_vote(ix, vote);
        }
    }

    /// How the two-sided wikilink `ix` votes: for the side that is a file
    /// name written exactly, when the other is not.
    fn vote_of(&self, ix: EdgeIx) -> Vote {
        let Some(edge) = self.edge(ix) else {
            return Vote::Neither;
        };
        let Some(other) = &edge.other else {
            return Vote::Neither;
        };
        let names = |s: &str| {
            self.by_file_name(WikiSide::parse(s).name, None, true)
                .is_some()
        };
        match (names(&edge.target), names(other)) {
            (true, false) => Vote::Left,
            (false, true) => Vote::Right,
            _ => Vote::Neither,
        }
    }

    /// Records `vote` (None: no vote) as edge `ix`'s, keeping the tallies.
    fn set_vote(&mut self, ix: EdgeIx, vote: Option<Vote>) {
        let old = match vote {
            Some(v) => self.votes.insert(ix, v),
            None => self.votes.remove(&ix),
        };
        for (v, sign) in [(old, false), (vote, true)] {
            let tally = match v {
                Some(Vote::Left) => &mut self.left_votes,
                Some(Vote::Right) => &mut self.right_votes,
                _ => continue,
            };
            *tally = if sign {
                *tally + 1
            } else {
                tally.saturating_sub(1)
            };
        }
    }

    /// Recounts the votes of the two-sided wikilinks that may name a file
    /// whose name has the lookup form `stem`, after that file came or went.
    fn revote(&mut self, stem: &str) {
        let Some(list) = self.edges_by_name.get(stem) else {
            return;
        };
        let voters: Vec<EdgeIx> = list
            .iter()
            .copied()
            .filter(|e| self.votes.contains_key(e))
            .collect();
        for e in voters {
            let vote = self.vote_of(e);
            self.set_vote(e, Some(vote));
        }
    }

    /// Whether `[[a|b]]` names its note on the right (Dendron) rather than
    /// on the left (Obsidian, Foam), when both sides are file names.  A
    /// collection is written with one tool, so its own links tell: among
    /// two-sided wikilinks where exactly one side is a file name written
    /// exactly, the majority side wins (left on a tie).  The votes are kept
    /// as notes change, so this costs nothing.
    pub fn label_first(&self) -> bool {
        self.right_votes > self.left_votes
    }

    // ------------------------------------------------------------------
    // Resolution

    /// The node edge `ix` points at, or None for a dead link (or a link to
    /// an ID marked `ROAM_EXCLUDE`).
    pub fn resolve(&self, ix: EdgeIx) -> Option<NodeIx> {
        let edge = self.edge(ix)?;
        match edge.kind {
            LinkKind::Id => self.node_by_id(&edge.target),
            LinkKind::File => self.file_node(&edge.target),
            LinkKind::Relative => self.file_node(&edge.target).or_else(|| {
                if !edge.rooted {
                    return None;
                }
                // Written from the root: below the nearest directory above
                // the note (the note root) that has it.
                let below_root = edge.target.trim_start_matches('/');
                let dir = Path::new(self.node_path(edge.source)).parent()?;
                let mut ancestors: Vec<&Path> = dir.ancestors().collect();
                ancestors.reverse();
                ancestors
                    .into_iter()
                    .find_map(|a| self.file_node(&a.join(below_root).display().to_string()))
            }),
            LinkKind::Roam => self.by_title(&edge.target),
            LinkKind::Wiki => {
                let mut sides: Vec<WikiSide> = std::iter::once(edge.target.as_str())
                    .chain(edge.other.as_deref())
                    .map(WikiSide::parse)
                    .collect();
                if sides.len() > 1 && self.label_first() {
                    sides.reverse();
                }
                let dir = Path::new(self.node_path(edge.source)).parent();
                // A side that looks like a note's name (`a.b.c`, `dir/x`,
                // `dendron://`) makes the other side a label: prose that
                // may only name a file written exactly, never a title.
                // So [[Reading Series|dendron://v/what-are-you-reading]]
                // stays dead when that note is missing.
                let any_name = sides.iter().any(WikiSide::is_name_like);
                let may_name = |s: &&WikiSide| !any_name || s.is_name_like();
                // A file name written exactly, on either side, beats one
                // matched without case: Dendron's [[Templates|templates.x]]
                // must not land on templates.md.  Titles and aliases last.
                let (node, side) = sides
                    .iter()
                    .find_map(|s| self.by_file_name(s.name, dir, true).map(|n| (n, s)))
                    .or_else(|| {
                        sides
                            .iter()
                            .filter(may_name)
                            .find_map(|s| self.by_file_name(s.name, dir, false).map(|n| (n, s)))
                    })
                    .or_else(|| {
                        sides
                            .iter()
                            .filter(may_name)
                            .find_map(|s| self.by_title(s.name).map(|n| (n, s)))
                    })?;
                Some(
                    side.anchor
                        .and_then(|a| self.heading_by_anchor(node, a))
                        .unwrap_or(node),
                )
            }
            LinkKind::Url | LinkKind::Internal => None,
        }
    }

    /// The first heading node in the file of node `ix` whose title matches
    /// the anchor `anchor` (`#Sub heading`, `#sub-heading`).
    fn heading_by_anchor(&self, ix: NodeIx, anchor: &str) -> Option<NodeIx> {
        let key = anchor_key(anchor);
        let file = self.node(ix).and_then(|n| self.file(n.file))?;
        file.headings
            .iter()
            .copied()
            .find(|&h| self.node(h).is_some_and(|n| anchor_key(&n.title) == key))
    }

    /// Whether edge `ix` is a dead link: it resolves nowhere, and is not a
    /// link to an ID that `ROAM_EXCLUDE` keeps from being a node.
    pub fn is_dead(&self, ix: EdgeIx) -> bool {
        self.resolve(ix).is_none()
            && !self.edge(ix).is_some_and(|e| {
                e.kind == LinkKind::Id && self.excluded_ids.contains_key(&e.target)
            })
    }

    /// The file node whose name is `name` (`note`, `note.md`, `dir/note`,
    /// Dendron's `a.b.c`): an exact-case match first (the only kind with
    /// `exact_only`), then one in the linking note's directory `dir`, then
    /// the first by path.
    fn by_file_name(&self, name: &str, dir: Option<&Path>, exact_only: bool) -> Option<NodeIx> {
        // As written first: Dendron's `a.topic.markdown` is a name, not
        // `a.topic` with an extension; then without a note extension.
        let name = name.trim();
        self.by_stem(name, dir, exact_only).or_else(|| {
            let stripped = strip_note_extension(name);
            (stripped != name)
                .then(|| self.by_stem(stripped, dir, exact_only))
                .flatten()
        })
    }

    /// [`Graph::by_file_name`] for a name without extension.
    fn by_stem(&self, name: &str, dir: Option<&Path>, exact_only: bool) -> Option<NodeIx> {
        let stem = last_component(name);
        let list = self.by_name.get(&name_key(stem))?;
        let suffix = name
            .contains('/')
            .then(|| format!("/{}", name.to_lowercase()));
        list.iter()
            .filter(|(_, k)| *k == NameKind::Stem)
            .filter_map(|&(n, _)| {
                let path = self.node_path(n);
                let file_stem = self.node(n).and_then(|x| self.file(x.file))?.stem.as_str();
                if let Some(suffix) = &suffix {
                    let without_ext = strip_note_extension(path).to_lowercase();
                    if !without_ext.ends_with(suffix.as_str()) {
                        return None;
                    }
                }
                let exact = file_stem == stem;
                if exact_only && !exact {
                    return None;
                }
                let same_dir = dir.is_some_and(|d| Path::new(path).parent() == Some(d));
                Some(((!exact, !same_dir, path), n))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, n)| n)
    }

    /// The node whose title or alias is `name`: exact case before folded,
    /// titles before aliases, files before headings, then by place.
    fn by_title(&self, name: &str) -> Option<NodeIx> {
        let name = name.trim();
        let list = self.by_name.get(&name_key(name))?;
        list.iter()
            .filter(|(_, k)| *k != NameKind::Stem)
            .filter_map(|&(n, kind)| {
                let node = self.node(n)?;
                let exact = match kind {
                    NameKind::Title => node.title.trim() == name,
                    _ => node.aliases.iter().any(|a| a.trim() == name),
                };
                Some((
                    (
                        !exact,
                        kind == NameKind::Alias,
                        node.level > 0,
                        self.file_path(node.file),
                        node.line,
                    ),
                    n,
                ))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, n)| n)
    }

    // ------------------------------------------------------------------
    // Queries

    /// Edges that may point at node `ix` (a superset of its backlinks).
    fn candidate_edges(&self, ix: NodeIx, out: &mut Vec<EdgeIx>) {
        let Some(node) = self.node(ix) else {
            return;
        };
        if let Some(list) = node.id.as_ref().and_then(|id| self.edges_by_id.get(id)) {
            out.extend(list);
        }
        if node.level == 0 {
            let path = self.file_path(node.file);
            if let Some(list) = self.edges_by_path.get(path) {
                out.extend(list);
            }
            // Links written from the root name some tail of the path.
            if !self.edges_by_root.is_empty() {
                for (i, _) in path.match_indices('/') {
                    if let Some(list) = self.edges_by_root.get(&path[i + 1..]) {
                        out.extend(list);
                    }
                }
            }
        } else if let Some(list) = self.edges_by_anchor.get(&anchor_key(&node.title)) {
            out.extend(list);
        }
        for (name, _) in self.node_names(ix) {
            if let Some(list) = self.edges_by_name.get(&name) {
                out.extend(list);
            }
        }
    }

    /// The edges pointing at any of `targets`, in file order.
    pub fn backlinks(&self, targets: &[NodeIx]) -> Vec<EdgeIx> {
        let mut candidates = Vec::new();
        for &t in targets {
            self.candidate_edges(t, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out: Vec<EdgeIx> = candidates
            .into_iter()
            .filter(|&e| self.resolve(e).is_some_and(|n| targets.contains(&n)))
            .collect();
        out.sort_by(|&a, &b| self.edge_place(a).cmp(&self.edge_place(b)));
        out
    }

    /// (path, line, column) of an edge, for ordering.
    fn edge_place(&self, ix: EdgeIx) -> (&str, u32, u32) {
        match self.edge(ix) {
            Some(e) => (self.node_path(e.source), e.line, e.column),
            None => ("", 0, 0),
        }
    }

    /// The edges whose links are in node `ix` itself (not in headings with
    /// IDs below it).
    pub fn outgoing(&self, ix: NodeIx) -> Vec<EdgeIx> {
        let Some(file) = self.node(ix).and_then(|n| self.file(n.file)) else {
            return Vec::new();
        };
        file.edges
            .iter()
            .copied()
            .filter(|&e| self.edge(e).is_some_and(|e| e.source == ix))
            .collect()
    }

    /// The heading nodes directly enclosed by node `ix`.
    fn children(&self, ix: NodeIx) -> Vec<NodeIx> {
        let Some(file) = self.node(ix).and_then(|n| self.file(n.file)) else {
            return Vec::new();
        };
        file.headings
            .iter()
            .copied()
            .filter(|&h| self.node(h).is_some_and(|n| n.parent == Some(ix)))
            .collect()
    }

    /// The nodes within `depth` hops of `start`, following links both ways
    /// and the containment of headings in their notes, nearest first.
    pub fn neighbourhood(&self, start: NodeIx, depth: u32) -> Vec<NodeIx> {
        let mut seen: HashSet<NodeIx> = HashSet::new();
        let mut order = Vec::new();
        let mut queue = VecDeque::new();
        if self.node(start).is_none() {
            return order;
        }
        seen.insert(start);
        order.push(start);
        queue.push_back((start, 0));
        while let Some((n, d)) = queue.pop_front() {
            if d >= depth {
                continue;
            }
            let mut next: Vec<NodeIx> = Vec::new();
            next.extend(self.outgoing(n).into_iter().filter_map(|e| self.resolve(e)));
            next.extend(
                self.backlinks(&[n])
                    .into_iter()
                    .filter_map(|e| self.edge(e).map(|e| e.source)),
            );
            next.extend(self.node(n).and_then(|x| x.parent));
            next.extend(self.children(n));
            for m in next {
                if seen.insert(m) {
                    order.push(m);
                    queue.push_back((m, d + 1));
                }
            }
        }
        order
    }

    /// How many links resolve to a node (the edges an export writes; the
    /// others are dead, or point at IDs marked `ROAM_EXCLUDE`).
    pub fn resolved_count(&self) -> usize {
        (0..self.edges.len())
            .filter(|&e| self.resolve(e as EdgeIx).is_some())
            .count()
    }

    /// The paths of the note files, in no particular order.
    pub fn file_paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().flatten().map(|f| f.path.as_str())
    }

    /// Every dead link (see [`Graph::is_dead`]), in file order.
    pub fn dead_links(&self) -> Vec<EdgeIx> {
        self.edges_sorted()
            .into_iter()
            .filter(|&e| self.is_dead(e))
            .collect()
    }

    /// Note files with no link to or from another note, as their file
    /// nodes, in file order.
    pub fn orphans(&self) -> Vec<NodeIx> {
        let mut linked: HashSet<FileIx> = HashSet::new();
        for (ix, edge) in self.edges.iter().enumerate() {
            let Some(edge) = edge else { continue };
            let Some(target) = self.resolve(ix as EdgeIx) else {
                continue;
            };
            let (Some(from), Some(to)) = (self.node(edge.source), self.node(target)) else {
                continue;
            };
            if from.file != to.file {
                linked.insert(from.file);
                linked.insert(to.file);
            }
        }
        let mut out: Vec<(&str, NodeIx)> = self
            .files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let f = f.as_ref()?;
                (!linked.contains(&(i as FileIx))).then_some((f.path.as_str(), f.node))
            })
            .collect();
        out.sort_unstable();
        out.into_iter().map(|(_, n)| n).collect()
    }

    /// Nodes sharing a title (compared without case), in file order.
    pub fn duplicate_titles(&self) -> Vec<Duplicate> {
        let mut groups: HashMap<String, Vec<NodeIx>> = HashMap::new();
        for ix in self.nodes_sorted() {
            if let Some(n) = self.node(ix) {
                let key = name_key(&n.title);
                if !key.is_empty() {
                    groups.entry(key).or_default().push(ix);
                }
            }
        }
        let mut out: Vec<Duplicate> = groups
            .into_values()
            .filter(|nodes| nodes.len() > 1)
            .map(|nodes| Duplicate {
                name: nodes
                    .first()
                    .and_then(|&n| self.node(n))
                    .map(|n| n.title.clone())
                    .unwrap_or_default(),
                nodes,
            })
            .collect();
        out.sort_by_cached_key(|a| name_key(&a.name));
        out
    }

    /// IDs carried by more than one node, in order of the ID.
    pub fn duplicate_ids(&self) -> Vec<Duplicate> {
        let mut out: Vec<Duplicate> = self
            .by_id
            .iter()
            .filter(|(_, nodes)| nodes.len() > 1)
            .map(|(id, nodes)| {
                let mut nodes = nodes.clone();
                nodes.sort_by(|&a, &b| self.place(a).cmp(&self.place(b)));
                Duplicate {
                    name: id.clone(),
                    nodes,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

#[cfg(test)]
mod tests;
