;;; artisan-test-helpers.el --- Shared helpers for the artisan specs  -*- lexical-binding: t; -*-

;;; Commentary:

;; Paths of the checkout, temporary directories, and child Emacs
;; processes for tests that need a pristine Emacs or could crash one.

;;; Code:

(require 'buttercup)
(require 'cl-lib)

(defconst artisan-test-root
  (file-name-as-directory
   (expand-file-name ".." (file-name-directory
                           (or load-file-name buffer-file-name))))
  "Root of the emacs-artisan checkout.")

(defconst artisan-test-lisp-dir (expand-file-name "lisp/" artisan-test-root)
  "The package's Lisp directory.")

(defconst artisan-test-corpora
  (file-name-as-directory
   (expand-file-name (or (getenv "ARTISAN_CORPORA") "../shared/corpora/")
                     artisan-test-root))
  "The shared real note corpora (read-only): $ARTISAN_CORPORA or ../shared/corpora.")

(defun artisan-test-corpora-p ()
  "Return non-nil when the real corpora are available."
  (and (file-directory-p (expand-file-name "worg" artisan-test-corpora))
       (file-directory-p (expand-file-name "dendron" artisan-test-corpora))))

(defun artisan-test-require-corpora ()
  "Skip the current spec, saying why, when the real corpora are missing."
  (unless (artisan-test-corpora-p)
    (buttercup-skip (format "the real corpora are not in %s (set ARTISAN_CORPORA)"
                            artisan-test-corpora))))

(defmacro artisan-test-corpus-it (description &rest body)
  "A spec with DESCRIPTION and BODY, skipped when the corpora are missing."
  (declare (indent 1))
  `(it ,description (artisan-test-require-corpora) ,@body))

(defun artisan-test-emacs ()
  "Return the file name of the running Emacs binary."
  (expand-file-name invocation-name invocation-directory))

(defun artisan-test-child (form &rest emacs-args)
  "Evaluate FORM in a fresh `emacs -Q --batch' with lisp/ on the load path.
EMACS-ARGS come first, so a directory they add with -L is searched
before lisp/.  Return (EXIT-CODE . OUTPUT),
OUTPUT being stdout and stderr together."
  (with-temp-buffer
    (let* ((process-environment (cons "LC_ALL=C.UTF-8" process-environment))
           (code (apply #'call-process (artisan-test-emacs) nil t nil
                        (append (list "-Q" "--batch")
                                emacs-args
                                (list "-L" artisan-test-lisp-dir
                                      "--eval" (prin1-to-string form))))))
      (cons code (buffer-string)))))

(defmacro artisan-test-with-temp-dir (var &rest body)
  "Bind VAR to a fresh temporary directory while running BODY, then delete it."
  (declare (indent 1) (debug (symbolp body)))
  `(let ((,var (file-name-as-directory (make-temp-file "artisan-test-" t))))
     (unwind-protect (progn ,@body)
       (delete-directory ,var t))))

(defun artisan-test-write-file (file content)
  "Write CONTENT to FILE, creating its directory; return FILE."
  (make-directory (file-name-directory file) t)
  (let ((coding-system-for-write 'utf-8-unix))
    (write-region content nil file nil 'silent))
  file)

(defun artisan-test-count-matches (regexp string)
  "Return how many times REGEXP matches in STRING."
  (let ((count 0) (start 0))
    (while (and string (string-match regexp string start))
      (setq count (1+ count) start (match-end 0)))
    count))

(defun artisan-test-ensure-module ()
  "Load the native module in this Emacs, failing the spec if it cannot."
  (require 'artisan-module)
  (artisan-module-ensure))

(provide 'artisan-test-helpers)
;;; artisan-test-helpers.el ends here
