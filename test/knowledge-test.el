;;; knowledge-test.el --- Specs for indexing and searching notes  -*- lexical-binding: t; -*-

;;; Commentary:

;; Real answers on real notes: Worg (Org) and Dendron's vault
;; (Markdown) are copied to a temporary directory and indexed; small
;; hand-written notes cover editing, deleting and saving.

;;; Code:

(require 'artisan-test-helpers)
(require 'artisan-knowledge)
(require 'artisan-search)

(defvar artisan-test--corpus nil
  "Temporary copy of the real corpora.")

(defvar artisan-test--corpus-data nil
  "Data directory of the corpus index.")

(defun artisan-test--use-corpus ()
  "Point artisan at the copied corpora."
  (setq artisan-data-directory artisan-test--corpus-data
        artisan-knowledge-roots (list artisan-test--corpus)
        artisan-knowledge-exclude nil))

(defun artisan-test--line-of (file regexp)
  "Return (LINE . COLUMN) of the first case-insensitive match of REGEXP in FILE."
  (with-temp-buffer
    (insert-file-contents file)
    (let ((case-fold-search t))
      (goto-char (point-min))
      (re-search-forward regexp)
      (goto-char (match-beginning 0))
      (cons (line-number-at-pos) (current-column)))))

(defun artisan-test--note-files ()
  "Return the note files ripgrep sees in the corpus copy."
  (process-lines "rg" "--files" "-g" "*.org" "-g" "*.md" "-g" "*.markdown" "-g" "*.txt"
                 artisan-test--corpus))

(defun artisan-test--section-at (file line)
  "Return the text of the heading section of FILE holding LINE.
Org headings start with stars, Markdown ones with hashes."
  (with-temp-buffer
    (insert-file-contents file)
    (let ((heading (if (string-suffix-p ".org" file) "^\\*+[ \t]" "^#+[ \t]")))
      (goto-char (point-min))
      (forward-line (1- line))
      (end-of-line)
      (let ((start (if (re-search-backward heading nil t) (point) (point-min))))
        (end-of-line)
        (buffer-substring start (if (re-search-forward heading nil t)
                                    (match-beginning 0)
                                  (point-max)))))))

(defun artisan-test--files (results)
  "Return the distinct files of RESULTS, relative to the corpus."
  (delete-dups (mapcar (lambda (r) (file-relative-name (plist-get r :file)
                                                       artisan-test--corpus))
                       results)))

(describe "Indexing the real corpora"
  (before-all
    (artisan-test-ensure-module)
    (setq artisan-test--corpus (file-name-as-directory (make-temp-file "artisan-corpus-" t))
          artisan-test--corpus-data (file-name-as-directory (make-temp-file "artisan-data-" t)))
    (when (artisan-test-corpora-p)
      (copy-directory (expand-file-name "worg" artisan-test-corpora)
                      (expand-file-name "worg/" artisan-test--corpus) nil t t)
      (copy-directory (expand-file-name "dendron" artisan-test-corpora)
                      (expand-file-name "dendron/" artisan-test--corpus) nil t t))
    (artisan-test--use-corpus))
  (after-all
    (delete-directory artisan-test--corpus t)
    (delete-directory artisan-test--corpus-data t))
  (before-each (artisan-test--use-corpus))

  (artisan-test-corpus-it "indexes every note ripgrep sees, and nothing changes on a second update"
    (let ((first (artisan-index-update t))
          (rg (artisan-test--note-files)))
      (expect (plist-get first :files) :to-equal (length rg))
      (expect (plist-get first :indexed) :to-equal (length rg))
      (expect (plist-get first :skipped) :to-equal 0)
      (let ((second (artisan-index-update t)))
        (expect (plist-get second :indexed) :to-equal 0)
        (expect (plist-get second :removed) :to-equal 0)
        (expect (plist-get second :files) :to-equal (length rg)))))

  (artisan-test-corpus-it "finds a word that occurs once at its file, line, column and heading"
    (let* ((results (artisan-search-query "willingness"))
           (r (car results))
           (file (expand-file-name "worg/org-contrib/babel/languages/ob-doc-gnuplot.org"
                                   artisan-test--corpus))
           (place (artisan-test--line-of file "willingness")))
      (expect (length results) :to-equal 1)
      (expect (plist-get r :file) :to-equal file)
      (expect (plist-get r :line) :to-equal (car place))
      (expect (plist-get r :column) :to-equal (cdr place))
      (expect (plist-get r :title) :to-equal "Org-babel-gnuplot")
      (expect (plist-get r :heading) :to-equal "Requirements and Setup › Caveat: Windows")
      (expect (plist-get r :snippet) :to-match "indicated willingness to work")
      ;; The matched word carries the match face.
      (let* ((s (plist-get r :snippet))
             (at (string-match "willingness" s)))
        (expect (memq 'artisan-match (ensure-list (get-text-property at 'face s)))
                :to-be-truthy))
      (expect (plist-get r :score) :to-be-greater-than 0)))

  (artisan-test-corpus-it "ranks the notes titled with the words first"
    ;; Two Dendron notes share the title "Packed Circles"; many more
    ;; mention packed-circles in links.
    (let ((results (artisan-search-query "\"Packed Circles\"" 10)))
      (expect (length results) :to-be-greater-than 3)
      (expect (mapcar (lambda (r) (plist-get r :title)) (seq-take results 2))
              :to-equal '("Packed Circles" "Packed Circles"))
      (expect (sort (artisan-test--files (seq-take results 2)) #'string<)
              :to-equal '("dendron/vault/dendron.topic.packed-circles.md"
                          "dendron/vault/ext.img.packed-circles.md"))))

  (artisan-test-corpus-it "matches a phrase only with its words in order"
    (let ((results (artisan-search-query "\"source code blocks\"" 200)))
      (expect (length results) :to-be-greater-than 5)
      (dolist (r results)
        (with-temp-buffer
          (insert-file-contents (plist-get r :file))
          (goto-char (point-min))
          (forward-line (1- (plist-get r :line)))
          ;; The located line holds the phrase, its words separated by
          ;; anything but letters (a line break, "source-code blocks").
          (let ((case-fold-search t))
            (expect (re-search-forward "source[^[:alnum:]]+code[^[:alnum:]]+blocks"
                                       (line-end-position 2) t)
                    :to-be-truthy))))
      (expect (artisan-search-query "\"blocks code source\"") :to-equal nil)))

  (artisan-test-corpus-it "filters by tag: Org heading tags and Markdown front-matter tags"
    (let ((org (artisan-search-query "tag:b_theorem"))
          (md (artisan-test--files (artisan-search-query "tag:stage.germ" 500))))
      (expect (artisan-test--files org) :to-equal '("worg/exporters/beamer/presentation.org"))
      (expect (plist-get (car org) :line) :to-equal 63)
      (expect (plist-get (car org) :heading) :to-match "Org mode increases productivity\\'")
      (expect md :to-contain "dendron/vault/dendron.topic.traits.api.md")
      (dolist (f md)
        (expect (with-temp-buffer
                  (insert-file-contents (expand-file-name f artisan-test--corpus))
                  (buffer-substring (point-min) (min (point-max) 600)))
                :to-match "stage\\.germ"))))

  (artisan-test-corpus-it "filters by title, path and extension"
    (let ((titles (artisan-search-query "title:gnuplot" 50)))
      (expect titles :not :to-be nil)
      ;; Each note once, at its title.
      (expect (length (artisan-test--files titles)) :to-equal (length titles))
      (dolist (r titles)
        (expect (plist-get r :title) :to-match "[Gg]nuplot")))
    (expect (artisan-test--files (artisan-search-query "path:babel ext:org gnuplot" 100))
            :to-contain "worg/org-contrib/babel/languages/ob-doc-gnuplot.org")
    (let ((md (artisan-test--files (artisan-search-query "ext:md vault" 100))))
      (expect (length md) :to-be-greater-than 10)
      (dolist (f md)
        (expect f :to-match "\\.md\\'")))
    (let ((babel (artisan-test--files (artisan-search-query "path:babel gnuplot" 100))))
      (expect (length babel) :to-be-greater-than 1)
      (dolist (f babel)
        (expect f :to-match "babel"))))

  (artisan-test-corpus-it "folds accents and case: sebastien finds Sébastien"
    (let ((files (artisan-test--files (artisan-search-query "sebastien vauban" 50))))
      (expect files :to-contain "worg/org-release-notes.org")
      (expect (artisan-test--files (artisan-search-query "SÉBASTIEN VAUBAN" 50))
              :to-equal files)))

  (artisan-test-corpus-it "matches the last word as a prefix while typing, and exactly after a space"
    (let ((typing (artisan-search-query "willingn"))
          (typed (artisan-search-query "willingn ")))
      (expect (plist-get (car typing) :fuzzy) :to-be nil)
      (expect (plist-get (car typing) :file) :to-match "ob-doc-gnuplot\\.org\\'")
      ;; "willingn" is no word: only fuzzy matches remain.
      (expect typed :not :to-be nil)
      (dolist (r typed) (expect (plist-get r :fuzzy) :to-be t))))

  (artisan-test-corpus-it "excludes words and supports OR"
    (let ((gnuplot (length (artisan-search-query "gnuplot " 1000)))
          (without (artisan-search-query "gnuplot -babel " 1000))
          (either (artisan-test--files (artisan-search-query "lilypond OR taskjuggler " 1000))))
      (expect (length without) :to-be-less-than gnuplot)
      (expect (length without) :to-be-greater-than 3)
      ;; No section shown holds the excluded word.
      (dolist (r without)
        (when (plist-get r :heading)
          (expect (artisan-test--section-at (plist-get r :file) (plist-get r :line))
                  :not :to-match "\\<[Bb][Aa][Bb][Ee][Ll]\\>")))
      (expect either :to-contain "worg/org-tutorials/org-taskjuggler-scr.org")
      (expect (seq-some (lambda (f) (string-match-p "lilypond" f)) either) :to-be-truthy)))

  (artisan-test-corpus-it "corrects a misspelling when nothing matches exactly"
    (let ((r (car (artisan-search-query "wilingness "))))
      (expect (plist-get r :fuzzy) :to-be t)
      (expect (plist-get r :file) :to-match "ob-doc-gnuplot\\.org\\'")))

  (artisan-test-corpus-it "finds every file ripgrep finds, for a dozen words"
    (dolist (word '("fortran" "gnuplot" "sqlite" "lilypond" "ditaa" "plantuml"
                    "graphviz" "ledger" "mathjax" "beamer" "texinfo" "taskjuggler"))
      (let ((rg (mapcar (lambda (f) (file-relative-name f artisan-test--corpus))
                        (process-lines "rg" "-i" "-l" "-F" word "-g" "*.org" "-g" "*.md"
                                       artisan-test--corpus)))
            (ours (artisan-test--files (artisan-search-query word 100000))))
        (expect (length rg) :to-be-greater-than 3)
        (dolist (f rg)
          (unless (member f ours)
            (buttercup-fail "%s: ripgrep finds %s, artisan does not" word f))))))

  (artisan-test-corpus-it "finds every note holding all the words, wherever they are in it"
    ;; Words in different headings of a note count too.  "rg" finds the
    ;; Org files holding each word (Markdown front matter other than the
    ;; title, tags and aliases is not indexed); every file holding both
    ;; must be found.
    (dolist (pair '(("gnuplot" "table") ("latex" "beamer") ("export" "agenda")
                    ("capture" "template") ("sqlite" "table") ("clock" "report")))
      (let* ((with (lambda (word)
                     (mapcar (lambda (f) (file-relative-name f artisan-test--corpus))
                             (ignore-errors
                               (process-lines "rg" "-i" "-l" "-w" "-F" word
                                              "-g" "*.org" artisan-test--corpus)))))
             (both (seq-intersection (funcall with (car pair)) (funcall with (cadr pair))))
             (query (format "%s %s " (car pair) (cadr pair)))
             (ours (artisan-test--files (artisan-search-query query 100000))))
        (expect (length both) :to-be-greater-than 2)
        (dolist (f both)
          (unless (member f ours)
            (buttercup-fail "%s: %s holds both words, artisan does not find it" query f)))
)))

  (artisan-test-corpus-it "signals artisan-query-error for malformed queries"
    (dolist (q '("\"unterminated" "emacs OR" "-only" "title:" "a - b"))
      (let ((err (condition-case e (artisan-search-query q) (artisan-error e))))
        (expect (car err) :to-be 'artisan-query-error)
        (expect (cadr err) :to-match "[A-Z]"))))

  (artisan-test-corpus-it "rejects arguments of the wrong type"
    (expect (artisan-search-query 42) :to-throw 'wrong-type-argument)
    (expect (artisan-search-query "emacs" "ten") :to-throw 'wrong-type-argument))

  (artisan-test-corpus-it "drives any completing-read front end through the passthrough style"
    (let* ((completion-category-overrides
            (cons '(artisan-search (styles artisan-passthrough)) completion-category-overrides))
           (all (completion-all-completions "willingness" #'artisan-search--table nil 11
                                            '(metadata (category . artisan-search)))))
      ;; The style returns a list ending in its base size.
      (expect (cdr (last all)) :to-equal 0)
      (setcdr (last all) nil)
      (expect (length all) :to-equal 1)
      (let ((hit (gethash (car all) artisan-search--hits)))
        (expect (plist-get hit :file) :to-match "ob-doc-gnuplot\\.org\\'")
        (expect (car all) :to-match "Org-babel-gnuplot › Requirements and Setup › Caveat: Windows: .*willingness")
        (save-window-excursion
          (artisan-search-visit hit)
          (expect (line-number-at-pos) :to-equal (plist-get hit :line))
          (expect (current-column) :to-equal (plist-get hit :column))
          (expect (looking-at "willingness") :to-be-truthy)
          (kill-buffer)))
      ;; Input too short: one candidate saying so, not a result.
      (let ((short (completion-all-completions "s" #'artisan-search--table nil 1
                                               '(metadata (category . artisan-search)))))
        (expect (car short) :to-match "\\`Type at least")
        (expect (gethash (car short) artisan-search--hits) :to-be nil))
      ;; A malformed query while typing shows the problem as a candidate.
      (expect (car (artisan-search--candidates "emacs OR"))
              :to-match "Query error: OR needs a word")
      ;; A phrase being typed is searched as typed so far, not an error.
      (let ((open (artisan-search--candidates "\"gnuplot is a")))
        (expect (car open) :not :to-match "Query error")
        (expect (gethash (car open) artisan-search--hits) :to-be-truthy))
      (expect (artisan-search--close-phrase "a \"b c") :to-equal "a \"b c\"")
      (expect (artisan-search--close-phrase "a \"b\" c") :to-equal "a \"b\" c")
      (expect (artisan-search--close-phrase "\"say \\\"hi") :to-equal "\"say \\\"hi\"")
      ;; No results: one candidate saying so, naming a prefix that is no field.
      (expect (substring-no-properties (car (artisan-search--candidates "foo:zzyzxq")))
              :to-equal "No notes match; foo: not a field (title: tag: path: ext: id: todo:), so it was searched as text")
      (expect (substring-no-properties (car (artisan-search--candidates "zzyzxq qqxyzzy")))
              :to-equal "No notes match")))

  (artisan-test-corpus-it "does not search for the text of a query error when it is chosen"
    (let ((searched nil))
      (cl-letf (((symbol-function 'completing-read)
                 (lambda (_prompt table &rest _)
                   ;; The user types a malformed query and picks the first
                   ;; candidate, as RET does in vertico.
                   (car (all-completions "emacs OR" table))))
                ((symbol-function 'artisan-search-results)
                 (lambda (q) (setq searched q))))
        (let ((artisan-search-use-consult nil))
          (expect (artisan-search) :to-throw 'user-error '("Query error: OR needs a word to search for on both sides (\"vertico OR ivy\")"))))
      (expect searched :to-be nil)))

  (artisan-test-corpus-it "lists results in a buffer that next-error walks"
    (save-window-excursion
      (let ((buffer (artisan-search-results "willingness")))
        (with-current-buffer buffer
          (expect (buffer-string) :to-match "1 result")
          (expect (buffer-string) :to-match "worg/org-contrib/babel/languages/ob-doc-gnuplot.org:[0-9]+:[0-9]+: Org-babel-gnuplot"))
        (with-current-buffer buffer (goto-char (point-min)))
        (next-error 1)
        ;; next-error shows the file in a window, at the match.
        (let* ((file (expand-file-name "worg/org-contrib/babel/languages/ob-doc-gnuplot.org"
                                       artisan-test--corpus))
               (visited (find-buffer-visiting file))
               (window (get-buffer-window visited)))
          (expect visited :to-be-truthy)
          (with-current-buffer visited
            (save-excursion
              (goto-char (window-point window))
              (expect (looking-at "willingness") :to-be-truthy)))
          (kill-buffer visited))
        (kill-buffer buffer))))

  (artisan-test-corpus-it "cancels a rebuild and keeps the previous index"
    (let ((job (artisan--index-update (artisan-knowledge-index) 'rebuild nil)))
      ;; Worg and Dendron take far longer to index than this takes.
      (artisan--job-cancel job)
      (artisan--job-wait job 10000)
      (expect (plist-get (artisan--job-poll job) :state) :to-be 'cancelled))
    (expect (plist-get (artisan--index-status (artisan-knowledge-index)) :files)
            :to-equal (length (artisan-test--note-files)))
    (let ((r (artisan-search-query "willingness")))
      (expect (length r) :to-equal 1)
      (expect (plist-get (car r) :file) :to-match "ob-doc-gnuplot\\.org\\'")))

  (artisan-test-corpus-it "forgets a background update that was cancelled"
    (let ((hook-ran nil))
      (let ((noninteractive nil)
            (artisan-knowledge-after-update-hook (list (lambda () (setq hook-ran t)))))
        (artisan-index-rebuild)
        (expect artisan-knowledge--update-job :to-be-truthy)
        (artisan-cancel-jobs)
        (let ((deadline (+ (float-time) 30)))
          (while (and artisan-job--running (< (float-time) deadline))
            (accept-process-output nil 0.05))))
      ;; Searches and idle refreshes do not wait for a job that is gone.
      (expect artisan-knowledge--update-job :to-be nil)
      (expect hook-ran :to-be t)
      (expect (length (artisan-search-query "willingness")) :to-equal 1)))

  (artisan-test-corpus-it "reports the index's status"
    (save-window-excursion
      (with-current-buffer (artisan-index-status)
        (expect (buffer-string) :to-match (format "Files: +%d\n" (length (artisan-test--note-files))))
        (expect (buffer-string) :to-match "Documents: +[0-9]+")
        (expect (buffer-string) :to-match "Size on disk: +[0-9.]+[kMG]")
        (expect (buffer-string) :to-match "Last update: +[0-9]\\{4\\}-")
        (expect (buffer-string) :to-match "Skipped files (0)")
        (kill-buffer)))))

(describe "Keeping the index fresh"
  :var (notes data)
  (before-each
    (artisan-test-ensure-module)
    (setq notes (file-name-as-directory (make-temp-file "artisan-notes-" t))
          data (file-name-as-directory (make-temp-file "artisan-data-" t))
          artisan-data-directory data
          artisan-knowledge-roots (list notes)
          artisan-knowledge-exclude nil)
    (artisan-test-write-file (expand-file-name "garden.org" notes)
                             "#+title: Garden\n\n* Tomatoes\nWater the heirloom tomatoes daily.\n* Beans\nRunner beans climb.\n")
    (artisan-test-write-file (expand-file-name "kitchen.md" notes)
                             "---\ntitle: Kitchen\ntags: [home]\n---\n\n# Knives\n\nHone the knives weekly.\n")
    (artisan-index-update t))
  (after-each
    (artisan-knowledge-mode -1)
    (delete-directory notes t)
    (delete-directory data t))

  (it "sees edits and deletions after an update"
    (expect (length (artisan-search-query "heirloom")) :to-equal 1)
    (artisan-test-write-file (expand-file-name "garden.org" notes)
                             "#+title: Garden\n\n* Peppers\nSweet peppers need warmth.\n")
    (delete-file (expand-file-name "kitchen.md" notes))
    ;; The mtime must move for the change to be seen.
    (set-file-times (expand-file-name "garden.org" notes) (time-add nil 2))
    (let ((stats (artisan-index-update t)))
      (expect (plist-get stats :indexed) :to-equal 1)
      (expect (plist-get stats :removed) :to-equal 1))
    (expect (artisan-search-query "heirloom") :to-be nil)
    (expect (artisan-search-query "knives") :to-be nil)
    ;; The first match is the heading's own line.
    (let ((r (car (artisan-search-query "peppers"))))
      (expect (plist-get r :line) :to-equal 3)
      (expect (plist-get r :column) :to-equal 2)
      (expect (plist-get r :heading) :to-equal "Peppers"))
    (let ((r (car (artisan-search-query "warmth"))))
      (expect (plist-get r :line) :to-equal 4)))

  (it "makes saved text searchable under artisan-knowledge-mode"
    (artisan-knowledge-mode 1)
    (let ((buffer (find-file-noselect (expand-file-name "garden.org" notes))))
      (unwind-protect
          (with-current-buffer buffer
            (goto-char (point-max))
            (insert "* Squash\nButternut squash stores well.\n")
            (save-buffer)
            ;; The reindex runs as a background job; let its timer run.
            (let ((deadline (+ (float-time) 10)))
              (while (and artisan-job--running (< (float-time) deadline))
                (accept-process-output nil 0.05)))
            (let ((r (car (artisan-search-query "butternut"))))
              (expect (plist-get r :file) :to-equal (expand-file-name "garden.org" notes))
              (expect (plist-get r :line) :to-equal 8)
              (expect (plist-get r :heading) :to-equal "Squash")))
        (with-current-buffer buffer (set-buffer-modified-p nil))
        (kill-buffer buffer))))

  (it "reindexes a single file quickly, leaving the others alone"
    (artisan-test-write-file (expand-file-name "kitchen.md" notes)
                             "---\ntitle: Kitchen\n---\n\n# Pans\n\nSeason the cast iron.\n")
    (let ((stats (artisan-knowledge-reindex-file (expand-file-name "kitchen.md" notes) t)))
      (expect (plist-get stats :indexed) :to-equal 1)
      (expect (plist-get stats :files) :to-equal 2))
    (expect (plist-get (car (artisan-search-query "cast iron")) :line) :to-equal 7)
    (expect (length (artisan-search-query "heirloom")) :to-equal 1))

  (it "skips binary and oversized files and says why"
    (let ((coding-system-for-write 'binary))
      (write-region "\0\1\2binary" nil (expand-file-name "blob.org" notes)))
    (let ((artisan-knowledge-max-file-size 100))
      (artisan-test-write-file (expand-file-name "big.md" notes) (make-string 500 ?x))
      (let ((stats (artisan-index-update t)))
        (expect (plist-get stats :skipped) :to-equal 2))
      (let ((status (artisan--index-status (artisan-knowledge-index))))
        (expect (mapcar (lambda (s) (cons (file-name-nondirectory (car s)) (cdr s)))
                        (plist-get status :skipped))
                :to-equal '(("big.md" . "larger than 100 B (500 B)")
                            ("blob.org" . "binary (contains NUL bytes)"))))))

  (it "honours exclude globs"
    (artisan-test-write-file (expand-file-name "archive/old.org" notes) "* Old\nheirloom seeds\n")
    (let ((artisan-knowledge-exclude '("**/archive/**")))
      (artisan-index-update t)
      (expect (length (artisan-search-query "heirloom")) :to-equal 1)))

  (it "tells a second writer that another Emacs is updating, and still searches"
    (let* ((dir (plist-get (artisan--index-status (artisan-knowledge-index)) :dir))
           (lock (expand-file-name ".tantivy-writer.lock" dir))
           ;; Another process holds the writer lock, as another Emacs would.
           (holder (start-process "lock-holder" nil "flock" lock "sleep" "30")))
      (unwind-protect
          (progn
            (sleep-for 0.3)
            (artisan-test-write-file (expand-file-name "garden.org" notes)
                                     "#+title: Garden\n\n* Okra\nOkra likes heat.\n")
            (set-file-times (expand-file-name "garden.org" notes) (time-add nil 2))
            (let ((err (condition-case e (artisan-index-update t) (artisan-error e))))
              (expect (car err) :to-be 'artisan-index-locked)
              (expect (memq 'artisan-index-error (get (car err) 'error-conditions)) :to-be-truthy)
              (expect (cadr err) :to-match "being updated by another Emacs; searching still works"))
            ;; The old index is still there and searchable.
            (expect (length (artisan-search-query "heirloom")) :to-equal 1))
        (delete-process holder))
      ;; Once the other writer is gone, the update goes through.
      (artisan-index-update t)
      (expect (plist-get (car (artisan-search-query "okra")) :heading) :to-equal "Okra")))

  (it "excludes the sections holding an excluded word, and the notes of an excluded file tag"
    (expect (artisan-search-query "water -heirloom") :to-be nil)
    (expect (length (artisan-search-query "runner -heirloom")) :to-equal 1)
    (expect (artisan-search-query "knives -tag:home") :to-be nil)
    (expect (artisan-search-query "knives NOT tag:home") :to-be nil)
    (expect (length (artisan-search-query "knives -tag:garden")) :to-equal 1))

  (it "lands next-error on the match after a tab or a wide character"
    (artisan-test-write-file (expand-file-name "wide.org" notes)
                             "#+title: Wide\n\n* Tabs\n\t\tindented wombat\n* Wide\n漢字漢字 numbat here\n")
    (artisan-index-update t)
    (save-window-excursion
      (let ((buffer (artisan-search-results "wombat OR numbat")))
        (with-current-buffer buffer (goto-char (point-min)))
        (let (seen)
          (dotimes (_ 2)
            (next-error 1)
            (let ((visited (find-buffer-visiting (expand-file-name "wide.org" notes))))
              (with-current-buffer visited
                (goto-char (window-point (get-buffer-window visited)))
                (expect (looking-at "wombat\\|numbat") :to-be-truthy)
                (push (match-string 0) seen))))
          (expect (sort seen #'string<) :to-equal '("numbat" "wombat")))
        (kill-buffer (find-buffer-visiting (expand-file-name "wide.org" notes)))
        (kill-buffer buffer))))

  (it "visits results in files whose names hold colons"
    (let ((file (expand-file-name "2024-01-01 10:30 standup.org" notes)))
      (artisan-test-write-file file "#+title: Standup\n\n* Notes\nthe kookaburra sang\n")
      (artisan-index-update t)
      (save-window-excursion
        (let ((buffer (artisan-search-results "kookaburra")))
          (with-current-buffer buffer
            (goto-char (point-min))
            (expect (buffer-string) :to-match "1 result"))
          (next-error 1)
          (let ((visited (find-buffer-visiting file)))
            (expect visited :to-be-truthy)
            (with-current-buffer visited
              (goto-char (window-point (get-buffer-window visited)))
              (expect (line-number-at-pos) :to-equal 4)
              (expect (looking-at "kookaburra") :to-be-truthy))
            (kill-buffer visited))
          (kill-buffer buffer)))))

  (it "does not index a saved note the walk leaves out"
    (artisan-knowledge-mode 1)
    (artisan-test-write-file (expand-file-name ".gitignore" notes) "build/\n")
    (let ((artisan-knowledge-exclude '("archive" "daily/*.org")))
      (dolist (rel '("build/b.org" ".hidden/h.org" "archive/a.org" "daily/d.org"))
        (let ((file (expand-file-name rel notes)))
          (artisan-test-write-file file "* Note\n")
          (with-current-buffer (find-file-noselect file)
            (goto-char (point-max))
            (insert "bandicoot\n")
            (save-buffer)
            (kill-buffer))))
      (let ((deadline (+ (float-time) 10)))
        (while (and artisan-job--running (< (float-time) deadline))
          (accept-process-output nil 0.05)))
      (expect (artisan-search-query "bandicoot") :to-be nil)
      (expect (plist-get (artisan-index-update t) :removed) :to-equal 0)))

  (it "reports a broken symbolic link under its own name"
    (make-symbolic-link "/no/such/target.org" (expand-file-name "dangling.org" notes))
    (artisan-index-update t)
    (let ((skipped (plist-get (artisan--index-status (artisan-knowledge-index)) :skipped)))
      (expect skipped :to-equal
              (list (cons (expand-file-name "dangling.org" notes) "broken symbolic link")))))

  (it "rebuilds an index whose files were damaged"
    (let ((dir (plist-get (artisan--index-status (artisan-knowledge-index)) :dir)))
      ;; Another Emacs (or a crash) leaves a damaged segment.
      (dolist (f (directory-files dir t "\\.\\(store\\|term\\)\\'"))
        (delete-file f))
      (setq artisan-knowledge--index nil)
      (garbage-collect)
      (expect (length (artisan-search-query "heirloom")) :to-equal 1)
      (expect (plist-get (artisan-index-rebuild t) :indexed) :to-equal 2)
      (expect (length (artisan-search-query "knives")) :to-equal 1))))

(describe "The search commands"
  :var (notes data)
  (before-each
    (artisan-test-ensure-module)
    (setq notes (file-name-as-directory (make-temp-file "artisan-notes-" t))
          data (file-name-as-directory (make-temp-file "artisan-data-" t))
          artisan-data-directory data
          artisan-knowledge-roots (list notes)
          artisan-knowledge-exclude nil)
    (artisan-test-write-file
     (expand-file-name "startup.org" notes)
     (concat ":PROPERTIES:\n:ID: 11111111-2222-3333-4444-555555555555\n:END:\n"
             "#+title: Start-up time\n#+filetags: :emacs:performance:\n\n"
             "* Links\nOrg mode: see [[id:8f2c1a3e-5b1d-4c53-9a2e-0e1f6d7c9a01][the manual]] "
             "and [[https://gnu.org][GNU]] on the editor.\n"))
    (artisan-test-write-file
     (expand-file-name "folded.org" notes)
     (concat "#+STARTUP: fold\n#+title: Folded\n\n* Top\nIntro.\n** Deeper\n"
             "*** Deepest\nThe axolotl hides here.\n"))
    (artisan-test-write-file
     (expand-file-name "vault.md" notes)
     "---\ntitle: Vault\n---\n\n# Refs\n\nSee [the wombat docs](https://example.org/x) and [[Wombat care|pets.wombat]].\n")
    (artisan-index-update t))
  (after-each
    (dolist (b (buffer-list))
      (when (or (string-prefix-p "*artisan" (buffer-name b))
                (equal (buffer-name b) "*compilation*")
                (and (buffer-file-name b) (string-prefix-p notes (buffer-file-name b))))
        (with-current-buffer b (set-buffer-modified-p nil))
        (kill-buffer b)))
    (delete-directory notes t)
    (delete-directory data t))

  (it "reruns the query on g in the results buffer, and never compiles"
    (save-window-excursion
      (let ((buffer (artisan-search-results "axolotl")))
        (with-current-buffer buffer
          (expect (buffer-string) :to-match "1 result\n")
          (artisan-test-write-file (expand-file-name "pond.org" notes)
                                   "#+title: Pond\n\n* Axolotl\nAn axolotl too.\n")
          (artisan-index-update t)
          (call-interactively (key-binding "g"))
          (expect (buffer-string) :to-match "2 results\n")
          (expect (buffer-string) :to-match "pond.org:3:")
          ;; Whatever runs recompile or compile here refuses.
          (expect (call-interactively (key-binding [remap recompile])) :not :to-throw)
          (expect (call-interactively #'recompile) :to-throw 'user-error)
          (expect (call-interactively #'compile) :to-throw 'user-error)
          (expect (get-buffer "*compilation*") :to-be nil)))))

  (it "reveals a result in folded Org text when next-error or RET visits it"
    (save-window-excursion
      (let ((buffer (artisan-search-results "axolotl"))
            (file (expand-file-name "folded.org" notes)))
        (with-current-buffer buffer (goto-char (point-min)))
        (next-error 1)
        (with-current-buffer (find-buffer-visiting file)
          (goto-char (window-point (get-buffer-window (current-buffer))))
          (expect (looking-at "axolotl") :to-be-truthy)
          (expect (invisible-p (point)) :to-be nil)
          ;; Fold it all again, and come back with RET on the result.
          (org-overview)
          (expect (invisible-p (point)) :to-be-truthy))
        (with-current-buffer buffer
          (goto-char (point-min))
          (re-search-forward "^folded.org:")
          (compile-goto-error))
        (with-current-buffer (find-buffer-visiting file)
          (expect (looking-at "axolotl") :to-be-truthy)
          (expect (invisible-p (point)) :to-be nil)))))

  (it "lets M-, return from a visit in a fresh Emacs, where xref is not loaded yet"
    (let ((result (artisan-test-child
                   `(progn
                      (require 'artisan-search)
                      (princ (format "xref-loaded=%S " (featurep 'xref)))
                      (switch-to-buffer (get-buffer-create "start"))
                      (artisan-search-visit
                       (list :file ,(expand-file-name "folded.org" notes) :line 8 :column 4))
                      (princ (format "visited=%s:%s " (buffer-name) (looking-at "axolotl")))
                      (execute-kbd-macro (kbd "M-,"))
                      (princ (format "back=%s" (buffer-name)))))))
      (expect (cdr result) :to-match "xref-loaded=nil visited=folded.org:t back=start")
      (expect (car result) :to-equal 0)))

  (it "turns a malformed or empty query into a user-error saying so, and makes no buffer"
    (dolist (q '("\"source code" "emacs OR"))
      (let ((err (condition-case e (artisan-search-results q) (error e))))
        (expect (car err) :to-be 'user-error)
        (expect (cadr err) :to-match "\\`Query error: [A-Z]")
        (expect (cadr err) :not :to-match "\\\\\"")))
    (expect (condition-case e (artisan-search-results "\"source code") (error (cadr e)))
            :to-equal "Query error: Unterminated phrase: a \" has no closing \"")
    (expect (condition-case e (artisan-search-results "  ") (error e))
            :to-equal '(user-error "Empty query: type words to search for"))
    (expect (seq-filter (lambda (b) (string-prefix-p "*artisan-search:" (buffer-name b)))
                        (buffer-list))
            :to-be nil)
    ;; The same through artisan-search, confirming the typed text.
    (let ((artisan-search-use-consult nil))
      (dolist (typed '("\"source code" ""))
        (cl-letf (((symbol-function 'completing-read) (lambda (&rest _) typed)))
          (expect (condition-case e (artisan-search) (error (car e)))
                  :to-be 'user-error)))))

  (it "says to type more while the input is too short, and refuses to search it"
    (let ((artisan-search-min-input 2))
      (clrhash artisan-search--hits)
      (setq artisan-search--last nil)
      (dolist (input '("" "s" " s "))
        (let ((c (artisan-search--candidates input)))
          (expect c :to-equal '("Type at least 2 characters to search the notes"))
          (expect (get-text-property 0 'artisan-error (car c)) :to-be t)))
      ;; Choosing that candidate says it again, instead of searching.
      (cl-letf (((symbol-function 'completing-read)
                 (lambda (_prompt table &rest _) (car (all-completions "s" table)))))
        (let ((artisan-search-use-consult nil))
          (expect (artisan-search) :to-throw 'user-error
                  '("Type at least 2 characters to search the notes"))))))

  (it "shows links as their labels and keyword lines as text in snippets, columns exact"
    (let* ((file (expand-file-name "startup.org" notes))
           (editor (car (artisan-search-query "editor")))
           (perf (car (artisan-search-query "performance")))
           (wombat (car (artisan-search-query "wombat"))))
      (expect (plist-get editor :snippet)
              :to-equal "Org mode: see the manual and GNU on the editor.")
      (expect (cons (plist-get editor :line) (plist-get editor :column))
              :to-equal (artisan-test--line-of file "editor"))
      (expect (plist-get perf :snippet) :to-equal "tags: emacs performance")
      (expect (cons (plist-get perf :line) (plist-get perf :column))
              :to-equal (artisan-test--line-of file "performance"))
      (expect (plist-get wombat :snippet) :to-equal "See the wombat docs and Wombat care.")
      ;; The highlights are on the words shown.
      (dolist (r (list editor perf wombat))
        (let ((s (plist-get r :snippet)))
          (dolist (h (plist-get r :highlights))
            (expect (downcase (substring s (car h) (cdr h)))
                    :to-match "\\`\\(editor\\|performance\\|wombat\\)\\'"))
          (expect (plist-get r :highlights) :not :to-be nil)))
      ;; The candidate reads as text too.
      (expect (substring-no-properties (artisan-search-format perf))
              :to-equal "Start-up time: tags: emacs performance  startup.org:5")))

  (it "marks approximate matches in candidates and in the results buffer"
    (let ((exact (artisan-search-format (car (artisan-search-query "axolotl"))))
          (fuzzy (artisan-search-format (car (artisan-search-query "axolotk ")))))
      (expect exact :not :to-match "≈")
      (expect fuzzy :to-match "\\`≈ Folded")
      (save-window-excursion
        (with-current-buffer (artisan-search-results "axolotk ")
          (expect (buffer-string) :to-match "1 approximate result (nothing matches exactly)")
          (expect (buffer-string) :to-match "folded.org:8:[0-9]+: ≈ Folded")))))

  (it "matches an ID by its start while it is typed"
    (let ((r (artisan-search-query "id:11111111")))
      (expect (length r) :to-equal 1)
      (expect (plist-get (car r) :file) :to-equal (expand-file-name "startup.org" notes)))
    (expect (artisan-search-query "id:11111111 ") :to-be nil)
    (expect (length (artisan-search-query "id:11111111-2222-3333-4444-555555555555 ")) :to-equal 1))

  (it "refreshes the status buffer when an update ends, and explains the file counts"
    (save-window-excursion
      (let ((status (artisan-index-status)))
        (with-current-buffer status
          (expect (buffer-string) :to-match "Files: +3\n")
          ;; A saved note is reindexed alone: one more file than the last update counted.
          (artisan-knowledge-reindex-file
           (artisan-test-write-file (expand-file-name "new.org" notes) "* New\nnewt\n") t)
          (expect (buffer-string)
                  :to-match "Files: +4 (1 more than at the last update: notes saved since")
          ;; u updates in the background; the buffer follows when it ends.
          (artisan-test-write-file (expand-file-name "newer.org" notes) "* Newer\nnewt\n")
          (let ((noninteractive nil))
            (call-interactively (key-binding "u")))
          (let ((deadline (+ (float-time) 20)))
            (while (and artisan-job--running (< (float-time) deadline))
              (accept-process-output nil 0.05)))
          (expect (buffer-string) :to-match "Files: +5\n")
          (expect (buffer-string) :to-match "Last update: .*, 5 notes")
          (expect (buffer-string) :to-match "Background job: none"))))))

(describe "A fresh index"
  :var (notes data)
  (before-each
    (artisan-test-ensure-module)
    (setq notes (file-name-as-directory (make-temp-file "artisan-notes-" t))
          data (file-name-as-directory (make-temp-file "artisan-data-" t))
          artisan-data-directory data
          artisan-knowledge-roots (list notes)
          artisan-knowledge-exclude nil
          artisan-knowledge--built nil)
    (artisan-test-write-file (expand-file-name "garden.org" notes)
                             "#+title: Garden\n\n* Tomatoes\nWater the heirloom tomatoes daily.\n")
    (artisan-test-write-file (expand-file-name "kitchen.md" notes)
                             "---\ntitle: Kitchen\n---\n\n# Quokka\n\nA quokka in the kitchen.\n"))
  (after-each
    (artisan-knowledge-mode -1)
    (delete-directory notes t)
    (delete-directory data t))

  (it "is built by the first search even when a note was saved before"
    (artisan-knowledge-mode 1)
    (with-current-buffer (find-file-noselect (expand-file-name "garden.org" notes))
      (goto-char (point-max))
      (insert "fresh edit\n")
      (save-buffer)
      (kill-buffer))
    (let ((deadline (+ (float-time) 10)))
      (while (and artisan-job--running (< (float-time) deadline))
        (accept-process-output nil 0.05)))
    ;; kitchen.md was never saved: only a build finds it.
    (expect (plist-get (car (artisan-search-query "quokka")) :file)
            :to-equal (expand-file-name "kitchen.md" notes))
    (expect (plist-get (artisan--index-status (artisan-knowledge-index)) :files) :to-equal 2))

  (it "builds in the background when an interactive search starts it"
    (let ((noninteractive nil)
          (started nil))
      (cl-letf (((symbol-function 'artisan-search--choose)
                 (lambda (&rest _) (error "Searched before the index was built")))
                ((symbol-function 'artisan-knowledge--update)
                 (lambda (scope _files wait _description)
                   (setq started (list scope wait)))))
        (expect (artisan-search) :to-be nil)
        (expect started :to-equal '(changed nil))))))

(describe "Words people search for"
  :var (notes data)
  (before-all
    (artisan-test-ensure-module)
    (setq notes (file-name-as-directory (make-temp-file "artisan-notes-" t))
          data (file-name-as-directory (make-temp-file "artisan-data-" t)))
    (artisan-test-write-file (expand-file-name "hepatitis.org" notes)
                             "#+title: Hepatitis C\n\nHepatitis C is a virus; see also vitamin C.\n")
    (artisan-test-write-file (expand-file-name "cpp.md" notes)
                             "# Templates\n\nWriting C++ templates, and a little C# and F#.\n")
    (artisan-test-write-file (expand-file-name "party.txt" notes)
                             "Party plans\nThe launch went well 🎉 and everyone cheered 👍🏽.\n"))
  (after-all
    (delete-directory notes t)
    (delete-directory data t))
  (before-each
    (setq artisan-data-directory data
          artisan-knowledge-roots (list notes)
          artisan-knowledge-exclude nil))

  (it "finds c++, c# and f# as words, not every lone c"
    (let ((hits (artisan-search-query "c++")))
      (expect (mapcar (lambda (h) (file-name-nondirectory (plist-get h :file))) hits)
              :to-equal '("cpp.md"))
      (expect (plist-get (car hits) :column) :to-equal 8))
    (expect (length (artisan-search-query "c#")) :to-equal 1)
    (expect (length (artisan-search-query "F#")) :to-equal 1)
    ;; A lone c still finds the lone c.
    (expect (mapcar (lambda (h) (file-name-nondirectory (plist-get h :file)))
                    (artisan-search-query "hepatitis c"))
            :to-equal '("hepatitis.org")))

  (it "finds emoji, and says when a query has no words at all"
    (let ((hit (car (artisan-search-query "🎉"))))
      (expect (file-name-nondirectory (plist-get hit :file)) :to-equal "party.txt")
      (expect (plist-get hit :line) :to-equal 2)
      (expect (plist-get hit :column) :to-equal 21))
    (expect (length (artisan-search-query "👍🏽")) :to-equal 1)
    (dolist (q '("—" "..." "\"!!\""))
      (expect (condition-case e (artisan-search-query q) (artisan-query-error (cadr e)))
              :to-match "\\`The query has no words to search for"))))

(describe "Bad option values"
  (before-each (artisan-test-ensure-module))

  (it "signals a user-error for option values of the wrong type"
    (let ((artisan-data-directory (make-temp-file "artisan-data-" t))
          (notes (make-temp-file "artisan-notes-" t)))
      (dolist (setting `((artisan-knowledge-roots . ,notes)
                         (artisan-knowledge-roots . (42))
                         (artisan-knowledge-max-file-size . nil)
                         (artisan-knowledge-max-file-size . 1.5)
                         (artisan-knowledge-extensions . "org")
                         (artisan-knowledge-exclude . (archive))
                         (artisan-knowledge-todo-keywords . "TODO")))
        (let ((artisan-knowledge-roots (list notes))
              (artisan-knowledge--index nil))
          (cl-progv (list (car setting)) (list (cdr setting))
            (let ((err (condition-case e (artisan-index-update t) (error e))))
              (expect (car err) :to-be 'user-error)
              (expect (cadr err) :to-match (regexp-quote (symbol-name (car setting))))))))
      (delete-directory notes t)
      (delete-directory artisan-data-directory t)))

  (it "signals artisan-index-error when the data directory cannot be created"
    (let* ((file (make-temp-file "artisan-not-a-dir-"))
           (artisan-data-directory (expand-file-name "sub/" file))
           (artisan-knowledge-roots (list (make-temp-file "artisan-notes-" t)))
           (artisan-knowledge--index nil))
      (let ((err (condition-case e (artisan-index-update t) (error e))))
        (expect (car err) :to-be 'artisan-index-error)
        (expect (cadr err) :to-match "Cannot create `artisan-data-directory'"))
      (delete-file file)))

  (it "accepts extensions written with a dot and TODO keywords with keys"
    (let ((artisan-knowledge-extensions '(".org" "md"))
          (artisan-knowledge-todo-keywords '("TODO(t)" "WAIT(w@/!)" "DONE(d)")))
      (expect (artisan-knowledge--extensions) :to-equal '("org" "md"))
      (expect (artisan-knowledge--todo-keywords) :to-equal '("TODO" "WAIT" "DONE")))))

(describe "Uncompiled Lisp"
  (it "loads the module before the first native call, from source files too"
    ;; Interpreted code looks a function up before evaluating its
    ;; arguments, so a native call must not be the one that loads the module.
    (artisan-test-with-temp-dir data
      (let ((result (artisan-test-child
                     `(progn
                        (dolist (f '("artisan" "artisan-module" "artisan-job" "artisan-knowledge"))
                          (load (expand-file-name (concat f ".el") ,artisan-test-lisp-dir) nil t t))
                        (setq artisan-data-directory ,data
                              artisan-knowledge-roots
                              (list ,(expand-file-name "test/example-notes/" artisan-test-root)))
                        (require 'artisan-knowledge)
                        (princ (format "compiled=%S " (byte-code-function-p
                                                      (symbol-function 'artisan-search-query))))
                        (princ (format "files=%d " (plist-get (artisan-index-update t) :files)))
                        (princ (format "hit=%s" (plist-get (car (artisan-search-query "sourdough"))
                                                           :title)))))))
        (expect (cdr result) :to-match "compiled=nil files=9 hit=Sourdough bread")
        (expect (car result) :to-equal 0)))))

(describe "Bad configurations"
  (before-each (artisan-test-ensure-module))

  (it "signals artisan-index-error for a missing root"
    (let ((artisan-knowledge-roots '("/no/such/notes/dir"))
          (artisan-data-directory (make-temp-file "artisan-data-" t)))
      (let ((err (condition-case e (artisan-index-update t) (artisan-error e))))
        (expect (car err) :to-be 'artisan-index-error)
        (expect (cadr err) :to-match "/no/such/notes/dir/? does not exist"))))

  (it "signals artisan-index-error when no roots are configured"
    (let ((artisan-knowledge-roots nil)
          (org-directory "/no/such/org/")
          (artisan-data-directory (make-temp-file "artisan-data-" t)))
      (expect (condition-case e (artisan-search-query "x") (artisan-error (car e)))
              :to-be 'artisan-index-error)))

  (it "names org-roam-directory too when no roots are configured"
    (let ((artisan-knowledge-roots nil)
          (org-directory "/no/such/org/")
          (artisan-data-directory (make-temp-file "artisan-data-" t)))
      (expect (condition-case e (artisan-index-update t) (artisan-error (cadr e)))
              :to-match "[`‘]artisan-knowledge-roots['’], or set [`‘]org-directory['’] or [`‘]org-roam-directory['’]")))

  (it "refuses an empty or relative root instead of indexing the current directory (17.7)"
    (artisan-test-with-temp-dir dir
      (let ((default-directory dir)
            (artisan-data-directory (expand-file-name "data/" dir)))
        (artisan-test-write-file (expand-file-name "stray.org" dir) "#+title: Stray\n")
        (dolist (root '("" "  " "notes" "./notes"))
          (let ((artisan-knowledge-roots (list root)))
            (expect (condition-case e (artisan-index-update t) (user-error (cadr e)))
                    :to-match "[`‘]artisan-knowledge-roots['’] must hold absolute directory names")))
        (expect (file-exists-p (expand-file-name "data/" dir)) :to-be nil))))

  (it "refuses an empty or relative data directory instead of writing into the current one (17.8)"
    (artisan-test-with-temp-dir dir
      (let ((default-directory dir)
            (artisan-knowledge-roots (list (expand-file-name "test/example-notes/" artisan-test-root))))
        (dolist (data '("" "artisan-data/"))
          (let ((artisan-data-directory data))
            (expect (condition-case e (artisan-index-update t) (user-error (cadr e)))
                    :to-match "[`‘]artisan-data-directory['’] must be an absolute directory name")))
        (expect (directory-files dir nil "\\`[^.]") :to-be nil))))

  (it "says a root that is a file is a file, not missing (17.9)"
    (artisan-test-with-temp-dir dir
      (let* ((file (artisan-test-write-file (expand-file-name "note.org" dir) "x\n"))
             (artisan-knowledge-roots (list file))
             (artisan-data-directory (expand-file-name "data/" dir)))
        (expect (condition-case e (artisan-index-update t) (artisan-error (cadr e)))
                :to-match "note.org is a file, not a directory"))))

  (it "signals for an invalid exclude glob"
    (let ((artisan-knowledge-roots (list (make-temp-file "artisan-notes-" t)))
          (artisan-knowledge-exclude '("a[b"))
          (artisan-data-directory (make-temp-file "artisan-data-" t)))
      (expect (condition-case e (artisan-index-update t) (artisan-error (cadr e)))
              :to-match "Invalid exclude glob"))))

;;; knowledge-test.el ends here
