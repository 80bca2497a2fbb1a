//! Writing the graph, or the neighbourhood of one node, as Graphviz DOT or
//! as JSON.
//!
//! The JSON shape (version 1) is stable and documented in README.org:
//!
//! ```json
//! {"version": 1, "root": "KEY" | null, "depth": 2 | null,
//!  "nodes": [{"key", "id", "title", "aliases", "tags", "refs", "file",
//!             "line", "level", "parent", "outline"}],
//!  "edges": [{"source", "target", "kind", "file", "line", "column", "context"}],
//!  "dead":  [{"source", "target", "kind", "file", "line", "column", "context"}]}
//! ```
//!
//! A node's `key` is its ID, or the file name of a note without one; edges
//! name their ends by key.  `dead` lists links that resolve to no note;
//! their `target` is the link as written (an absolute path for file and
//! relative links, both sides joined by `|` for wikilinks with a label).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::{EdgeIx, Graph, NodeIx};
use crate::knowledge::parse::LinkKind;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT.
    Dot,
    /// JSON, in the shape documented above.
    Json,
}

impl Format {
    /// Parses `dot` or `json`.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "dot" => Some(Format::Dot),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Checks where an export may be written, and returns the file to write:
/// `path` itself when it is new or a regular file, or the regular file a
/// symbolic link at `path` points to (so the link stays a link).  Anything
/// else (a directory, a character or block device such as `/dev/full`, a
/// FIFO, a socket, a dangling link) is refused with a message saying what
/// it is: an export is written to a temporary file and renamed over its
/// target, which would replace a device with a regular file.
pub fn export_target(path: &Path) -> crate::error::Result<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let refuse = |what: &str| {
        crate::error::Error::graph(format!(
            "Cannot write the graph to {}: it is {what}, and the graph is only written to a regular file or a new file name",
            path.display()
        ))
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => {
            return Err(crate::error::Error::graph(format!(
                "Cannot write the graph to {}: {e}",
                path.display()
            )))
        }
    };
    let (target, kind) = if meta.file_type().is_symlink() {
        match std::fs::canonicalize(path).and_then(|t| Ok((std::fs::metadata(&t)?, t))) {
            Ok((m, t)) => (t, m.file_type()),
            Err(_) => return Err(refuse("a symbolic link to nothing")),
        }
    } else {
        (path.to_path_buf(), meta.file_type())
    };
    if kind.is_file() {
        Ok(target)
    } else if kind.is_dir() {
        Err(refuse("a directory"))
    } else if kind.is_char_device() {
        Err(refuse("a character device"))
    } else if kind.is_block_device() {
        Err(refuse("a block device"))
    } else if kind.is_fifo() {
        Err(refuse("a named pipe (FIFO)"))
    } else if kind.is_socket() {
        Err(refuse("a socket"))
    } else {
        Err(refuse("not a regular file"))
    }
}

/// The part of the graph to export.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The nodes, in output order.
    pub nodes: Vec<NodeIx>,
    /// The node whose neighbourhood this is, if any.
    pub root: Option<NodeIx>,
    /// The neighbourhood's depth, if any.
    pub depth: Option<u32>,
}

impl Selection {
    /// The whole graph.
    pub fn all(graph: &Graph) -> Selection {
        Selection {
            nodes: graph.nodes_sorted(),
            root: None,
            depth: None,
        }
    }

    /// The nodes within `depth` hops of `root`.
    pub fn around(graph: &Graph, root: NodeIx, depth: u32) -> Selection {
        Selection {
            nodes: graph.neighbourhood(root, depth),
            root: Some(root),
            depth: Some(depth),
        }
    }
}

/// How much was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Nodes written.
    pub nodes: usize,
    /// Edges (resolved links) written.
    pub edges: usize,
    /// Dead links: written to JSON, counted for DOT (which draws none).
    pub dead: usize,
}

/// The name of a link kind in exports and in Lisp.
pub fn kind_name(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Id => "id",
        LinkKind::File => "file",
        LinkKind::Roam => "roam",
        LinkKind::Wiki => "wiki",
        LinkKind::Relative => "relative",
        LinkKind::Url => "url",
        LinkKind::Internal => "internal",
    }
}

