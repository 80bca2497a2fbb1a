;;; run-tests.el --- Run the buttercup specs of emacs-artisan  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage: emacs --batch -L lisp -L test -l test/run-tests.el
;;
;; Loads every test/*-test.el (or those matching $ARTISAN_TESTS, a
;; regexp), runs them with buttercup's batch reporter, and ends with a
;; plain "N passed, N failed" line that CI counts.  Exits non-zero when
;; a spec failed.

;;; Code:

(unless (locate-library "buttercup")
  (require 'package)
  (package-initialize))
(require 'buttercup)

;; Every temporary file and directory of the run (specs, child Emacs
;; processes, native code) goes to one scratch directory, removed at exit,
;; so that a spec that forgets to clean up leaves nothing behind.
(let ((scratch (make-temp-file "artisan-tests-" t)))
  (setq temporary-file-directory (file-name-as-directory scratch))
  (setenv "TMPDIR" scratch)
  (add-hook 'kill-emacs-hook (lambda () (delete-directory scratch t))))

(defvar artisan-run-tests--counts nil
  "Alist of spec status to count, filled when the run is done.")

(defun artisan-run-tests--reporter (event arg)
  "Report EVENT with ARG like buttercup's batch reporter, then count."
  (buttercup-reporter-batch event arg)
  (when (eq event 'buttercup-done)
    (setq artisan-run-tests--counts
          (mapcar (lambda (status)
                    (cons status (buttercup-suites-total-specs-status arg status)))
                  '(passed failed pending)))))

(let* ((dir (file-name-directory (or load-file-name buffer-file-name)))
       (pattern (getenv "ARTISAN_TESTS"))
       (files (directory-files dir t "-test\\.el\\'")))
  (dolist (file files)
    (when (or (null pattern) (string= pattern "")
              (string-match-p pattern (file-name-nondirectory file)))
      (load file nil t)))
  ;; Buttercup records a spec's errors through `debugger', so the run
  ;; must not be wrapped in a `condition-case' that would catch them first.
  (let ((buttercup-reporter #'artisan-run-tests--reporter)
        (buttercup-color nil))
    (buttercup-run t)
    (let ((passed (or (alist-get 'passed artisan-run-tests--counts) 0))
          (failed (or (alist-get 'failed artisan-run-tests--counts) 0))
          (pending (or (alist-get 'pending artisan-run-tests--counts) 0)))
      (unless (zerop pending)
        (message "(%d specs skipped or pending)" pending))
      (message "%d passed, %d failed" passed failed)
      (kill-emacs (if (zerop failed) 0 1)))))

;;; run-tests.el ends here
