//! The graph next to a real index: built with the first index, following
//! every update, rebuilt from the stored notes after reopening, contexts
//! read back from the index.

use std::fs;
use std::path::PathBuf;

use super::*;
use crate::knowledge::index::IndexConfig;
use crate::knowledge::parse::ParseOptions;
use crate::knowledge::walk::tempfile_lite::TempDir;
use crate::knowledge::walk::WalkOptions;

struct Fixture {
    notes: TempDir,
    data: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let f = Fixture {
            notes: TempDir::new("graph-notes"),
            data: TempDir::new("graph-data"),
        };
        f.write(
            "emacs.org",
            ":PROPERTIES:\n:ID: e1\n:END:\n#+title: Emacs\n\n* Packages\n:PROPERTIES:\n:ID: p1\n:END:\nUse-package.\n",
        );
        f.write(
            "links.org",
            "#+title: Links\n\nFirst paragraph mentions [[id:e1][Emacs]]\nand goes on.\n\n- an item with [[id:p1][packages]]\n",
        );
        f.write("wiki.md", "# Wiki\n\nSee [[links]] and [[ghost]].\n");
        f
    }

    fn path(&self, rel: &str) -> String {
        self.notes.path().join(rel).display().to_string()
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.notes.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn open(&self) -> KnowledgeIndex {
        KnowledgeIndex::open(IndexConfig::new(
            vec![self.notes.path().to_path_buf()],
            self.data.path().to_path_buf(),
            WalkOptions {
                extensions: vec!["org".into(), "md".into()],
                exclude: vec![],
                max_file_size: 1 << 20,
            },
            ParseOptions::default(),
        ))
        .unwrap()
    }
}

fn changed() -> UpdateScope {
    UpdateScope::Changed
}

