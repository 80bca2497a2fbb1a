use super::*;
use crate::knowledge::parse::{parse, ParseOptions};

/// Parses `text` as the note at `path`, as the index does.
fn note(path: &str, text: &str) -> Note {
    let p = Path::new(path);
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let mut n = parse(
        text,
        Format::from_extension(ext),
        stem,
        &ParseOptions::default(),
    );
    for s in &mut n.sections {
        s.body.clear();
    }
    n
}

fn graph(files: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (path, text) in files {
        g.set_note(path, &note(path, text));
    }
    g
}

/// Backlinks of `key` as "file-name:line <- source-key".
fn backlinks(g: &Graph, key: &str) -> Vec<String> {
    let Some(n) = g.lookup(key) else {
        return vec![format!("no node {key}")];
    };
    let targets = if key.starts_with('/') {
        g.nodes_of_file_of(n)
    } else {
        vec![n]
    };
    g.backlinks(&targets)
        .into_iter()
        .map(|e| {
            let edge = g.edge(e).unwrap();
            let file = Path::new(g.node_path(edge.source))
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            let source = g.node_key(edge.source);
            let source = Path::new(&source)
                .file_name()
                .map_or(source.clone(), |f| f.to_string_lossy().to_string());
            format!("{file}:{} <- {source}", edge.line)
        })
        .collect()
}

fn dead(g: &Graph) -> Vec<String> {
    g.dead_links()
        .into_iter()
        .map(|e| {
            let edge = g.edge(e).unwrap();
            format!("{}:{}", edge.line, edge.target)
        })
        .collect()
}

/// The key each of a note's edges resolves to, in file order.
fn targets(g: &Graph, path: &str) -> Vec<String> {
    let f = g.file_by_path[path];
    g.file(f)
        .unwrap()
        .edges
        .iter()
        .map(|&e| {
            g.resolve(e).map_or("DEAD".to_string(), |n| {
                let k = g.node_key(n);
                Path::new(&k)
                    .file_name()
                    .map_or(k.clone(), |f| f.to_string_lossy().to_string())
            })
        })
        .collect()
}

const EMACS: &str = r#":PROPERTIES:
:ID:       e1
:ROAM_ALIASES: "GNU Emacs"
:END:
#+title: Emacs
#+filetags: :editor:

Intro.

* Packages
:PROPERTIES:
:ID:       p1
:ROAM_ALIASES: Pkgs
:END:
** Keys :ui:
Keys live here.
"#;

const LINKS: &str = r#":PROPERTIES:
:ID:       l1
:END:
#+title: Links

See [[id:e1][Emacs]] first.

* Section
:PROPERTIES:
:ID:       s1
:END:
Packages: [[id:p1]].
** Sub without ID
- under s1 [[id:e1][again]]
- a [[id:missing-id][ghost]]
#+begin_src emacs-lisp
"[[id:e1]]"
#+end_src
* Files
[[file:emacs.org::*Keys][Keys section]] and [[./emacs.org]] and [[file:img/x.png]]
[[roam:GNU Emacs]] and [[roam:Pkgs]] and [[roam:Nothing Like It]]
"#;

#[test]
fn org_nodes_are_files_and_headings_with_ids() {
    let g = graph(&[("/n/emacs.org", EMACS), ("/n/links.org", LINKS)]);
    let nodes: Vec<(String, String, u32, u32)> = g
        .nodes_sorted()
        .into_iter()
        .map(|n| {
            let node = g.node(n).unwrap();
            (g.node_key(n), node.title.clone(), node.line, node.level)
        })
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("e1".into(), "Emacs".into(), 1, 0),
            ("p1".into(), "Packages".into(), 10, 1),
            ("l1".into(), "Links".into(), 1, 0),
            ("s1".into(), "Section".into(), 8, 1),
        ]
    );
    let e1 = g.node(g.lookup("e1").unwrap()).unwrap();
    assert_eq!(e1.aliases, vec!["GNU Emacs"]);
    assert_eq!(e1.tags, vec!["editor"]);
    let p1 = g.node(g.lookup("p1").unwrap()).unwrap();
    assert_eq!(p1.aliases, vec!["Pkgs"]);
    assert_eq!(p1.tags, vec!["editor"]);
    assert_eq!(p1.parent, g.lookup("e1"));
    assert_eq!(g.lookup("/n/emacs.org"), g.lookup("e1"));
    assert_eq!(
        g.counts(),
        Counts {
            files: 2,
            nodes: 4,
            edges: 9
        }
    );
}

