;;; bench-knowledge.el --- Benchmarks of indexing and searching notes  -*- lexical-binding: t; -*-

;;; Commentary:

;; For each corpus (generated 1k, 10k and 100k notes, Worg, Dendron) a
;; child Emacs measures, through the Lisp API: the full index (time,
;; MB/s), a no-op update, reindexing one saved file until it is
;; searchable, query latency over a fixed list of real queries (single
;; word, two words, phrase, prefix, field filter), index size on disk
;; and the Emacs RSS growth.  ripgrep searching the same files for the
;; same words is timed in the same child as the alternative.
;;
;; Generated corpora are cached in test/bench/out/corpora/.  Set
;; ARTISAN_BENCH_CORPORA to a regexp to choose corpora (for example
;; "gen-1000\\|worg"); the 100k corpus (about 420 MB) is included by
;; default.

;;; Code:

(require 'bench)
(require 'cl-lib)

(defvar artisan-bench-knowledge-corpora
  '(("gen-1000" . 1000) ("gen-10000" . 10000) ("gen-100000" . 100000)
    ("worg" . worg) ("dendron" . dendron))
  "Corpora: generated ones by note count, and the real ones.")

(defconst artisan-bench-knowledge-queries
  '((generated
     (word "babel") (two-words "export table") (phrase "\"org mode\"")
     (prefix "agen") (field "tag:emacs babel"))
    (worg
     (word "babel") (two-words "export latex") (phrase "\"source code\"")
     (prefix "tangl") (field "title:babel session"))
    (dendron
     (word "vault") (two-words "note reference") (phrase "\"daily journal\"")
     (prefix "workspa") (field "path:dendron.topic lookup")))
  "Queries per corpus kind: (KIND QUERY).")

(defun artisan-bench-knowledge--corpus (name spec)
  "Return the directory of corpus NAME (SPEC: note count or real corpus)."
  (let ((dir (expand-file-name (concat "corpora/" name "/") artisan-bench-out)))
    (if (numberp spec)
        (setq dir (artisan-bench-generated-corpus spec))
      ;; A private copy, since the single-file benchmark edits a note.
      (unless (file-directory-p dir)
        (copy-directory (expand-file-name (format "../shared/corpora/%s/" spec) artisan-bench-root)
                        dir nil t t)))
    (artisan-bench-warm dir)
    dir))

(defun artisan-bench-knowledge--rss-kb (&optional field)
  "Return this process's FIELD of /proc/self/status in kB (0 if unknown).
FIELD defaults to RssAnon, the resident memory that is not file
pages: the index files are memory-mapped, and their pages are
page cache the kernel reclaims, not Emacs heap."
  (with-temp-buffer
    (if (ignore-errors (insert-file-contents "/proc/self/status") t)
        (if (re-search-forward (format "^%s:[ \t]+\\([0-9]+\\)" (or field "RssAnon")) nil t)
            (string-to-number (match-string 1))
          0)
      0)))

(defun artisan-bench-knowledge--bytes (dir)
  "Return the total size of the notes under DIR."
  (let ((total 0))
    (dolist (f (directory-files-recursively dir "\\.\\(org\\|md\\|txt\\)\\'") total)
      (setq total (+ total (file-attribute-size (file-attributes f)))))))

(defun artisan-bench-knowledge--time (fn)
  "Return milliseconds FN takes."
  (let ((start (float-time)))
    (funcall fn)
    (* 1000 (- (float-time) start))))

