;;; artisan-knowledge.el --- Index and search notes with a native full-text index  -*- lexical-binding: t; -*-

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

;; The knowledge base indexes the notes under `artisan-knowledge-roots'
;; (Org, Markdown, text, and optionally code) into a tantivy index under
;; `artisan-data-directory', in native code on worker threads.  Files
;; and each heading section are indexed, so a search lands on the
;; heading and line of a match.
;;
;; Lisp API (for scripts and tests):
;;
;;   (artisan-index-update &optional WAIT)   update what changed
;;   (artisan-index-rebuild &optional WAIT)  reindex everything
;;   (artisan-search-query QUERY &optional LIMIT)  ranked result plists
;;
;; `artisan-knowledge-mode' keeps the index fresh: saving a note
;; reindexes just that file, and the whole index can be refreshed when
;; Emacs is idle.  The commands to search are in artisan-search.el.

;;; Code:

(require 'artisan-job)

(declare-function artisan--index-open "artisan-dyn")
(declare-function artisan--index-update "artisan-dyn")
(declare-function artisan--index-search "artisan-dyn")
(declare-function artisan--index-status "artisan-dyn")
(declare-function artisan--index-fresh "artisan-dyn")

(defvar org-directory)
(defvar org-roam-directory)
(defvar org-todo-keywords)

(defgroup artisan-knowledge nil
  "Index and search notes."
  :group 'artisan
  :prefix "artisan-knowledge-")

(defcustom artisan-knowledge-roots nil
  "Directories whose notes are indexed.
When nil, use `org-directory' and `org-roam-directory', those of
them that are set and exist."
  :type '(repeat directory)
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-extensions '("org" "md" "markdown" "txt")
  "Extensions (without the dot) of the note files to index."
  :type '(repeat string)
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-index-code nil
  "Non-nil means also index code files, as plain text.
Their extensions are `artisan-knowledge-code-extensions'."
  :type 'boolean
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-code-extensions
  '("el" "py" "rs" "c" "h" "cc" "cpp" "go" "js" "ts" "java" "rb" "sh" "lua" "hs" "clj" "scm")
  "Extensions of code files indexed when `artisan-knowledge-index-code' is set."
  :type '(repeat string)
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-exclude nil
  "Globs of files and folders not to index.
