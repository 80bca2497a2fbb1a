//! Shims for the link graph: build it, list nodes, backlinks, a report,
//! and export.  The graph lives in the index handle (see `crate::graph`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use emacs::{defun, Env, IntoLisp, Result, Value};

use super::job::{LispJob, LispOutput};
use super::knowledge::IndexHandle;
use super::{list, plist, run};
use crate::error::{Error, Kind, ResultExt};
use crate::graph::export::{self, kind_name, Selection};
use crate::graph::{BuildStats, Edge, Graph, GraphUpdate, NodeIx};
use crate::knowledge::parse::{line_kinds, Format, LineKind, ParseOptions};

/// Keyword symbols interned once per call, for building many plists.
struct Keys<'e>(Vec<Value<'e>>);

impl<'e> Keys<'e> {
    fn new(env: &'e Env, names: &[&str]) -> Result<Keys<'e>> {
        let mut v = Vec::with_capacity(names.len());
        for n in names {
            v.push(env.intern(n)?);
        }
        Ok(Keys(v))
    }

    /// A plist of these keys with `values`, in order.
    fn plist(&self, env: &'e Env, values: &[Value<'e>]) -> Result<Value<'e>> {
        let mut args = Vec::with_capacity(values.len() * 2);
        for (k, v) in self.0.iter().zip(values) {
            args.push(*k);
            args.push(*v);
        }
        env.list(&args[..])
    }
}

/// A Lisp string of `s`.  ASCII text becomes a unibyte string: Emacs 28
/// copies those bytes as they are, while `make_string` decodes UTF-8 at
/// about 15 ns a byte, which dominated listing thousands of nodes.  A
/// unibyte ASCII string is `equal' (and hashes the same) as its multibyte
/// twin, and inserts, concatenates and matches the same.
pub fn text<'e>(env: &'e Env, s: &str) -> Result<Value<'e>> {
    if s.is_ascii() {
        s.as_bytes().into_lisp(env)
    } else {
        s.into_lisp(env)
    }
}

/// [`text`], or nil for None.
fn opt_text<'e>(env: &'e Env, s: Option<&str>) -> Result<Value<'e>> {
    match s {
        Some(s) => text(env, s),
        None => ().into_lisp(env),
    }
}

fn strings<'e>(env: &'e Env, items: &[String]) -> Result<Value<'e>> {
    if items.is_empty() {
        return ().into_lisp(env);
    }
    let mut values = Vec::with_capacity(items.len());
    for s in items {
        values.push(text(env, s)?);
    }
    list(env, &values)
}

impl LispOutput for GraphUpdate {
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>> {
        let stats = self.outcome.into_lisp_output(env)?;
        let extra = plist(
            env,
            &[
                (":graph-seconds", self.graph_seconds.into_lisp(env)?),
                (":graph-built", self.graph_built.into_lisp(env)?),
            ],
        )?;
        env.call("append", (stats, extra))
    }
}

impl LispOutput for BuildStats {
    fn into_lisp_output(self, env: &Env) -> Result<Value<'_>> {
        plist(
            env,
            &[
                (":files", (self.counts.files as i64).into_lisp(env)?),
                (":nodes", (self.counts.nodes as i64).into_lisp(env)?),
                (":edges", (self.counts.edges as i64).into_lisp(env)?),
                (":seconds", self.seconds.into_lisp(env)?),
                (":built", self.built.into_lisp(env)?),
            ],
        )
    }
}

/// Return t if the link graph of INDEX is in memory.
#[defun]
fn graph_built(index: &IndexHandle) -> Result<bool> {
    Ok(index.graph.is_built())
}

/// Start building the link graph of INDEX from its stored notes; return
/// the job.  Its result is a plist (:files :nodes :edges :seconds :built);
/// :built is nil when the graph was already there.
#[defun(user_ptr)]
fn graph_build(env: &Env, index: &IndexHandle) -> Result<LispJob> {
    let graph = Arc::clone(&index.graph);
    let index = Arc::clone(&index.index);
    run(env, || {
        LispJob::spawn("graph", move |progress| graph.ensure(&index, progress))
    })
}

