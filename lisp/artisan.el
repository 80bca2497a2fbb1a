;;; artisan.el --- Fast notes search, link graph and start-up profiling  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The emacs-artisan authors

;; Author: The emacs-artisan authors
;; Maintainer: The emacs-artisan authors
;; URL: https://github.com/emacs-artisan/emacs-artisan
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: outlines, hypermedia, matching, files, tools
;; SPDX-License-Identifier: GPL-3.0-or-later

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

;; emacs-artisan makes Emacs fast at what Emacs Lisp does slowly.  A Rust
;; dynamic module does the heavy work; this package owns every command,
;; option and message.
;;
;; Requiring `artisan' is cheap: it defines the customization group, the
;; error symbols and autoloads, and loads no native code.  The module is
;; found, built if needed, loaded and version-checked the first time a
;; command needs it (see `artisan-module-ensure').
;;
;; Start with \\[artisan-module-info] to see where the module comes from.

;;; Code:

(defgroup artisan nil
  "Fast notes search, link graph and start-up profiling."
  :group 'tools
  :link '(url-link "https://github.com/emacs-artisan/emacs-artisan")
  :prefix "artisan-")

(defconst artisan-version "0.1.0"
  "Version of the artisan Lisp package.
The native module must report the same version; see
`artisan-module-ensure'.")

(defcustom artisan-data-directory
  (expand-file-name "artisan/" user-emacs-directory)
  "Directory where artisan keeps everything it writes.
Indexes, the installed native module, profiles and their history
live below it.  It is created when first needed."
  :type 'directory
  :group 'artisan)

;; The root of the error tree, and the loader's own error: both must exist
;; before the native module is loaded (it may not exist yet).  The module
;; defines the rest of the tree, and these two again, identically.
(define-error 'artisan-error "Artisan error")
(define-error 'artisan-module-error "Artisan module error" 'artisan-error)

(defun artisan-data-file (&rest components)
  "Return the absolute file name of COMPONENTS below `artisan-data-directory'.
COMPONENTS are joined with `expand-file-name' from left to right.
Signal a `user-error' naming the option when it is not an absolute
directory name (an empty or relative one would write into whatever
directory is current)."
  (unless (and (stringp artisan-data-directory)
               (not (string-blank-p artisan-data-directory))
               (or (file-name-absolute-p artisan-data-directory)
                   (string-prefix-p "~" artisan-data-directory)))
    (user-error "`artisan-data-directory' must be an absolute directory name, not %S"
                artisan-data-directory))
  (let ((file (file-name-as-directory
               (expand-file-name artisan-data-directory))))
    (dolist (c components file)
      (setq file (expand-file-name c (file-name-as-directory file))))))

;; Autoloads for a checkout used with `(require 'artisan)' and no package
;; manager.  Installed packages also get these from artisan-autoloads.el.
(autoload 'artisan-module-ensure "artisan-module"
  "Load the artisan native module, building it first when needed.")
(autoload 'artisan-module-build "artisan-module"
  "Build the artisan native module with cargo, install and load it." t)
(autoload 'artisan-module-info "artisan-module"
  "Show where the artisan native module comes from and how it was built." t)

(autoload 'artisan-cancel-jobs "artisan-job"
  "Cancel every running artisan background job." t)
(autoload 'artisan-index-update "artisan-knowledge"
  "Update the index of `artisan-knowledge-roots' with what changed." t)
(autoload 'artisan-index-rebuild "artisan-knowledge"
  "Reindex every note under `artisan-knowledge-roots'." t)
(autoload 'artisan-search-query "artisan-knowledge"
  "Search the notes for QUERY and return at most LIMIT results, best first.")
(autoload 'artisan-knowledge-mode "artisan-knowledge"
  "Keep the artisan notes index fresh." t)
(autoload 'artisan-search "artisan-search"
  "Search the notes as you type and visit the chosen match." t)
(autoload 'artisan-search-results "artisan-search"
  "Show the results of the notes search QUERY in a `next-error' buffer." t)
(autoload 'artisan-index-status "artisan-search"
  "Show the notes index: roots, files, documents, size, last update, skipped files." t)
(autoload 'artisan-find-node "artisan-graph"
  "Find a note or heading by title, alias or tag, and visit it." t)
(autoload 'artisan-insert-link "artisan-graph"
  "Insert a link to a node chosen by title, alias or tag." t)