#[test]
fn org_links_resolve_by_id_file_and_roam_title_and_src_blocks_are_not_links() {
    let g = graph(&[("/n/emacs.org", EMACS), ("/n/links.org", LINKS)]);
    assert_eq!(
        targets(&g, "/n/links.org"),
        vec![
            "e1",   // id, in the preamble
            "p1",   // id, in Section
            "e1",   // id, in a heading without an ID below Section
            "DEAD", // id:missing-id
            "e1",   // file: with ::search
            "e1",   // ./emacs.org
            "e1",   // roam: by alias
            "p1",   // roam: by a heading's alias
            "DEAD", // roam: nothing
        ]
    );
    // The src block's link and the png are not edges.
    assert_eq!(g.counts().edges, 9);
    assert_eq!(
        dead(&g),
        vec!["15:missing-id", "21:Nothing Like It"],
        "dead links keep their target as written"
    );
}

#[test]
fn backlinks_of_an_id_and_of_a_file_and_their_sources() {
    let g = graph(&[("/n/emacs.org", EMACS), ("/n/links.org", LINKS)]);
    assert_eq!(
        backlinks(&g, "e1"),
        vec![
            "links.org:6 <- l1",
            "links.org:14 <- s1",
            "links.org:20 <- l1",
            "links.org:20 <- l1",
            "links.org:21 <- l1",
        ]
    );
    assert_eq!(
        backlinks(&g, "p1"),
        vec!["links.org:12 <- s1", "links.org:21 <- l1"]
    );
    // A file name: links to the file or to any ID in it.
    assert_eq!(backlinks(&g, "/n/emacs.org").len(), 7);
    assert!(backlinks(&g, "l1").is_empty());
}

const VAULT_SOURCE: &str = "---
id: src1
title: Source
---
# Links