/// Return a number that changes whenever the graph of INDEX changes.
#[defun]
fn graph_generation(index: &IndexHandle) -> Result<i64> {
    Ok(i64::try_from(index.graph.generation()).unwrap_or(i64::MAX))
}

/// Return the counts of the graph of INDEX as a plist.
///
/// Keys: :built :files :nodes :edges :generation, and :label-first, t
/// when the notes write wikilinks [[label|note]] (Dendron) rather than
/// [[note|label]].  Does not build it.
#[defun]
fn graph_stats<'e>(env: &'e Env, index: &IndexHandle) -> Result<Value<'e>> {
    let (counts, label_first) = if index.graph.is_built() {
        run(env, || {
            index
                .graph
                .read(&index.index, |g| (g.counts(), g.label_first()))
        })?
    } else {
        Default::default()
    };
    plist(
        env,
        &[
            (":built", index.graph.is_built().into_lisp(env)?),
            (":files", (counts.files as i64).into_lisp(env)?),
            (":nodes", (counts.nodes as i64).into_lisp(env)?),
            (":edges", (counts.edges as i64).into_lisp(env)?),
            (
                ":generation",
                i64::try_from(index.graph.generation())
                    .unwrap_or(i64::MAX)
                    .into_lisp(env)?,
            ),
            (":label-first", label_first.into_lisp(env)?),
        ],
    )
}

/// What Lisp is told about a node, copied out of the graph.
struct NodeInfo {
    key: String,
    id: Option<String>,
    title: String,
    aliases: Vec<String>,
    tags: Vec<String>,
    refs: Vec<String>,
    file: String,
    line: u32,
    level: u32,
    outline: Vec<String>,
    parent: Option<String>,
    file_title: String,
}

fn node_info(g: &Graph, ix: NodeIx) -> Option<NodeInfo> {
    let n = g.node(ix)?;
    let path = g.file_path(n.file);
    Some(NodeInfo {
        key: g.node_key(ix),
        id: n.id.clone(),
        title: n.title.clone(),
        aliases: n.aliases.clone(),
        tags: n.tags.clone(),
        refs: n.refs.clone(),
        file: path.to_string(),
        line: n.line,
        level: n.level,
        outline: n.outline.clone(),
        parent: n.parent.map(|p| g.node_key(p)),
        file_title: g
            .file_node(path)
            .and_then(|f| g.node(f))
            .map(|f| f.title.clone())
            .unwrap_or_default(),
    })
}

const NODE_KEYS: &[&str] = &[
    ":id", ":title", ":aliases", ":tags", ":file", ":line", ":level", ":key", ":outline",
];

const FULL_NODE_KEYS: &[&str] = &[
    ":id",
    ":title",
    ":aliases",
    ":tags",
    ":file",
    ":line",
    ":level",
    ":key",
    ":outline",
    ":refs",
    ":parent",
    ":file-title",
];

/// A node's plist.  `file` is the Lisp string of its file name, shared by
/// the nodes of one file.
fn node_plist<'e>(
    env: &'e Env,
    keys: &Keys<'e>,
    n: &NodeInfo,
    file: Value<'e>,
    full: bool,
) -> Result<Value<'e>> {
    let key = if n.id.as_deref() == Some(n.key.as_str()) {
        None
    } else {
        Some(text(env, &n.key)?)
    };
    let id = opt_text(env, n.id.as_deref())?;
    let mut values = vec![
        id,
        text(env, &n.title)?,
        strings(env, &n.aliases)?,
        strings(env, &n.tags)?,
        file,
        i64::from(n.line).into_lisp(env)?,
        i64::from(n.level).into_lisp(env)?,
        // The key is the ID or the file name: share that string.
        key.unwrap_or(if n.id.is_some() { id } else { file }),
        strings(env, &n.outline)?,
    ];
    if full {
        values.push(strings(env, &n.refs)?);
        values.push(opt_text(env, n.parent.as_deref())?);
        values.push(text(env, &n.file_title)?);
    }
    keys.plist(env, &values)
}