(autoload 'artisan-backlinks "artisan-graph"
  "Return the backlinks of NODE: every link pointing at it." t)
(autoload 'artisan-backlinks-mode "artisan-graph"
  "Keep the backlinks window following point." t)
(autoload 'artisan-graph-report "artisan-graph"
  "Show dead links, orphan notes and duplicate titles and IDs of the link graph." t)
(autoload 'artisan-graph-view "artisan-graph"
  "Show the neighbourhood of NODE, DEPTH hops, as a picture." t)
(autoload 'artisan-graph-export "artisan-graph"
  "Write the link graph as FORMAT, `dot' or `json', to FILE." t)
(autoload 'artisan-nodes "artisan-graph"
  "Return every node of the link graph as a plist.")
(autoload 'artisan-graph-load-in-background "artisan-graph"
  "Start loading the link graph on a worker thread, unless it is loaded.")

(defcustom artisan-graph-preload t
  "Non-nil means load the link graph while Emacs is idle.
When `artisan-knowledge-mode' is turned on, the link graph of the
notes is loaded on a worker thread after a second of idleness, so
the first \\[artisan-find-node] or \\[artisan-backlinks] does not wait
for it (about 0.3 s per 10,000 notes).  Nothing is loaded while
the native module still has to be built."
  :type 'boolean
  :group 'artisan)

(defun artisan-graph-preload-when-idle ()
  "Load the link graph when Emacs is idle, if `artisan-graph-preload' says so.
Runs from `artisan-knowledge-mode-hook'."
  (when (and artisan-graph-preload (bound-and-true-p artisan-knowledge-mode))
    (run-with-idle-timer 1 nil #'artisan-graph-load-in-background)))

(add-hook 'artisan-knowledge-mode-hook #'artisan-graph-preload-when-idle)

(defcustom artisan-org-id-links t
  "Non-nil means Org follows id: links to notes through the link graph.
When an Org buffer is first set up, `artisan-org-id-setup' defines
the id: link type when Org has none yet and lets `org-id-find' ask
the link graph for IDs org-id does not know, so links
`artisan-insert-link' writes open in a plain Emacs without org-roam.
org-roam's own handling is never replaced."
  :type 'boolean
  :group 'artisan)

(autoload 'artisan-org-id-setup "artisan-org-id"
  "Let Org follow id: links through the artisan link graph.")

(defun artisan-org-id-links-setup ()
  "Run `artisan-org-id-setup' if `artisan-org-id-links' says so.
On `org-mode-hook': links are followed from Org buffers."
  (when artisan-org-id-links
    (artisan-org-id-setup)))

(add-hook 'org-mode-hook #'artisan-org-id-links-setup)

(autoload 'artisan-startup-profile "artisan-startup"
  "Profile the start-up of your Emacs configuration." t)
(autoload 'artisan-startup-report "artisan-startup"
  "Show a start-up profile as a tree." t)
(autoload 'artisan-startup-history "artisan-startup"
  "Chart start-up time over the past profiles." t)
(autoload 'artisan-startup-compare "artisan-startup"
  "Compare two start-up profiles." t)
(autoload 'artisan-gc-monitor-mode "artisan-gc"
  "Record every garbage collection of this session." t)
(autoload 'artisan-gc-report "artisan-gc"
  "Show garbage collection statistics and a suggestion." t)
(autoload 'artisan-pause-mode "artisan-pause"
  "Find out why Emacs paused, as it happens, at almost no cost." t)
(autoload 'artisan-pause-sources "artisan-pause"
  "Return every source the monitor saw, worst first, as plists.")
(autoload 'artisan-pause-events "artisan-pause"
  "Return the pauses the monitor keeps, oldest first, as plists.")
(autoload 'artisan-pause-silence "artisan-pause"
  "Never announce pauses of SOURCE again in this session." t)
(autoload 'artisan-pause-report "artisan-pause-report"
  "Show the sources of pauses `artisan-pause-mode' saw, worst first." t)
(autoload 'artisan-pause-history "artisan-pause-report"
  "Show pauses per day over the last DAYS days." t)
(autoload 'artisan-buffer-cleanup "artisan-pause-health"
  "Offer to kill the buffers not shown for AGE days, listing them first." t)

(provide 'artisan)
;;; artisan.el ends here