Stem [[dendron.topic.vaults]] and Dendron [[Create New Vault|dendron://site/dendron.topic.vaults#create]].
Obsidian [[Obsidian Note|the note]], alias [[Obs]], title [[Config]], path [[notes/Obsidian Note]].
With extension [[dendron.topic.vaults.md]] and both sides [[Config|dendron.topic.vaults]].
Relative [text](dendron.ref.config.md#x) and [t](./notes/Obsidian%20Note.md) and [u](<notes/Obsidian Note>).
Dead [[nowhere]] and an image ![i](pic.png).

```
[[dendron.ref.config]]
```
Inline `[[dendron.ref.config]]` code.
";

fn vault() -> Graph {
    graph(&[
        (
            "/v/dendron.topic.vaults.md",
            "---\nid: v1\ntitle: Vaults\n---\n# Vaults\n",
        ),
        (
            "/v/dendron.ref.config.md",
            "---\nid: c1\ntitle: Config\n---\nConfiguration.\n",
        ),
        (
            "/v/notes/Obsidian Note.md",
            "---\naliases: [Obs]\n---\n# Obsidian Note\n",
        ),
        ("/v/source.md", VAULT_SOURCE),
    ])
}

#[test]
fn wikilinks_resolve_by_file_name_title_alias_and_path_on_either_side() {
    let g = vault();
    assert_eq!(
        targets(&g, "/v/source.md"),
        vec![
            "v1",               // stem
            "v1",               // [[label|dendron://vault/target#anchor]]
            "Obsidian Note.md", // [[target|label]]
            "Obsidian Note.md", // alias
            "c1",               // title
            "Obsidian Note.md", // dir/stem
            "v1",               // stem.md
            "v1",               // a title on one side, a file name on the other: the file wins
            "c1",               // relative with #anchor
            "Obsidian Note.md", // relative with %20
            "Obsidian Note.md", // relative without extension
            "DEAD",             // [[nowhere]]
        ]
    );
    assert_eq!(
        backlinks(&g, "v1"),
        vec![
            "source.md:7 <- src1",
            "source.md:7 <- src1",
            "source.md:9 <- src1",
            "source.md:9 <- src1",
        ]
    );
    // A Markdown note without an ID is named by its path.
    assert_eq!(backlinks(&g, "/v/notes/Obsidian Note.md").len(), 5);
}

#[test]
fn a_file_name_written_exactly_beats_a_label_matching_another_without_case() {
    let g = graph(&[
        ("/v/templates.md", "# Templates index\n"),
        ("/v/dendron.topic.templates.md", "# Templates\n"),
        (
            "/v/src.md",
            "[[Templates|dendron.topic.templates]] [[templates|Some label]] [[TEMPLATES]]\n",
        ),
    ]);
    assert_eq!(
        targets(&g, "/v/src.md"),
        vec!["dendron.topic.templates.md", "templates.md", "templates.md"]
    );
}

#[test]
fn the_collection_decides_which_side_names_the_note_when_both_do() {
    // Dendron: [[label|note]], and a label that is also a file name.
    let dendron = graph(&[
        ("/d/templates.md", "# Templates root\n"),
        ("/d/dendron.topic.templates.md", "# Templates\n"),
        ("/d/dendron.topic.schema.md", "# Schema\n"),
        (
            "/d/src.md",
            "[[Schemas|dendron.topic.schema]] [[Templates|dendron.topic.templates]]\n\
             [[templates|dendron.topic.templates]]\n",
        ),
    ]);
    assert_eq!(
        targets(&dendron, "/d/src.md"),
        vec![
            "dendron.topic.schema.md",
            "dendron.topic.templates.md",
            "dendron.topic.templates.md"
        ]
    );
    // Obsidian: [[note|label]], and a label that is also a file name.
    let obsidian = graph(&[
        ("/o/templates.md", "# Templates root\n"),
        ("/o/Recipes.md", "# Recipes\n"),
        ("/o/Bread.md", "# Bread\n"),
        (
            "/o/src.md",
            "[[Recipes|my recipes]] [[Bread|bread]] [[Recipes|templates]]\n",
        ),
    ]);
    assert_eq!(
        targets(&obsidian, "/o/src.md"),
        vec!["Recipes.md", "Bread.md", "Recipes.md"]
    );
}

#[test]
fn a_name_ending_like_an_extension_is_tried_as_written_first() {
    let g = graph(&[
        ("/d/dendron.topic.md", "# Topic\n"),
        ("/d/dendron.topic.markdown.md", "# Markdown\n"),
        (
            "/d/src.md",
            "[[dendron.topic.markdown]] [[dendron.topic.md]] [[Markdown|dendron.topic.markdown]]\n",
        ),
    ]);
    assert_eq!(
        targets(&g, "/d/src.md"),
        vec![
            "dendron.topic.markdown.md",
            "dendron.topic.md",
            "dendron.topic.markdown.md"
        ]
    );
    assert_eq!(backlinks(&g, "/d/dendron.topic.markdown.md").len(), 2);
}

#[test]
fn a_link_to_a_path_that_differs_in_directory_does_not_resolve() {
    let g = graph(&[
        ("/v/a/note.md", "# A\n"),
        ("/v/b/note.md", "# B\n"),
        ("/v/b/src.md", "[[note]] [[a/note]] [[c/note]]\n"),
    ]);
    // Two notes share the name: the one beside the linking note wins.
    assert_eq!(
        targets(&g, "/v/b/src.md"),
        vec!["note.md", "note.md", "DEAD"]
    );
    let first = g.file(g.file_by_path["/v/b/src.md"]).unwrap().edges[0];
    assert_eq!(g.node_path(g.resolve(first).unwrap()), "/v/b/note.md");
    let second = g.file(g.file_by_path["/v/b/src.md"]).unwrap().edges[1];
    assert_eq!(g.node_path(g.resolve(second).unwrap()), "/v/a/note.md");
}

#[test]
fn relative_and_home_paths_are_normalised_without_the_disk() {
    assert_eq!(
        normalize_path(Path::new("/a/b"), "../c/./d.org"),
        "/a/c/d.org"
    );
    assert_eq!(normalize_path(Path::new("/a/b"), "/x/y.md"), "/x/y.md");
    assert_eq!(normalize_path(Path::new("/"), "../../up.org"), "/up.org");
    if let Some(home) = std::env::var_os("HOME") {
        assert_eq!(
            normalize_path(Path::new("/a"), "~/n.org"),
            PathBuf::from(home).join("n.org").display().to_string()
        );
    }
    let g = graph(&[
        (
            "/n/sub/a.org",
            "#+title: A\n[[file:../b.org][B]] [[../sub/./a.org]]\n",
        ),
        ("/n/b.org", "#+title: B\n"),
    ]);
    assert_eq!(targets(&g, "/n/sub/a.org"), vec!["b.org", "a.org"]);
}

#[test]
fn text_files_are_nodes_and_code_files_are_not() {
    let g = graph(&[
        ("/n/reading.txt", "Reading list\nhttps://example.com\n"),
        ("/n/init.el", "(setq x 1) ; [[id:e1]]\n"),
    ]);
    assert_eq!(g.counts().files, 1);
    let n = g.lookup("/n/reading.txt").unwrap();
    assert_eq!(g.node(n).unwrap().title, "Reading list");
    assert!(g.lookup("/n/init.el").is_none());
}

#[test]
fn adding_a_note_revives_dead_links_and_removing_it_kills_them() {
    let mut g = graph(&[("/n/links.org", LINKS), ("/n/emacs.org", EMACS)]);
    assert!(dead(&g).contains(&"15:missing-id".to_string()));
    let found = ":PROPERTIES:\n:ID: missing-id\n:END:\n#+title: Found\n";
    g.set_note("/n/found.org", &note("/n/found.org", found));
    assert_eq!(backlinks(&g, "missing-id"), vec!["links.org:15 <- s1"]);
    assert!(!dead(&g).contains(&"15:missing-id".to_string()));
    assert!(g.remove_file("/n/found.org"));
    assert!(dead(&g).contains(&"15:missing-id".to_string()));
    assert!(!g.remove_file("/n/found.org"));
}

#[test]
fn editing_a_note_replaces_exactly_its_nodes_and_edges() {
    let mut g = graph(&[("/n/emacs.org", EMACS), ("/n/links.org", LINKS)]);
    let before = g.counts();
    let l1 = g.lookup("l1");
    // The heading s1 loses its ID; its links now come from the file node.
    let edited = LINKS.replace(":ID:       s1\n", "");
    g.set_note("/n/links.org", &note("/n/links.org", &edited));
    assert_eq!(g.counts().nodes, before.nodes - 1);
    assert_eq!(g.counts().edges, before.edges);
    assert!(g.lookup("s1").is_none());
    assert_eq!(
        backlinks(&g, "p1"),
        vec!["links.org:11 <- l1", "links.org:20 <- l1"]
    );
    // Nodes of other notes are untouched.
    assert_eq!(
        g.lookup("e1").map(|n| g.node(n).unwrap().title.clone()),
        Some("Emacs".into())
    );
    assert!(l1.is_some());
}

#[test]
fn renaming_a_note_kills_file_links_but_not_id_links() {
    let mut g = graph(&[("/n/emacs.org", EMACS), ("/n/links.org", LINKS)]);
    g.remove_file("/n/emacs.org");
    g.set_note("/n/editor.org", &note("/n/editor.org", EMACS));
    assert_eq!(
        targets(&g, "/n/links.org"),
        vec!["e1", "p1", "e1", "DEAD", "DEAD", "DEAD", "e1", "p1", "DEAD"]
    );
}

#[test]
fn removing_every_note_leaves_no_trace_in_the_tables() {
    let mut g = vault();
    for p in [
        "/v/dendron.topic.vaults.md",
        "/v/dendron.ref.config.md",
        "/v/notes/Obsidian Note.md",
        "/v/source.md",
    ] {
        assert!(g.remove_file(p));
    }
    assert_eq!(g.counts(), Counts::default());
    assert!(g.by_id.is_empty());
    assert!(g.by_name.is_empty());
    assert!(g.edges_by_id.is_empty());
    assert!(g.edges_by_path.is_empty());
    assert!(g.edges_by_name.is_empty());
    assert!(g.edges_by_anchor.is_empty());
    assert!(g.edges_by_root.is_empty());
    assert!(g.votes.is_empty());
    assert!(g.file_by_path.is_empty());
    // Slots are reused.
    g.set_note("/v/again.md", &note("/v/again.md", "# Again\n[[x]]\n"));
    assert_eq!(g.nodes.len(), 4);
}

#[test]
fn neighbourhoods_follow_links_both_ways_and_containment() {
    let g = graph(&[
        (
            "/n/a.org",
            ":PROPERTIES:\n:ID: a\n:END:\n#+title: A\n[[id:b]]\n",
        ),
        (
            "/n/b.org",
            ":PROPERTIES:\n:ID: b\n:END:\n#+title: B\n* H\n:PROPERTIES:\n:ID: h\n:END:\n[[id:c]]\n",
        ),
        ("/n/c.org", ":PROPERTIES:\n:ID: c\n:END:\n#+title: C\n"),
        (
            "/n/d.org",
            ":PROPERTIES:\n:ID: d\n:END:\n#+title: D\n[[id:a]]\n",
        ),
        (
            "/n/far.org",
            ":PROPERTIES:\n:ID: far\n:END:\n#+title: Far\n[[id:d]]\n",
        ),
    ]);
    let keys = |depth| -> Vec<String> {
        g.neighbourhood(g.lookup("a").unwrap(), depth)
            .into_iter()
            .map(|n| g.node_key(n))
            .collect()
    };
    assert_eq!(keys(0), vec!["a"]);
    assert_eq!(keys(1), vec!["a", "b", "d"]);
    assert_eq!(keys(2), vec!["a", "b", "d", "h", "far"]);
    assert_eq!(keys(3), vec!["a", "b", "d", "h", "far", "c"]);
}

#[test]
fn reports_orphans_duplicate_titles_and_duplicate_ids() {
    let g = graph(&[
        (
            "/n/a.org",
            ":PROPERTIES:\n:ID: a\n:END:\n#+title: Same\n[[id:b]] [[id:a]]\n",
        ),
        (
            "/n/b.org",
            ":PROPERTIES:\n:ID: b\n:END:\n#+title: B\n* same\n:PROPERTIES:\n:ID: a\n:END:\n",
        ),
        (
            "/n/lonely.org",
            "#+title: Lonely\n[[id:nothing]] [[*Heading]]\n",
        ),
        ("/n/self.md", "# Self\n[[self]]\n"),
    ]);
    let orphans: Vec<String> = g.orphans().into_iter().map(|n| g.node_key(n)).collect();
    assert_eq!(orphans, vec!["/n/lonely.org", "/n/self.md"]);
    let dups = g.duplicate_titles();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].name, "Same");
    assert_eq!(dups[0].nodes.len(), 2);
    let ids = g.duplicate_ids();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].name, "a");
    // The first by file and line keeps the ID as its key; links go there.
    let keys: Vec<String> = ids[0].nodes.iter().map(|&n| g.node_key(n)).collect();
    assert_eq!(keys, vec!["a", "a@/n/b.org:5"]);
}