/// The edges of a selection: (edge, its target or None when dead), in
/// file order.  Edges leave a selected node; resolved ones must also
/// arrive at one.
fn selected_edges(graph: &Graph, selection: &Selection) -> Vec<(EdgeIx, Option<NodeIx>)> {
    let chosen: HashSet<NodeIx> = selection.nodes.iter().copied().collect();
    let whole = selection.root.is_none();
    let edges: Vec<EdgeIx> = if whole {
        graph.edges_sorted()
    } else {
        let mut v: Vec<EdgeIx> = selection
            .nodes
            .iter()
            .flat_map(|&n| graph.outgoing(n))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut out: Vec<(EdgeIx, Option<NodeIx>)> = edges
        .into_iter()
        .filter_map(|e| {
            let source = graph.edge(e)?.source;
            if !whole && !chosen.contains(&source) {
                return None;
            }
            match graph.resolve(e) {
                Some(t) if whole || chosen.contains(&t) => Some((e, Some(t))),
                Some(_) => None,
                None if graph.is_dead(e) => Some((e, None)),
                None => None,
            }
        })
        .collect();
    if !whole {
        out.sort_by(|a, b| place(graph, a.0).cmp(&place(graph, b.0)));
    }
    out
}

fn place(graph: &Graph, e: EdgeIx) -> (&str, u32, u32) {
    graph.edge(e).map_or(("", 0, 0), |edge| {
        (graph.node_path(edge.source), edge.line, edge.column)
    })
}

#[derive(Serialize)]
struct JsonNode<'a> {
    key: String,
    id: Option<&'a str>,
    title: &'a str,
    aliases: &'a [String],
    tags: &'a [String],
    refs: &'a [String],
    file: &'a str,
    line: u32,
    level: u32,
    parent: Option<String>,
    outline: &'a [String],
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    source: String,
    target: String,
    kind: &'static str,
    file: &'a str,
    line: u32,
    column: u32,
    context: String,
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    version: u32,
    root: Option<String>,
    depth: Option<u32>,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
    dead: Vec<JsonEdge<'a>>,
}

/// Writes `selection` as JSON.  `context` gives the paragraph around a
/// link (edge, path of its note).
pub fn write_json(
    graph: &Graph,
    selection: &Selection,
    context: &mut dyn FnMut(EdgeIx, &str) -> String,
    out: &mut dyn Write,
) -> io::Result<Written> {
    let mut nodes = Vec::with_capacity(selection.nodes.len());
    for &ix in &selection.nodes {
        let Some(n) = graph.node(ix) else { continue };
        nodes.push(JsonNode {
            key: graph.node_key(ix),
            id: n.id.as_deref(),
            title: &n.title,
            aliases: &n.aliases,
            tags: &n.tags,
            refs: &n.refs,
            file: graph.file_path(n.file),
            line: n.line,
            level: n.level,
            parent: n.parent.map(|p| graph.node_key(p)),
            outline: &n.outline,
        });
    }
    let mut edges = Vec::new();
    let mut dead = Vec::new();
    for (e, target) in selected_edges(graph, selection) {
        let Some(edge) = graph.edge(e) else { continue };
        let file = graph.node_path(edge.source);
        let item = JsonEdge {
            source: graph.node_key(edge.source),
            target: match target {
                Some(t) => graph.node_key(t),
                None => edge.written_target(),
            },
            kind: kind_name(edge.kind),
            file,
            line: edge.line,
            column: edge.column,
            context: context(e, file),
        };
        match target {
            Some(_) => edges.push(item),
            None => dead.push(item),
        }
    }
    let written = Written {
        nodes: nodes.len(),
        edges: edges.len(),
        dead: dead.len(),
    };
    let doc = JsonGraph {
        version: 1,
        root: selection.root.map(|r| graph.node_key(r)),
        depth: selection.depth,
        nodes,
        edges,
        dead,
    };
    serde_json::to_writer(&mut *out, &doc).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    Ok(written)
}

/// Quotes `s` as a DOT string.
fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // DOT's own escape for a centred line break.
            '\n' => out.push_str("\\n"),
            '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Wraps a title for a node label: lines of at most about 28 characters.
