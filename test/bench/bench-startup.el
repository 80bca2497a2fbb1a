;;; bench-startup.el --- The start-up profiler: overhead, accuracy, duration  -*- lexical-binding: t; -*-

;;; Commentary:

;; On the fixture configuration (test/fixtures/startup/basic) and on a
;; realistic one (test/fixtures/startup/realistic: org, magit, company,
;; vertico, consult, marginalia, which-key from Debian, with use-package):
;;
;; - the probe's overhead: start-up (process start to settled) with the
;;   probe, against the same start-up with only the exit after settling
;;   (bare mode), runs interleaved;
;; - agreement with an outside stopwatch: hyperfine timing the same
;;   start-up under script(1) (for a terminal), against the profiler's
;;   wall time of the same command;
;; - how long a 10-run profile (plus its warm-up run) takes.
;;
;; The children use TERM=screen-256color so that Emacs asks the terminal
;; nothing: under script(1) no terminal would answer.

;;; Code:

(require 'bench)
(require 'artisan-startup)
(require 'json)

(defvar artisan-bench-startup-runs 20
  "Runs with and without the probe, per configuration.")

(defvar artisan-bench-startup-configs '("basic" "realistic")
  "Fixture configurations benchmarked.")

(defconst artisan-bench-startup--env
  '("TERM=screen-256color" "EMACS_INHIBIT_AUTOMATIC_NATIVE_COMPILATION=1")
  "Environment of the benchmarked children.")

(defun artisan-bench-startup--config (name)
  "Return a fresh copy of the fixture configuration NAME."
  (let ((dir (expand-file-name (concat "startup/" name "/") artisan-bench-out)))
    (when (file-directory-p dir) (delete-directory dir t))
    (make-directory (file-name-directory (directory-file-name dir)) t)
    (copy-directory (expand-file-name (concat "test/fixtures/startup/" name "/")
                                      artisan-bench-root)
                    dir nil t t)
    dir))

(defun artisan-bench-startup--available-p (name)
  "Non-nil if the configuration NAME can run here."
  (or (not (equal name "realistic"))
      (cl-every #'locate-library '("use-package" "magit" "company" "vertico"
                                   "consult" "marginalia" "which-key"))))

(defun artisan-bench-startup--once (dir &rest args)
  "Run one child of the configuration DIR with ARGS; return the result."
  (apply #'artisan-startup-profile
         :runs 1 :warmup 0 :record nil :wait t :ui 'tty
         :init-directory dir :env artisan-bench-startup--env args))

(artisan-bench-define "startup-overhead"
    "Start-up with the probe against the same start-up without it"
  (dolist (name artisan-bench-startup-configs)
    (when (artisan-bench-startup--available-p name)
      (let ((dir (artisan-bench-startup--config name))
            with without estimated pairs)
        ;; Warm the caches.
        (artisan-bench-startup--once dir)
        (artisan-bench-startup--once dir :mode 'bare)
        (dotimes (_ artisan-bench-startup-runs)
          (let ((p (artisan-bench-startup--once dir)))
            (push (plist-get p :total-ms) with)
            (push (plist-get p :overhead-ms) estimated))
          (push (plist-get (car (artisan-bench-startup--once dir :mode 'bare)) :total-ms)
                without)
          (push (/ (car with) (car without)) pairs))
        (artisan-bench-add-row
         :what "Start-up with the probe (process start to settled)"
         :corpus name :samples with
         :alt "same start-up, no probe" :alt-samples without
         :budget "< 1.03 (3%)"
         :note "ratio is the probe's overhead")
        (artisan-bench-add-row
         :what "Probe overhead, pair by pair (with ÷ without, adjacent runs)"
         :corpus name :samples pairs :unit "×" :budget "< 1.03")
        (artisan-bench-add-row
         :what "Probe cost as the profile itself estimates it"
         :corpus name :samples estimated)))))

(defun artisan-bench-startup--probe-dir (dir)
  "Write a directory whose subdirs.el loads the probe; return it.
DIR is where to put it."
  (let ((probe-dir (expand-file-name "probe/" dir)))
    (make-directory probe-dir t)
    (with-temp-file (expand-file-name "subdirs.el" probe-dir)
      (insert (format "(let ((native-comp-deferred-compilation nil)) (load %S t t))\n"
                      (file-name-sans-extension (artisan-startup--probe-file)))))
    probe-dir))

(defun artisan-bench-startup--hyperfine (command runs warmup)
  "Time COMMAND (a list of strings) RUNS times with hyperfine, after WARMUP.
Return the run times in milliseconds."
  (let ((json-file (make-temp-file "artisan-hyperfine-" nil ".json")))
    (unwind-protect
        (progn
          (with-temp-buffer
            (unless (eq 0 (call-process "hyperfine" nil t nil "-N"
                                        "--warmup" (number-to-string warmup)
                                        "--runs" (number-to-string runs)
                                        "--export-json" json-file
                                        (mapconcat #'shell-quote-argument command " ")))
              (error "Hyperfine failed: %s" (buffer-string))))
          (let* ((json-object-type 'plist)
                 (json-array-type 'list)
                 (data (json-read-file json-file)))
            (mapcar (lambda (s) (* 1000 s))
                    (plist-get (car (plist-get data :results)) :times))))
      (delete-file json-file))))

(artisan-bench-define "startup-hyperfine"
    "The profiler's wall time and total against hyperfine's, same start-up"
  (if (not (and (executable-find "hyperfine") (executable-find "script")))
      (message "  hyperfine or script(1) missing: skipped")
    (dolist (name artisan-bench-startup-configs)
      (when (artisan-bench-startup--available-p name)
        (let* ((dir (artisan-bench-startup--config name))
               (work (make-temp-file "artisan-bench-startup-" t))
               (probe-dir (artisan-bench-startup--probe-dir work))
               (emacs (expand-file-name invocation-name invocation-directory))
               (env (append (list (concat "EMACSLOADPATH=" probe-dir ":")
                                  "ARTISAN_PROBE_MODE=bare"
                                  (concat "ARTISAN_PROBE_OUT=" work "/bare.jsonl")
                                  (concat "ARTISAN_PROBE_INIT_DIR=" dir))
                            artisan-bench-startup--env))
               (inner (mapconcat #'shell-quote-argument
                                 (append '("env") env (list emacs "-nw")) " "))
               (script-cost (artisan-bench-median
                             (artisan-bench-startup--hyperfine
                              '("script" "-qec" "true" "/dev/null") 20 2)))
               outside walls totals)
          ;; Interleaved rounds, so that a busier moment hits all alike.
          (dotimes (_ (ceiling artisan-bench-startup-runs 4))
            (setq outside (append (artisan-bench-startup--hyperfine
                                   (list "script" "-qec" inner "/dev/null") 4 0)
                                  outside))
            (dolist (tm (artisan-startup-profile
                         :runs 4 :warmup 0 :record nil :wait t :ui 'tty :mode 'bare
                         :init-directory dir :env artisan-bench-startup--env))
              (push (plist-get tm :wall-ms) walls))
            (let ((p (artisan-startup-profile
                      :runs 4 :warmup 0 :record nil :wait t :ui 'tty
                      :init-directory dir :env artisan-bench-startup--env)))
              (setq totals (append (plist-get p :run-totals) totals))))
          (setq outside (mapcar (lambda (x) (- x script-cost)) outside))
          (artisan-bench-add-row
           :what "Wall time, process start to exit, the harness's stopwatch (no probe)"
           :corpus name :samples walls
           :alt "hyperfine, same start-up (script(1)'s cost removed)"
           :alt-samples outside
           :note "ratio near 1: the stopwatches agree")
          (artisan-bench-add-row
           :what "The profile's total (with the probe), process start to settled"
           :corpus name :samples totals
           :alt "hyperfine, as above" :alt-samples outside
           :note "hyperfine also counts the exit")
          (delete-directory work t))))))

(artisan-bench-define "startup-duration"
    "How long a 10-run start-up profile takes"
  (dolist (name artisan-bench-startup-configs)
    (when (artisan-bench-startup--available-p name)
      (let ((dir (artisan-bench-startup--config name))
            samples totals)
        (dotimes (_ 3)
          (let (profile)
            (push (/ (artisan-bench-time-ms
                      (lambda ()
                        (setq profile (artisan-startup-profile
                                       :runs 10 :warmup 1 :record nil :wait t :ui 'tty
                                       :init-directory dir
                                       :env artisan-bench-startup--env))))
                     1000.0)
                  samples)
            (push (/ (plist-get profile :total-ms) 1000.0) totals)))
        (artisan-bench-add-row
         :what "A 10-run profile (+1 warm-up run), whole job"
         :corpus name :samples samples :unit "s"
         :alt "11 × the start-up itself" :alt-samples (mapcar (lambda (x) (* 11 x)) totals)
         :note "ratio: cost of the harness, analysis and writing")))))

(provide 'bench-startup)
;;; bench-startup.el ends here