#[test]
fn a_prose_label_never_resolves_by_title_when_the_other_side_names_a_missing_note() {
    let g = graph(&[
        (
            "/d/community.events.reading-series.md",
            "---\ntitle: Dendron Reading Series\n---\n",
        ),
        (
            "/d/dendron.tutorial.rich-formatting.md",
            "---\ntitle: Rich Formatting\n---\n",
        ),
        ("/d/dendron.topic.links.md", "---\ntitle: Links\n---\n"),
        ("/d/templates.md", "# Templates root\n"),
        (
            "/d/src.md",
            "[[Dendron Reading Series|dendron://v/community.what-are-you-reading]]\n\
             [[Rich Formatting|tutorial.rich-formatting]] [[Links|dendron.topic.commands#copy]]\n\
             [[Templates|dendron.topic.templatez]] [[templates|dendron.topic.templatez]]\n\
             [[Dendron Reading Series|a label]] [[Reading|community.events.reading-series]]\n\
             [[|community.events.reading-series]]\n",
        ),
    ]);
    assert_eq!(
        targets(&g, "/d/src.md"),
        vec![
            "DEAD",
            "DEAD",
            "DEAD",
            // A label differing in case from a file name is prose too.
            "DEAD",
            // One written exactly names the file.
            "templates.md",
            // Both sides prose: titles count.
            "community.events.reading-series.md",
            "community.events.reading-series.md",
            "community.events.reading-series.md",
        ]
    );
    assert_eq!(
        dead(&g),
        vec![
            "1:Dendron Reading Series",
            "2:Rich Formatting",
            "2:Links",
            "3:Templates"
        ]
    );
    assert_eq!(
        backlinks(&g, "/d/community.events.reading-series.md"),
        vec![
            "src.md:4 <- src.md",
            "src.md:4 <- src.md",
            "src.md:5 <- src.md"
        ]
    );
}

