;;; artisan-graph.el --- Link graph of notes: find, link, backlinks, report, view  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The emacs-artisan authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;; This program is distributed in the hope that it will be useful,
;; but WITHOUT ANY WARRANTY; without even the implied warranty of
;; MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
;; GNU General Public License for more details.

;; You should have received a copy of the GNU General Public License
;; along with this program.  If not, see <https://www.gnu.org/licenses/>.

;;; Commentary:

;; The link graph of the notes under `artisan-knowledge-roots'.  Nodes
;; are note files and Org headings with an :ID: (as in org-roam); edges
;; are id:, file:, roam:, [[wikilink]] and relative Markdown links.  The
;; native module builds the graph from the parse the index already
;; does and keeps it in step with every index update, so saving a note
;; under `artisan-knowledge-mode' updates its links too.
;;
;; Commands:
;;
;;   \\[artisan-find-node]      pick a node by title, alias or tag, or create one
;;   \\[artisan-insert-link]    insert a link to a node
;;   \\[artisan-backlinks]      backlinks and unlinked mentions in a side window
;;   `artisan-backlinks-mode'  keep that window following point
;;   \\[artisan-graph-report]   dead links, orphan notes, duplicate titles
;;   \\[artisan-graph-view]     the neighbourhood of a node as a picture
;;   \\[artisan-graph-export]   the graph as DOT or JSON
;;
;; Lisp API (for scripts and tests):
;;
;;   (artisan-nodes)                            all nodes, as plists
;;   (artisan-backlinks NODE)                   links pointing at NODE
;;   (artisan-graph-export FORMAT FILE &optional NODE DEPTH)

;;; Code:

(require 'artisan-knowledge)
(require 'artisan-job)
(require 'button)
(require 'cl-lib)
(require 'seq)
(require 'subr-x)
(require 'ucs-normalize)

(declare-function artisan--graph-built "artisan-dyn")
(declare-function artisan--graph-build "artisan-dyn")
(declare-function artisan--graph-generation "artisan-dyn")
(declare-function artisan--graph-stats "artisan-dyn")
(declare-function artisan--graph-nodes "artisan-dyn")
(declare-function artisan--graph-candidates "artisan-dyn")
(declare-function artisan--graph-node "artisan-dyn")
(declare-function artisan--graph-backlinks "artisan-dyn")
(declare-function artisan--graph-report "artisan-dyn")
(declare-function artisan--graph-export "artisan-dyn")
(declare-function artisan--graph-anchor "artisan-dyn")
(declare-function artisan--graph-line-kinds "artisan-dyn")
(declare-function artisan--graph-note-formats "artisan-dyn")
(declare-function org-entry-get "org")
(declare-function org-reveal "org")
(declare-function org-link-make-string "ol")
(declare-function outline-show-entry "outline")
(declare-function browse-url-file-url "browse-url")
(defvar browse-url-default-handlers)

(defgroup artisan-graph nil
  "The link graph of notes."
  :group 'artisan
  :prefix "artisan-graph-")

(defcustom artisan-graph-new-note-format 'auto
  "Format of notes created by `artisan-find-node' and `artisan-insert-link'.
`auto' follows the collection: the format most notes in the new
note's directory have (or, when it has none, most notes under the
roots), Org on a tie."
  :type '(choice (const :tag "Like the other notes there" auto)
                 (const :tag "Org (property drawer with :ID:, #+title)" org)
                 (const :tag "Markdown (front matter with id and title)" markdown))
  :group 'artisan-graph)

(defcustom artisan-graph-new-note-directory nil
  "Directory for new notes, or nil for the first of the note roots."
  :type '(choice (const :tag "The first note root" nil) directory)
  :group 'artisan-graph)

(defcustom artisan-graph-new-note-file-name-function
  #'artisan-graph-file-name-timestamp-slug
  "Function of a title that returns a new note's file name.
The name has no directory and no extension."
  :type '(choice (function-item artisan-graph-file-name-timestamp-slug)
                 (function-item artisan-graph-file-name-slug)
                 function)
  :group 'artisan-graph)

(defcustom artisan-graph-markdown-link-style 'auto
  "How `artisan-insert-link' writes links in Markdown buffers.