fn node_plists<'e>(env: &'e Env, nodes: &[NodeInfo], full: bool) -> Result<Value<'e>> {
    let keys = Keys::new(env, if full { FULL_NODE_KEYS } else { NODE_KEYS })?;
    let mut values = Vec::with_capacity(nodes.len());
    let mut last_file: Option<(&str, Value<'e>)> = None;
    for n in nodes {
        let file = match last_file {
            Some((path, value)) if path == n.file => value,
            _ => {
                let value = text(env, &n.file)?;
                last_file = Some((&n.file, value));
                value
            }
        };
        values.push(node_plist(env, &keys, n, file, full)?);
    }
    list(env, &values)
}

/// Return every node of INDEX's graph as a plist, in file order.
///
/// Keys: :id (nil for notes without one) :title :aliases :tags :file
/// :line :level (0 for files) :key (the ID, or the file name of a note
/// without one) :outline (the headings above a heading node).
#[defun]
fn graph_nodes<'e>(env: &'e Env, index: &IndexHandle) -> Result<Value<'e>> {
    let nodes = run(env, || {
        index.graph.read(&index.index, |g| {
            g.nodes_sorted()
                .into_iter()
                .filter_map(|n| node_info(g, n))
                .collect::<Vec<_>>()
        })
    })?;
    node_plists(env, &nodes, false)
}

/// Return completion candidates for the nodes of INDEX's graph, as a list
/// of (CANDIDATE . KEY).
///
/// A node's candidate is its title followed by its tags ("Title #a #b");
/// each alias makes another candidate for the same node.  Candidates
/// that would be equal are told apart by the end of their file name (and
/// line, for headings) after " · ".  KEY is the node's key (its ID, or
/// its file name).
#[defun]
fn graph_candidates<'e>(env: &'e Env, index: &IndexHandle) -> Result<Value<'e>> {
    let candidates = run(env, || index.graph.read(&index.index, candidates))?;
    let mut out = ().into_lisp(env)?;
    let mut last_key: Option<(&str, Value<'e>)> = None;
    for (candidate, key) in candidates.iter().rev() {
        let key_value = match last_key {
            Some((k, v)) if k == key.as_str() => v,
            _ => {
                let v = text(env, key)?;
                last_key = Some((key, v));
                v
            }
        };
        let pair = env.cons(text(env, candidate)?, key_value)?;
        out = env.cons(pair, out)?;
    }
    Ok(out)
}

/// The candidates of [`graph_candidates`]: (candidate, node key), in file
/// order, every candidate distinct.
fn candidates(g: &Graph) -> Vec<(String, String)> {
    use std::collections::{HashMap, HashSet};
    use xxhash_rust::xxh3::Xxh3DefaultBuilder;
    let nodes = g.nodes_sorted();
    // (base candidate, node) for titles and aliases.
    let mut items: Vec<(String, NodeIx)> = Vec::with_capacity(nodes.len() + nodes.len() / 4);
    for &ix in &nodes {
        let Some(n) = g.node(ix) else { continue };
        let mut tags = String::new();
        for t in &n.tags {
            tags.push_str(" #");
            tags.push_str(t);
        }
        for name in std::iter::once(&n.title).chain(&n.aliases) {
            let name = name.trim();
            let mut c = String::with_capacity(name.len() + tags.len());
            c.push_str(name);
            c.push_str(&tags);
            items.push((c, ix));
        }
    }
    let mut count: HashMap<&str, u32, Xxh3DefaultBuilder> =
        HashMap::with_capacity_and_hasher(items.len(), Xxh3DefaultBuilder);
    for (c, _) in &items {
        *count.entry(c.as_str()).or_default() += 1;
    }
    // Candidates made for clashing titles, so two never come out equal.
    let mut made: HashSet<String, Xxh3DefaultBuilder> = HashSet::default();
    let mut out = Vec::with_capacity(items.len());
    for (base, ix) in &items {
        if count.get(base.as_str()).copied().unwrap_or(0) <= 1 {
            out.push((base.clone(), g.node_key(*ix)));
            continue;
        }
        let Some(n) = g.node(*ix) else { continue };
        let parts: Vec<&str> = g
            .file_path(n.file)
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        let line = if n.level > 0 {
            format!(":{}", n.line)
        } else {
            String::new()
        };
        let mut k = 1;
        let candidate = loop {
            let tail = parts
                .get(parts.len().saturating_sub(k)..)
                .unwrap_or_default()
                .join("/");
            let c = format!("{base} · {tail}{line}");
            let taken = made.contains(&c) || count.contains_key(c.as_str());
            if !taken || k >= parts.len() {
                break c;
            }
            k += 1;
        };
        if made.insert(candidate.clone()) {
            out.push((candidate, g.node_key(*ix)));
        }
    }
    out
}