#[test]
fn wikilink_anchors_resolve_to_the_heading_with_that_title() {
    let g = graph(&[
        (
            "/n/alpha.org",
            ":PROPERTIES:\n:ID: A\n:END:\n#+title: Alpha\n* Sub heading\n:PROPERTIES:\n:ID: A-SUB\n:END:\n* What's new?\n:PROPERTIES:\n:ID: A-NEW\n:END:\n",
        ),
        (
            "/n/src.md",
            "[[alpha#Sub heading|Sub heading]] [[Sub heading|alpha#sub-heading]]\n\
             [[alpha#whats-new]] [[Alpha#Sub heading]] [[alpha#Nowhere]] [[ghost#Sub heading]]\n",
        ),
    ]);
    assert_eq!(
        targets(&g, "/n/src.md"),
        vec!["A-SUB", "A-SUB", "A-NEW", "A-SUB", "A", "DEAD"]
    );
    assert_eq!(
        backlinks(&g, "A-SUB"),
        vec![
            "src.md:1 <- src.md",
            "src.md:1 <- src.md",
            "src.md:2 <- src.md"
        ]
    );
    assert_eq!(backlinks(&g, "A"), vec!["src.md:2 <- src.md"]);
    assert_eq!(backlinks(&g, "/n/alpha.org").len(), 5);
}

