;;; lint.el --- checkdoc and package-lint for emacs-artisan  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage: emacs --batch -L lisp -l test/lint.el FILE...
;; Runs checkdoc and package-lint on each FILE and exits non-zero on any
;; complaint.

;;; Code:

(require 'checkdoc)
(unless (locate-library "package-lint")
  (require 'package)
  (package-initialize))
(require 'package-lint)

(defvar artisan-lint--problems 0
  "Number of problems found so far.")

(defun artisan-lint--checkdoc (file)
  "Run checkdoc on FILE, printing and counting its complaints."
  (let ((checkdoc-create-error-function
         (lambda (text start _end &optional _unfixable)
           (setq artisan-lint--problems (1+ artisan-lint--problems))
           (message "%s:%d: checkdoc: %s" file
                    (line-number-at-pos start) text)
           nil))
        (checkdoc-autofix-flag 'never)
        (checkdoc-arguments-in-order-flag t)
        (checkdoc-verb-check-experimental-flag nil))
    (with-current-buffer (find-file-noselect file)
      (emacs-lisp-mode)
      (checkdoc-current-buffer t))))

(defconst artisan-lint--ignored
  '(;; package-lint 0.16 (Debian 12) predates Emacs 28.1 (April 2022)
    ;; and calls any dependency on Emacs 28 "uninstallable"; later
    ;; package-lint releases dropped this rule.
    "This makes the package uninstallable in all released Emacs versions.")
  "Package-lint messages that are known false positives.")

(defun artisan-lint--package-lint (file)
  "Run package-lint on FILE, printing and counting its complaints."
  (let ((package-lint-main-file (expand-file-name "lisp/artisan.el")))
    (with-current-buffer (find-file-noselect file)
      (emacs-lisp-mode)
      (dolist (issue (package-lint-buffer))
        (pcase-let ((`(,line ,col ,type ,message) issue))
          (unless (member message artisan-lint--ignored)
            (message "%s:%d:%d: package-lint %s: %s" file line col type message)
            (setq artisan-lint--problems (1+ artisan-lint--problems))))))))

(dolist (file command-line-args-left)
  (artisan-lint--checkdoc file)
  (artisan-lint--package-lint file))
(setq command-line-args-left nil)
(message "lint: %d problem(s)" artisan-lint--problems)
(kill-emacs (if (zerop artisan-lint--problems) 0 1))

;;; lint.el ends here
