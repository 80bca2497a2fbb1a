#!/usr/bin/env python3
"""Generate a realistic org-roam-style note collection for benchmarks.

    test/bench/gen-corpus.py --notes 10000 --out DIR [--seed 1] [--vocab CORPUS]

Each note is an Org file of 2-8 KB: a property drawer with an :ID:, a
#+title, #+filetags, aliases on some notes, 3-9 headings (some with their
own :ID:, TODO keywords and tags), paragraphs and list items of real words
(drawn with a Zipf distribution from the vocabulary of the Worg corpus),
`id:` links to other notes and headings, some file: links and URLs, and a
source block now and then.  A share of notes (--markdown, default 0.15) is
Markdown with front matter and [[wikilinks]].  Output is deterministic
for a given seed.  A manifest (manifest.json) lists every note's id and
title, so benchmarks can pick real titles and ids.
"""

import argparse
import json
import os
import random
import re
import sys

TODO = ["TODO", "DONE", "NEXT", "WAIT"]
TAGS = ["project", "idea", "reading", "emacs", "work", "home", "research",
        "meeting", "draft", "reference", "people", "travel", "health", "code"]
FOLDERS = ["", "daily", "projects", "reference", "people", "archive-2025"]


def vocabulary(corpus):
    counts = {}
    for root, _dirs, files in os.walk(corpus):
        for name in files:
            if not name.endswith((".org", ".md")):
                continue
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                for w in re.findall(r"[A-Za-z][a-z]{2,14}", f.read()):
                    w = w.lower()
                    counts[w] = counts.get(w, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    if len(words) < 500:
        sys.exit("gen-corpus: vocabulary corpus too small: " + corpus)
    return words[:20000]


class Writer:
    def __init__(self, words, rng):
        self.words = words
        self.rng = rng
        # Zipf-like weights: rank r has weight 1/(r+10).
        self.cum = []
        total = 0.0
        for r in range(len(words)):
            total += 1.0 / (r + 10)
            self.cum.append(total)
        self.total = total

    def word(self):
        import bisect
        x = self.rng.random() * self.total
        return self.words[min(bisect.bisect(self.cum, x), len(self.words) - 1)]

    def words_n(self, n):
        return " ".join(self.word() for _ in range(n))

    def title(self):
        return " ".join(self.word().capitalize() for _ in range(self.rng.randint(2, 4)))

    def sentence(self):
        s = self.words_n(self.rng.randint(6, 18))
        return s[0].upper() + s[1:] + "."


def make_id(rng):
    return "%08x-%04x-4%03x-%04x-%012x" % (
        rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
        rng.getrandbits(16) | 0x8000 & 0xBFFF, rng.getrandbits(48))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown", type=float, default=0.15)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--vocab", default=os.path.join(here, "../../../shared/corpora/worg"))
    args = ap.parse_args()

    rng = random.Random(args.seed)
    w = Writer(vocabulary(args.vocab), rng)
    n = args.notes
    notes = []
    for i in range(n):
        md = rng.random() < args.markdown
        folder = FOLDERS[i % len(FOLDERS)]
        title = w.title()
        stem = "%05d-%s" % (i, "-".join(title.lower().split()))
        notes.append({
            "id": make_id(rng), "title": title, "md": md,
            "path": os.path.join(folder, stem + (".md" if md else ".org")),
            "stem": stem,
            "headings": [],
        })
    for note in notes:
        for _ in range(rng.randint(3, 9)):
            note["headings"].append({
                "title": w.title(),
                "id": make_id(rng) if rng.random() < 0.25 else None,
                "level": rng.choice([1, 1, 2, 2, 3]),
            })

    def link_to(src_md):
        t = notes[rng.randrange(n)]
        if src_md:
            return "[[%s]]" % t["stem"] if rng.random() < 0.7 else "[[%s|%s]]" % (t["stem"], t["title"])
        ids = [h for h in t["headings"] if h["id"]]
        if ids and rng.random() < 0.3:
            h = rng.choice(ids)
            return "[[id:%s][%s]]" % (h["id"], h["title"])
        return "[[id:%s][%s]]" % (t["id"], t["title"])

    def paragraph(src_md):
        parts = []
        for _ in range(rng.randint(2, 6)):
            s = w.sentence()
            if rng.random() < 0.25:
                s += " See " + link_to(src_md) + "."
            if rng.random() < 0.03:
                s += " https://example.org/" + w.word()
            parts.append(s)
        return " ".join(parts)

    os.makedirs(args.out, exist_ok=True)
    for f in FOLDERS:
        os.makedirs(os.path.join(args.out, f), exist_ok=True)
    total = 0
    for note in notes:
        md = note["md"]
        tags = rng.sample(TAGS, rng.randint(0, 3))
        target = int(rng.triangular(2000, 8000, 2500))  # 2-8 KB, about 4 KB on average
        out = []
        if md:
            out.append("---\nid: %s\ntitle: %s\ntags: [%s]\n---\n" % (note["id"], note["title"], ", ".join(tags)))
        else:
            out.append(":PROPERTIES:\n:ID:       %s\n" % note["id"])
            if rng.random() < 0.2:
                out.append(':ROAM_ALIASES: "%s"\n' % w.title())
            out.append(":END:\n#+title: %s\n" % note["title"])
            if tags:
                out.append("#+filetags: :%s:\n" % ":".join(tags))
            out.append("\n")
        out.append(paragraph(md) + "\n\n")
        size = sum(len(x) for x in out)
        hi = 0
        while size < target:
            h = note["headings"][hi % len(note["headings"])]
            hi += 1
            if md:
                out.append("%s %s\n\n" % ("#" * h["level"], h["title"]))
            else:
                kw = rng.choice(TODO) + " " if rng.random() < 0.15 else ""
                htags = " :%s:" % rng.choice(TAGS) if rng.random() < 0.2 else ""
                out.append("%s %s%s%s\n" % ("*" * h["level"], kw, h["title"], htags))
                if h["id"] and hi <= len(note["headings"]):
                    out.append(":PROPERTIES:\n:ID:       %s\n:END:\n" % h["id"])
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.3:
                    for _ in range(rng.randint(2, 5)):
                        out.append("- " + w.sentence() + (" " + link_to(md) if rng.random() < 0.2 else "") + "\n")
                    out.append("\n")
                else:
                    out.append(paragraph(md) + "\n\n")
            if rng.random() < 0.08:
                fence = ("```\n", "```\n") if md else ("#+begin_src emacs-lisp\n", "#+end_src\n")
                out.append(fence[0] + "(setq %s-%s t)\n" % (w.word(), w.word()) + fence[1] + "\n")
            size = sum(len(x) for x in out)
        text = "".join(out)
        total += len(text.encode("utf-8"))
        with open(os.path.join(args.out, note["path"]), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"notes": [{"id": x["id"], "title": x["title"], "path": x["path"],
                              "heading_ids": [h["id"] for h in x["headings"] if h["id"]]}
                             for x in notes],
                   "bytes": total, "seed": args.seed}, f)
    print("gen-corpus: %d notes, %.1f MB in %s" % (n, total / 1e6, args.out))


if __name__ == "__main__":
    main()