#[test]
fn roam_exclude_keeps_ids_from_being_nodes_and_links_to_them_from_being_dead() {
    let mut g = graph(&[
        (
            "/n/d.org",
            ":PROPERTIES:\n:ID: D\n:END:\n#+title: Delta\n* Excluded\n:PROPERTIES:\n:ID: D-EX\n:ROAM_EXCLUDE: t\n:END:\nFrom excluded [[id:E]].\n** Child\n:PROPERTIES:\n:ID: D-CHILD\n:END:\n",
        ),
        (
            "/n/e.org",
            ":PROPERTIES:\n:ID: E\n:ROAM_EXCLUDE: t\n:END:\n#+title: Echo\n[[id:D-EX][ex]] [[id:D-CHILD][child]] [[id:GONE]]\n",
        ),
    ]);
    assert!(g.lookup("D-EX").is_none());
    assert!(g.lookup("E").is_none());
    // The excluded file stays a node by its path; the child is a node.
    let e = g.lookup("/n/e.org").unwrap();
    assert_eq!(g.node(e).unwrap().id, None);
    let child = g.lookup("D-CHILD").unwrap();
    assert_eq!(g.node(child).unwrap().parent, g.lookup("D"));
    // A link under the excluded heading belongs to the enclosing node.
    let from_excluded = g.file(g.file_by_path["/n/d.org"]).unwrap().edges[0];
    assert_eq!(
        g.node_key(g.edge(from_excluded).unwrap().source),
        "D".to_string()
    );
    assert_eq!(targets(&g, "/n/e.org"), vec!["DEAD", "D-CHILD", "DEAD"]);
    // Links to excluded IDs (D-EX, and E from d.org) are not dead.
    assert_eq!(dead(&g), vec!["6:GONE"]);
    g.remove_file("/n/d.org");
    assert!(!g.excluded_ids.contains_key("D-EX"));
    assert_eq!(dead(&g), vec!["6:D-EX", "6:D-CHILD", "6:GONE"]);
}

#[test]
fn root_relative_markdown_links_try_each_directory_above_the_note() {
    let g = graph(&[
        ("/v/sub/b.md", "# B\n"),
        ("/v/notes/deep/a.md", "[b](/sub/b.md) [x](/missing.md)\n"),
        ("/abs/c.md", "# C\n"),
        ("/v/notes/d.md", "[c](/abs/c.md)\n"),
    ]);
    assert_eq!(targets(&g, "/v/notes/deep/a.md"), vec!["b.md", "DEAD"]);
    assert_eq!(targets(&g, "/v/notes/d.md"), vec!["c.md"]);
    assert_eq!(backlinks(&g, "/v/sub/b.md"), vec!["a.md:1 <- a.md"]);
}

/// The votes as [`Graph::label_first`] once counted them: a pass over
/// every two-sided wikilink.
fn label_first_from_scratch(g: &Graph) -> bool {
    let (mut left, mut right) = (0, 0);
    for (ix, e) in g.edges.iter().enumerate() {
        let Some(e) = e else { continue };
        if e.kind == LinkKind::Wiki && e.other.is_some() {
            match g.vote_of(ix as EdgeIx) {
                Vote::Left => left += 1,
                Vote::Right => right += 1,
                Vote::Neither => {}
            }
        }
    }
    right > left
}