/// Return the node KEY (an ID or an absolute file name) of INDEX's graph
/// as a plist, or nil when there is none.
///
/// Keys: those of `artisan--graph-nodes', and :refs, :parent (the key of
/// the enclosing node) and :file-title (the title of its note).
#[defun]
fn graph_node<'e>(env: &'e Env, index: &IndexHandle, key: String) -> Result<Value<'e>> {
    let node = run(env, || {
        index.graph.read(&index.index, |g| {
            g.lookup(&key).and_then(|n| node_info(g, n))
        })
    })?;
    match node {
        Some(n) => {
            let file = text(env, &n.file)?;
            node_plist(env, &Keys::new(env, FULL_NODE_KEYS)?, &n, file, true)
        }
        None => ().into_lisp(env),
    }
}

/// A link as Lisp is told about it: where it is, what it is, what it
/// points at, and the node it is in.
struct LinkInfo {
    path: String,
    edge: Edge,
    source: NodeInfo,
    target: Option<String>,
}

fn link_info(g: &Graph, e: u32, target: Option<NodeIx>) -> Option<LinkInfo> {
    let edge = g.edge(e)?.clone();
    Some(LinkInfo {
        path: g.node_path(edge.source).to_string(),
        source: node_info(g, edge.source)?,
        target: target.map(|t| g.node_key(t)),
        edge,
    })
}

const LINK_KEYS: &[&str] = &[
    ":file",
    ":line",
    ":column",
    ":title",
    ":context",
    ":kind",
    ":source",
    ":id",
    ":outline",
    ":file-title",
    ":target",
];

fn link_plists<'e>(env: &'e Env, index: &IndexHandle, links: &[LinkInfo]) -> Result<Value<'e>> {
    let keys = Keys::new(env, LINK_KEYS)?;
    let mut values = Vec::with_capacity(links.len());
    for l in links {
        let context = index.graph.context(&index.index, &l.path, &l.edge);
        let mut outline = l.source.outline.clone();
        if l.source.level > 0 {
            outline.push(l.source.title.clone());
        }
        let target = match &l.target {
            Some(t) => text(env, t)?,
            None => text(env, &l.edge.written_target())?,
        };
        values.push(keys.plist(
            env,
            &[
                text(env, &l.path)?,
                i64::from(l.edge.line).into_lisp(env)?,
                i64::from(l.edge.column).into_lisp(env)?,
                text(env, &l.source.title)?,
                text(env, &context)?,
                env.intern(kind_name(l.edge.kind))?,
                text(env, &l.source.key)?,
                opt_text(env, l.source.id.as_deref())?,
                strings(env, &outline)?,
                text(env, &l.source.file_title)?,
                target,
            ],
        )?);
    }
    list(env, &values)
}

/// Return the backlinks of KEY in INDEX's graph: every link pointing at it.
///
/// KEY is an ID (links to that node) or an absolute file name (links to
/// the note or to any heading with an ID in it).  Each backlink is a
/// plist (:file :line :column :title :context :kind :source :id :outline
/// :file-title :target): where the link is, the title, key, ID and
/// outline of the node it is in, the title of that note, the paragraph
/// around it, its kind (`id', `file', `roam', `wiki', `relative') and the
/// key of the node it points at.  Nil when KEY names no node.
#[defun]
fn graph_backlinks<'e>(env: &'e Env, index: &IndexHandle, key: String) -> Result<Value<'e>> {
    let links = run(env, || {
        index.graph.read(&index.index, |g| {
            let Some(n) = g.lookup(&key) else {
                return Vec::new();
            };
            let targets = if g.node_by_id(&key).is_some() {
                vec![n]
            } else {
                g.nodes_of_file_of(n)
            };
            g.backlinks(&targets)
                .into_iter()
                .filter_map(|e| link_info(g, e, g.resolve(e)))
                .collect::<Vec<_>>()
        })
    })?;
    link_plists(env, index, &links)
}