A glob matches a file name (\"*.draft.org\") or a full path
\(\"**/archive/**\").  Files ignored by .gitignore and .ignore
files, and hidden folders, are never indexed."
  :type '(repeat string)
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-max-file-size (* 10 1024 1024)
  "Files larger than this many bytes are skipped (and listed as such)."
  :type 'natnum
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-todo-keywords nil
  "Org TODO keywords recognized in headings.
When nil, use the keywords of `org-todo-keywords' if Org is
loaded, else TODO and DONE.  Keywords a file declares with
#+TODO: are always recognized."
  :type '(repeat string)
  :group 'artisan-knowledge)

(defcustom artisan-knowledge-idle-update nil
  "When a number, refresh the whole index after Emacs is idle that many seconds.
Only used while `artisan-knowledge-mode' is on.  Saving a note
always reindexes that note."
  :type '(choice (const :tag "Never" nil) (number :tag "Seconds"))
  :group 'artisan-knowledge)

(defvar artisan-knowledge-after-update-hook nil
  "Hook run after an update of the index ends, successfully or not.
It runs after updates in the background (when their job ends) and
after those that block, including the reindexing of saved notes.")

(defvar artisan-knowledge--index nil
  "The open index, as (KEY . HANDLE); KEY describes its configuration.")

(defvar artisan-knowledge--update-job nil
  "The update running in the background, a job from `artisan-job-start'.")

(defvar artisan-knowledge--idle-timer nil
  "Idle timer of `artisan-knowledge-idle-update'.")

(defun artisan-knowledge--check-option (symbol valid what)
  "Signal a `user-error' unless the value of SYMBOL satisfies VALID.
WHAT describes a valid value, as in \"a list of directory names\"."
  (let ((value (symbol-value symbol)))
    (unless (funcall valid value)
      (user-error "`%s' must be %s, not %S" symbol what value))))

(defun artisan-knowledge--string-list-p (value)
  "Return non-nil if VALUE is a list of strings."
  (and (proper-list-p value) (not (memq nil (mapcar #'stringp value)))))

(defun artisan-knowledge-root-directories ()
  "Return the note directories to index, as absolute directory names.
This is `artisan-knowledge-roots', or by default `org-directory'
and `org-roam-directory' when they are set and exist.  Signal a
`user-error' when `artisan-knowledge-roots' is not a list of
directory names."
  (artisan-knowledge--check-option 'artisan-knowledge-roots
                                   #'artisan-knowledge--string-list-p
                                   "a list of directory names")
  (let ((roots (or artisan-knowledge-roots
                   (delq nil (list (bound-and-true-p org-directory)
                                   (bound-and-true-p org-roam-directory)))))
        result)
    (dolist (r artisan-knowledge-roots)
      (when (or (string-blank-p r)
                (not (or (file-name-absolute-p r) (string-prefix-p "~" r))))
        (user-error "`artisan-knowledge-roots' must hold absolute directory names, not %S%s"
                    r (if (string-blank-p r) ""
                        (format " (relative to what? write %S)"
                                (abbreviate-file-name (expand-file-name r "~")))))))
    (dolist (r roots (nreverse result))
      (when (and (stringp r)
                 (or artisan-knowledge-roots (file-directory-p r)))
        (let ((dir (file-name-as-directory (expand-file-name r))))
          (unless (member dir result) (push dir result)))))))

(defun artisan-knowledge--extensions ()
  "Return the extensions to index, without leading dots."
  (artisan-knowledge--check-option 'artisan-knowledge-extensions
                                   #'artisan-knowledge--string-list-p
                                   "a list of extensions such as \"org\"")
  (artisan-knowledge--check-option 'artisan-knowledge-code-extensions
                                   #'artisan-knowledge--string-list-p
                                   "a list of extensions such as \"py\"")
  (delete-dups
   (mapcar (lambda (e) (string-remove-prefix "." e))
           (append artisan-knowledge-extensions
                   (and artisan-knowledge-index-code
                        artisan-knowledge-code-extensions)))))

(defun artisan-knowledge--keyword (word)
  "Return the TODO keyword WORD without a fast-access key such as \"(t)\"."
  (replace-regexp-in-string "(.*\\'" "" word))

(defun artisan-knowledge--todo-keywords ()
  "Return the TODO keywords for the parser."
  (artisan-knowledge--check-option 'artisan-knowledge-todo-keywords
                                   #'artisan-knowledge--string-list-p
                                   "a list of keywords such as \"TODO\"")
  (or (delete "" (mapcar #'artisan-knowledge--keyword artisan-knowledge-todo-keywords))
      (and (boundp 'org-todo-keywords)
           (let (words)
             (dolist (seq org-todo-keywords)
               (dolist (w (cdr-safe seq))
                 (when (and (stringp w) (not (string= w "|")))
                   (push (artisan-knowledge--keyword w) words))))
             (nreverse words)))
      '("TODO" "DONE")))

(defun artisan-knowledge--check-roots (roots)
  "Signal `artisan-index-error' unless ROOTS are existing directories."
  (unless roots
    (signal 'artisan-index-error
            (list (concat "No note directories: set `artisan-knowledge-roots', or set "
                          "`org-directory' or `org-roam-directory' to a directory that exists"))))
  (dolist (r roots)
    (unless (file-directory-p r)
      (signal 'artisan-index-error
              (list (if (file-exists-p (directory-file-name r))
                        (format "The notes directory %s is a file, not a directory (see `artisan-knowledge-roots')"
                                (directory-file-name r))
                      (format "The notes directory %s does not exist" r)))))))

(defun artisan-knowledge-index ()
  "Return the index of the current configuration, opening it if needed.
Signal `artisan-index-error' when the roots are missing."
  (artisan-module-ensure)
  (artisan-knowledge--check-option 'artisan-knowledge-exclude
                                   #'artisan-knowledge--string-list-p
                                   "a list of globs such as \"*.draft.org\"")
  (artisan-knowledge--check-option 'artisan-knowledge-max-file-size
                                   #'natnump "a whole number of bytes")
  (artisan-knowledge--check-option 'artisan-data-directory
                                   #'stringp "a directory name")
  (let* ((roots (artisan-knowledge-root-directories))
         (data (artisan-data-file))
         (key (list roots data (artisan-knowledge--extensions)
                    artisan-knowledge-exclude artisan-knowledge-max-file-size
                    (artisan-knowledge--todo-keywords))))
    (artisan-knowledge--check-roots roots)
    (unless (equal key (car artisan-knowledge--index))
      (condition-case err
          (make-directory data t)
        (file-error
         (signal 'artisan-index-error
                 (list (format "Cannot create `artisan-data-directory' %s: %s"
                               data (error-message-string err))))))
      (setq artisan-knowledge--index
            (cons key (apply #'artisan--index-open key))))
    (cdr artisan-knowledge--index)))

(defun artisan-knowledge--summary (stats)
  "Return a one-line summary of the update STATS plist."
  (format "%d notes, %d indexed, %d removed%s, %d skipped, in %.2f s"
          (plist-get stats :files) (plist-get stats :indexed)
          (plist-get stats :removed)
          (if (> (or (plist-get stats :renamed) 0) 0)
              (format " (%d renamed)" (plist-get stats :renamed)) "")
          (plist-get stats :skipped) (plist-get stats :seconds)))

(defun artisan-knowledge--update (scope files wait description)
  "Update the index in SCOPE (`changed', `rebuild' or `files' with FILES).
With WAIT (always in batch mode) block and return the stats
plist; otherwise run in the background, DESCRIPTION naming it,
and return the job."
  (let* ((index (artisan-knowledge-index))
         (handle (artisan--index-update index scope files)))
    (if (or wait noninteractive)
        (unwind-protect (artisan-job-wait handle description)
          (run-hooks 'artisan-knowledge-after-update-hook))
      (setq artisan-knowledge--update-job
            (artisan-job-start
             handle description
             :on-done (lambda (stats)
                        (message "%s: %s" description (artisan-knowledge--summary stats)))
             :on-error (lambda (err)
                         (message "%s failed: %s" description (error-message-string err)))
             ;; Also when cancelled: the index is then as it was before.
             :finally (lambda (_)
                        (setq artisan-knowledge--update-job nil)
                        (run-hooks 'artisan-knowledge-after-update-hook)))))))

;;;###autoload
(defun artisan-index-update (&optional wait)
  "Update the index of `artisan-knowledge-roots' with what changed.
New and changed notes are parsed and indexed, deleted ones
removed.  Runs in the background with progress in the echo area
\(\\[artisan-cancel-jobs] cancels); with WAIT, or in batch mode,
blocks and returns a plist (:files N :indexed N :removed N
:skipped N :renamed N :seconds S)."
  (interactive)
  (artisan-knowledge--update 'changed nil wait "Updating the notes index"))

;;;###autoload
(defun artisan-index-rebuild (&optional wait)
  "Reindex every note under `artisan-knowledge-roots'.
Like `artisan-index-update' (see there for WAIT and the result),
but every note is parsed and indexed again."
  (interactive)
  (artisan-knowledge--update 'rebuild nil wait "Rebuilding the notes index"))

(defvar artisan-knowledge--built nil
  "The index handle last known to have been built (not fresh).")

(defconst artisan-knowledge--first-build "Indexing notes for the first time"
  "What the first build of the index is called in messages.")

(defun artisan-knowledge-ensure-built (&optional background)
  "Build the index first if it needs it, and return non-nil once it is built.
The index needs a build when no update of the whole index ever
completed (saving single notes does not count), or when the notes
were indexed with other TODO keywords.  This blocks with progress
\(\[keyboard-quit] cancels), unless BACKGROUND is non-nil and Emacs is
interactive: then the build runs in the background, a message says
so, and the return value is nil.  Cheap once the index is known to
be built."
  (let ((index (artisan-knowledge-index)))
    (cond
     ((eq index artisan-knowledge--built) t)
     ((not (artisan--index-fresh index))
      (setq artisan-knowledge--built index)
      t)
     ((and background (not noninteractive))
      (if artisan-knowledge--update-job
          (message "The notes index is being built; search again when it is done")
        (artisan-knowledge--update 'changed nil nil artisan-knowledge--first-build)
        (message "%s in the background; search again when it is done"
                 artisan-knowledge--first-build))
      nil)
     (t
      (artisan-knowledge--update 'changed nil t artisan-knowledge--first-build)
      (setq artisan-knowledge--built index)
      t))))

(defface artisan-match
  '((t :inherit match))
  "Face of the matched words in search snippets."
  :group 'artisan-knowledge)

(defun artisan-knowledge--highlight (snippet highlights)
  "Return a copy of SNIPPET with the face `artisan-match' on some ranges.
HIGHLIGHTS is a list of (FROM . TO) character ranges."
  (let ((s (copy-sequence snippet)))
    (dolist (h highlights s)
      (when (and (<= 0 (car h)) (<= (car h) (cdr h)) (<= (cdr h) (length s)))
        (add-face-text-property (car h) (cdr h) 'artisan-match nil s)))))

;;;###autoload
(defun artisan-search-query (query &optional limit)
  "Search the notes for QUERY and return at most LIMIT results, best first.
LIMIT defaults to 20.  Each result is a plist (:file :line :column
:title :heading :snippet :score ...): FILE is absolute, LINE
1-based, COLUMN a 0-based character offset in the line, HEADING
the outline path of the heading (nil at file level), SNIPPET the
line around the match with the matched words in the face
`artisan-match'.  See the README for the query syntax.  A
malformed QUERY signals `artisan-query-error'.  The index is
built first if it never was."
  (cl-check-type query string)
  (cl-check-type limit (or null natnum))
  (artisan-knowledge-ensure-built)
  (let* ((index (artisan-knowledge-index))
         (results (artisan--index-search index query
                                        (or limit 20) 0)))
    (dolist (r results results)
      (plist-put r :snippet (artisan-knowledge--highlight
                             (plist-get r :snippet) (plist-get r :highlights))))))

(defun artisan-knowledge-search (query limit max-per-file)
  "Search for QUERY, at most LIMIT results and MAX-PER-FILE per file.
Like `artisan-search-query' but without building the index first;
for the interactive commands, which call it on every keystroke."
  (let* ((index (artisan-knowledge-index))
         (results (artisan--index-search index query limit
                                        (or max-per-file 0))))
    (dolist (r results results)
      (plist-put r :snippet (artisan-knowledge--highlight
                             (plist-get r :snippet) (plist-get r :highlights))))))

(defun artisan-knowledge-note-file-p (file)
  "Return non-nil if FILE has a note's extension and is under an index root.
The native side decides whether the walk would index it (hidden,
ignored and excluded folders are not)."
  (and file
       (member (downcase (or (file-name-extension file) ""))
               (mapcar #'downcase (artisan-knowledge--extensions)))
       (let ((true (file-truename file)))
         (catch 'found
           (dolist (root (artisan-knowledge-root-directories))
             (when (or (file-in-directory-p file root)
                       (file-in-directory-p true (file-truename root)))
               (throw 'found t)))
           nil))))

(defun artisan-knowledge-reindex-file (file &optional wait)
  "Reindex just FILE (or remove it, when it no longer exists).
With WAIT, block and return the stats plist; otherwise the work
runs in the background, quietly."
  (let* ((index (artisan-knowledge-index))
         (handle (artisan--index-update index 'files
                                       (list (expand-file-name file)))))
    (if wait
        (unwind-protect (artisan-job-wait handle)
          (run-hooks 'artisan-knowledge-after-update-hook))
      (artisan-job-start handle "Reindexing a note" :quiet t
                         :on-done (lambda (_) (run-hooks 'artisan-knowledge-after-update-hook))))))

(defun artisan-knowledge--after-save ()
  "Reindex the saved buffer's file if it is a note under the roots."
  (when (and buffer-file-name
             (condition-case nil
                 (artisan-knowledge-note-file-p buffer-file-name)
               (error nil)))
    (condition-case err
        (artisan-knowledge-reindex-file buffer-file-name)
      (error (message "artisan: could not reindex %s: %s"
                      (file-name-nondirectory buffer-file-name)
                      (error-message-string err))))))

(defun artisan-knowledge--idle-refresh ()
  "Refresh the whole index quietly, unless an update is running."
  (unless artisan-knowledge--update-job
    (condition-case nil
        (setq artisan-knowledge--update-job
              (artisan-job-start
               (let ((index (artisan-knowledge-index)))
                 (artisan--index-update index 'changed nil))
               "Refreshing the notes index" :quiet t
               :on-done (lambda (_) (run-hooks 'artisan-knowledge-after-update-hook))
               :on-error #'ignore
               :finally (lambda (_) (setq artisan-knowledge--update-job nil))))
      (error nil))))

;;;###autoload
(define-minor-mode artisan-knowledge-mode
  "Keep the artisan notes index fresh.
After a note under `artisan-knowledge-roots' is saved, just that
note is reindexed, in the background.  When
`artisan-knowledge-idle-update' is a number, the whole index is
also refreshed after Emacs has been idle that long."
  :global t
  :group 'artisan-knowledge
  (when artisan-knowledge--idle-timer
    (cancel-timer artisan-knowledge--idle-timer)
    (setq artisan-knowledge--idle-timer nil))
  (if artisan-knowledge-mode
      (progn
        (add-hook 'after-save-hook #'artisan-knowledge--after-save)
        (when (numberp artisan-knowledge-idle-update)
          (setq artisan-knowledge--idle-timer
                (run-with-idle-timer artisan-knowledge-idle-update t
                                     #'artisan-knowledge--idle-refresh))))
    (remove-hook 'after-save-hook #'artisan-knowledge--after-save)))

(provide 'artisan-knowledge)
;;; artisan-knowledge.el ends here
