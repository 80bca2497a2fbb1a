;;; artisan-search.el --- Search notes as you type, browse results, see the index  -*- lexical-binding: t; -*-

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

;; \\[artisan-search] searches the notes as you type through
;; `completing-read', so it works with the default completion UI,
;; icomplete/fido, vertico, ivy and helm: every keystroke reruns the
;; query and the candidates show the note title, heading, the line
;; with the matched words highlighted, and the file.  Choosing one
;; visits the file at the line and column of the match.  Where consult
;; is installed its preview is used; it is never required.
;;
;; \\[artisan-search-results] puts the results of a query in a buffer
;; that works with `next-error' (\\[next-error]), so they can be kept,
;; browsed and saved.  \\[artisan-index-status] shows what is indexed.

;;; Code:

(require 'artisan-knowledge)
(require 'compile)

(declare-function artisan--index-status "artisan-dyn")
(declare-function org-reveal "org")
(declare-function xref-push-marker-stack "xref")
(declare-function outline-show-entry "outline")
(declare-function ivy-read "ext:ivy")
(declare-function helm "ext:helm")
(declare-function helm-make-source "ext:helm-source")
(declare-function consult--read "ext:consult")
(declare-function consult--jump-state "ext:consult")
(declare-function consult--dynamic-collection "ext:consult")
(defvar ivy-mode)
(defvar helm-mode)
(defvar helm-pattern)
(defvar consult-preview-key)

(defcustom artisan-search-limit 50
  "Number of results `artisan-search' shows."
  :type 'natnum
  :group 'artisan-knowledge)

(defcustom artisan-search-max-per-file 3
  "Most results from one file in `artisan-search' (0 means no limit)."
  :type 'natnum
  :group 'artisan-knowledge)

(defcustom artisan-search-min-input 2
  "Characters to type before `artisan-search' starts searching."
  :type 'natnum
  :group 'artisan-knowledge)

(defcustom artisan-search-use-consult t
  "Non-nil means use consult for previews when it is installed."
  :type 'boolean
  :group 'artisan-knowledge)

(defface artisan-search-title '((t :inherit bold))
  "Face of note titles in search candidates."
  :group 'artisan-knowledge)

(defface artisan-search-heading '((t :inherit font-lock-function-name-face))
  "Face of headings in search candidates."
  :group 'artisan-knowledge)

(defface artisan-search-location '((t :inherit shadow))
  "Face of the file and line in search candidates."
  :group 'artisan-knowledge)

(defface artisan-search-approximate '((t :inherit warning))
  "Face of the mark of approximate (misspelling-tolerant) matches."
  :group 'artisan-knowledge)

(defconst artisan-search--approximate
  (propertize "≈ " 'face 'artisan-search-approximate
              'help-echo "Approximate match: nothing matches the words exactly")
  "What starts the description of an approximate match.")

(defvar artisan-search-history nil
  "History of `artisan-search' and `artisan-search-results' queries.")

(defvar artisan-search--hits (make-hash-table :test #'equal)
  "Candidate string -> result plist, for the current search session.")

(defvar artisan-search--last nil
  "The last query and its candidates, as (QUERY . CANDIDATES).")

(defvar artisan-search--error nil
  "The last candidate that is a message rather than a result, if any.
It shows a query's error, or says to type more; choosing it
signals a `user-error' with its text.")

;;;; Candidates

(defun artisan-search--location (hit)
  "Return \"file:line\" for HIT, the file relative to its root."
  (let* ((file (plist-get hit :file))
         (root (catch 'root
                 (dolist (r (artisan-knowledge-root-directories))
                   (when (string-prefix-p r file) (throw 'root r)))))
         (name (if root (substring file (length root)) (abbreviate-file-name file))))
    (format "%s:%d" name (plist-get hit :line))))

(defun artisan-search-describe (hit)
  "Return (HEAD . SNIPPET) describing HIT for display.
HEAD is the note title and the heading path, without a first
heading that repeats the title, after a mark when the match is
approximate; SNIPPET is nil when the match is the heading line
itself, which HEAD already shows."
  (let* ((title (plist-get hit :title))
         (mark (if (plist-get hit :fuzzy) artisan-search--approximate ""))
         (outline (plist-get hit :outline))
         (outline (if (equal (car outline) title) (cdr outline) outline))
         (todo (plist-get hit :todo))
         (head (concat mark (propertize title 'face 'artisan-search-title)
                       (if outline
                           (concat " › " (if todo (concat todo " ") "")
                                   (propertize (string-join outline " › ")
                                               'face 'artisan-search-heading))
                         "")))
         (snippet (replace-regexp-in-string "[\t\n]+" " " (plist-get hit :snippet)))
         (bare (string-trim (replace-regexp-in-string
                             "\\`\\(?:[*#]+[ \t]+\\|#\\+[[:alnum:]_]+:[ \t]*\\|title:[ \t]*\\)\\|[ \t]+:[[:alnum:]_@#%:]+:[ \t]*\\'" ""
                             (substring-no-properties snippet))))
         (heading (car (last (plist-get hit :outline)))))
    (cons head
          (unless (or (string-empty-p bare)
                      (and heading (string-suffix-p heading bare))
                      (and (null heading) (equal bare title)))
            snippet))))

(defun artisan-search-format (hit)
  "Return the one-line candidate string showing HIT."
  (let ((d (artisan-search-describe hit)))
    (concat (car d) (if (cdr d) (concat ": " (cdr d)) "") "  "
            (propertize (artisan-search--location hit) 'face 'artisan-search-location))))

(defun artisan-search--message (text face)
  "Return TEXT in FACE as the one candidate, a message rather than a result."
  (setq artisan-search--error text)
  (list (propertize text 'face face 'artisan-error t)))

(defun artisan-search--too-short ()
  "Return the message that the input is too short to search."
  (let ((n (max 1 artisan-search-min-input)))
    (if (= n 1)
        "Type a word to search the notes"
      (format "Type at least %d characters to search the notes" n))))

(defun artisan-search--close-phrase (query)
  "Return QUERY with a closing quote when its last phrase is still open.
While a phrase is being typed, it is searched as typed so far."
  (let ((open nil) (i 0) (n (length query)))
    (while (< i n)
      (pcase (aref query i)
        (?\\ (when open (setq i (1+ i))))
        (?\" (setq open (not open))))
      (setq i (1+ i)))
    (if open (concat query "\"") query)))

(defconst artisan-search--fields '("title" "tag" "tags" "path" "file" "ext" "id" "todo")
  "The field names the query language knows (see `artisan-search').")

(defun artisan-search--no-results (query)
  "Return the message candidate for QUERY, which found nothing.
It names a `field:' prefix that is not a field, since such words
are searched as plain text."
  (let ((unknown nil) (start 0))
    (while (string-match "\\(?:\\`\\|[[:space:]-]\\)\\([[:alpha:]][[:alnum:]_-]*\\):[^[:space:]]"
                         query start)
      (let ((name (match-string 1 query)))
        (unless (or (member (downcase name) artisan-search--fields)
                    (member name unknown)
                    (string-match-p "\\`\\(?:https?\\|ftp\\|mailto\\|file\\)\\'" name))
          (push name unknown)))
      (setq start (match-end 1)))
    (artisan-search--message
     (if unknown
         (format "No notes match; %s not a field (title: tag: path: ext: id: todo:), so %s searched as text"
                 (mapconcat (lambda (n) (concat n ":")) (nreverse unknown) ", ")
                 (if (cdr unknown) "those were" "it was"))
       "No notes match")
     'shadow)))

(defun artisan-search--candidates (query)
  "Return the candidate strings for QUERY, caching the last query.
Input shorter than `artisan-search-min-input' gives one candidate
saying so, a malformed query one showing its error, and no
results one saying so.  A phrase still being typed (an open
quote) is searched as typed so far."
  (if (equal query (car artisan-search--last))
      (cdr artisan-search--last)
    (let ((candidates
           (if (< (length (string-trim query)) (max 1 artisan-search-min-input))
               (artisan-search--message (artisan-search--too-short) 'shadow)
             (condition-case err
                 (or (mapcar (lambda (hit)
                               (let ((c (artisan-search-format hit)))
                                 (puthash c hit artisan-search--hits)
                                 c))
                             (artisan-knowledge-search (artisan-search--close-phrase query)
                                                       artisan-search-limit
                                                       artisan-search-max-per-file))
                     (artisan-search--no-results query))
               (artisan-query-error
                (artisan-search--message (concat "Query error: " (cadr err)) 'error))))))
      (setq artisan-search--last (cons query candidates))
      candidates)))

(defun artisan-search--table (string pred action)
  "Completion table running the query STRING; see `completing-read'.
PRED filters candidates; ACTION is the completion action.  The
table never narrows candidates by the input itself: the search
already did."
  (cond
   ((eq action 'metadata)
    '(metadata (category . artisan-search)
               (display-sort-function . identity)
               (cycle-sort-function . identity)))
   ((eq (car-safe action) 'boundaries) nil)
   ((eq action 'lambda) (and (gethash string artisan-search--hits) t))
   ((eq action t)
    (let ((candidates (artisan-search--candidates string)))
      (if pred (delq nil (mapcar (lambda (c) (and (funcall pred c) c)) candidates))
        (copy-sequence candidates))))
   (t (if (gethash string artisan-search--hits) t string))))

(defun artisan-search--style-try (string table pred _point)
  "Completion style: `try-completion' of STRING in TABLE with PRED."
  (let ((r (try-completion string table pred)))
    (if (stringp r) (cons r (length r)) r)))

(defun artisan-search--style-all (string table pred _point)
  "Completion style: all candidates for the whole STRING in TABLE.
The search runs on all of STRING; PRED filters the results."
  (let ((all (all-completions string table pred)))
    ;; A non-empty list ends in its base size; an empty one is nil.
    (and all (nconc all 0))))

(add-to-list 'completion-styles-alist
             '(artisan-passthrough artisan-search--style-try artisan-search--style-all
                                   "Pass the whole input to artisan's search."))

;;;; Visiting

(defun artisan-search-visit (hit &optional other-window)
  "Visit the file of HIT at its line and column.
With OTHER-WINDOW, visit it in another window."
  (let ((file (plist-get hit :file)))
    (unless (file-exists-p file)
      (user-error "%s no longer exists (M-x artisan-index-update)" file))
    (artisan-search--push-marker)
    (funcall (if other-window #'find-file-other-window #'find-file) file)
    (artisan-search--goto (plist-get hit :line) (plist-get hit :column))))

(defun artisan-search--push-marker ()
  "Remember point, so that M-, returns here.
Loads xref, which Emacs does not autoload for this."
  (require 'xref)
  (xref-push-marker-stack))

(defun artisan-search--goto (line column)
  "Move to 1-based LINE and 0-based COLUMN, revealing folded text."
  (widen)
  (goto-char (point-min))
  (forward-line (1- line))
  (forward-char (min column (- (line-end-position) (point))))
  (artisan-search--reveal))

(defun artisan-search--reveal ()
  "Show point's text if it is folded: Org and Outline folds, hidden text."
  (cond ((derived-mode-p 'org-mode) (org-reveal))
        ((and (invisible-p (point)) (fboundp 'outline-show-entry))
         (outline-show-entry))))

(defun artisan-search--read-with-consult (prompt initial)
  "Read a candidate with consult, previewing it; PROMPT and INITIAL as usual.
Uses consult's dynamic collection, which reruns the search as the
input changes, and consult's jump preview."
  (let ((consult-preview-key (if (boundp 'consult-preview-key) consult-preview-key 'any)))
    (consult--read
     (consult--dynamic-collection #'artisan-search--candidates)
     :prompt prompt
     :initial initial
     :history 'artisan-search-history
     :category 'artisan-search
     :sort nil
     :require-match nil
     :lookup (lambda (selected &rest _)
               (let ((hit (gethash selected artisan-search--hits)))
                 (if hit
                     (let ((buffer (find-file-noselect (plist-get hit :file))))
                       (with-current-buffer buffer
                         (save-restriction
                           (widen)
                           (save-excursion
                             (goto-char (point-min))
                             (forward-line (1- (plist-get hit :line)))
                             (forward-char (min (plist-get hit :column)
                                                (- (line-end-position) (point))))
                             (point-marker)))))
                   selected)))
     :state (consult--jump-state))))

(defun artisan-search--read (prompt initial)
  "Read a search candidate with PROMPT, starting from INITIAL.
Return the chosen result plist (a marker when consult previewed
it), or the typed query string when no result was chosen."
  (clrhash artisan-search--hits)
  (setq artisan-search--last nil
        artisan-search--error nil)
  (let* ((choice
          (cond
           ((and artisan-search-use-consult (fboundp 'consult--read)
                 (fboundp 'consult--dynamic-collection) (fboundp 'consult--jump-state))
            (artisan-search--read-with-consult prompt initial))
           ((and (bound-and-true-p ivy-mode) (fboundp 'ivy-read))
            (ivy-read prompt #'artisan-search--candidates :dynamic-collection t
                      :initial-input initial :history 'artisan-search-history
                      :caller 'artisan-search))
           ((and (bound-and-true-p helm-mode) (fboundp 'helm))
            (helm :sources (helm-make-source "Notes" 'helm-source-sync
                             :candidates (lambda () (artisan-search--candidates helm-pattern))
                             :volatile t :match #'identity :nohighlight t)
                  :input initial :buffer "*helm artisan-search*"))
           (t
            ;; The input is the query: no completion style may filter the
            ;; results by it again.
            (let ((completion-category-overrides
                   (cons '(artisan-search (styles artisan-passthrough))
                         completion-category-overrides)))
              (completing-read prompt #'artisan-search--table nil nil initial
                               'artisan-search-history))))))
    (cond
     ((not (stringp choice)) choice)
     ((gethash choice artisan-search--hits))
     ;; A candidate that shows a message (a malformed query, input too
     ;; short) is no query to run.
     ((and artisan-search--error
           (equal (substring-no-properties choice) artisan-search--error))
      (user-error "%s" artisan-search--error))
     (t choice))))

;;;###autoload
(defun artisan-search (&optional initial)
  "Search the notes as you type and visit the chosen match.
Candidates show the note title, the heading, the line with the
matched words highlighted, and the file; they are ranked.  The
last word matches as a prefix while you type; see the README for
the query syntax (\"phrases\", OR, -exclude, title: tag: path:
ext: id: todo:).  Choosing a candidate visits its file at the
line and column of the match.  If you confirm text that is not a
candidate, its results are shown with `artisan-search-results'.
INITIAL is the initial input; interactively, the active region.
When the index was never built, this starts building it in the
background instead, with progress in the echo area: search again
when it is done."
  (interactive (list (and (use-region-p)
                          (buffer-substring-no-properties (region-beginning) (region-end)))))
  ;; A first build runs in the background; searching waits for it.
  (when (artisan-knowledge-ensure-built 'background)
    (artisan-search--choose initial)))

(defun artisan-search--choose (initial)
  "Read a search candidate, starting from INITIAL, and act on it."
  (let ((choice (artisan-search--read "Search notes: " initial)))
    (cond ((consp choice) (artisan-search-visit choice))
          ((markerp choice)             ; from consult's preview lookup
           (artisan-search--push-marker)
           (pop-to-buffer-same-window (marker-buffer choice))
           (goto-char choice)
           (artisan-search--reveal))
          ((or (null choice) (string-blank-p choice))
           (user-error "Empty query: type words to search for"))
          (t (artisan-search-results choice)))))

;;;; Results buffer

(defvar-local artisan-search-results--query nil
  "The query shown in an `artisan-search-results-mode' buffer.")

(defconst artisan-search-results--regexp
  ;; The file is the shortest text before ":LINE:COLUMN: ", so that
  ;; file names may hold colons ("2024-01-01 10:30 standup.org").
  '(artisan-search "^\\([^\n]+?\\):\\([0-9]+\\):\\([0-9]+\\): " 1 2 3 0)
  "How `compilation-mode' finds locations in the results buffer.")

;; `compilation-mode' binds g (and its menu) to `recompile', which would
;; run `compile-command' in the notes directory: here g reruns the query.
(defvar artisan-search-results-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map "g" #'revert-buffer)
    (define-key map [remap recompile] #'revert-buffer)
    map)
  "Keymap of `artisan-search-results-mode'.")

(defun artisan-search-results--no-compile ()
  "Refuse to compile: the buffer lists search results, not a compilation."
  (user-error "This buffer lists notes search results: g reruns the query"))

(define-compilation-mode artisan-search-results-mode "Artisan-Search"
  "Major mode of the buffer listing the results of a notes search.
Each line is FILE:LINE:COLUMN: title › heading: snippet (≈ marks
approximate matches).  \\[next-error] and \\[previous-error] visit the
results in turn, RET visits the one at point, \\[revert-buffer] runs
the query again, \\[quit-window] quits.
\\{artisan-search-results-mode-map}"
  (setq-local compilation-error-regexp-alist (list (car artisan-search-results--regexp)))
  (setq-local compilation-error-regexp-alist-alist (list artisan-search-results--regexp))
  (setq-local compilation-error-face 'compilation-info)
  ;; Results are info-level messages, which next-error skips by default.
  (setq-local compilation-skip-threshold 0)
  ;; Columns count characters, not screen columns: a tab or a wide
  ;; character before the match must not move the landing place.
  (setq-local compilation-error-screen-columns nil)
  ;; Visits show the match even inside folded text.
  (setq-local next-error-function #'artisan-search-results--next-error)
  ;; No compilation command runs from here, not even M-x recompile or
  ;; M-x compile: both evaluate `compile-command'.
  (setq-local compile-command '(artisan-search-results--no-compile))
  (setq-local compilation-arguments nil)
  (setq-local revert-buffer-function #'artisan-search-results--revert))

(defun artisan-search-results--next-error (n &optional reset)
  "Visit the Nth next result (see `compilation-next-error-function').
RESET starts from the first result.  Unlike a compilation, the
place is revealed when it is folded (an Org heading, an outline)."
  (compilation-next-error-function n reset)
  ;; Here the current buffer is the visited one, at the result.
  (artisan-search--reveal))

(defun artisan-search-results--revert (&rest _)
  "Run the buffer's query again."
  (let ((line (line-number-at-pos)))
    (artisan-search-results--fill artisan-search-results--query
                                  (artisan-search-results--hits artisan-search-results--query))
    (goto-char (point-min))
    (forward-line (1- line))))

(defun artisan-search-results--hits (query)
  "Return the results of QUERY for a results buffer.
Signal a `user-error' when it is empty or malformed."
  (when (string-blank-p query)
    (user-error "Empty query: type words to search for"))
  (condition-case err
      (artisan-knowledge-search query 1000 0)
    (artisan-query-error (user-error "Query error: %s" (cadr err)))))

(defun artisan-search-results--fill (query hits)
  "Fill the current buffer with the results of QUERY, which are HITS."
  (let* ((root (car (artisan-knowledge-root-directories)))
         (inhibit-read-only t))
    (erase-buffer)
    (setq default-directory (or root default-directory))
    (setq artisan-search-results--query query)
    (insert (format "Notes search for %S: %d%s result%s%s\n\n"
                    query (length hits)
                    (if (plist-get (car hits) :fuzzy) " approximate" "")
                    (if (= 1 (length hits)) "" "s")
                    (if (plist-get (car hits) :fuzzy) " (nothing matches exactly)" "")))
    (dolist (hit hits)
      (let ((file (plist-get hit :file))
            (d (artisan-search-describe hit)))
        (insert (format "%s:%d:%d: %s%s\n"
                        (if (and root (string-prefix-p root file))
                            (substring file (length root))
                          file)
                        (plist-get hit :line) (1+ (plist-get hit :column))
                        (car d) (if (cdr d) (concat ": " (cdr d)) "")))))
    (goto-char (point-min))
    (compilation--flush-parse (point-min) (point-max))
    hits))

;;;###autoload
(defun artisan-search-results (query)
  "Show the results of the notes search QUERY in a `next-error' buffer.
The buffer is in `artisan-search-results-mode': \\[next-error]
visits the results in turn, \\[revert-buffer] reruns the query;
save it with \\[write-file] to keep it.  Return the buffer.  When
the index was never built, it is built first; interactively, in the
background instead, and the return value is nil.  An empty or
malformed QUERY signals a `user-error' saying so."
  (interactive (list (read-string "Search notes (results buffer): "
                                  (and (use-region-p)
                                       (buffer-substring-no-properties
                                        (region-beginning) (region-end)))
                                  'artisan-search-history)))
  (cl-check-type query string)
  (when (string-blank-p query)
    (user-error "Empty query: type words to search for"))
  ;; Interactively, a first build runs in the background instead.
  (when (artisan-knowledge-ensure-built (called-interactively-p 'interactive))
    (artisan-search-results--show query)))

(defun artisan-search-results--show (query)
  "Show the results of QUERY in its results buffer and return the buffer."
  (let* ((hits (artisan-search-results--hits query))
         (buffer (get-buffer-create (format "*artisan-search: %s*" query))))
    (with-current-buffer buffer
      (artisan-search-results-mode)
      (artisan-search-results--fill query hits)
      (setq next-error-last-buffer buffer))
    (pop-to-buffer buffer)
    buffer))

;;;; Status

(defun artisan-index-status--insert ()
  "Insert the status of the index in the current buffer."
  (let* ((index (artisan-knowledge-index))
         (status (artisan--index-status index))
         (stats (plist-get status :last-stats))
         (skipped (plist-get status :skipped)))
    (insert (propertize "Notes index\n\n" 'face 'bold))
    (insert "Roots:          ")
    (insert (mapconcat #'abbreviate-file-name (plist-get status :roots) "\n                "))
    (insert (format "\nIndex:          %s\n" (abbreviate-file-name (plist-get status :dir))))
    (insert (format "Files:          %d%s\n" (plist-get status :files)
                    (artisan-index-status--since stats (plist-get status :files))))
    (insert (format "Documents:      %d (files and heading sections)\n"
                    (plist-get status :documents)))
    (insert (format "Size on disk:   %s\n" (file-size-human-readable (plist-get status :bytes))))
    (insert (format "Last update:    %s\n"
                    (if (plist-get status :last-update)
                        (concat (format-time-string "%Y-%m-%d %H:%M:%S"
                                                    (plist-get status :last-update))
                                ", " (artisan-knowledge--summary stats))
                      "never (M-x artisan-index-update)")))
    (insert (format "Background job: %s\n"
                    (or (car (artisan-job-running)) "none")))
    (insert (format "\nSkipped files (%d):\n" (length skipped)))
    (if (null skipped)
        (insert "  none\n")
      (dolist (s skipped)
        (insert "  ")
        (insert-text-button (abbreviate-file-name (car s))
                            'action (let ((f (car s))) (lambda (_) (find-file f)))
                            'help-echo "Visit this file")
        (insert (format ": %s\n" (cdr s)))))))

(defun artisan-index-status--since (stats files)
  "Explain why the files of STATS, the last update's, differ from FILES.
FILES is the number of files indexed now; return \"\" when they agree."
  (let ((then (plist-get stats :files)))
    (if (or (null then) (= then files))
        ""
      (format " (%d %s than at the last update: notes saved since are reindexed one by one)"
              (abs (- files then)) (if (> files then) "more" "fewer")))))

(defconst artisan-index-status--buffer "*artisan index*"
  "Name of the buffer of `artisan-index-status'.")

(defun artisan-index-status--refresh ()
  "Refresh the buffer of `artisan-index-status', if it is shown."
  (let ((buffer (get-buffer artisan-index-status--buffer)))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (when (derived-mode-p 'artisan-index-status-mode)
          (revert-buffer))))))

;; The status follows the updates, wherever they were started.
(add-hook 'artisan-knowledge-after-update-hook #'artisan-index-status--refresh)

(defun artisan-index-status-update ()
  "Update the index with what changed; the status follows it."
  (interactive)
  (artisan-index-update)
  (artisan-index-status--refresh))

(defun artisan-index-status-rebuild ()
  "Reindex every note; the status follows it."
  (interactive)
  (artisan-index-rebuild)
  (artisan-index-status--refresh))

(defvar artisan-index-status-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map "u" #'artisan-index-status-update)
    (define-key map "R" #'artisan-index-status-rebuild)
    map)
  "Keymap of `artisan-index-status-mode'.")

(define-derived-mode artisan-index-status-mode special-mode "Artisan-Index"
  "Major mode showing the state of the notes index.
\\[revert-buffer] refreshes, \\[artisan-index-status-update] updates the index,
\\[artisan-index-status-rebuild] rebuilds it, \\[quit-window] quits.  The
buffer is refreshed when an update ends.
\\{artisan-index-status-mode-map}"
  (setq-local revert-buffer-function
              (lambda (&rest _)
                (let ((inhibit-read-only t) (pos (point)))
                  (erase-buffer)
                  (artisan-index-status--insert)
                  (goto-char (min pos (point-max)))))))

;;;###autoload
(defun artisan-index-status ()
  "Show the notes index: roots, files, documents, size, last update, skipped files."
  (interactive)
  (let ((buffer (get-buffer-create artisan-index-status--buffer)))
    (with-current-buffer buffer
      (artisan-index-status-mode)
      (let ((inhibit-read-only t))
        (erase-buffer)
        (artisan-index-status--insert)
        (goto-char (point-min))))
    (pop-to-buffer buffer)
    buffer))

(provide 'artisan-search)
;;; artisan-search.el ends here