/// Return a report on INDEX's graph as a plist.
///
/// :links is the number of links that resolve to a node (as many as an
/// export of the whole graph writes), :dead the dead links (plists like backlinks, :target being the
/// target as written), :orphans the notes with no link to or from
/// another note (node plists), :duplicate-titles and :duplicate-ids
/// lists of (NAME . NODE-PLISTS) for titles (compared without case) and
/// IDs shared by several nodes.
#[defun]
fn graph_report<'e>(env: &'e Env, index: &IndexHandle) -> Result<Value<'e>> {
    type Groups = Vec<(String, Vec<NodeInfo>)>;
    let (links, dead, orphans, titles, ids): (usize, Vec<LinkInfo>, Vec<NodeInfo>, Groups, Groups) =
        run(env, || {
            index.graph.read(&index.index, |g| {
                let dead = g
                    .dead_links()
                    .into_iter()
                    .filter_map(|e| link_info(g, e, None))
                    .collect();
                let orphans = g
                    .orphans()
                    .into_iter()
                    .filter_map(|n| node_info(g, n))
                    .collect();
                let group = |d: Vec<crate::graph::Duplicate>| -> Groups {
                    d.into_iter()
                        .map(|d| {
                            (
                                d.name,
                                d.nodes
                                    .into_iter()
                                    .filter_map(|n| node_info(g, n))
                                    .collect(),
                            )
                        })
                        .collect()
                };
                (
                    g.resolved_count(),
                    dead,
                    orphans,
                    group(g.duplicate_titles()),
                    group(g.duplicate_ids()),
                )
            })
        })?;
    let groups = |groups: &Groups| -> Result<Value<'e>> {
        let mut values = Vec::with_capacity(groups.len());
        for (name, nodes) in groups {
            values.push(env.cons(text(env, name)?, node_plists(env, nodes, false)?)?);
        }
        list(env, &values)
    };
    plist(
        env,
        &[
            (":links", (links as i64).into_lisp(env)?),
            (":dead", link_plists(env, index, &dead)?),
            (":orphans", node_plists(env, &orphans, false)?),
            (":duplicate-titles", groups(&titles)?),
            (":duplicate-ids", groups(&ids)?),
        ],
    )
}

/// Return how many notes of each format INDEX's graph has under DIR.
///
/// DIR is an absolute directory name (nil: all notes).  The value is a
/// plist (:org N :markdown N :text N).
#[defun]
fn graph_note_formats<'e>(
    env: &'e Env,
    index: &IndexHandle,
    dir: Option<String>,
) -> Result<Value<'e>> {
    let prefix = dir.map(|d| if d.ends_with('/') { d } else { format!("{d}/") });
    let (org, markdown, text) = run(env, || {
        index.graph.read(&index.index, |g| {
            let mut counts = (0i64, 0i64, 0i64);
            for path in g.file_paths() {
                if prefix.as_deref().is_some_and(|p| !path.starts_with(p)) {
                    continue;
                }
                let ext = Path::new(path)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("");
                match Format::from_extension(ext) {
                    Format::Org => counts.0 += 1,
                    Format::Markdown => counts.1 += 1,
                    Format::Text => counts.2 += 1,
                }
            }
            counts
        })
    })?;
    plist(
        env,
        &[
            (":org", org.into_lisp(env)?),
            (":markdown", markdown.into_lisp(env)?),
            (":text", text.into_lisp(env)?),
        ],
    )
}