`wikilink' writes [[name|Label]] (Obsidian, Foam), `dendron'
writes [[Label|name]] with slug anchors ([[Label|name#a-heading]]),
and `markdown' writes [Label](path.md).  `auto' writes what the
collection's own two-sided wikilinks show it uses (see
`artisan-graph-label-first-p'): `dendron' or `wikilink'."
  :type '(choice (const :tag "As the collection writes them" auto)
                 (const :tag "[[name|Label]]" wikilink)
                 (const :tag "[[Label|name]] (Dendron)" dendron)
                 (const :tag "[Label](relative/path.md)" markdown))
  :group 'artisan-graph)

(defcustom artisan-graph-export-directory "~/"
  "Directory that `artisan-graph-export' proposes to write to."
  :type 'directory
  :group 'artisan-graph)

(defcustom artisan-backlinks-window-width 0.33
  "Width of the backlinks side window, as a fraction of the frame or columns.
It is at least `artisan-backlinks-window-min-width' columns, as
long as that leaves as many to the other windows."
  :type 'number
  :group 'artisan-graph)

(defcustom artisan-backlinks-window-min-width 40
  "Fewest columns of the backlinks side window.
See `artisan-backlinks-window-width'."
  :type 'natnum
  :group 'artisan-graph)

(defcustom artisan-backlinks-window-side 'right
  "Side of the frame where the backlinks window appears."
  :type '(choice (const left) (const right) (const top) (const bottom))
  :group 'artisan-graph)

(defcustom artisan-backlinks-unlinked-mentions t
  "Non-nil means list unlinked mentions below the backlinks."
  :type 'boolean
  :group 'artisan-graph)

(defcustom artisan-backlinks-unlinked-limit 50
  "Most unlinked mentions listed."
  :type 'natnum
  :group 'artisan-graph)

(defcustom artisan-backlinks-follow-delay 0.25
  "Idle seconds before `artisan-backlinks-mode' follows point."
  :type 'number
  :group 'artisan-graph)

(defcustom artisan-graph-view-depth 2
  "Default number of hops shown by `artisan-graph-view'."
  :type 'natnum
  :group 'artisan-graph)

(defcustom artisan-graph-dot-program "dot"
  "The Graphviz dot program used by `artisan-graph-view'."
  :type 'string
  :group 'artisan-graph)

(defcustom artisan-graph-view-max-nodes 150
  "The most nodes `artisan-graph-view' draws.
Graphviz takes seconds to minutes to lay out a few hundred nodes
or links (about 10 s for 120 nodes with 400 links); a bigger
neighbourhood is listed, not drawn (view fewer hops with a
numeric prefix argument).  See also `artisan-graph-view-max-links'."
  :type 'natnum
  :group 'artisan-graph)

(defcustom artisan-graph-view-max-links 300
  "The most links `artisan-graph-view' draws; see `artisan-graph-view-max-nodes'."
  :type 'natnum
  :group 'artisan-graph)

(defcustom artisan-graph-dot-timeout 15
  "Seconds Graphviz dot may take to draw a graph view before it is stopped."
  :type 'number
  :group 'artisan-graph)

(defface artisan-graph-title '((t :inherit bold))
  "Face of node titles in graph buffers."
  :group 'artisan-graph)

(defface artisan-graph-tag '((t :inherit font-lock-keyword-face))
  "Face of tags in node candidates."
  :group 'artisan-graph)

(defface artisan-graph-location '((t :inherit shadow))
  "Face of files, folders and lines in graph buffers and candidates."
  :group 'artisan-graph)

(defface artisan-graph-heading '((t :inherit font-lock-function-name-face))
  "Face of section headings in graph buffers."
  :group 'artisan-graph)

(defface artisan-graph-link '((t :inherit link))
  "Face of links inside backlink contexts."
  :group 'artisan-graph)

(defvar artisan-backlinks-mode)

(defvar artisan-graph-node-history nil
  "History of `artisan-find-node' and `artisan-insert-link'.")

;;;; The graph

(defun artisan-graph-index ()
  "Return the open index with its link graph in memory.
Build the index first if it never was; load the graph from it the
first time in a session, with progress (\\[keyboard-quit] cancels)."
  (let ((index (artisan-knowledge-index)))
    ;; A graph in memory means the index was built: skip that check,
    ;; which backlinks (under a millisecond) cannot afford every time.
    (unless (artisan--graph-built index)
      (artisan-knowledge-ensure-built)
      (unless (artisan--graph-built index)
        (artisan-job-wait (artisan--graph-build index)
                          (and (not noninteractive) "Loading the link graph"))))
    index))

;;;###autoload
(defun artisan-graph-load-in-background ()
  "Start loading the link graph on a worker thread, unless it is loaded.
Quiet: no progress is shown.  Does nothing when the native module
would first have to be built.  `artisan-knowledge-mode' calls this
when Emacs is idle (see `artisan-graph-preload').  Return the job,
or nil."
  (when (or (featurep 'artisan-dyn) (artisan-module-locate))
    (condition-case err
        (let ((index (artisan-knowledge-index)))
          (unless (artisan--graph-built index)
            (artisan-job-start (artisan--graph-build index) "Loading the link graph"
                               :quiet t)))
      (error (message "artisan: could not load the link graph: %s"
                      (error-message-string err))
             nil))))

(defmacro artisan-graph--with-big-gc (&rest body)
  "Run BODY with garbage collection deferred.
Making thousands of plists or strings at once would otherwise
collect garbage many times, each time marking the whole heap."
  (declare (indent 0) (debug t))
  `(let ((gc-cons-threshold (max gc-cons-threshold (* 256 1024 1024))))
     ,@body))

;;;###autoload
(defun artisan-nodes ()
  "Return every node of the link graph as a plist.
Nodes are note files and Org headings with an :ID:.  Keys:
:id (nil for notes without one), :title, :aliases, :tags, :file
\(absolute), :line, :level (0 for files), :key (the ID, or the
file name of a note without an ID) and :outline (the headings
above a heading node).  Nodes come in file order."
  (let ((index (artisan-graph-index)))
    (artisan-graph--with-big-gc
      (artisan--graph-nodes index))))

(defun artisan-graph--key (node)
  "Return the graph key for NODE, an ID or a file name.
A file name may be relative to `default-directory': a string that
names an existing file there is a file name, anything else an ID."
  (cl-check-type node string)
  (when (string-blank-p node)
    (user-error "No node named: the ID or file name is empty"))
  (if (or (file-name-absolute-p node) (file-regular-p node))
      (artisan-graph--graph-file (expand-file-name node))
    node))

(defun artisan-graph--graph-file (file)
  "Return FILE as the graph names it.
Notes are named by their path below the root they were found
under; FILE may name one through a symbolic link."
  (let ((roots (ignore-errors (artisan-knowledge-root-directories))))
    (if (or (null roots)
            (seq-some (lambda (r) (string-prefix-p r file)) roots))
        file
      (let ((true (file-truename file)))
        (or (seq-some (lambda (r)
                        (let ((true-root (file-name-as-directory (file-truename r))))
                          (and (string-prefix-p true-root true)
                               (expand-file-name (substring true (length true-root)) r))))
                      roots)
            file)))))

(defun artisan-graph-node (node)
  "Return the plist of NODE (an ID or a file name), or nil.
Keys are those of `artisan-nodes', and :refs, :parent (the key of
the enclosing node) and :file-title (the title of its note)."
  (let ((index (artisan-graph-index)))
    (artisan--graph-node index (artisan-graph--key node))))

;;;###autoload
(defun artisan-backlinks (&optional node display)
  "Show the backlinks of the node at point; from Lisp, return those of NODE.
Interactively (DISPLAY non-nil), show them in a side window with
their contexts and the unlinked mentions of the node (see
`artisan-backlinks-buffer-mode'); `artisan-backlinks-mode' keeps
that window following point.

From Lisp, return every link pointing at NODE (and show them too
when DISPLAY is non-nil).
NODE is an ID (the links to that node) or a note's file name (the
links to the note or to any heading with an ID in it); nil means
the node at point.  Each backlink is a plist (:file :line :column
:title :context :kind :source :id :outline :file-title :target):
the file, line and column of the link, the title, key, ID and
outline of the node it is in and the title of that note, the
paragraph or list item around it, its kind (`id', `file', `roam',
`wiki' or `relative'), and the key of the node it points at."
  (interactive (list nil t))
  (let* ((key (if node (artisan-graph--key node) (artisan-graph-node-at-point))))
    (unless key
      (if display
          (user-error "Not in a note under the note roots (`artisan-knowledge-roots')")
        (signal 'wrong-type-argument (list 'stringp node))))
    (if display
        (progn (artisan-backlinks--show key) (artisan-backlinks key))
      (let ((index (artisan-graph-index)))
        (artisan--graph-backlinks index key)))))

(defun artisan-graph-label-first-p ()
  "Return non-nil if the notes write wikilinks as [[label|note]].
That is Dendron's order; Obsidian and Foam write [[note|label]].
The collection's own two-sided wikilinks tell, by a vote of those
with one side naming a note file exactly (nil on a tie)."
  (plist-get (artisan--graph-stats (artisan-graph-index)) :label-first))

;;;###autoload
(defun artisan-graph-export (format file &optional node depth overwrite)
  "Write the link graph as FORMAT, `dot' or `json', to FILE.
With NODE (an ID or a file name), write only the nodes within
DEPTH hops of it (default 2), following links both ways and
headings to their notes.  Return a plist (:nodes N :edges N :dead
N :file FILE).

FILE must be a new file or a regular one (a symbolic link to one
is followed): a directory, device, FIFO or socket is refused.  A
note under the roots is only replaced when OVERWRITE is non-nil;
interactively, replacing any existing file is asked first.

JSON has the shape {\"version\": 1, \"root\", \"depth\", \"nodes\":
[{key, id, title, aliases, tags, refs, file, line, level, parent,
outline}], \"edges\": [{source, target, kind, file, line, column,
context}], \"dead\": [...]}; see the README.  Interactively, ask
for the format and file; with a prefix argument, export the
neighbourhood of the node at point."
  (interactive
   (let* ((format (intern (completing-read (format-prompt "Export format" "dot")
                                           '("dot" "json") nil t nil nil "dot")))
          (node (and current-prefix-arg (artisan-graph-node-at-point)))
          (depth (and node (read-number "Depth: " artisan-graph-view-depth)))
          (dir (file-name-as-directory (expand-file-name artisan-graph-export-directory)))
          (name (concat "graph." (symbol-name format)))
          (file (read-file-name (format "Write the %s to: " (upcase (symbol-name format)))
                                dir (expand-file-name name dir) nil name))
          (overwrite (and (file-exists-p file)
                          (not (file-directory-p file))
                          (or (if (artisan-knowledge-note-file-p (expand-file-name file))
                                  (yes-or-no-p
                                   (format "%s is one of your notes; replace it with the graph? "
                                           (abbreviate-file-name file)))
                                (y-or-n-p (format "%s exists; replace it? "
                                                  (abbreviate-file-name file))))
                              (user-error "Nothing written")))))
     (list format file node depth overwrite)))
  (let ((format (if (symbolp format) (symbol-name format) format)))
    (unless (member format '("dot" "json"))
      (signal 'wrong-type-argument (list '(member dot json) format)))
    (cl-check-type file string)
    (when (or (string-blank-p file) (directory-name-p file) (file-directory-p file))
      (user-error "Export the graph to a file, not %s"
                  (if (string-blank-p file) "an empty file name"
                    (format "the directory %s" file))))
    (artisan-graph--check-depth depth)
    (when (and depth (not node))
      (user-error "A depth counts hops from a node: give NODE too"))
    (when (and (not overwrite) (file-exists-p file)
               (artisan-knowledge-note-file-p (expand-file-name file)))
      (user-error "%s is one of your notes: artisan replaces it only when asked (OVERWRITE)"
                  (abbreviate-file-name file)))
    (let* ((index (artisan-graph-index))
           (result (artisan--graph-export index format (expand-file-name file)
                                          (and node (artisan-graph--key node))
                                          depth)))
      (when (called-interactively-p 'interactive)
        (message "Wrote %s to %s" (artisan-graph--counts result) file))
      result)))

(defun artisan-graph--counts (counts)
  "Return the nodes, links and dead links of COUNTS as words.
COUNTS is a plist with :nodes, :edges (links that resolve) and
:dead (a number or a list)."
  (let ((dead (plist-get counts :dead)))
    (format "%d nodes, %d links + %d dead"
            (plist-get counts :nodes) (plist-get counts :edges)
            (if (listp dead) (length dead) dead))))

;;;; The node at point

(defun artisan-graph--check-depth (depth)
  "Signal a `user-error' unless DEPTH is nil or a number of hops, 0 or more."
  (unless (or (null depth) (natnump depth))
    (user-error "The depth is a number of hops, 0 or more, not %S" depth)))

(defun artisan-graph-node-at-point ()
  "Return the key of the node at point, or nil outside notes.
In Org, that is the ID of the nearest heading above point that
has one, else the file's ID; otherwise (and in notes without IDs)
the file name."
  (let ((file (buffer-file-name (buffer-base-buffer))))
    (when (and file (artisan-knowledge-note-file-p file))
      (or (and (derived-mode-p 'org-mode)
               (ignore-errors
                 (save-excursion
                   (save-restriction
                     (widen)
                     (org-entry-get nil "ID" t)))))
          (artisan-graph--graph-file (expand-file-name file))))))

;;;; Reading a node

(defvar artisan-graph--candidates nil
  "Cached completion candidates, as (INDEX GENERATION TABLE ALIST).")

(defun artisan-graph--candidates (index)
  "Return (TABLE . ALIST): node candidates of INDEX and their keys.
TABLE maps a candidate string to its node's key.  Cached until
the graph changes."
  (let ((generation (artisan--graph-generation index)))
    (if (and (eq (nth 0 artisan-graph--candidates) index)
             (eql (nth 1 artisan-graph--candidates) generation))
        (cons (nth 2 artisan-graph--candidates) (nth 3 artisan-graph--candidates))
      (artisan-graph--with-big-gc
        (let* ((alist (artisan--graph-candidates index))
               (table (make-hash-table :test #'equal :size (max 16 (length alist)))))
          (dolist (c alist) (puthash (car c) (cdr c) table))
          (setq artisan-graph--candidates (list index generation table alist))
          (cons table alist))))))

(defun artisan-graph--folder (file)
  "Return the folder of FILE relative to its note root, or \"\"."
  (let ((root (seq-find (lambda (r) (string-prefix-p r file))
                        (artisan-knowledge-root-directories))))
    (if root
        (let ((dir (file-name-directory (substring file (length root)))))
          (or dir ""))
      (abbreviate-file-name (file-name-directory file)))))

(defun artisan-graph--propertize-candidate (candidate)
  "Return a copy of CANDIDATE with its tags and disambiguation in faces."
  (let ((s (copy-sequence candidate)))
    (when (string-match "\\(\\(?: #[^ \t]+\\)+\\)?\\( · .*\\)?\\'" s)
      (when (match-beginning 1)
        (add-face-text-property (match-beginning 1) (match-end 1) 'artisan-graph-tag nil s))
      (when (match-beginning 2)
        (add-face-text-property (match-beginning 2) (match-end 2) 'artisan-graph-location nil s)))
    s))

(defun artisan-graph--annotation (node)
  "Return the annotation of NODE (a plist): its folder, and for headings its note."
  (let ((folder (artisan-graph--folder (plist-get node :file)))
        (where (and (> (plist-get node :level) 0)
                    (string-join (cons (plist-get node :file-title)
                                       (plist-get node :outline))
                                 " › "))))
    (concat (if where (concat "  in " where) "")
            (if (string-empty-p folder) "" (concat "  " folder)))))

(defun artisan-graph--affixation (table)
  "Return an affixation function for candidates mapped to keys by TABLE."
  (lambda (candidates)
    (let ((index (artisan-knowledge-index)))
      (mapcar (lambda (c)
                (let* ((key (gethash c table))
                       (node (and key (artisan--graph-node index key))))
                  (list (artisan-graph--propertize-candidate c) ""
                        (if node
                            (propertize (artisan-graph--annotation node)
                                        'face 'artisan-graph-location)
                          ""))))
              candidates))))

(defun artisan-graph-read-node (prompt &optional initial)
  "Read a node with PROMPT through `completing-read', starting from INITIAL.
Candidates are node titles and aliases followed by their tags, so
any of them can be typed; folders and the notes of headings are
shown beside them.  Return (node . KEY) for a chosen node, or
\(new . TITLE) when the input names none."
  (let* ((index (artisan-graph-index))
         (cands (artisan-graph--candidates index))
         (table (car cands))
         (alist (cdr cands))
         (affix (artisan-graph--affixation table))
         (collection
          (lambda (string pred action)
            (if (eq action 'metadata)
                `(metadata (category . artisan-node)
                           (affixation-function . ,affix)
                           (annotation-function
                            . ,(lambda (c) (nth 2 (car (funcall affix (list c)))))))
              (complete-with-action action alist string pred))))
         ;; New titles have spaces and question marks: in the default
         ;; completion UI those would complete words and show help.
         (minibuffer-local-completion-map
          (let ((map (make-sparse-keymap)))
            (set-keymap-parent map minibuffer-local-completion-map)
            (define-key map " " #'self-insert-command)
            (define-key map "?" #'self-insert-command)
            map))
         (input (completing-read prompt collection nil nil initial
                                 'artisan-graph-node-history))
         (key (or (gethash input table)
                  (artisan-graph--choose-among
                   prompt (artisan-graph--candidates-for-title input alist) affix))))
    (cond (key (cons 'node key))
          ((string-blank-p input) (user-error "No node chosen"))
          (t (cons 'new (string-trim input))))))

(defun artisan-graph--candidates-for-title (input alist)
  "Return the candidates that are INPUT with tags, one per node, from ALIST.
ALIST holds the candidates and their keys.  So typing a title
exactly, without its tags, picks its node rather than creating
another; several nodes of that title are all returned."
  (let ((re (concat "\\`" (regexp-quote (string-trim input))
                    "\\(?: #[^ \t]+\\)*\\(?: · .*\\)?\\'"))
        (case-fold-search t)
        (seen nil)
        (out nil))
    (unless (string-blank-p input)
      (dolist (c alist)
        (when (and (string-match-p re (car c)) (not (member (cdr c) seen)))
          (push (cdr c) seen)
          (push c out))))
    (nreverse out)))

(defun artisan-graph--choose-among (prompt matches affix)
  "Return the key of the node meant: with PROMPT, ask which of MATCHES.
MATCHES are candidates and keys; asking is only needed when there
are several (nil when there are none).  They are shown through
the affixation function AFFIX, with their notes and folders."
  (if (cdr matches)
      (let* ((names (mapcar #'car matches))
             (choice (completing-read
                      (concat (string-remove-suffix ": " prompt)
                              (format " (%d nodes have that title): " (length matches)))
                      (lambda (string pred action)
                        (if (eq action 'metadata)
                            `(metadata (category . artisan-node)
                                       (affixation-function . ,affix)
                                       (display-sort-function . identity))
                          (complete-with-action action names string pred)))
                      nil t)))
        (or (cdr (assoc choice matches))
            (user-error "No node chosen")))
    (cdar matches)))

;;;; Visiting

(defun artisan-graph--goto (line &optional column)
  "Go to 1-based LINE and 0-based COLUMN, widening and revealing it."
  (widen)
  (goto-char (point-min))
  (forward-line (1- (max 1 line)))
  (when column
    (forward-char (min column (- (line-end-position) (point)))))
  (cond ((derived-mode-p 'org-mode) (org-reveal))
        ((and (invisible-p (point)) (fboundp 'outline-show-entry))
         (outline-show-entry))))

(defun artisan-graph--visit (file line &optional column other-window)
  "Visit FILE at LINE and COLUMN; with OTHER-WINDOW in another window."
  (unless (file-exists-p file)
    (user-error "%s no longer exists (M-x artisan-index-update)" file))
  (when (fboundp 'xref-push-marker-stack) (xref-push-marker-stack))
  (funcall (if other-window #'find-file-other-window #'find-file) file)
  (artisan-graph--goto line column))

(defun artisan-graph-visit-node (node &optional other-window)
  "Visit NODE (an ID, a file name or a node plist) at its line.
With OTHER-WINDOW, in another window."
  (let ((plist (if (stringp node) (artisan-graph-node node) node)))
    (unless plist (user-error "No node %s in the link graph" node))
    (artisan-graph--visit (plist-get plist :file) (plist-get plist :line) nil other-window)))

;;;; Creating notes

(defun artisan-graph-slug (title)
  "Return TITLE as a file-name slug: lower case, words joined by underscores."
  (let* ((s (ucs-normalize-NFD-string (downcase (string-trim title))))
         ;; Drop the combining accents NFD split off: é -> e.
         (s (replace-regexp-in-string "[\u0300-\u036f]" "" s))
         (s (replace-regexp-in-string "[^[:alnum:]]+" "_" s))
         (s (replace-regexp-in-string "\\`_+\\|_+\\'" "" s)))
    (if (string-empty-p s) "note" s)))

(defun artisan-graph-file-name-slug (title)
  "Return the file name (without extension) for a note titled TITLE: its slug."
  (artisan-graph-slug title))

(defun artisan-graph-file-name-timestamp-slug (title)
  "Return the file name for a note titled TITLE: a timestamp and its slug.
This is org-roam's default, like 20261120143000-my_title."
  (concat (format-time-string "%Y%m%d%H%M%S") "-" (artisan-graph-slug title)))

(defun artisan-graph-new-id ()
  "Return a fresh random UUID (version 4), as Org IDs are."
  (let ((h (md5 (format "%s%s%s%s%s" (random) (random) (current-time)
                        (emacs-pid) (buffer-name)))))
    (format "%s-%s-4%s-%x%s-%s"
            (substring h 0 8) (substring h 8 12) (substring h 13 16)
            (logior 8 (logand 3 (string-to-number (substring h 16 17) 16)))
            (substring h 17 20) (substring h 20 32))))

(defun artisan-graph--yaml-string (s)
  "Return S as a YAML scalar that reads back as S.
Plain when that is safe (words, spaces and a little punctuation,
not a YAML keyword or number), else double-quoted with escapes."
  (if (and (string-match-p "\\`[[:alpha:]][[:alnum:] _.,()/'-]*\\'" s)
           (not (string-match-p " \\'" s))
           (not (member (downcase s) '("yes" "no" "y" "n" "true" "false"
                                       "on" "off" "null"))))
      s
    (concat "\""
            (mapconcat (lambda (c)
                         (pcase c
                           (?\\ "\\\\")
                           (?\" "\\\"")
                           (?\n "\\n")
                           (?\t "\\t")
                           ((pred (> 32)) (format "\\x%02x" c))
                           (_ (string c))))
                       s "")
            "\"")))

(defun artisan-graph--new-note-directory ()
  "Return the directory for new notes, or signal a `user-error'.
It is `artisan-graph-new-note-directory', else the first note
root; it must be under a note root, so that the note is indexed."
  (let* ((roots (artisan-knowledge-root-directories))
         (dir (or artisan-graph-new-note-directory (car roots))))
    (unless dir
      (user-error "No note roots to create notes in: set `artisan-knowledge-roots'"))
    (setq dir (file-name-as-directory (expand-file-name dir)))
    (unless (seq-some (lambda (root)
                        (or (file-in-directory-p dir root)
                            (file-in-directory-p (file-truename dir) (file-truename root))))
                      roots)
      (user-error "New notes would go to %s, outside the note roots (%s): \
set `artisan-graph-new-note-directory' to a directory under them"
                  (abbreviate-file-name dir)
                  (mapconcat #'abbreviate-file-name roots ", ")))
    dir))

(defun artisan-graph--new-note-format (dir)
  "Return the format of a new note in DIR: `org' or `markdown'.
That is `artisan-graph-new-note-format', with `auto' read as the
format most notes in DIR (and below) have, else most notes under
the roots, Org on a tie."
  (if (memq artisan-graph-new-note-format '(org markdown))
      artisan-graph-new-note-format
    (let* ((index (artisan-graph-index))
           (count (lambda (where)
                    (let ((c (artisan--graph-note-formats index where)))
                      (cons (plist-get c :org) (plist-get c :markdown)))))
           (here (funcall count (expand-file-name dir)))
           (counts (if (> (+ (car here) (cdr here)) 0) here (funcall count nil))))
      (if (> (cdr counts) (car counts)) 'markdown 'org))))

(defun artisan-graph-create-note (title &optional visit)
  "Create a note titled TITLE with a fresh ID, index it and return its plist.
It goes to `artisan-graph-new-note-directory' (by default the
first note root), named by `artisan-graph-new-note-file-name-function',
as Org or Markdown according to `artisan-graph-new-note-format'
\(by default, like most notes there).
With VISIT, visit it with point after the title."
  (cl-check-type title string)
  (when (string-blank-p title) (user-error "A note needs a title"))
  (let* ((dir (artisan-graph--new-note-directory))
         (markdown (eq (artisan-graph--new-note-format dir) 'markdown))
         (ext (if markdown ".md" ".org"))
         (base (funcall artisan-graph-new-note-file-name-function title))
         (file (expand-file-name (concat base ext) dir))
         (n 1)
         (id (artisan-graph-new-id))
         (title (replace-regexp-in-string "[\n\r]+" " " (string-trim title))))
    (unless (artisan-knowledge-note-file-p file)
      (user-error "Notes ending in %s are not indexed: add %s to `artisan-knowledge-extensions'"
                  ext (substring ext 1)))
    (while (file-exists-p file)
      (setq n (1+ n)
            file (expand-file-name (format "%s-%d%s" base n ext) dir)))
    (make-directory dir t)
    (let ((coding-system-for-write 'utf-8-unix))
      (write-region (if markdown
                        (format "---\nid: %s\ntitle: %s\n---\n\n"
                                id (artisan-graph--yaml-string title))
                      (format ":PROPERTIES:\n:ID:       %s\n:END:\n#+title: %s\n\n" id title))
                    nil file nil 'silent))
    (artisan-graph-index)
    (artisan-knowledge-reindex-file file t)
    (when visit
      (find-file file)
      (goto-char (point-max)))
    (message "Created %s" (abbreviate-file-name file))
    (artisan-graph-node id)))

;;;; Commands: find and link

;;;###autoload
(defun artisan-find-node (&optional other-window)
  "Find a note or heading by title, alias or tag, and visit it.
Candidates are the nodes of the link graph (note files, and Org
headings with an ID), shown with their tags, folders and, for
headings, their notes; any `completing-read' front end works.
When the input matches no node, create a note with that title
and a fresh ID in the first note root (see
`artisan-graph-new-note-format'), visit it and index it.  With
OTHER-WINDOW (a prefix argument), visit in another window."
  (interactive "P")
  (pcase (artisan-graph-read-node "Find node: ")
    (`(node . ,key) (artisan-graph-visit-node key other-window))
    (`(new . ,title)
     (when other-window (select-window (split-window-sensibly)))
     (artisan-graph-create-note title t))))

(defun artisan-graph--label (s)
  "Return S usable as a link label: no brackets or bars."
  (replace-regexp-in-string
   "|" "-" (replace-regexp-in-string "\\]" ")" (replace-regexp-in-string "\\[" "(" s))))

(defun artisan-graph--markdown-buffer-p ()
  "Return non-nil if the current buffer is a Markdown buffer."
  (or (derived-mode-p 'markdown-mode 'gfm-mode)
      (and buffer-file-name
           (member (downcase (or (file-name-extension buffer-file-name) ""))
                   '("md" "markdown" "mdown" "mkd" "mdx")))))

(defun artisan-graph--markdown-link-style ()
  "Return the link style `artisan-insert-link' uses in Markdown buffers.
That is `artisan-graph-markdown-link-style', with `auto' read as
`dendron' when the collection writes [[label|note]] (see
`artisan-graph-label-first-p'), else `wikilink'."
  (if (eq artisan-graph-markdown-link-style 'auto)
      (if (artisan-graph-label-first-p) 'dendron 'wikilink)
    artisan-graph-markdown-link-style))

(defun artisan-graph--anchor (heading style)
  "Return the #anchor naming HEADING in a wikilink of STYLE.
Dendron's style uses the heading's slug (\"Plan [draft]\" ->
\"plan-draft\"); the others its text, unless the text holds
characters that would end or split the link, then the slug too.
Links resolve by either."
  (if (or (eq style 'dendron) (string-match-p "[][|#^\n]" heading))
      (artisan--graph-anchor heading)
    heading))

(defun artisan-graph-link-string (node &optional label)
  "Return the markup of a link to NODE (a plist) for the current buffer.
LABEL is the text shown (default: the node's title).  Org buffers
\(and others) get [[id:ID][Label]], or a relative file: link for
notes without an ID and for notes Org cannot follow an id: link
to (Markdown, text); Markdown buffers get a link in the style
`artisan-graph-markdown-link-style' says, a heading as
[[note#Heading]] (or [[note#heading-slug]], see `artisan-graph--anchor')."
  (let* ((label (artisan-graph--label (or label (plist-get node :title))))
         (file (plist-get node :file))
         (here (file-name-directory (or buffer-file-name default-directory)))
         (stem (file-name-sans-extension (file-name-nondirectory file)))
         (markdown (artisan-graph--markdown-buffer-p))
         (style (and markdown (artisan-graph--markdown-link-style)))
         (name (if (> (plist-get node :level) 0)
                   (concat stem "#" (artisan-graph--anchor (plist-get node :title) style))
                 stem)))
    (if markdown
        (pcase style
          ('markdown (format "[%s](%s)" label
                             (replace-regexp-in-string " " "%20" (file-relative-name file here))))
          ('dendron (if (string= label name) (format "[[%s]]" name)
                      (format "[[%s|%s]]" label name)))
          (_ (if (string= label name) (format "[[%s]]" name)
               (format "[[%s|%s]]" name label))))
      (let ((target (if (and (plist-get node :id)
                             (member (downcase (or (file-name-extension file) ""))
                                     '("org" "org_archive")))
                        (concat "id:" (plist-get node :id))
                      (concat "file:" (file-relative-name file here)))))
        (if (fboundp 'org-link-make-string)
            (org-link-make-string target label)
          (format "[[%s][%s]]" target label))))))

;;;###autoload
(defun artisan-insert-link ()
  "Insert a link to a node chosen by title, alias or tag.
In Org buffers the link is [[id:ID][Title]]; in Markdown buffers
a wikilink (see `artisan-graph-markdown-link-style').  With an
active region, its text is the label and the initial input.
When the input matches no node, a note with that title is
created (and indexed) first, as by `artisan-find-node'."
  (interactive)
  (barf-if-buffer-read-only)
  (let* ((region (and (use-region-p)
                      (cons (region-beginning) (region-end))))
         (why (artisan-graph-edit-refusal (if region (car region) (point))
                                          (if region (cdr region) (point))
                                          t))
         (text (if why
                   (user-error "Artisan will not write a link here: %s" why)
                 (and region (buffer-substring-no-properties (car region) (cdr region)))))
         (choice (artisan-graph-read-node "Insert link to: " text))
         (node (pcase choice
                 (`(node . ,key) (artisan-graph-node key))
                 (`(new . ,title) (save-window-excursion
                                    (artisan-graph-create-note title))))))
    (unless node (user-error "The node disappeared from the graph"))
    (goto-char (artisan-graph-edit-note (if region (car region) (point))
                                        (if region (cdr region) (point))
                                        (artisan-graph-link-string node text)
                                        t))))

;;;; List buffers: entries with RET, n and p

(defvar-local artisan-graph--refresh-function nil
  "Function that refills the current graph buffer.")

(defvar artisan-graph-list-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "RET") #'artisan-graph-list-visit)
    (define-key map "o" #'artisan-graph-list-show)
    (define-key map "n" #'artisan-graph-list-next)
    (define-key map "p" #'artisan-graph-list-previous)
    (define-key map (kbd "TAB") #'artisan-graph-list-next)
    (define-key map (kbd "<backtab>") #'artisan-graph-list-previous)
    map)
  "Keymap of `artisan-graph-list-mode' and the modes derived from it.")

(define-derived-mode artisan-graph-list-mode special-mode "Artisan-Graph"
  "Base mode of the link graph's list buffers.
\\[artisan-graph-list-visit] visits the entry at point,
\\[artisan-graph-list-show] shows it in another window,
\\[artisan-graph-list-next] and \\[artisan-graph-list-previous] move
between entries, \\[revert-buffer] refreshes, \\[quit-window] quits.
\\{artisan-graph-list-mode-map}"
  (setq-local revert-buffer-function #'artisan-graph--revert)
  ;; Wrap long contexts at word boundaries, also in narrow side windows
  ;; (which `truncate-partial-width-windows' would otherwise truncate).
  (setq-local truncate-lines nil)
  (setq-local truncate-partial-width-windows nil)
  (setq-local word-wrap t))

(defun artisan-graph--revert (&rest _)
  "Refill the buffer, keeping point near where it was."
  (when artisan-graph--refresh-function
    (let ((line (line-number-at-pos)))
      (funcall artisan-graph--refresh-function)
      (goto-char (point-min))
      (forward-line (1- line)))))

(defun artisan-graph--insert-entry (entry heading &optional body)
  "Insert an entry for ENTRY (a plist with :file :line :column).
HEADING is its first line, a button that visits it; BODY, when
non-nil, follows indented."
  (let ((start (point)))
    (insert-text-button heading
                        'action (lambda (button)
                                  (goto-char (button-start button))
                                  (artisan-graph-list-visit))
                        'follow-link t
                        'help-echo "RET: visit; o: show in another window")
    (insert "\n")
    (when (and body (not (string-empty-p body)))
      (insert (propertize body 'line-prefix "    " 'wrap-prefix "    ") "\n"))
    (put-text-property start (point) 'artisan-graph-entry entry)
    (put-text-property start (1+ start) 'artisan-graph-entry-start t)))

(defun artisan-graph--entry-at-point ()
  "Return the entry plist at point, or signal a `user-error'."
  (or (get-text-property (point) 'artisan-graph-entry)
      (and (> (point) (point-min))
           (get-text-property (1- (point)) 'artisan-graph-entry))
      (user-error "No entry here")))

(defun artisan-graph--main-window ()
  "Return a window to show notes in, not a side or dedicated window."
  (or (seq-find (lambda (w) (and (not (window-parameter w 'window-side))
                                 (not (window-dedicated-p w))
                                 (not (eq w (selected-window)))))
                (sort (window-list nil 'nomini)
                      (lambda (a b) (> (window-use-time a) (window-use-time b)))))
      (let ((side (window-parameter (selected-window) 'window-side)))
        (if side (window-main-window) (split-window-sensibly)))
      (selected-window)))

(defun artisan-graph-list-visit (&optional stay)
  "Visit the entry at point in the main window; with STAY, keep point here."
  (interactive)
  (let* ((entry (artisan-graph--entry-at-point))
         (from (selected-window))
         (window (artisan-graph--main-window)))
    (select-window window)
    (if (plist-get entry :key)
        (artisan-graph-visit-node (plist-get entry :key))
      (artisan-graph--visit (plist-get entry :file) (plist-get entry :line)
                            (plist-get entry :column)))
    (when stay (select-window from))))

(defun artisan-graph-list-show ()
  "Show the entry at point in another window, keeping point here."
  (interactive)
  (artisan-graph-list-visit t))

(defun artisan-graph-list-next (&optional n)
  "Move to the start of the Nth next entry."
  (interactive "p")
  (let ((n (or n 1)))
    (dotimes (_ (abs n))
      (let ((pos (if (> n 0)
                     (next-single-property-change (if (get-text-property (point) 'artisan-graph-entry-start)
                                                      (1+ (point)) (point))
                                                  'artisan-graph-entry-start)
                   (previous-single-property-change (point) 'artisan-graph-entry-start))))
        (while (and pos (not (get-text-property pos 'artisan-graph-entry-start)))
          (setq pos (if (> n 0)
                        (next-single-property-change pos 'artisan-graph-entry-start)
                      (previous-single-property-change pos 'artisan-graph-entry-start))))
        (if pos (goto-char pos) (message "No more entries"))))))

(defun artisan-graph-list-previous (&optional n)
  "Move to the start of the Nth previous entry."
  (interactive "p")
  (artisan-graph-list-next (- (or n 1))))

(defun artisan-graph--name-like-p (side)
  "Return non-nil if the wikilink SIDE looks like a note's name, not prose.
That is a side written with dendron://, holding a /, or dotted
without spaces (dendron.topic.links, note.md), as the resolver
reads it."
  (or (string-prefix-p "dendron://" side)
      (string-match-p "/" side)
      (and (string-match-p "\\." side) (not (string-match-p "[[:space:]]" side)))))

(defun artisan-graph--wiki-label (a b label-first)
  "Return the side of the wikilink [[A|B]] that is its label.
The side that is prose when the other looks like a note's
name; else A with LABEL-FIRST (Dendron), B without (Obsidian)."
  (let ((a-name (artisan-graph--name-like-p a))
        (b-name (artisan-graph--name-like-p b)))
    (cond ((and a-name (not b-name)) b)
          ((and b-name (not a-name)) a)
          (label-first a)
          (t b))))

(defun artisan-graph--pretty-context (context &optional label-first)
  "Return CONTEXT with link markup shown as the links' labels, in a face.
A wikilink [[a|b]] shows its prose side when the other names a
note (dendron.topic.x); when both or neither do, with LABEL-FIRST
a (Dendron), else b (Obsidian)."
  (let ((s context) (out "") (start 0))
    (while (string-match
            (concat "\\[\\[\\([^]\n]+\\)\\]\\[\\([^]\n]+\\)\\]\\]" ; [[target][label]]
                    "\\|\\[\\[\\([^]|\n]+\\)|\\([^]\n]+\\)\\]\\]"   ; [[a|b]]
                    "\\|\\[\\[\\([^]\n]+\\)\\]\\]"                  ; [[target]]
                    "\\|\\[\\([^]\n]+\\)\\]([^)\n]+)")              ; [label](target)
            s start)
      (let ((shown (or (match-string 2 s)
                       (and (match-string 3 s)
                            (artisan-graph--wiki-label (match-string 3 s) (match-string 4 s)
                                                       label-first))
                       ;; [[roam:Title]] shows the title; [[|note]] the note.
                       (and (match-string 5 s)
                            (replace-regexp-in-string "\\`\\(?:roam:\\||\\)" ""
                                                      (match-string 5 s)))
                       (match-string 6 s))))
        (setq out (concat out (substring s start (match-beginning 0))
                          (propertize shown 'face 'artisan-graph-link))
              start (match-end 0))))
    (concat out (substring s start))))

(defun artisan-graph--location (file line)
  "Return FILE (relative to its root) and LINE as a string."
  (let ((root (seq-find (lambda (r) (string-prefix-p r file))
                        (artisan-knowledge-root-directories))))
    (format "%s:%d" (if root (substring file (length root)) (abbreviate-file-name file))
            line)))

;;;; Backlinks

(defconst artisan-backlinks-buffer-name "*artisan-backlinks*"
  "Name of the backlinks buffer.")

(defvar-local artisan-backlinks--key nil
  "Key of the node whose backlinks the buffer shows.")

(defvar artisan-backlinks-buffer-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map artisan-graph-list-mode-map)
    (define-key map "l" #'artisan-backlinks-link-mention)
    (define-key map "q" #'artisan-backlinks-quit)
    map)
  "Keymap of `artisan-backlinks-buffer-mode'.")

(define-derived-mode artisan-backlinks-buffer-mode artisan-graph-list-mode "Artisan-Backlinks"
  "Major mode of the backlinks side window.
It lists the links pointing at a node, each with the paragraph
around it, then the unlinked mentions of the node: notes whose
text mentions its title or an alias without linking it.
\\[artisan-graph-list-visit] visits an entry,
\\[artisan-graph-list-show] shows it, \\[artisan-graph-list-next]
and \\[artisan-graph-list-previous] move between entries,
\\[artisan-backlinks-link-mention] turns the mention at point into
a link, \\[revert-buffer] refreshes and \\[artisan-backlinks-quit] quits.
\\{artisan-backlinks-buffer-mode-map}"
  (setq-local artisan-graph--refresh-function
              (lambda () (artisan-backlinks--fill artisan-backlinks--key))))

(defun artisan-backlinks--query (terms)
  "Return a search query matching any of TERMS as phrases."
  (mapconcat (lambda (term)
               (concat "\"" (replace-regexp-in-string "\"" "\\\\\"" term) "\""))
             terms " OR "))

(defun artisan-backlinks--term-regexp (term)
  "Return a regexp matching TERM with any punctuation or spacing between words."
  (let ((words (split-string term "[^[:alnum:]]+" t)))
    (and words
         (concat "\\b" (mapconcat #'regexp-quote words "[^[:alnum:]\n]+") "\\b"))))

(defun artisan-graph-unlinked-mentions (node &optional backlinks)
  "Return the unlinked mentions of NODE (a plist), found with the full-text index.
They are places in other notes whose text mentions the node's
title or an alias without linking to it: plists (:file :line
:column :title :snippet :term).  Notes that already link to it
\(per BACKLINKS, by default its backlinks) are left out, as is
the node's own note, and so are mentions where a link could not
be written: in code, comments, front matter and headings (see
`artisan-graph--line-kinds')."
  (let* ((terms (seq-filter (lambda (s) (>= (length (string-trim s)) 3))
                            (cons (plist-get node :title) (plist-get node :aliases))))
         (backlinks (or backlinks (artisan-backlinks (plist-get node :key))))
         (linked (cons (plist-get node :file)
                       (mapcar (lambda (b) (plist-get b :file)) backlinks)))
         (notes (make-hash-table :test #'equal))
         (out nil))
    (when terms
      (dolist (hit (condition-case nil
                       (artisan-knowledge-search (artisan-backlinks--query terms)
                                                 (* 2 artisan-backlinks-unlinked-limit) 3)
                     (artisan-query-error nil)))
        (let* ((file (plist-get hit :file))
               (note (and (not (member file linked))
                          (let ((n (gethash file notes 'unknown)))
                            (if (eq n 'unknown)
                                (puthash file (ignore-errors (artisan-graph--note-lines file))
                                         notes)
                              n))))
               (place (and note (artisan-graph--mention-place note (plist-get hit :line) terms))))
          (when (and place
                     (not (seq-find (lambda (m) (and (equal (plist-get m :file) file)
                                                     (eql (plist-get m :line) (nth 0 place))))
                                    out)))
            (push (list :file file :line (nth 0 place) :column (nth 1 place)
                        :title (plist-get hit :title) :snippet (nth 3 place)
                        :term (nth 2 place))
                  out)))))
    (seq-take (nreverse out) artisan-backlinks-unlinked-limit)))

(defun artisan-graph--note-lines (file)
  "Return (KINDS . LINES) for the note FILE on disk.
KINDS is what each line is (see `artisan-graph--line-kinds'),
LINES a vector of the lines' text."
  (let ((text (with-temp-buffer
                (insert-file-contents file)
                (buffer-string))))
    (cons (artisan--graph-line-kinds text (or (file-name-extension file) ""))
          (vconcat (split-string text "\n")))))

(defun artisan-graph--mention-place (note line terms)
  "Return where NOTE mentions a term, from LINE to the section's end.
NOTE is (KINDS . LINES) from `artisan-graph--note-lines', the
terms are TERMS.  Only prose lines count, and there only text
outside links and code.  Return (LINE COLUMN TERM TEXT) for the
first such mention, or nil."
  (let ((kinds (car note)) (lines (cdr note)) (n line) (found nil)
        (case-fold-search t))
    (while (and (not found) (natnump n) (<= 1 n (min (length kinds) (length lines)))
                (or (= n line) (not (eq (aref kinds (1- n)) ?h))))
      (when (eq (aref kinds (1- n)) ?p)
        (let* ((text (aref lines (1- n)))
               (term (artisan-backlinks--mention-term text terms)))
          (when term
            (setq found (list n (car (artisan-graph--free-match
                                      (artisan-backlinks--term-regexp term) text))
                              term text)))))
      (setq n (1+ n)))
    found))

(defconst artisan-graph--protected-regexps
  '("\\[\\[[^]\n]*\\]\\(?:\\[[^]\n]*\\]\\)?\\]"        ; [[a][b]], [[a]], [[a|b]]
    "!?\\[[^]\n]*\\]([^)\n]*)"                         ; [text](url), [x]({{< relref "y" >}})
    "!?\\[[^]\n]*\\]\\[[^]\n]*\\]"                      ; [text][ref], [text][]
    "\\[\\(?:\\^\\|fn:\\)[^]\n]*\\]"                        ; [^1], [fn:1] footnotes
    "{{[<%][^\n]*?[>%]}}"                              ; Hugo shortcodes {{< ref "x" >}}
    "{{{[^\n]*?}}}"                                     ; Org macros {{{name(args)}}}
    "<a\\b[^>\n]*>[^\n]*?</a>"                          ; <a href="...">label</a>
    "`[^`\n]+`"                                          ; `code`
    "\\(?:^\\|[[:space:]({'\"-]\\)\\([=~]\\)[^[:space:]]\\(?:[^\n]*?[^[:space:]]\\)?\\1" ; =verbatim= ~code~
    "src_[[:alnum:]-]+\\(?:\\[[^]\n]*\\]\\)?{[^}\n]*}"      ; src_lang{code}
    "<[^>\n]*>"                                          ; <tags>, <!-- -->, <url>
    "\\_<[[:alpha:]][[:alnum:]+.-]*:[^][:space:]<>\"()]+"   ; scheme:target
    ;; File names and paths written in prose: a.org, notes/x.md, phone_based
    "[[:alnum:]_~.-]*/[[:alnum:]_~./-]*[[:alnum:]]"
    "[[:alnum:]_~-]+\\(?:\\.[[:alnum:]_~-]+\\)*\\.[[:alpha:]][[:alnum:]]\\{0,7\\}\\_>"
    "[[:alnum:]]+\\(?:_[[:alnum:]]+\\)+")
  "Regexps of text in a line that holds links, code or names.
A mention there must not become a link, and artisan never writes a
link into it: links in every syntax (Org, Markdown inline and
reference, wikilinks, HTML anchors, Hugo shortcodes), Org macros,
code and verbatim, URLs, and file names or identifiers written in
prose.")

(defun artisan-graph--protected-ranges (line)
  "Return the (START . END) ranges of LINE that hold links, code or names.
See `artisan-graph--protected-regexps'."
  (let (ranges)
    (dolist (re artisan-graph--protected-regexps ranges)
      (let ((start 0))
        (while (and (< start (length line)) (string-match re line start))
          (push (cons (match-beginning 0) (match-end 0)) ranges)
          (setq start (max (1+ (match-beginning 0)) (match-end 0))))))))

(defun artisan-graph--free-match (regexp line)
  "Return (START . END) of the first match of REGEXP in LINE, or nil.
Matches inside links and code do not count."
  (let ((protected (artisan-graph--protected-ranges line))
        (start 0) found)
    (while (and (not found) (string-match regexp line start))
      (let ((b (match-beginning 0)) (e (match-end 0)))
        (if (seq-some (lambda (r) (and (< b (cdr r)) (> e (car r)))) protected)
            (setq start (1+ b))
          (setq found (cons b e)))))
    found))

(defun artisan-backlinks--mention-term (snippet terms)
  "Return the longest term SNIPPET (a search hit's line) mentions, among TERMS.
Mentions inside links and code do not count."
  (let ((case-fold-search t))
    (seq-find (lambda (term)
                (let ((re (artisan-backlinks--term-regexp term)))
                  (and re (artisan-graph--free-match re snippet))))
              (sort (copy-sequence terms) (lambda (a b) (> (length a) (length b)))))))

(defun artisan-graph--line-kinds (file &optional buffer)
  "Return what each line of the note FILE is to the link parser, as a string.
Character N tells about line N+1: ?p prose, where a link is read
as one; ?h a heading line; ?x code, a comment, front matter, a
drawer or a keyword line, where no link is read.  The parser that
indexes the notes decides, so a mention is turned into a link
only where the graph will see it.  The text is BUFFER's (all of
it) when given, else FILE's on disk."
  (let ((text (if buffer
                  (with-current-buffer buffer
                    (save-restriction
                      (widen)
                      (buffer-substring-no-properties (point-min) (point-max))))
                (with-temp-buffer
                  (insert-file-contents file)
                  (buffer-string)))))
    (artisan--graph-line-kinds text (or (file-name-extension file) ""))))

(defun artisan-graph--prose-line-p (kinds line)
  "Return non-nil if KINDS, a line kinds string, says LINE (1-based) is prose.
See `artisan-graph--line-kinds'."
  (and (stringp kinds) (natnump line) (<= 1 line (length kinds))
       (eq (aref kinds (1- line)) ?p)))

;;;; Editing notes: the one door through which artisan changes a note

(defun artisan-graph-edit-refusal (beg end &optional allow-heading)
  "Return why artisan must not replace the text from BEG to END, or nil.
The text is the current buffer's.  artisan writes a link only on
one line of prose, as the indexer parses the note: never in front
matter (YAML, TOML, JSON), code, comments, drawers, keyword or
planning lines, nor inside a link, code span, shortcode, macro or
file name (`artisan-graph--protected-regexps'), nor in a
read-only buffer or text.  Headings are refused too, unless
ALLOW-HEADING (a link there changes what the heading says).  BEG
equal to END is an insertion at that place."
  (save-excursion
    (save-restriction
      (widen)
      (let* ((bol (progn (goto-char beg) (line-beginning-position)))
             (eol (line-end-position))
             (line (line-number-at-pos beg))
             (kind (let ((kinds (artisan-graph--line-kinds
                                 (or buffer-file-name (buffer-name)) (current-buffer))))
                     (and (<= line (length kinds)) (aref kinds (1- line))))))
        (cond
         ((or buffer-read-only (text-property-not-all beg (max end (min (1+ beg) eol))
                                                      'read-only nil))
          "the text is read-only")
         ((> end eol) "a link must stay on one line")
         ((eq kind ?x)
          (format "line %d is not prose (front matter, code, a comment, a drawer or a keyword line)"
                  line))
         ((and (eq kind ?h) (not allow-heading))
          (format "line %d is a heading (a link would change it)" line))
         ((let ((b (- beg bol)) (e (- end bol)))
            (seq-some (lambda (r) (if (= b e)
                                      (and (< (car r) b) (< b (cdr r)))
                                    (and (< b (cdr r)) (> e (car r)))))
                      (artisan-graph--protected-ranges
                       (buffer-substring-no-properties bol eol))))
          "it is inside a link, code, a shortcode, a macro or a file name"))))))

(defun artisan-graph-edit-note (beg end text &optional allow-heading)
  "Replace the current buffer's text from BEG to END with TEXT.
Every change artisan makes to a note goes through here: it signals
a `user-error' saying why when `artisan-graph-edit-refusal' refuses
the place (see there; ALLOW-HEADING as there).  Return the position
after TEXT."
  (let ((why (artisan-graph-edit-refusal beg end allow-heading)))
    (when why
      (user-error "Artisan will not write a link here: %s" why))
    (save-excursion
      (goto-char beg)
      (delete-region beg end)
      (insert text)
      (point))))

(defun artisan-backlinks--fill (key)
  "Fill the current buffer with the backlinks and mentions of the node KEY."
  (let* ((inhibit-read-only t)
         (index (artisan-graph-index))
         (node (artisan--graph-node index key))
         (backlinks (artisan--graph-backlinks index key))
         (mentions (and node artisan-backlinks-unlinked-mentions
                        (artisan-graph-unlinked-mentions node backlinks)))
         (label-first (plist-get (artisan--graph-stats index) :label-first)))
    (erase-buffer)
    (setq artisan-backlinks--key key)
    (if (null node)
        (insert (format "No node %s in the link graph.\n" key)
                "Save the note (with `artisan-knowledge-mode' on) or M-x artisan-index-update.\n")
      (insert (propertize (plist-get node :title) 'face 'artisan-graph-title)
              (propertize (format "  %s\n" (artisan-graph--location (plist-get node :file)
                                                                    (plist-get node :line)))
                          'face 'artisan-graph-location))
      (insert (propertize (format "\nBacklinks (%d)\n" (length backlinks))
                          'face 'artisan-graph-heading))
      (if (null backlinks)
          (insert "  none\n")
        (dolist (b backlinks)
          (insert "\n")
          (artisan-graph--insert-entry
           (list :file (plist-get b :file) :line (plist-get b :line)
                 :column (plist-get b :column) :kind 'backlink)
           (concat (propertize (string-join (cons (plist-get b :file-title)
                                                  (plist-get b :outline))
                                            " › ")
                               'face 'artisan-graph-title)
                   "  "
                   (propertize (artisan-graph--location (plist-get b :file) (plist-get b :line))
                               'face 'artisan-graph-location))
           (artisan-graph--pretty-context (plist-get b :context) label-first))))
      (when artisan-backlinks-unlinked-mentions
        (insert (propertize (format "\nUnlinked mentions (%d)" (length mentions))
                            'face 'artisan-graph-heading)
                (if mentions
                    (propertize "  l on one links it" 'face 'shadow)
                  "")
                "\n")
        (if (null mentions)
            (insert "  none\n")
          (dolist (m mentions)
            (insert "\n")
            (artisan-graph--insert-entry
             (list :file (plist-get m :file) :line (plist-get m :line)
                   :column (plist-get m :column) :kind 'mention :term (plist-get m :term)
                   :target key)
             (concat (propertize (plist-get m :title) 'face 'artisan-graph-title)
                     "  "
                     (propertize (artisan-graph--location (plist-get m :file) (plist-get m :line))
                                 'face 'artisan-graph-location))
             (artisan-graph--pretty-context (string-trim (plist-get m :snippet))
                                            label-first))))))
    (goto-char (point-min))))

(defun artisan-backlinks--show (key)
  "Show the backlinks of KEY in the side window, refilling it."
  (let ((buffer (get-buffer-create artisan-backlinks-buffer-name)))
    (with-current-buffer buffer
      (unless (derived-mode-p 'artisan-backlinks-buffer-mode)
        (artisan-backlinks-buffer-mode))
      (artisan-backlinks--fill key))
    (let ((window (display-buffer-in-side-window
                   buffer `((side . ,artisan-backlinks-window-side)
                            (slot . 0)
                            (window-width . ,(artisan-backlinks--width (selected-frame)))
                            (window-height . 0.3)
                            (preserve-size . (t . nil))))))
      (when (and window (not (window-parameter window 'artisan-backlinks-frame-width)))
        (artisan-backlinks--fit window)))
    (add-hook 'window-size-change-functions #'artisan-backlinks--frame-resized)
    buffer))

(defun artisan-backlinks--width (frame)
  "Return the columns the backlinks window should have in FRAME.
See `artisan-backlinks-window-width' and
`artisan-backlinks-window-min-width'."
  (let* ((columns (frame-width frame))
         (wanted (if (floatp artisan-backlinks-window-width)
                     (round (* artisan-backlinks-window-width columns))
                   artisan-backlinks-window-width))
         (least artisan-backlinks-window-min-width))
    (max 10 (min (max wanted least) (- columns least)))))

(defun artisan-backlinks--fit (window)
  "Give the backlinks side WINDOW the width its frame calls for.
Only left and right side windows are fitted; the frame's width
is remembered, so a later resize of the frame fits it again but
a width the user chose stays while the frame keeps its size."
  (when (and (window-live-p window)
             (memq (window-parameter window 'window-side) '(left right)))
    (let* ((frame (window-frame window))
           (delta (- (artisan-backlinks--width frame) (window-total-width window))))
      (set-window-parameter window 'artisan-backlinks-frame-width (frame-width frame))
      (unless (zerop delta)
        (ignore-errors
          (window-preserve-size window t nil)
          (window-resize window delta t t)
          (window-preserve-size window t t))))))

(defun artisan-backlinks--frame-resized (frame)
  "Fit the backlinks window of FRAME to the frame's new width.
Called from `window-size-change-functions'; removes itself when
no backlinks window is left."
  (let ((buffer (get-buffer artisan-backlinks-buffer-name)))
    (if (not (and buffer (get-buffer-window buffer t)))
        (remove-hook 'window-size-change-functions #'artisan-backlinks--frame-resized)
      (let ((window (get-buffer-window buffer frame)))
        (when (and window
                   (not (eql (window-parameter window 'artisan-backlinks-frame-width)
                             (frame-width frame))))
          (artisan-backlinks--fit window))))))

(defun artisan-backlinks-quit ()
  "Quit the backlinks window, and stop `artisan-backlinks-mode' following point."
  (interactive)
  (when (bound-and-true-p artisan-backlinks-mode)
    (artisan-backlinks-mode -1))
  (quit-window))

(defun artisan-graph-link-mention (mention target)
  "Turn MENTION into a link to the node TARGET (a key).
MENTION is a plist from `artisan-graph-unlinked-mentions'; the
mentioned text becomes the label.  The note is saved and
reindexed when it had no other unsaved changes."
  (let* ((node (or (artisan-graph-node target)
                   (user-error "No node %s in the link graph" target)))
         (file (plist-get mention :file))
         (buffer (find-file-noselect file))
         (regexp (artisan-backlinks--term-regexp (plist-get mention :term))))
    (with-current-buffer buffer
      (let ((modified (buffer-modified-p)))
        (save-excursion
          (save-restriction
            (widen)
            (goto-char (point-min))
            (forward-line (1- (plist-get mention :line)))
            (let ((case-fold-search t) (place nil)
                  (kinds (artisan-graph--line-kinds file (current-buffer))))
              ;; The mention's line or the next, in prose (not code,
              ;; comments or headings), outside links and code spans.
              (dotimes (_ 2)
                (unless place
                  (let ((m (and regexp
                                (artisan-graph--prose-line-p kinds (line-number-at-pos))
                                (artisan-graph--free-match
                                 regexp (buffer-substring-no-properties
                                         (line-beginning-position) (line-end-position))))))
                    (if m
                        (setq place (cons (+ (line-beginning-position) (car m))
                                          (+ (line-beginning-position) (cdr m))))
                      (forward-line 1)))))
              (unless place
                (user-error "The mention is no longer at %s:%d outside links, code and headings; refresh with g"
                            (file-name-nondirectory file) (plist-get mention :line)))
              (artisan-graph-edit-note
               (car place) (cdr place)
               (artisan-graph-link-string
                node (buffer-substring-no-properties (car place) (cdr place)))))))
        (unless modified
          (save-buffer)
          (artisan-knowledge-reindex-file file t))
        buffer))))

(defun artisan-backlinks-link-mention ()
  "Turn the unlinked mention at point into a link to the node shown."
  (interactive)
  (let ((entry (artisan-graph--entry-at-point)))
    (unless (eq (plist-get entry :kind) 'mention)
      (user-error "Not on an unlinked mention"))
    (let ((buffer (artisan-graph-link-mention entry (plist-get entry :target))))
      (artisan-graph--revert)
      (message "Linked in %s%s" (buffer-name buffer)
               (if (buffer-modified-p buffer) " (not saved: it had other changes)" "")))))

(defvar artisan-backlinks--timer nil
  "Idle timer of `artisan-backlinks-mode'.")

(defun artisan-backlinks--follow ()
  "Show the backlinks of the node at point, if it changed."
  (setq artisan-backlinks--timer nil)
  (let ((buffer (get-buffer artisan-backlinks-buffer-name)))
    (when (and artisan-backlinks-mode
               (not (minibufferp))
               (not (eq (current-buffer) buffer)))
      (let ((key (ignore-errors (artisan-graph-node-at-point))))
        (when (and key
                   (not (and buffer (get-buffer-window buffer)
                             (equal key (buffer-local-value 'artisan-backlinks--key buffer)))))
          (condition-case err
              (artisan-backlinks--show key)
            (error (message "artisan-backlinks: %s" (error-message-string err)))))))))

(defun artisan-backlinks--schedule ()
  "Follow point in a moment, once Emacs is idle."
  (unless artisan-backlinks--timer
    (setq artisan-backlinks--timer
          (run-with-idle-timer artisan-backlinks-follow-delay nil
                               #'artisan-backlinks--follow))))

;;;###autoload
(define-minor-mode artisan-backlinks-mode
  "Keep the backlinks window following point.
While on, the side window of \\[artisan-backlinks] shows the
backlinks and unlinked mentions of the node at point (the Org
heading with an ID around point, else the note), updated when
point moves to another node.  Quitting the window turns it off."
  :global t
  :group 'artisan-graph
  (when artisan-backlinks--timer
    (cancel-timer artisan-backlinks--timer)
    (setq artisan-backlinks--timer nil))
  (if artisan-backlinks-mode
      (progn
        (add-hook 'post-command-hook #'artisan-backlinks--schedule)
        (artisan-backlinks--follow))
    (remove-hook 'post-command-hook #'artisan-backlinks--schedule)))

;;;; Report

(defun artisan-graph--node-line (node)
  "Return the one-line description of NODE (a plist) for lists."
  (concat (propertize (plist-get node :title) 'face 'artisan-graph-title)
          (if (> (plist-get node :level) 0)
              (propertize (concat "  in " (file-name-nondirectory (plist-get node :file)))
                          'face 'shadow)
            "")
          "  "
          (propertize (artisan-graph--location (plist-get node :file) (plist-get node :line))
                      'face 'artisan-graph-location)))

(defun artisan-graph-report--fill ()
  "Fill the current buffer with the graph report."
  (let* ((inhibit-read-only t)
         (index (artisan-graph-index))
         (stats (artisan--graph-stats index))
         (report (artisan-graph--with-big-gc (artisan--graph-report index)))
         (dead (plist-get report :dead))
         (orphans (plist-get report :orphans))
         (titles (plist-get report :duplicate-titles))
         (ids (plist-get report :duplicate-ids)))
    (erase-buffer)
    (insert (propertize "Link graph report" 'face 'artisan-graph-title)
            (format "  %d notes, %s\n" (plist-get stats :files)
                    (artisan-graph--counts (list :nodes (plist-get stats :nodes)
                                                 :edges (plist-get report :links)
                                                 :dead dead))))
    (insert (propertize (format "\nDead links (%d)\n" (length dead)) 'face 'artisan-graph-heading))
    (dolist (d dead)
      (artisan-graph--insert-entry
       (list :file (plist-get d :file) :line (plist-get d :line) :column (plist-get d :column))
       (concat "  "
               (propertize (artisan-graph--location (plist-get d :file) (plist-get d :line))
                           'face 'artisan-graph-location)
               (format "  %s: " (plist-get d :kind))
               (propertize (plist-get d :target) 'face 'error))))
    (insert (propertize (format "\nOrphan notes (%d): no links to or from other notes\n"
                                (length orphans))
                        'face 'artisan-graph-heading))
    (dolist (n orphans)
      (artisan-graph--insert-entry (list :key (plist-get n :key))
                                   (concat "  " (artisan-graph--node-line n))))
    (dolist (group (list (cons "Duplicate titles" titles) (cons "Duplicate IDs" ids)))
      (insert (propertize (format "\n%s (%d)\n" (car group) (length (cdr group)))
                          'face 'artisan-graph-heading))
      (dolist (dup (cdr group))
        (insert (format "  %s\n" (car dup)))
        (dolist (n (cdr dup))
          (artisan-graph--insert-entry
           (list :file (plist-get n :file) :line (plist-get n :line))
           (concat "    " (artisan-graph--node-line n))))))
    (goto-char (point-min))
    report))

(define-derived-mode artisan-graph-report-mode artisan-graph-list-mode "Artisan-Report"
  "Major mode of the link graph report.
It lists dead links (links that resolve to no note), orphan
notes (no links to or from other notes), and titles and IDs
shared by several nodes.  \\[artisan-graph-list-visit] visits the
entry at point, \\[artisan-graph-list-next] and
\\[artisan-graph-list-previous] move between entries,
\\[revert-buffer] refreshes.
\\{artisan-graph-report-mode-map}"
  (setq-local artisan-graph--refresh-function #'artisan-graph-report--fill))

;;;###autoload
(defun artisan-graph-report ()
  "Show dead links, orphan notes and duplicate titles and IDs of the link graph."
  (interactive)
  (let ((buffer (get-buffer-create "*artisan-graph-report*")))
    (with-current-buffer buffer
      (artisan-graph-report-mode)
      (artisan-graph-report--fill))
    (pop-to-buffer buffer)
    buffer))

;;;; View

(defvar-local artisan-graph-view--files nil
  "The DOT (and SVG, when rendered) files of the view, as (DOT . SVG).")

(defvar artisan-graph-view-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map artisan-graph-list-mode-map)
    (define-key map "d" #'artisan-graph-view-open-dot)
    (define-key map "v" #'artisan-graph-view-open-svg)
    map)
  "Keymap of `artisan-graph-view-mode'.")

(define-derived-mode artisan-graph-view-mode artisan-graph-list-mode "Artisan-View"
  "Major mode of the link graph view.
It shows the neighbourhood of a node as a picture (Graphviz dot
rendered to SVG, clickable where the image allows) when this
Emacs can display it, and always lists the nodes shown.
\\[artisan-graph-list-visit] visits the node at point,
\\[artisan-graph-view-open-dot] shows the DOT file in another window,
\\[artisan-graph-view-open-svg] opens the SVG file in a browser or
image viewer outside Emacs, \\[revert-buffer] redraws.
\\{artisan-graph-view-mode-map}")

(defun artisan-graph-view-open-dot ()
  "Show the DOT file of this view in another window, keeping point here."
  (interactive)
  (let ((dot (or (car artisan-graph-view--files) (user-error "No DOT file"))))
    (display-buffer (find-file-noselect dot) '(nil (inhibit-same-window . t)))
    (message "The DOT file %s is in the other window" (abbreviate-file-name dot))))

(defun artisan-graph--external-viewer-p ()
  "Return non-nil if files can be opened in programs outside Emacs here.
That needs a graphical display (this frame's, or one the
environment names), or macOS or Windows, where the system opens
them."
  (or (display-graphic-p)
      (memq system-type '(darwin windows-nt cygwin))
      (and (getenv "DISPLAY") (not (string-empty-p (getenv "DISPLAY"))))
      (and (getenv "WAYLAND_DISPLAY") (not (string-empty-p (getenv "WAYLAND_DISPLAY"))))))

(defun artisan-graph-view-open-svg ()
  "Open the SVG file of this view in a browser or viewer outside Emacs.
It goes to `browse-url' (`browse-url-browser-function'), but not
to Emacs itself, as `browse-url' does for files that are not
HTML.  In a terminal with no graphical display, say where the
file is instead."
  (interactive)
  (require 'browse-url)
  (let ((svg (cdr artisan-graph-view--files)))
    (cond
     ((not (artisan-graph--external-viewer-p))
      (message "No graphical display to show a picture on%s"
               (if svg (format ": it is in %s" (abbreviate-file-name svg))
                 "; d shows the DOT file")))
     ((not svg)
      (user-error "No SVG was rendered (is Graphviz dot installed?)"))
     (t
      (condition-case err
          (let ((default-directory (file-name-directory svg))
                ;; Not `browse-url-emacs', Emacs' own choice for such files.
                (browse-url-default-handlers nil))
            (browse-url (browse-url-file-url svg))
            (message "Opening %s outside Emacs" (abbreviate-file-name svg)))
        (error (message "Could not open %s outside Emacs (%s)"
                        (abbreviate-file-name svg) (error-message-string err))))))))

(defun artisan-graph--xml-unescape (s)
  "Return S with the XML entities dot writes replaced."
  (let ((s (replace-regexp-in-string
            "&#\\([0-9]+\\);" (lambda (m) (string (string-to-number (substring m 2 -1)))) s t t)))
    (dolist (e '(("&lt;" . "<") ("&gt;" . ">") ("&quot;" . "\"") ("&#39;" . "'") ("&amp;" . "&")) s)
      (setq s (string-replace (car e) (cdr e) s)))))

(defun artisan-graph--area-attribute (name attrs)
  "Return the value of attribute NAME in the tag attributes ATTRS, or nil."
  (and (string-match (concat "\\_<" name "=\"\\([^\"]*\\)\"") attrs)
       (artisan-graph--xml-unescape (match-string 1 attrs))))

(defun artisan-graph--area (shape coords)
  "Return the image map area of SHAPE (a string) at COORDS (numbers), or nil."
  (let ((n (length coords)))
    (pcase shape
      ("rect" (and (= n 4)
                   (cons 'rect (cons (cons (nth 0 coords) (nth 1 coords))
                                     (cons (nth 2 coords) (nth 3 coords))))))
      ("poly" (and (>= n 6) (cl-evenp n) (cons 'poly (vconcat coords))))
      ("circle" (and (= n 3)
                     (cons 'circle (cons (cons (nth 0 coords) (nth 1 coords))
                                         (nth 2 coords))))))))

(defun artisan-graph--image-map (cmapx)
  "Return an image :map from the client-side image map text CMAPX.
Each area is (AREA ID PLIST) with ID a symbol whose
`artisan-node' property is the node key its link names.  Areas
are rectangles, polygons or circles, in pixels at 96 dpi."
  (let ((map nil) (start 0) (i 0))
    (while (string-match "<area \\([^>]*\\)>" cmapx start)
      (setq start (match-end 0))
      (let* ((attrs (match-string 1 cmapx))
             (key (artisan-graph--area-attribute "href" attrs))
             (coords (mapcar #'string-to-number
                             (split-string (or (artisan-graph--area-attribute "coords" attrs) "")
                                           "[, ]+" t)))
             (area (artisan-graph--area (artisan-graph--area-attribute "shape" attrs) coords)))
        (when (and key area)
          (let ((id (intern (format "artisan-node-%d" (cl-incf i)))))
            (put id 'artisan-node key)
            (push (list area id (list 'help-echo key 'pointer 'hand)) map)))))
    (nreverse map)))

(defun artisan-graph--click (event)
  "Visit the node whose area of the graph picture was clicked in EVENT."
  (interactive "e")
  (let* ((area (posn-area (event-start event)))
         (key (and area (get area 'artisan-node))))
    (when key
      (select-window (artisan-graph--main-window))
      (artisan-graph-visit-node key))))

(defun artisan-graph--render (dot)
  "Render the DOT file to SVG and an image map next to it.
Return (SVG-FILE . CMAPX-TEXT), or signal an error with dot's
message.  The SVG's size is rewritten from points to pixels at
96 dpi, the resolution of the map, so that the two agree whatever
the display's resolution."
  (let ((svg (concat (file-name-sans-extension dot) ".svg"))
        (cmap (concat (file-name-sans-extension dot) ".map")))
    (with-temp-buffer
      ;; A process of its own, so that a slow layout can be stopped (at
      ;; `artisan-graph-dot-timeout', or with C-g) instead of freezing Emacs.
      (let* ((output (current-buffer))
             (process (make-process :name "artisan-dot" :buffer output
                                    :command (list artisan-graph-dot-program "-Gdpi=96"
                                                   "-Tsvg" "-o" svg "-Tcmapx" "-o" cmap dot)
                                    :connection-type 'pipe :noquery t
                                    :sentinel #'ignore))
             (deadline (+ (float-time) artisan-graph-dot-timeout)))
        (unwind-protect
            (progn
              (message "Drawing the graph with %s (C-g stops it)..." artisan-graph-dot-program)
              (while (and (process-live-p process) (< (float-time) deadline))
                (accept-process-output process 0.05))
              (when (process-live-p process)
                (error "Graphviz dot took more than %s s to draw this graph \
(`artisan-graph-dot-timeout'); view fewer hops" artisan-graph-dot-timeout))
              (message nil)
              (unless (eq 0 (process-exit-status process))
                (error "Graphviz dot failed: %s" (string-trim (buffer-string)))))
          (when (process-live-p process)
            (delete-process process)))))
    (with-temp-buffer
      (insert-file-contents svg)
      (goto-char (point-min))
      (when (re-search-forward
             "<svg width=\"\\([0-9.]+\\)pt\" height=\"\\([0-9.]+\\)pt\"" nil t)
        (let ((w (string-to-number (match-string 1)))
              (h (string-to-number (match-string 2))))
          (replace-match (format "<svg width=\"%dpx\" height=\"%dpx\""
                                 (round (* w (/ 96.0 72))) (round (* h (/ 96.0 72))))
                         t t)
          (write-region nil nil svg nil 'silent))))
    (cons svg (with-temp-buffer
                (insert-file-contents cmap)
                (buffer-string)))))

(defun artisan-graph-view--insert-picture (svg cmapx)
  "Insert the picture SVG with the clickable areas of CMAPX."
  (let* ((map (artisan-graph--image-map cmapx))
         (image (create-image svg 'svg nil :scale 1.0 :map map))
         (keymap (make-sparse-keymap)))
    (dolist (area map)
      (define-key keymap (vector (nth 1 area) 'mouse-1) #'artisan-graph--click))
    (insert-image image "[graph]")
    (put-text-property (1- (point)) (point) 'keymap keymap)
    (insert "\n")))

(defun artisan-graph-view--fill (key depth)
  "Fill the view buffer with the neighbourhood of KEY, DEPTH hops."
  (let* ((inhibit-read-only t)
         (dir (artisan-data-file "graph"))
         (dot (expand-file-name "view.dot" dir))
         (node (or (artisan-graph-node key) (user-error "No node %s in the link graph" key)))
         (dot-program (executable-find artisan-graph-dot-program))
         (graphic (and (display-images-p) (image-type-available-p 'svg)))
         rendered why)
    (make-directory dir t)
    (let ((written (artisan-graph-export 'dot dot key depth)))
      (erase-buffer)
      (setq artisan-graph--refresh-function (lambda () (artisan-graph-view--fill key depth)))
      (insert (propertize (plist-get node :title) 'face 'artisan-graph-title)
              (format "  %d nodes within %d hop%s, %d links\n\n"
                      (plist-get written :nodes) depth (if (= depth 1) "" "s")
                      (plist-get written :edges)))
      (cond
       ((not dot-program)
        (setq why (format "Graphviz `%s' is not installed (apt-get install graphviz), so the graph cannot be drawn."
                          artisan-graph-dot-program)))
       ;; Drawing takes dot a while on big neighbourhoods: not for nothing.
       ((not (or graphic (artisan-graph--external-viewer-p)))
        (setq why "This Emacs cannot display SVG images (a terminal without a graphical display), so the graph is not drawn."))
       ((> (plist-get written :nodes) artisan-graph-view-max-nodes)
        (setq why (format "%d nodes are more than `artisan-graph-view-max-nodes' (%d), so the graph is not drawn; view fewer hops with a numeric prefix argument."
                          (plist-get written :nodes) artisan-graph-view-max-nodes)))
       ((> (plist-get written :edges) artisan-graph-view-max-links)
        (setq why (format "%d links are more than `artisan-graph-view-max-links' (%d), so the graph is not drawn; view fewer hops with a numeric prefix argument."
                          (plist-get written :edges) artisan-graph-view-max-links)))
       (t (condition-case err
              (setq rendered (artisan-graph--render dot))
            (error (setq why (error-message-string err))))
          (unless graphic
            (setq why "This Emacs cannot display SVG images (a terminal, or built without librsvg)."))))
      (setq artisan-graph-view--files (cons dot (car rendered)))
      (if (and rendered graphic)
          (artisan-graph-view--insert-picture (car rendered) (cdr rendered))
        (insert (propertize why 'face 'warning) "\n\n")
        (insert "The graph is in the DOT file ")
        (insert-text-button (abbreviate-file-name dot)
                            'action (lambda (_) (artisan-graph-view-open-dot))
                            'follow-link t)
        (insert " (d shows it in another window")
        (when rendered
          (insert "; the picture is in ")
          (if (artisan-graph--external-viewer-p)
              (progn
                (insert-text-button (abbreviate-file-name (car rendered))
                                    'action (lambda (_) (artisan-graph-view-open-svg))
                                    'follow-link t)
                (insert ", v opens it outside Emacs"))
            (insert (abbreviate-file-name (car rendered))
                    ", to open where there is a graphical display")))
        (insert ").\n"))
      (insert (propertize "\nNodes\n" 'face 'artisan-graph-heading))
      (let ((keys (artisan-graph-view--keys dot)))
        (dolist (k keys)
          (let ((n (artisan-graph-node k)))
            (when n
              (artisan-graph--insert-entry (list :key k)
                                           (concat "  " (artisan-graph--node-line n))))))))
    (goto-char (point-min))
    why))

(defun artisan-graph-view--keys (dot)
  "Return the node keys of the DOT file, in order."
  (with-temp-buffer
    (insert-file-contents dot)
    (let (keys)
      (while (re-search-forward "^  n[0-9]+ \\[.*URL=\"\\(\\(?:[^\"\\]\\|\\\\.\\)*\\)\"" nil t)
        (push (replace-regexp-in-string "\\\\\\(.\\)" "\\1" (match-string 1)) keys))
      (nreverse keys))))

;;;###autoload
(defun artisan-graph-view (&optional node depth)
  "Show the neighbourhood of NODE, DEPTH hops, as a picture.
NODE defaults to the node at point (or one read with the node
picker); DEPTH to `artisan-graph-view-depth', or the numeric
prefix argument.  The picture is drawn with Graphviz dot; where
this Emacs cannot show SVG (a terminal) or dot is missing, say so
and offer the DOT file.  The nodes are also listed, to visit."
  (interactive
   (list (or (artisan-graph-node-at-point)
             (pcase (artisan-graph-read-node "View the graph around: ")
               (`(node . ,key) key)
               (_ (user-error "No such node"))))
         (if current-prefix-arg (prefix-numeric-value current-prefix-arg)
           artisan-graph-view-depth)))
  (artisan-graph--check-depth depth)
  (let ((key (artisan-graph--key (or node (artisan-graph-node-at-point)
                                     (user-error "No node at point"))))
        (depth (or depth artisan-graph-view-depth))
        (buffer (get-buffer-create "*artisan-graph*")))
    (with-current-buffer buffer
      (artisan-graph-view-mode)
      (let ((why (artisan-graph-view--fill key depth)))
        (when (and why (called-interactively-p 'interactive))
          (message "%s  The DOT file: %s" why (car artisan-graph-view--files)))))
    (pop-to-buffer buffer)
    buffer))

(provide 'artisan-graph)
;;; artisan-graph.el ends here