#[test]
fn wikilink_votes_follow_notes_coming_and_going_without_a_recount() {
    let mut g = graph(&[
        (
            "/d/src.md",
            "[[One|x.one]] [[Two|x.two]] [[x.three|Three]]\n",
        ),
        ("/d/x.three.md", "# Three\n"),
    ]);
    // Only [[x.three|Three]] names a note: left.
    assert!(!g.label_first());
    let steps: &[(&str, Option<&str>)] = &[
        ("/d/x.one.md", Some("# One\n")),
        ("/d/x.two.md", Some("# Two\n")),
        ("/d/x.three.md", None),
        ("/d/src.md", Some("[[x.three|Three]]\n")),
        ("/d/x.three.md", Some("# Three\n")),
        ("/d/more.md", Some("[[A|x.one]] [[B|x.two]]\n")),
        ("/d/x.one.md", None),
    ];
    let mut seen = Vec::new();
    for (path, text) in steps {
        match text {
            Some(t) => g.set_note(path, &note(path, t)),
            None => {
                g.remove_file(path);
            }
        }
        assert_eq!(
            g.label_first(),
            label_first_from_scratch(&g),
            "after {path}"
        );
        seen.push(g.label_first());
    }
    assert_eq!(seen, vec![false, true, true, false, false, true, false]);
    for p in ["/d/src.md", "/d/x.two.md", "/d/x.three.md", "/d/more.md"] {
        g.remove_file(p);
    }
    assert!(g.votes.is_empty());
    assert_eq!((g.left_votes, g.right_votes), (0, 0));
}

#[test]
fn dot_and_json_exports_count_the_same_dead_links() {
    use crate::graph::export::{write_dot, write_json, Selection};
    let g = graph(&[
        (
            "/n/a.org",
            ":PROPERTIES:\n:ID: a\n:END:\n[[id:b]] [[id:nope]] [[roam:Nothing]]\n",
        ),
        ("/n/b.org", ":PROPERTIES:\n:ID: b\n:END:\n"),
    ]);
    for selection in [
        Selection::all(&g),
        Selection::around(&g, g.lookup("a").unwrap(), 1),
    ] {
        let dot = write_dot(&g, &selection, &mut Vec::new()).unwrap();
        let json = write_json(&g, &selection, &mut |_, _| String::new(), &mut Vec::new()).unwrap();
        assert_eq!((dot.nodes, dot.edges, dot.dead), (2, 1, 2));
        assert_eq!(dot, json);
    }
}

#[test]
fn headings_with_brackets_and_bars_are_reached_by_text_or_slug_anchors() {
    let g = graph(&[
        (
            "/n/q.org",
            ":PROPERTIES:\n:ID: Q\n:END:\n#+title: Q\n* Plan [draft]\n:PROPERTIES:\n:ID: PD\n:END:\n* Cost|Benefit [draft]\n:PROPERTIES:\n:ID: CB\n:END:\n",
        ),
        (
            "/n/m.md",
            "[[q#plan-draft|Plan (draft)]] [[q#Plan [draft]|Plan (draft)]] [[q#Plan [draft]]]\n\
             [[q#costbenefit-draft|Cost-Benefit (draft)]] [[q#Cost|Benefit [draft]|x]]\n",
        ),
    ]);
    // Every link is kept: the last one reads `Cost` as the anchor (no such
    // heading), so it lands on the note rather than vanishing.
    assert_eq!(targets(&g, "/n/m.md"), vec!["PD", "PD", "PD", "CB", "Q"]);
    assert_eq!(backlinks(&g, "PD").len(), 3);
}

#[test]
fn the_report_counts_resolved_links_apart_from_dead_ones() {
    let g = graph(&[
        (
            "/n/a.org",
            ":PROPERTIES:\n:ID: a\n:END:\n[[id:b]] [[id:nope]] [[roam:Nothing]] [[id:x]]\n",
        ),
        ("/n/b.org", ":PROPERTIES:\n:ID: b\n:END:\n"),
        (
            "/n/x.org",
            ":PROPERTIES:\n:ID: x\n:ROAM_EXCLUDE: t\n:END:\n",
        ),
    ]);
    assert_eq!(g.counts().edges, 4);
    assert_eq!(g.resolved_count(), 1);
    assert_eq!(g.dead_links().len(), 2);
    let mut paths: Vec<&str> = g.file_paths().collect();
    paths.sort_unstable();
    assert_eq!(paths, vec!["/n/a.org", "/n/b.org", "/n/x.org"]);
}