/// Return HEADING as a `#anchor` that names it in a wikilink: lower
/// case, words joined by `-`, other punctuation dropped (GitHub's and
/// Dendron's slug, and the form anchors are compared in).
#[defun]
fn graph_anchor(heading: String) -> Result<String> {
    Ok(crate::graph::model::anchor_key(&heading))
}

/// Return what each line of TEXT is to the link parser, as a string.
///
/// TEXT is parsed as a note whose file name ends in EXTENSION (\"org\",
/// \"md\", ...).  Character N of the value (0-based) tells about line
/// N+1: ?p prose (a link written there is read as one), ?h a heading
/// line, ?x code, a comment, front matter, a drawer or a keyword line,
/// where the parser reads no links.
#[defun]
fn graph_line_kinds(text: String, extension: String) -> Result<String> {
    let kinds = line_kinds(
        &text,
        Format::from_extension(extension.trim_start_matches('.')),
        &ParseOptions::default(),
    );
    Ok(kinds
        .into_iter()
        .map(|k| match k {
            LineKind::Prose => 'p',
            LineKind::Heading => 'h',
            LineKind::Hidden => 'x',
        })
        .collect())
}

/// Write INDEX's graph to FILE as FORMAT (\"dot\" or \"json\").
///
/// With KEY (an ID or a file name), only the nodes within DEPTH hops of
/// it.  Return a plist (:nodes :edges :dead :file).  The file is written
/// to a temporary name and renamed, so it is never seen half-written;
/// the temporary file is removed whatever fails.
#[defun]
fn graph_export<'e>(
    env: &'e Env,
    index: &IndexHandle,
    format: String,
    file: String,
    key: Option<String>,
    depth: Option<i64>,
) -> Result<Value<'e>> {
    let written = run(env, || {
        let format = export::Format::parse(&format)
            .ok_or_else(|| Error::graph(format!("Unknown export format {format} (dot or json)")))?;
        if file.is_empty() || file.ends_with('/') || Path::new(&file).is_dir() {
            return Err(Error::graph(format!(
                "Cannot write the graph to {file}: a file name is needed, not a directory"
            )));
        }
        let target = &export::export_target(Path::new(&file))?;
        let tmp = target.with_file_name(format!(
            ".{}.tmp{}",
            target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("graph"),
            std::process::id()
        ));
        let write = |g: &Graph| -> crate::error::Result<export::Written> {
            let selection = match &key {
                None => Selection::all(g),
                Some(k) => {
                    let root = g.lookup(k).ok_or_else(|| {
                        Error::graph(format!("No node with the ID or file name {k}"))
                    })?;
                    let depth = u32::try_from(depth.unwrap_or(2).max(0)).unwrap_or(u32::MAX);
                    Selection::around(g, root, depth)
                }
            };
            let f = File::create(&tmp)
                .or_kind(Kind::Graph, format!("Cannot write {}", tmp.display()))?;
            let mut out = BufWriter::new(f);
            let written = match format {
                export::Format::Dot => export::write_dot(g, &selection, &mut out),
                export::Format::Json => {
                    let mut context = |e: u32, path: &str| {
                        g.edge(e)
                            .map(|edge| index.graph.context(&index.index, path, edge))
                            .unwrap_or_default()
                    };
                    export::write_json(g, &selection, &mut context, &mut out)
                }
            }
            .and_then(|w| out.flush().map(|()| w))
            .or_kind(Kind::Graph, format!("Cannot write {}", tmp.display()))?;
            Ok(written)
        };
        let result = index.graph.read(&index.index, write).and_then(|r| r);
        match result {
            Ok(w) => match std::fs::rename(&tmp, target) {
                Ok(()) => Ok(w),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err::<export::Written, _>(e)
                        .or_kind(Kind::Graph, format!("Cannot write {}", target.display()))
                }
            },
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    })?;
    plist(
        env,
        &[
            (":nodes", (written.nodes as i64).into_lisp(env)?),
            (":edges", (written.edges as i64).into_lisp(env)?),
            (":dead", (written.dead as i64).into_lisp(env)?),
            (":file", file.as_str().into_lisp(env)?),
        ],
    )
}
