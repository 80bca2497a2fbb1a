;;; bench.el --- Benchmark harness for emacs-artisan  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make bench' loads this file and calls `artisan-bench-run-all', which
;; loads every test/bench/bench-*.el, runs the benchmarks they define
;; with `artisan-bench-define' (those whose name matches $ARTISAN_BENCH,
;; a regexp, when set), and prints one Org table: what was measured, on
;; what corpus, median and p95, the obvious alternative measured in the
;; same run, their ratio, and the budget from ../shared/design.md.  The
;; table is also written to test/bench/out/results.org.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defconst artisan-bench-root
  (file-name-as-directory
   (expand-file-name "../.." (file-name-directory (or load-file-name buffer-file-name))))
  "Root of the checkout.")

(defconst artisan-bench-out (expand-file-name "test/bench/out/" artisan-bench-root)
  "Directory for benchmark outputs and generated corpora.")

(defvar artisan-bench--registry nil
  "Benchmarks as (NAME DOC FUNCTION), in definition order.")

(defvar artisan-bench--rows nil
  "Result rows, in reverse order.")

(defmacro artisan-bench-define (name doc &rest body)
  "Define the benchmark NAME (a string) described by DOC, running BODY."
  (declare (indent 2) (doc-string 2))
  `(setq artisan-bench--registry
         (append (cl-remove ,name artisan-bench--registry :key #'car :test #'equal)
                 (list (list ,name ,doc (lambda () ,@body))))))