fn wrap_label(title: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in title.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 28 {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

/// Writes `selection` as a Graphviz digraph.  Nodes are named `n0`, `n1`,
/// ...; each carries its key as `URL` (so `-Tcmapx` image maps and SVG
/// links name the node), its file and line as `tooltip`, and the root of a
/// neighbourhood is highlighted.  One arrow stands for all the links from a
/// node to another; dashed lines join headings to the note holding them.
/// Dead links are not drawn, only counted.
pub fn write_dot(graph: &Graph, selection: &Selection, out: &mut dyn Write) -> io::Result<Written> {
    let name: std::collections::HashMap<NodeIx, usize> = selection
        .nodes
        .iter()
        .enumerate()
        .map(|(i, &n)| (n, i))
        .collect();
    writeln!(out, "digraph artisan {{")?;
    writeln!(
        out,
        "  graph [rankdir=LR, overlap=false, splines=true, fontname=\"Helvetica\", bgcolor=\"white\"];"
    )?;
    writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", color=\"#5b6b82\", fontname=\"Helvetica\", fontsize=11];"
    )?;
    writeln!(out, "  edge [color=\"#5b6b82\", arrowsize=0.7];")?;
    let mut written = Written::default();
    for (i, &ix) in selection.nodes.iter().enumerate() {
        let Some(n) = graph.node(ix) else { continue };
        let mut attrs = format!(
            "label={}, tooltip={}, URL={}",
            dot_string(&wrap_label(&n.title)),
            dot_string(&format!("{}:{}", graph.file_path(n.file), n.line)),
            dot_string(&graph.node_key(ix)),
        );
        if n.level > 0 {
            attrs.push_str(", fillcolor=\"#f6f6f6\"");
        }
        if selection.root == Some(ix) {
            attrs.push_str(", fillcolor=\"#ffe7a3\", penwidth=2");
        }
        writeln!(out, "  n{i} [{attrs}];")?;
        written.nodes += 1;
    }
    // Containment: a heading to the node enclosing it.
    for (i, &ix) in selection.nodes.iter().enumerate() {
        if let Some(p) = graph
            .node(ix)
            .and_then(|n| n.parent)
            .and_then(|p| name.get(&p))
        {
            writeln!(
                out,
                "  n{p} -> n{i} [style=dashed, arrowhead=none, color=\"#b8b8b8\"];"
            )?;
        }
    }
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for (e, target) in selected_edges(graph, selection) {
        let Some(target) = target else {
            written.dead += 1;
            continue;
        };
        let Some(edge) = graph.edge(e) else {
            continue;
        };
        let (Some(&a), Some(&b)) = (name.get(&edge.source), name.get(&target)) else {
            continue;
        };
        if a == b || !seen.insert((a, b)) {
            continue;
        }
        writeln!(out, "  n{a} -> n{b};")?;
        written.edges += 1;
    }
    writeln!(out, "}}")?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_escape_quotes_and_backslashes() {
        assert_eq!(dot_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(dot_string("two\nlines"), "\"two\\nlines\"");
    }

    #[test]
    fn labels_wrap_on_words() {
        assert_eq!(wrap_label("Short"), "Short");
        assert_eq!(
            wrap_label("A rather long title that needs wrapping twice over"),
            "A rather long title that\nneeds wrapping twice over"
        );
        assert_eq!(wrap_label(""), "");
    }

    #[test]
    fn export_targets_are_new_or_regular_files_never_devices() {
        let dir =
            std::env::temp_dir().join(format!("artisan-export-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let new = dir.join("graph.json");
        assert_eq!(export_target(&new).unwrap(), new);
        std::fs::write(&new, "old").unwrap();
        assert_eq!(export_target(&new).unwrap(), new);
        // A link to a regular file: the file is written, the link stays.
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&new, &link).unwrap();
        assert_eq!(
            export_target(&link).unwrap(),
            std::fs::canonicalize(&new).unwrap()
        );
        let dangling = dir.join("dangling.json");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        let refused = |p: &Path| export_target(p).unwrap_err().message;
        assert!(refused(&dangling).contains("a symbolic link to nothing"));
        assert!(refused(&dir).contains("a directory"));
        assert!(refused(Path::new("/dev/full")).contains("a character device"));
        assert!(refused(Path::new("/dev/null")).contains("a character device"));
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(refused(&fifo).contains("a named pipe"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