/// (file name, line, context) of the backlinks of `key`.
fn backlinks(store: &GraphStore, index: &KnowledgeIndex, key: &str) -> Vec<(String, u32, String)> {
    let edges: Vec<(String, Edge)> = store
        .read(index, |g| {
            let Some(n) = g.lookup(key) else {
                return Vec::new();
            };
            g.backlinks(&[n])
                .into_iter()
                .filter_map(|e| {
                    g.edge(e)
                        .map(|x| (g.node_path(x.source).to_string(), x.clone()))
                })
                .collect()
        })
        .unwrap();
    edges
        .into_iter()
        .map(|(path, edge)| {
            let name = PathBuf::from(&path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            let context = store.context(index, &path, &edge);
            (name, edge.line, context)
        })
        .collect()
}

#[test]
fn the_first_index_builds_the_graph_and_contexts_come_from_the_index() {
    let fx = Fixture::new();
    let index = fx.open();
    let store = GraphStore::new();
    assert!(!store.is_built());
    let up = store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    assert!(up.graph_built);
    assert!(store.is_built());
    assert_eq!(up.outcome.stats.indexed, 3);
    assert_eq!(
        backlinks(&store, &index, "e1"),
        vec![(
            "links.org".to_string(),
            3,
            "First paragraph mentions [[id:e1][Emacs]] and goes on.".to_string()
        )]
    );
    assert_eq!(
        backlinks(&store, &index, "p1"),
        vec![(
            "links.org".to_string(),
            6,
            "- an item with [[id:p1][packages]]".to_string()
        )]
    );
    assert_eq!(
        backlinks(&store, &index, &fx.path("links.org")),
        vec![(
            "wiki.md".to_string(),
            3,
            "See [[links]] and [[ghost]].".to_string()
        )]
    );
}

#[test]
fn updates_follow_edits_additions_deletions_and_renames() {
    let fx = Fixture::new();
    let index = fx.open();
    let store = GraphStore::new();
    store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    let g0 = store.generation();

    // Nothing changed: the graph is untouched.
    store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    assert_eq!(store.generation(), g0);

    // Edit one note (a single-file update, as on save).
    fx.write("links.org", "#+title: Links\n\nNow only [[id:p1]].\n");
    let up = store
        .update(
            &index,
            UpdateScope::Files(vec![PathBuf::from(fx.path("links.org"))]),
            &Progress::default(),
        )
        .unwrap();
    assert!(!up.graph_built);
    assert!(store.generation() > g0);
    assert!(backlinks(&store, &index, "e1").is_empty());
    assert_eq!(
        backlinks(&store, &index, "p1"),
        vec![(
            "links.org".to_string(),
            3,
            "Now only [[id:p1]].".to_string()
        )]
    );

    // A new note named like the dead wikilink revives it.
    fx.write("ghost.md", "# Ghost\n");
    store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    assert_eq!(backlinks(&store, &index, &fx.path("ghost.md")).len(), 1);

    // Deleting it kills the link again; renaming links.org moves its node.
    fs::remove_file(fx.notes.path().join("ghost.md")).unwrap();
    fs::rename(
        fx.notes.path().join("links.org"),
        fx.notes.path().join("renamed.org"),
    )
    .unwrap();
    let up = store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    assert_eq!(up.outcome.stats.renamed, 1);
    let (dead, linked_from) = store
        .read(&index, |g| {
            let dead: Vec<String> = g
                .dead_links()
                .into_iter()
                .map(|e| g.edge(e).unwrap().target.clone())
                .collect();
            let p1 = g.lookup("p1").unwrap();
            let from: Vec<String> = g
                .backlinks(&[p1])
                .into_iter()
                .map(|e| g.node_path(g.edge(e).unwrap().source).to_string())
                .collect();
            (dead, from)
        })
        .unwrap();
    // [[links]] still finds the renamed note by its title.
    assert_eq!(dead, vec!["ghost"]);
    assert_eq!(linked_from, vec![fx.path("renamed.org")]);
}

#[test]
fn a_reopened_index_rebuilds_the_same_graph_from_the_stored_notes() {
    let fx = Fixture::new();
    let before = {
        let index = fx.open();
        let store = GraphStore::new();
        store
            .update(&index, changed(), &Progress::default())
            .unwrap();
        (
            backlinks(&store, &index, "e1"),
            store.read(&index, |g| g.counts()).unwrap(),
        )
    };
    let index = fx.open();
    let store = GraphStore::new();
    // A walk that finds nothing new leaves the graph to be built lazily.
    let up = store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    assert!(!up.graph_built);
    assert!(!store.is_built());
    let built = store.ensure(&index, &Progress::default()).unwrap();
    assert!(built.built);
    assert_eq!(built.counts, before.1);
    assert_eq!(backlinks(&store, &index, "e1"), before.0);
    // A second ensure does nothing.
    assert!(!store.ensure(&index, &Progress::default()).unwrap().built);
}

#[test]
fn a_rebuild_replaces_the_graph_and_a_stale_context_is_empty_not_wrong() {
    let fx = Fixture::new();
    let index = fx.open();
    let store = GraphStore::new();
    store
        .update(&index, changed(), &Progress::default())
        .unwrap();
    let up = store
        .update(&index, UpdateScope::Rebuild, &Progress::default())
        .unwrap();
    assert!(up.graph_built);
    assert_eq!(store.read(&index, |g| g.counts().files).unwrap(), 3);
    // An edge whose link moved in the stored note gets no context.
    let mut edge = store
        .read(&index, |g| {
            let e = g.backlinks(&[g.lookup("e1").unwrap()])[0];
            g.edge(e).unwrap().clone()
        })
        .unwrap();
    edge.line += 1;
    assert_eq!(store.context(&index, &fx.path("links.org"), &edge), "");
    assert_eq!(store.context(&index, "/no/such/file.org", &edge), "");
}

#[test]
fn a_cancelled_build_leaves_the_graph_unbuilt() {
    let fx = Fixture::new();
    {
        let index = fx.open();
        GraphStore::new()
            .update(&index, changed(), &Progress::default())
            .unwrap();
    }
    let index = fx.open();
    let store = GraphStore::new();
    let progress = Progress::default();
    progress.cancel();
    assert_eq!(
        store.ensure(&index, &progress).unwrap_err().kind,
        crate::error::Kind::Cancelled
    );
    assert!(!store.is_built());
}