(defun artisan-bench-knowledge-measure (corpus data kind notes)
  "Measure CORPUS (a directory) with DATA as data directory.
KIND selects the queries; NOTES is the note count.  Print the
results as a plist for the parent Emacs."
  (require 'artisan-knowledge)
  (setq artisan-data-directory data
        artisan-knowledge-roots (list corpus)
        gc-cons-threshold (* 64 1024 1024))
  (let* ((rss0 (artisan-bench-knowledge--rss-kb))
         (mb (/ (artisan-bench-knowledge--bytes corpus) 1e6))
         (full-runs (if (> notes 20000) 1 3))
         full noop single queries rg)
    ;; Full index on a fresh data directory each time.
    (dotimes (i full-runs)
      (setq artisan-data-directory (expand-file-name (format "run-%d/" i) data))
      (push (artisan-bench-knowledge--time (lambda () (artisan-index-rebuild t))) full))
    (setq artisan-data-directory (expand-file-name (format "run-%d/" (1- full-runs)) data))
    (artisan-knowledge-ensure-built)
    ;; No-op update.
    (dotimes (_ 10)
      (push (artisan-bench-knowledge--time (lambda () (artisan-index-update t))) noop))
    ;; One saved file until searchable.
    (let ((file (car (directory-files-recursively corpus "\\.org\\'\\|\\.md\\'"))))
      (dotimes (i 20)
        (let ((word (format "zqxbench%dword" i)))
          (with-temp-buffer
            (insert-file-contents file)
            (goto-char (point-max))
            (insert "\n" word "\n")
            (write-region nil nil file nil 'silent))
          (push (artisan-bench-knowledge--time
                 (lambda () (artisan-knowledge-reindex-file file t)))
                single)
          (unless (artisan-search-query word 1)
            (error "Reindexed word %s not found" word)))))
    ;; Queries: 50 rounds over the list, after one warm-up round.
    (let ((qs (cdr (assq kind artisan-bench-knowledge-queries))))
      (dolist (q qs) (artisan-search-query (cadr q) 20))
      (dotimes (_ 50)
        (dolist (q qs)
          (push (artisan-bench-knowledge--time (lambda () (artisan-search-query (cadr q) 20)))
                queries)))
      ;; ripgrep over the same files for the same words, as a
      ;; grep-based search would run per keystroke.
      (dotimes (_ 5)
        (dolist (q qs)
          (let* ((text (replace-regexp-in-string "\\`[a-z]+:" "" (cadr q)))
                 (words (if (string-prefix-p "\"" text)
                            (list (string-trim text "\"" "\""))
                          (split-string text))))
            (push (artisan-bench-knowledge--time
                   (lambda ()
                     (apply #'call-process "rg" nil nil nil
                            "-i" "-F" "--no-heading" "--line-number"
                            "-g" "*.org" "-g" "*.md" "-g" "*.txt"
                            (append (mapcan (lambda (w) (list "-e" w)) words)
                                    (list corpus)))))
                  rg)))))
    ;; Retained memory: collect the garbage (and with it the handles of
    ;; the earlier full-index runs) first.
    (garbage-collect)
    (let ((status (artisan--index-status (artisan-knowledge-index))))
      (princ (format "ARTISAN-RESULT=%S\n"
                     (list :notes (plist-get status :files) :mb mb
                           :full full :noop noop :single single
                           :queries queries :rg rg
                           :size (/ (plist-get status :bytes) 1e6)
                           :rss (/ (- (artisan-bench-knowledge--rss-kb) rss0) 1024.0)))))))

(artisan-bench-define "knowledge"
    "Indexing and searching notes: generated 1k/10k/100k, Worg, Dendron"
  (let ((pattern (getenv "ARTISAN_BENCH_CORPORA")))
    (dolist (c artisan-bench-knowledge-corpora)
      (when (or (null pattern) (string= pattern "") (string-match-p pattern (car c)))
        (let* ((name (car c))
               (corpus (artisan-bench-knowledge--corpus name (cdr c)))
               (kind (if (numberp (cdr c)) 'generated (cdr c)))
               (data (make-temp-file "artisan-bench-data-" t))
               (out (unwind-protect
                        (artisan-bench-child
                         `(artisan-bench-knowledge-measure
                           ,corpus ,(file-name-as-directory data) ',kind
                           ,(if (numberp (cdr c)) (cdr c) 1000))
                         "-L" (expand-file-name "test/bench" artisan-bench-root)
                         "-l" "bench-knowledge")
                      (delete-directory data t)))
               (r (if (string-match "ARTISAN-RESULT=\\(.*\\)" out)
                      (car (read-from-string (match-string 1 out)))
                    (error "No result from the %s child: %s" name out)))
               (label (format "%s (%d notes, %.0f MB)" name (plist-get r :notes) (plist-get r :mb))))
          (artisan-bench-add-row
           :what "Full index" :corpus label :unit "s"
           :samples (mapcar (lambda (ms) (/ ms 1000.0)) (plist-get r :full))
           :budget (and (equal name "gen-10000") "< 2 s")
           :note (format "%.1f MB/s" (/ (plist-get r :mb)
                                        (/ (artisan-bench-median (plist-get r :full)) 1000.0))))
          (artisan-bench-add-row
           :what "Update, nothing changed" :corpus label :samples (plist-get r :noop)
           :budget (and (equal name "gen-10000") "< 100 ms"))
          (artisan-bench-add-row
           :what "Reindex one saved file until searchable" :corpus label
           :samples (plist-get r :single) :budget "< 20 ms")
          (artisan-bench-add-row
           :what "Search, top 20 with snippets (5 query kinds)" :corpus label
           :samples (plist-get r :queries)
           :alt "rg -i -F, same words" :alt-samples (plist-get r :rg)
           :budget "p50 < 1 ms, p95 < 5 ms")
          (artisan-bench-add-row
           :what "Index size on disk" :corpus label :unit "MB"
           :samples (list (plist-get r :size)))
          (artisan-bench-add-row
           :what "Emacs memory kept, anonymous RSS (after indexing, updates and 250 searches)" :corpus label :unit "MB"
           :samples (list (plist-get r :rss))))))))

(provide 'bench-knowledge)
;;; bench-knowledge.el ends here
