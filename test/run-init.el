;;; run-init.el --- What `make run' loads: artisan on example notes  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make run' starts `emacs -Q -L lisp -l test/run-init.el'.  Notes come
;; from $ARTISAN_NOTES (make run NOTES=~/notes) or the bundled
;; test/example-notes; everything artisan writes goes to .run/ in the
;; checkout, so your own ~/.emacs.d is untouched.

;;; Code:

(let* ((root (file-name-as-directory
              (expand-file-name ".." (file-name-directory load-file-name))))
       (notes (getenv "ARTISAN_NOTES"))
       (notes (file-name-as-directory
               (expand-file-name (if (and notes (not (string= notes "")))
                                     notes
                                   "test/example-notes")
                                 root))))
  (unless (file-directory-p notes)
    (error "NOTES directory %s does not exist" notes))
  (setq inhibit-startup-screen t
        artisan-data-directory (expand-file-name ".run/data/" root)
        artisan-knowledge-roots (list notes))
  (require 'artisan)
  (artisan-module-ensure)
  (require 'artisan-search)
  (artisan-knowledge-mode 1)
  ;; Index in the background; searching before it is done waits for it.
  (artisan-index-update)
  (with-current-buffer (get-buffer-create "*artisan*")
    (let ((inhibit-read-only t))
      (erase-buffer)
      (insert (format "emacs-artisan %s, native module loaded from\n  %s\n\n"
                      artisan-version artisan-module--file))
      (insert (format "Notes: %s\nData:  %s\n\n" notes artisan-data-directory))
      (insert "Try:\n")
      (dolist (cmd '(artisan-search artisan-search-results artisan-index-status
                     artisan-index-update artisan-index-rebuild
                     artisan-find-node artisan-insert-link artisan-backlinks
                     artisan-backlinks-mode artisan-graph-report artisan-graph-view
                     artisan-graph-export
                     artisan-startup-profile artisan-startup-report artisan-startup-history
                     artisan-gc-monitor-mode artisan-gc-report artisan-module-info))
        (when (commandp cmd)
          (insert (format "  M-x %s\n" cmd)))))
    (special-mode)
    (switch-to-buffer (current-buffer))))

;;; run-init.el ends here
