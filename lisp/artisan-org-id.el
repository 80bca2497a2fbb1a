;;; artisan-org-id.el --- Follow id: links through the artisan link graph  -*- lexical-binding: t; -*-

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

;; `artisan-insert-link' writes [[id:ID][Title]] links, and the link
;; graph knows where every ID under `artisan-knowledge-roots' is.  Org
;; alone does not: without org-roam, `C-c C-o' on such a link asks
;; "No match - create this as a new heading?" (Org has not loaded
;; org-id, which defines the id: link type), or after (require 'org-id)
;; says "Cannot find entry with ID" (the ID is not in
;; `org-id-locations').
;;
;; When an Org buffer is set up, `artisan-org-id-setup' (run from
;; `org-mode-hook' by artisan.el, unless `artisan-org-id-links' is nil)
;; does two small things:
;;
;; - when no id: link type is defined yet, it defines one whose :follow
;;   loads org-id and calls `org-id-open', so Org's own code (mark ring,
;;   revealing the entry) does the visiting;
;; - it adds a fallback to `org-id-find': an ID that org-id's own
;;   database does not know is looked up in the artisan link graph.
;;
;; Where org-roam is active, its own :follow and database answer first,
;; and reach `org-id-find' (and so this fallback) only for IDs they do
;; not know: nothing of org-roam's handling is replaced.

;;; Code:

(require 'artisan)
(require 'artisan-module)

(declare-function artisan-graph-node "artisan-graph")
(declare-function artisan-module-locate "artisan-module")
(declare-function org-link-get-parameter "ol")
(declare-function org-link-set-parameters "ol")
(declare-function org-id-open "org-id")
(defvar org-id-locations)

(defun artisan-org-id--follow (id &optional arg)
  "Open the entry with ID, as Org's own id: links do.
Loads org-id, whose `org-id-open' does the visiting, with ARG."
  (require 'org-id)
  (org-id-open id arg))

(defun artisan-org-id-location (id &optional markerp)
  "Return where the link graph says ID is: (FILE . POSITION), or nil.
With MARKERP, return a marker instead, as `org-id-find' does.  IDs
outside the notes, or when the graph cannot be read, give nil."
  (let ((node (condition-case nil
                  (and (stringp id) (not (string-blank-p id))
                       ;; Never start a build of the module to follow a link.
                       (or (featurep 'artisan-dyn) (artisan-module-locate))
                       (progn (require 'artisan-graph)
                              (artisan-graph-node id)))
                (error nil))))
    (when (and node (file-exists-p (plist-get node :file)))
      (let* ((file (plist-get node :file))
             (buffer (find-file-noselect file))
             (pos (with-current-buffer buffer
                    (save-restriction
                      (widen)
                      (save-excursion
                        (goto-char (point-min))
                        (forward-line (1- (max 1 (or (plist-get node :line) 1))))
                        (point))))))
        (if markerp
            (with-current-buffer buffer (copy-marker pos))
          (cons file pos))))))

(defun artisan-org-id--find (find id &optional markerp)
  "Around advice for `org-id-find' (FIND), with its ID and MARKERP.
An ID that `org-id-locations' does not hold is looked up in the
link graph first; anything else, and IDs the graph does not know,
are left to FIND."
  (let ((known (and (hash-table-p (bound-and-true-p org-id-locations))
                    (gethash (if (symbolp id) (symbol-name id) id) org-id-locations))))
    (or (and (not known) (stringp id) (artisan-org-id-location id markerp))
        (funcall find id markerp))))

;;;###autoload
(defun artisan-org-id-setup ()
  "Let Org follow id: links through the artisan link graph.
Defines the id: link type when Org has none yet (it loads org-id
when followed), and makes `org-id-find' ask the graph for IDs that
org-id does not know.  Run from `org-mode-hook' when
`artisan-org-id-links' is non-nil; running it again does nothing
more."
  (when (and (fboundp 'org-link-set-parameters)
             (not (org-link-get-parameter "id" :follow)))
    (org-link-set-parameters "id" :follow #'artisan-org-id--follow))
  ;; Advice on a function org-id has not defined yet applies once it is.
  (advice-add 'org-id-find :around #'artisan-org-id--find))

(defun artisan-org-id-unload-function ()
  "Remove the `org-id-find' advice when this file is unloaded."
  (advice-remove 'org-id-find #'artisan-org-id--find)
  nil)

(provide 'artisan-org-id)
;;; artisan-org-id.el ends here