(defun artisan-bench-percentile (samples p)
  "Return the P-th percentile (0-100) of SAMPLES, nearest-rank."
  (let* ((sorted (sort (copy-sequence samples) #'<))
         (n (length sorted))
         (rank (max 1 (ceiling (* (/ p 100.0) n)))))
    (nth (1- (min n rank)) sorted)))

(defun artisan-bench-median (samples)
  "Return the median of SAMPLES."
  (let* ((sorted (sort (copy-sequence samples) #'<))
         (n (length sorted)))
    (if (cl-oddp n)
        (nth (/ n 2) sorted)
      (/ (+ (nth (1- (/ n 2)) sorted) (nth (/ n 2) sorted)) 2.0))))

(defun artisan-bench-time-ms (function)
  "Call FUNCTION and return the wall time it took, in milliseconds."
  (let ((start (current-time)))
    (funcall function)
    (* 1000.0 (float-time (time-subtract (current-time) start)))))

(defun artisan-bench-generated-corpus (n)
  "Return the directory of the generated N-note collection, generating it once.
Collections come from test/bench/gen-corpus.py (deterministic) and
are cached in test/bench/out/corpora/gen-N/."
  (let ((dir (expand-file-name (format "corpora/gen-%d/" n) artisan-bench-out)))
    (unless (file-exists-p (expand-file-name "manifest.json" dir))
      (message "  generating %d notes in %s..." n dir)
      (with-temp-buffer
        (unless (eq 0 (call-process "python3" nil t nil
                                    (expand-file-name "test/bench/gen-corpus.py" artisan-bench-root)
                                    "--notes" (number-to-string n) "--out" dir))
          (error "gen-corpus.py failed for %d notes: %s" n (buffer-string)))))
    dir))

(defun artisan-bench-warm (dir)
  "Read every file under DIR once, so that timings start from a warm page cache."
  (call-process "sh" nil nil nil "-c"
                (format "find %s -type f -exec cat {} + > /dev/null"
                        (shell-quote-argument dir))))

(defun artisan-bench-emacs ()
  "Return the running Emacs binary."
  (expand-file-name invocation-name invocation-directory))

(defun artisan-bench-child (form &rest emacs-args)
  "Evaluate FORM in `emacs -Q --batch -L lisp' and return its stdout.
EMACS-ARGS are inserted before the --eval.  Signal if it fails."
  (with-temp-buffer
    (let ((code (apply #'call-process (artisan-bench-emacs) nil (list t nil) nil
                       (append (list "-Q" "--batch" "-L"
                                     (expand-file-name "lisp" artisan-bench-root))
                               emacs-args
                               (list "--eval" (prin1-to-string form))))))
      (unless (eq code 0)
        (error "Child Emacs failed (%s): %s" code (buffer-string)))
      (buffer-string))))

(defun artisan-bench-child-number (form &rest emacs-args)
  "Evaluate FORM in a child Emacs (see `artisan-bench-child'); read a number."
  (let ((out (apply #'artisan-bench-child form emacs-args)))
    (if (string-match "ARTISAN-BENCH=\\([-0-9.e+]+\\)" out)
        (string-to-number (match-string 1 out))
      (error "No ARTISAN-BENCH= in child output: %s" out))))

(cl-defun artisan-bench-add-row (&key what corpus samples (unit "ms")
                                      alt alt-samples budget note)
  "Record a result row.
WHAT is the measurement, CORPUS what it ran on, SAMPLES the
measurements in UNIT.  ALT names the alternative measured in the
same run and ALT-SAMPLES its measurements.  BUDGET is a
string like \"< 5 ms\" or nil, NOTE free text."
  (let* ((median (artisan-bench-median samples))
         (p95 (artisan-bench-percentile samples 95))
         (alt-median (and alt-samples (artisan-bench-median alt-samples)))
         (row (list :what what :corpus corpus :n (length samples)
                    :median median :p95 p95 :unit unit :alt alt
                    :alt-median alt-median
                    :alt-p95 (and alt-samples (artisan-bench-percentile alt-samples 95))
                    :ratio (and alt-median (> alt-median 0) (/ median alt-median))
                    :budget budget :note note)))
    (push row artisan-bench--rows)
    (message "  %s [%s]: median %s %s, p95 %s%s" what corpus
             (artisan-bench--num median) unit (artisan-bench--num p95)
             (if alt-median (format "; %s: %s %s" alt (artisan-bench--num alt-median) unit) ""))
    row))

(defun artisan-bench--num (x)
  "Format the number X compactly."
  (cond ((null x) "")
        ((>= (abs x) 100) (format "%.0f" x))
        ((>= (abs x) 10) (format "%.1f" x))
        ((>= (abs x) 1) (format "%.2f" x))
        (t (format "%.3f" x))))

(defun artisan-bench--table ()
  "Return the results as an Org table string."
  (concat
   "| Benchmark | Corpus | n | median | p95 | alternative (same run) | alt. median | ours ÷ alt. | budget |\n"
   "|-\n"
   (mapconcat
    (lambda (r)
      (let ((unit (plist-get r :unit)))
        (format "| %s | %s | %d | %s %s | %s %s | %s | %s | %s | %s |"
                (if (plist-get r :note)
                    (format "%s (%s)" (plist-get r :what) (plist-get r :note))
                  (plist-get r :what))
                (plist-get r :corpus) (plist-get r :n)
                (artisan-bench--num (plist-get r :median)) unit
                (artisan-bench--num (plist-get r :p95)) unit
                (or (plist-get r :alt) "")
                (if (plist-get r :alt-median)
                    (format "%s %s" (artisan-bench--num (plist-get r :alt-median)) unit)
                  "")
                (if (plist-get r :ratio) (format "%.3g" (plist-get r :ratio)) "")
                (or (plist-get r :budget) ""))))
    (reverse artisan-bench--rows) "\n")
   "\n"))

(defun artisan-bench-run-all ()
  "Load test/bench/bench-*.el, run the selected benchmarks, print the table."
  (let ((pattern (getenv "ARTISAN_BENCH")))
    (make-directory artisan-bench-out t)
    (dolist (file (directory-files (expand-file-name "test/bench/" artisan-bench-root)
                                   t "\\`bench-.*\\.el\\'"))
      (load file nil t))
    (dolist (entry artisan-bench--registry)
      (when (or (null pattern) (string= pattern "")
                (string-match-p pattern (car entry)))
        (message "== %s: %s" (car entry) (cadr entry))
        (funcall (nth 2 entry))))
    (let ((table (artisan-bench--table))
          (header (format "# emacs-artisan %s, %s, Emacs %s, %d cores, %s\n"
                          (with-temp-buffer
                            (insert-file-contents (expand-file-name "Cargo.toml" artisan-bench-root))
                            (if (re-search-forward "^version = \"\\([^\"]+\\)\"" nil t)
                                (match-string 1) "?"))
                          (format-time-string "%Y-%m-%d %H:%M")
                          emacs-version (num-processors) system-configuration)))
      (with-temp-file (expand-file-name "results.org" artisan-bench-out)
        (insert header "\n" table))
      (princ (concat "\n" header "\n" table)))))

(provide 'bench)
;;; bench.el ends here
