;;; artisan-startup.el --- Profile, explain and remember Emacs start-up  -*- lexical-binding: t; -*-

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

;; \\[artisan-startup-profile] starts your Emacs again and again as
;; child processes, each running your real early-init.el and init.el
;; with a probe (artisan-startup-probe.el) that records every load,
;; phase and use-package section, and exits once start-up settled.
;; The runs are merged into one tree with medians, spreads and
;; confidence intervals, explained with hints, and appended to a
;; history under `artisan-data-directory'.
;;
;; \\[artisan-startup-report] shows the latest profile as a tree;
;; \\[artisan-startup-history] charts start-up time over past profiles
;; with the configuration's commit; \\[artisan-startup-compare] compares
;; the latest profile with a baseline and flags only regressions that
;; are both consistent across runs and larger than
;; `artisan-startup-regression-floor'.

;;; Code:

(require 'artisan)
(require 'artisan-job)
(require 'cl-lib)
(require 'text-property-search)

(declare-function artisan--startup-profile "artisan-dyn")
(declare-function artisan--startup-history "artisan-dyn")
(declare-function artisan--startup-load "artisan-dyn")
(declare-function artisan--startup-compare "artisan-dyn")
(declare-function artisan--startup-baseline "artisan-dyn")
(declare-function artisan--startup-set-baseline "artisan-dyn")
(declare-function svg-create "svg")
(declare-function svg-line "svg")
(declare-function svg-polyline "svg")
(declare-function svg-circle "svg")
(declare-function svg-text "svg")
(declare-function svg-image "svg")

(defgroup artisan-startup nil
  "Profiling Emacs start-up."
  :group 'artisan
  :prefix "artisan-startup-")

(defcustom artisan-startup-runs 10
  "Measured runs of a start-up profile."
  :type 'natnum
  :group 'artisan-startup)

(defcustom artisan-startup-warmup 1
  "Runs done and discarded before the measured ones (file caches)."
  :type 'natnum
  :group 'artisan-startup)

(defcustom artisan-startup-timeout 60
  "Seconds after which a child Emacs that has not settled is killed."
  :type 'number
  :group 'artisan-startup)

(defcustom artisan-startup-settle 0
  "Seconds to keep watching after the first redisplay.
Configurations that keep loading after start-up (idle timers,
deferred packages) need a few seconds; the settle phase then ends
with the last load seen."
  :type 'number
  :group 'artisan-startup)

(defcustom artisan-startup-stall 3
  "Seconds of idleness before start-up counts as stuck.
A configuration that asks a question while starting is stopped
after this long; the report shows the question."
  :type 'number
  :group 'artisan-startup)

(defcustom artisan-startup-emacs nil
  "The Emacs binary to profile, or nil for the running one's."
  :type '(choice (const :tag "This Emacs" nil) file)
  :group 'artisan-startup)

(defcustom artisan-startup-environment nil
  "Extra environment variables for the profiled Emacs, as \"VAR=VALUE\"."
  :type '(repeat string)
  :group 'artisan-startup)

(defcustom artisan-startup-regression-floor 2.0
  "Milliseconds below which a change is never flagged as a regression."
  :type 'number
  :group 'artisan-startup)

(defcustom artisan-startup-alpha 0.05
  "False discovery rate at which changes are flagged in comparisons."
  :type 'number
  :group 'artisan-startup)

(defcustom artisan-startup-defer-threshold 3.0
  "Milliseconds a library must take to be suggested for deferral."
  :type 'number
  :group 'artisan-startup)

(defface artisan-startup-regression '((t :inherit error))
  "Face of regressions."
  :group 'artisan-startup)

(defface artisan-startup-improvement '((t :inherit success))
  "Face of improvements."
  :group 'artisan-startup)

(defface artisan-startup-heading '((t :inherit bold))
  "Face of headings in start-up reports."
  :group 'artisan-startup)

(defface artisan-startup-dim '((t :inherit shadow))
  "Face of minor rows in start-up reports."
  :group 'artisan-startup)

(defvar artisan-startup-last-profile nil
  "The profile most recently taken or shown.")

(define-error 'artisan-startup-error "Artisan start-up profiler error" 'artisan-error)

(defun artisan-startup--error-text (err)
  "Return the message of the error ERR without its error's name.
The module signals `artisan-startup-error' with the message as its
only datum, which `error-message-string' would print quoted after
the error's name."
  (if (and (stringp (cadr err)) (null (cddr err)))
      (cadr err)
    (error-message-string err)))

(defconst artisan-startup--lisp-directory
  (file-name-directory (or load-file-name buffer-file-name default-directory))
  "Directory of this file, where the probe lives too.")

;;;; Running

(defun artisan-startup-directory ()
  "Return the directory where profiles and their history are kept."
  (file-name-as-directory (artisan-data-file "startup")))

(defun artisan-startup--default-ui ()
  "Return the user interface this Emacs uses: `daemon', `gui' or `tty'."
  (cond ((daemonp) 'daemon)
        ((display-graphic-p) 'gui)
        (t 'tty)))

(defun artisan-startup--probe-file ()
  "Return the probe library's file name without suffix."
  (let ((file (expand-file-name "artisan-startup-probe" artisan-startup--lisp-directory)))
    (unless (or (file-exists-p (concat file ".elc")) (file-exists-p (concat file ".el")))
      (signal 'artisan-startup-error
              (list (format "The start-up probe %s.el is missing" file))))
    file))

(defun artisan-startup--environment (extra)
  "Return the children's base environment, with EXTRA variables first."
  (append extra artisan-startup-environment process-environment))

(defun artisan-startup--tty-size ()
  "Return (COLUMNS . ROWS) for a child's terminal."
  (if (and (not noninteractive) (not (display-graphic-p)) (frame-live-p (selected-frame)))
      (cons (frame-width) (1+ (frame-height)))
    (cons 80 24)))

(defun artisan-startup--emacs-binary (emacs)
  "Return the absolute file name of the Emacs binary EMACS.
A name without a directory is looked up in the variable
`exec-path', as a shell would; nil means the running Emacs' own
binary."
  (cond ((null emacs) (expand-file-name invocation-name invocation-directory))
        ((not (stringp emacs))
         (user-error "The Emacs binary must be a file name, not %S" emacs))
        ((file-name-directory emacs) (expand-file-name emacs))
        ((executable-find emacs))
        (t (user-error "Not an executable Emacs: no %s in `exec-path'" emacs))))

(cl-defun artisan-startup--options (&key runs warmup emacs init-directory ui
                                         settle timeout record mode env
                                         native-compile)
  "Return the option plist of a profiling job; see `artisan-startup-profile'.
RUNS, WARMUP, EMACS, INIT-DIRECTORY, UI, SETTLE, TIMEOUT, RECORD,
MODE, ENV and NATIVE-COMPILE are its keywords."
  (let* ((emacs (artisan-startup--emacs-binary (or emacs artisan-startup-emacs)))
         (init-directory (file-name-as-directory
                          (expand-file-name (or init-directory user-emacs-directory))))
         (ui (or ui (artisan-startup--default-ui)))
         (timeout (or timeout artisan-startup-timeout))
         (settle (or settle artisan-startup-settle))
         (size (artisan-startup--tty-size)))
    (unless (and (integerp runs) (> runs 0))
      (user-error "The number of runs must be a positive integer, not %S" runs))
    (unless (and (integerp warmup) (>= warmup 0))
      (user-error "The number of warm-up runs must be a natural number, not %S" warmup))
    (unless (file-executable-p emacs)
      (user-error "Not an executable Emacs: %s" emacs))
    (unless (file-directory-p init-directory)
      (user-error "Not a directory: %s" init-directory))
    (unless (and (numberp timeout) (> timeout 0) (< timeout 1.0e+INF))
      (user-error "The timeout must be a positive number of seconds, not %S" timeout))
    (unless (and (numberp settle) (>= settle 0) (< settle 1.0e+INF))
      (user-error "The settle delay must be a number of seconds, not %S" settle))
    (unless (and (listp env)
                 (cl-every (lambda (e) (and (stringp e) (string-match-p "\\`[^=]+=" e)))
                           env))
      (user-error "The environment must be a list of \"VAR=VALUE\" strings, not %S" env))
    (unless (memq mode '(nil record bare))
      (user-error "The mode must be `record' or `bare', not %S" mode))
    (unless (memq ui '(tty gui daemon))
      (user-error "The user interface must be `tty', `gui' or `daemon', not %S" ui))
    (when (and (eq ui 'gui)
               (not (or (getenv "DISPLAY") (getenv "WAYLAND_DISPLAY"))))
      (user-error "No display to start a graphical Emacs on: use :ui tty"))
    (when (and (eq ui 'gui)
               (file-equal-p emacs (expand-file-name invocation-name invocation-directory))
               (not (fboundp 'x-create-frame)))
      (user-error "%s was built without a window system (like emacs-nox): use :ui tty"
                  emacs))
    (list :emacs emacs
          :ui ui
          :term (or (let ((term (cl-find-if (lambda (e) (string-prefix-p "TERM=" e)) env)))
                      (and term (substring term 5)))
                    (let ((type (and (eq ui 'tty) (not noninteractive)
                                     (not (display-graphic-p))
                                     (tty-type))))
                      (and (stringp type) (not (member type '("dumb" "")))
                           type))
                    "xterm-256color")
          :cols (car size) :rows (cdr size)
          :runs runs :warmup warmup
          :timeout timeout
          :settle settle
          :stall artisan-startup-stall
          :env (artisan-startup--environment env)
          :cwd (expand-file-name "~/")
          :init-directory init-directory
          :set-init-directory t
          :probe (artisan-startup--probe-file)
          :module (let ((module (artisan-module-ensure)))
                    (and (not (eq mode 'bare)) module))
          :work-dir (make-temp-file "artisan-startup-" t)
          :history-dir (and record (artisan-startup-directory))
          :data-directory (artisan-data-file)
          :extra-env env
          :mode (or mode 'record)
          :native-compile native-compile
          :defer-min-ms artisan-startup-defer-threshold)))

;;;###autoload
(cl-defun artisan-startup-profile (&key (runs artisan-startup-runs)
                                        (warmup artisan-startup-warmup)
                                        init-directory emacs ui settle timeout
                                        env native-compile (record t) mode wait)
  "Profile the start-up of your Emacs configuration.
Start Emacs RUNS times as child processes, after WARMUP runs that
are discarded, one after another, each running the real
early-init.el and init.el of INIT-DIRECTORY (default
`user-emacs-directory') with a probe, and exiting by itself once
start-up has settled.  The children run on a worker thread, so
Emacs stays responsive; \\[artisan-cancel-jobs] cancels them.

EMACS is the binary (default `artisan-startup-emacs', or this
Emacs'); UI is `tty' (on a pseudo-terminal), `gui' (needs a
display) or `daemon' (default: what this Emacs uses, `tty' in
batch mode).  SETTLE (seconds) keeps watching after the first
redisplay; TIMEOUT (seconds) kills a child that does not settle.
ENV lists extra \"VAR=VALUE\" environment variables; a TERM=
among them chooses the terminal type of `tty' children (default:
this Emacs' terminal's, or xterm-256color, whose queries the
harness answers as xterm would).  NATIVE-COMPILE non-nil lets the
children start deferred native compilation (off by default: each
child is killed once settled, so it would never finish, and every
run would pay for starting it).  With RECORD nil the profile is not
added to the history.  MODE `bare' runs the children without
recording, to measure the probe's own cost: the result is then a
list of plists (:total-ms :wall-ms), the time to settle and to
exit of each run, instead of a profile.

The profile is a plist with at least :runs, :total-ms (median,
process start to settled), :wall-ms (the same measured from
outside), :phases (alist of phase name to median ms), :tree
\(nodes with :name :file :inclusive-ms :exclusive-ms :gc-count
:gc-ms :children and their spreads), :hints, :errors and :notes.

With WAIT, or in batch mode, block until done and return the
profile.  Otherwise return the job, and show the report when it
is done (interactively) or store it in
`artisan-startup-last-profile'.  Interactively, with a prefix
argument, ask for the number of runs and the directory."
  (interactive
   (if current-prefix-arg
       (list :runs (read-number "Runs: " artisan-startup-runs)
             :init-directory (read-directory-name "Configuration directory: "
                                                  user-emacs-directory nil t))
     nil))
  (when (cl-some (lambda (d) (string-prefix-p "Profiling start-up" d))
                 (artisan-job-running))
    (user-error "A start-up profile is already running (M-x artisan-cancel-jobs stops it)"))
  (let* ((options (artisan-startup--options
                   :runs runs :warmup warmup :emacs emacs
                   :init-directory init-directory :ui ui :settle settle
                   :timeout timeout :record record :mode mode :env env
                   :native-compile native-compile))
         (handle (condition-case err
                     (artisan--startup-profile options)
                   ;; The job removes its scratch directory; without a
                   ;; job nobody would.
                   (error (delete-directory (plist-get options :work-dir) t)
                          (signal (car err) (cdr err)))))
         (description (format "Profiling start-up (%s%s)"
                              (artisan-startup--count runs "run")
                              (if (> warmup 0)
                                  (format " + %s" (artisan-startup--count warmup "warm-up"))
                                "")))
         (show (called-interactively-p 'any)))
    (if (or wait noninteractive)
        (let ((profile (artisan-job-wait handle (and (not noninteractive) description)
                                         :items nil)))
          (unless (eq mode 'bare)
            (setq artisan-startup-last-profile profile))
          profile)
      (artisan-job-start
       handle description
       :items nil
       :on-done (lambda (profile)
                  (unless (eq mode 'bare)
                    (artisan-startup--profile-done profile show)))
       :on-error (lambda (err)
                   (message "Start-up profile failed: %s"
                            (artisan-startup--error-text err)))))))

(defun artisan-startup--count (n thing)
  "Return N THINGs in words: \"1 run\", \"3 runs\"."
  (format "%d %s%s" n thing (if (= n 1) "" "s")))

(defun artisan-startup--profile-done (profile show)
  "Take note of the PROFILE a background job finished.
With SHOW, display its report, without selecting it: the user
may be typing elsewhere, even in the minibuffer, where the keys
of the report (b, c, g) would do harm.  Say in the echo area
where it is (a message does not replace an active minibuffer's
input: it shows after it)."
  (setq artisan-startup-last-profile profile)
  (let ((summary (format "Start-up: %s ms (%s)%s"
                         (artisan-startup--ms (plist-get profile :total-ms))
                         (let ((runs (plist-get profile :runs)))
                           (if (= runs 1) "1 run" (format "median of %d runs" runs)))
                         (if (plist-get profile :incomplete) ", incomplete" ""))))
    (if (not show)
        (message "%s; M-x artisan-startup-report shows it" summary)
      (let ((window (get-buffer-window (artisan-startup-report profile t) t)))
        (message "%s; report in %s" summary
                 (if window "the other window" "buffer *artisan startup*"))))))

;;;; Loading stored profiles

(defun artisan-startup-load (&optional id)
  "Return the stored profile ID, or the latest one."
  (artisan-module-ensure)
  (artisan--startup-load (artisan-startup-directory) id))

(defun artisan-startup-history-entries (&optional init-directory)
  "Return the stored profiles as plists, oldest first.
With INIT-DIRECTORY, only those of that configuration directory.
Each says whether its total regressed (:regression) or improved
\(:improvement) since the previous one."
  (artisan-module-ensure)
  (artisan--startup-history (artisan-startup-directory)
                            (and init-directory
                                 (file-name-as-directory (expand-file-name init-directory)))
                            (float artisan-startup-regression-floor)
                            (float artisan-startup-alpha)))

(defun artisan-startup-baseline ()
  "Return the id of the baseline profile, or nil."
  (artisan-module-ensure)
  (artisan--startup-baseline (artisan-startup-directory)))

(defun artisan-startup-set-baseline (id)
  "Make the stored profile ID the baseline of comparisons.
An incomplete profile (a run hung, stalled or exited by itself)
cannot be one."
  (artisan-module-ensure)
  (condition-case err
      (artisan--startup-set-baseline (artisan-startup-directory) id)
    (artisan-startup-error (user-error "%s" (artisan-startup--error-text err))))
  (message "Start-up baseline: %s" id))

;;;; Formatting

(defun artisan-startup--ms (ms)
  "Format MS milliseconds compactly."
  (cond ((null ms) "")
        ((>= (abs ms) 100) (format "%.0f" ms))
        ((>= (abs ms) 10) (format "%.1f" ms))
        (t (format "%.2f" ms))))

(defun artisan-startup--signed-ms (ms)
  "Format the difference MS with its sign."
  (concat (if (>= ms 0) "+" "-") (artisan-startup--ms (abs ms)) " ms"))

(defun artisan-startup--wrap (text width indent)
  "Return TEXT filled to WIDTH columns.
Its lines after the first are indented by INDENT spaces."
  (with-temp-buffer
    (insert text)
    (let ((fill-column width))
      (fill-region (point-min) (point-max)))
    (replace-regexp-in-string "\n" (concat "\n" (make-string indent ?\s))
                              (string-trim-right (buffer-string)) t t)))

(defun artisan-startup--commit (plist)
  "Describe the commit of the profile or history entry PLIST."
  (let ((git (plist-get plist :git)))
    (if git
        (format "%s%s %S" (plist-get git :short)
                (if (plist-get git :dirty) " (with uncommitted changes)" "")
                (plist-get git :summary))
      "not in a git repository")))

;;;; Report

(defvar-local artisan-startup--profile nil
  "The profile shown in this buffer.")

(defvar-local artisan-startup--expanded nil
  "Hash table of the expanded node paths.")

(defvar-local artisan-startup--sort nil
  "How siblings are sorted in the report.
nil (start order), `inclusive', `exclusive', `gc' or `name'.")

(defvar artisan-startup-report-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'artisan-startup-report-toggle)
    (define-key map (kbd "<tab>") #'artisan-startup-report-toggle)
    (define-key map (kbd "RET") #'artisan-startup-report-visit)
    (define-key map (kbd "+") #'artisan-startup-report-expand-all)
    (define-key map (kbd "-") #'artisan-startup-report-collapse-all)
    (define-key map (kbd "s") #'artisan-startup-report-sort)
    (define-key map (kbd "b") #'artisan-startup-report-set-baseline)
    (define-key map (kbd "c") #'artisan-startup-report-compare)
    (define-key map (kbd "g") #'artisan-startup-report-rerun)
    (define-key map (kbd "H") #'artisan-startup-report-history)
    (define-key map (kbd "n") #'next-line)
    (define-key map (kbd "p") #'previous-line)
    map)
  "Keymap of `artisan-startup-report-mode'.")

(define-derived-mode artisan-startup-report-mode special-mode "Startup"
  "Major mode of start-up reports.
Phases, then the loads in each, as a tree; columns: inclusive and
exclusive milliseconds (medians over the runs), the spread (median
absolute deviation of the inclusive time), garbage collections and
their milliseconds, and the share of the total.

\\<artisan-startup-report-mode-map>\\[artisan-startup-report-toggle] folds a node, \\[artisan-startup-report-expand-all] and \\[artisan-startup-report-collapse-all] all of them, \\[artisan-startup-report-sort] changes the order,
\\[artisan-startup-report-visit] visits a library, \\[artisan-startup-report-set-baseline] makes this profile the baseline,
\\[artisan-startup-report-compare] compares it with the baseline, \\[artisan-startup-report-rerun] profiles again, \\[artisan-startup-report-history] shows the history.

\\{artisan-startup-report-mode-map}"
  (setq truncate-lines t)
  (setq-local revert-buffer-function #'artisan-startup--revert))

(defun artisan-startup--revert (&rest _)
  "Redraw the report."
  (artisan-startup--render))

(defun artisan-startup--node-path (path node)
  "Return the path string below PATH of NODE."
  (concat path "/" (plist-get node :key)))

(defun artisan-startup--sorted (nodes)
  "Return NODES sorted as `artisan-startup--sort' says."
  (let ((key (pcase artisan-startup--sort
               ('inclusive (lambda (n) (plist-get n :inclusive-ms)))
               ('exclusive (lambda (n) (plist-get n :exclusive-ms)))
               ('gc (lambda (n) (plist-get n :gc-ms))))))
    (cond
     ((and key (not (eq (plist-get (car nodes) :kind) 'phase)))
      (sort (copy-sequence nodes) (lambda (a b) (> (funcall key a) (funcall key b)))))
     ((eq artisan-startup--sort 'name)
      (sort (copy-sequence nodes)
            (lambda (a b) (string< (plist-get a :name) (plist-get b :name)))))
     (t nodes))))

(defun artisan-startup--initially-expanded (profile)
  "Return the table of nodes of PROFILE expanded at first.
Phases are expanded, and nodes taking at least 5% of the total."
  (let ((table (make-hash-table :test 'equal)))
    (cl-labels ((walk (nodes path depth)
                  (dolist (n nodes)
                    (let ((p (artisan-startup--node-path path n)))
                      (when (and (plist-get n :children)
                                 (or (eq (plist-get n :kind) 'phase)
                                     (>= (plist-get n :share) 0.05)))
                        (puthash p t table))
                      (walk (plist-get n :children) p (1+ depth))))))
      (walk (plist-get profile :tree) "" 0))
    table))

(defconst artisan-startup--columns "%8s %8s %7s %5s %7s %6s  "
  "Format of the number columns of a report row, before its name.
The numbers come first and the indented name last, so that the
layout does not depend on the window's width: a window too
narrow cuts the end of a long name only.")

(defun artisan-startup--row (node depth path)
  "Insert the row of NODE at DEPTH, whose path is PATH."
  (let* ((children (plist-get node :children))
         (expanded (gethash path artisan-startup--expanded))
         (kind (plist-get node :kind))
         (marker (cond ((null children) "  ")
                       (expanded "▾ ")
                       (t "▸ ")))
         (name (concat (make-string (* 2 depth) ?\s) marker (plist-get node :name)
                       (let ((via (plist-get node :via)))
                         (if (and via (string-prefix-p "autoload" via))
                             (format " [%s]" via) ""))
                       (if (plist-get node :errors) " [error]" "")
                       (if (< (plist-get node :present) (plist-get node :runs))
                           (format " [%d/%d runs]" (plist-get node :present)
                                   (plist-get node :runs))
                         "")))
         (start (point)))
    (insert (format artisan-startup--columns
                    (artisan-startup--ms (plist-get node :inclusive-ms))
                    (artisan-startup--ms (plist-get node :exclusive-ms))
                    (artisan-startup--ms (plist-get node :inclusive-mad))
                    (format "%.0f" (plist-get node :gc-count))
                    (artisan-startup--ms (plist-get node :gc-ms))
                    (format "%.1f%%" (* 100 (plist-get node :share))))
            name "\n")
    (add-text-properties start (point) (list 'artisan-node node 'artisan-path path))
    (cond ((eq kind 'phase)
           (add-face-text-property start (point) 'artisan-startup-heading))
          ((eq kind 'gap)
           (add-face-text-property start (point) 'artisan-startup-dim))
          ((plist-get node :errors)
           (add-face-text-property start (point) 'artisan-startup-regression)))
    (when expanded
      (dolist (c (artisan-startup--sorted children))
        (artisan-startup--row c (1+ depth) (artisan-startup--node-path path c))))))

(defun artisan-startup--megabytes (bytes)
  "Format BYTES in megabytes, as the GC report does too."
  (let ((mb (/ bytes 1048576.0)))
    (format (if (< mb 10) "%.1f MB" "%.0f MB") mb)))

(defun artisan-startup--thresholds (profile)
  "Describe how `gc-cons-threshold' changed over the phases of PROFILE."
  (let (changes previous)
    (dolist (phase (plist-get profile :tree))
      (let ((value (plist-get phase :threshold)))
        (when (and value (not (equal value previous)))
          (push (format "%s from %s"
                        (if (>= value most-positive-fixnum) "most-positive-fixnum"
                          (artisan-startup--megabytes value))
                        (plist-get phase :name))
                changes)
          (setq previous value))))
    (if changes (mapconcat #'identity (nreverse changes) ", ") "not recorded")))

(defun artisan-startup--insert-header (profile)
  "Insert the summary of PROFILE."
  (let* ((total (plist-get profile :total-ms))
         (ci (plist-get profile :total-ci))
         (wall (plist-get profile :wall-ms))
         (field (lambda (label text)
                  ;; Long notes wrap under their text, within 80 columns.
                  (insert (propertize (format "%-14s" label) 'face 'artisan-startup-heading)
                          (artisan-startup--wrap text 64 14) "\n"))))
    (insert (propertize (format "Start-up profile %s" (plist-get profile :id))
                        'face '(artisan-startup-heading (:height 1.2)))
            "  " (plist-get profile :date) " UTC\n\n")
    (funcall field "Configuration"
             (format "%s, %s" (abbreviate-file-name (plist-get profile :init-directory))
                     (artisan-startup--commit profile)))
    (when (plist-get profile :incomplete)
      (funcall field "Incomplete"
               (propertize (format "%s.  Not a normal start-up: kept out of comparisons \
and of the history's regression marks." (plist-get profile :incomplete))
                           'face 'artisan-startup-regression)))
    (funcall field "Emacs"
             (format "%s%s, %s, %s" (plist-get profile :emacs-version)
                     (if (plist-get profile :native-comp) " (native compilation)" "")
                     (plist-get profile :ui) (plist-get profile :emacs)))
    (funcall field "Total"
             (let ((runs (plist-get profile :runs))
                   (w (plist-get profile :warmup)))
               (concat
                (format "%s ms, " (artisan-startup--ms total))
                (if (= runs 1) "1 run" (format "median of %d runs" runs))
                (if (> w 0) (format " after %s" (artisan-startup--count w "warm-up run")) "")
                ;; One run has no spread.
                (if (> runs 1)
                    (format " (95%% CI %s–%s ms, spread ±%s ms)"
                            (artisan-startup--ms (car ci)) (artisan-startup--ms (cdr ci))
                            (artisan-startup--ms (plist-get profile :total-mad)))
                  ""))))
    (funcall field "Outside"
             (if wall
                 (format "%s ms from process start to exit, measured by the harness \
(%s ms after settling)"
                         (artisan-startup--ms wall) (artisan-startup--ms (- wall total)))
               "not measured"))
    (funcall field "GC threshold" (artisan-startup--thresholds profile))
    (funcall field "Probe cost"
             (format "%s ms (%.1f%% of start-up)"
                     (artisan-startup--ms (plist-get profile :overhead-ms))
                     (* 100 (plist-get profile :overhead-ratio))))
    (when (plist-get profile :outliers)
      (funcall field "Outlier runs"
               (mapconcat (lambda (i)
                            (format "#%d (%s ms)" (1+ i)
                                    (artisan-startup--ms (nth i (plist-get profile :run-totals)))))
                          (plist-get profile :outliers) ", ")))
    (dolist (e (plist-get profile :errors))
      (funcall field "Error"
               (propertize (format "%s: %s (in %d of %d runs)"
                                   (abbreviate-file-name (plist-get e :place))
                                   (plist-get e :message)
                                   (length (plist-get e :runs)) (plist-get profile :runs))
                           'face 'artisan-startup-regression)))
    (dolist (n (plist-get profile :notes))
      (funcall field "Note" n))
    (insert "\n")))

(defun artisan-startup--insert-hints (profile)
  "Insert the hints of PROFILE."
  (let ((hints (plist-get profile :hints)))
    (insert (propertize (format "Hints (%d)\n" (length hints)) 'face 'artisan-startup-heading))
    (if (null hints)
        (insert "  Nothing stands out.\n")
      (dolist (h hints)
        (let ((start (point)))
          (insert "\n• " (propertize (plist-get h :title) 'face 'bold) "\n")
          (let ((detail-start (point)))
            (insert (plist-get h :detail) "\n")
            ;; Fill prose; keep code and indented lists as they are.
            (let ((fill-column 78))
              (save-excursion
                (goto-char detail-start)
                (while (< (point) (point-max))
                  (let ((prose (not (looking-at-p "[ \t(]")))
                        (end (copy-marker (line-end-position))))
                    (insert "  ")
                    (when prose
                      (let ((fill-prefix "  "))
                        (fill-region (line-beginning-position) end)))
                    (goto-char end)
                    (forward-line 1))))))
          (put-text-property start (point) 'artisan-hint h))))))

(defun artisan-startup--render ()
  "Draw the report of `artisan-startup--profile' in the current buffer."
  (let ((inhibit-read-only t)
        (profile artisan-startup--profile)
        (path (get-text-property (point) 'artisan-path))
        (line (line-number-at-pos)))
    (erase-buffer)
    (artisan-startup--insert-header profile)
    (insert (propertize
             (concat (format artisan-startup--columns
                             "incl ms" "excl ms" "±MAD" "GCs" "GC ms" "share")
                     (format "Phases and loads (by %s)\n" (or artisan-startup--sort "start")))
             'face 'artisan-startup-heading))
    (dolist (node (plist-get profile :tree))
      (artisan-startup--row node 0 (artisan-startup--node-path "" node)))
    (insert "\n")
    (artisan-startup--insert-hints profile)
    (insert "\n" (propertize
                  "TAB fold · +/- all · s sort · RET visit · b baseline · c compare · g re-run · H history · q quit"
                  'face 'artisan-startup-dim)
            "\n")
    (goto-char (point-min))
    (if (and path (text-property-search-forward 'artisan-path path t))
        (beginning-of-line 0)
      (forward-line (1- line)))
    (when (get-text-property (point) 'artisan-path)
      (beginning-of-line))))

;;;###autoload
(defun artisan-startup-report (&optional profile noselect)
  "Show the start-up PROFILE, by default the latest one.
With NOSELECT, display it without selecting its window.  Return
the report's buffer.  See `artisan-startup-report-mode' for what
it shows and the keys."
  (interactive)
  (let ((profile (or profile artisan-startup-last-profile
                     (condition-case err (artisan-startup-load)
                       (artisan-startup-error
                        (user-error "%s" (artisan-startup--error-text err))))))
        (buffer (get-buffer-create "*artisan startup*")))
    (setq artisan-startup-last-profile profile)
    (with-current-buffer buffer
      (artisan-startup-report-mode)
      (setq artisan-startup--profile profile
            artisan-startup--expanded (artisan-startup--initially-expanded profile))
      (artisan-startup--render))
    (if noselect (display-buffer buffer) (pop-to-buffer buffer))
    buffer))

(defun artisan-startup--node-at-point ()
  "Return the node on this line and its path, or signal."
  (let ((node (get-text-property (point) 'artisan-node)))
    (unless node (user-error "No node on this line"))
    (cons node (get-text-property (point) 'artisan-path))))

(defun artisan-startup-report-toggle ()
  "Fold or unfold the node on this line."
  (interactive)
  (let* ((at (artisan-startup--node-at-point))
         (path (cdr at)))
    (unless (plist-get (car at) :children)
      (user-error "%s has no children" (plist-get (car at) :name)))
    (if (gethash path artisan-startup--expanded)
        (remhash path artisan-startup--expanded)
      (puthash path t artisan-startup--expanded))
    (artisan-startup--render)))

(defun artisan-startup-report-expand-all ()
  "Unfold every node."
  (interactive)
  (cl-labels ((walk (nodes path)
                (dolist (n nodes)
                  (let ((p (artisan-startup--node-path path n)))
                    (when (plist-get n :children)
                      (puthash p t artisan-startup--expanded))
                    (walk (plist-get n :children) p)))))
    (walk (plist-get artisan-startup--profile :tree) ""))
  (artisan-startup--render))

(defun artisan-startup-report-collapse-all ()
  "Fold every node but the phases."
  (interactive)
  (clrhash artisan-startup--expanded)
  (dolist (n (plist-get artisan-startup--profile :tree))
    (puthash (artisan-startup--node-path "" n) t artisan-startup--expanded))
  (artisan-startup--render))

(defun artisan-startup-report-sort (order)
  "Sort the loads among their siblings by ORDER.
ORDER is `start' (the order they ran), `inclusive', `exclusive',
`gc' or `name'; phases always stay in start-up order.
Interactively, cycle through them."
  (interactive
   (list (let ((orders '(nil inclusive exclusive gc name)))
           (or (cadr (memq artisan-startup--sort orders)) 'start))))
  (setq artisan-startup--sort (if (eq order 'start) nil order))
  (artisan-startup--render)
  (message "Sorted by %s" (or artisan-startup--sort "start")))

(defun artisan-startup--library-source (file)
  "Return the source file of the library FILE, or FILE."
  (let ((base (replace-regexp-in-string "\\.\\(elc\\|eln\\)\\'" "" file)))
    (cond ((string-suffix-p ".eln" file)
           (or (locate-library (concat (replace-regexp-in-string
                                        "-[0-9a-f]\\{8\\}-[0-9a-f]\\{8\\}\\'" ""
                                        (file-name-nondirectory base))
                                       ".el"))
               file))
          ((file-exists-p (concat base ".el")) (concat base ".el"))
          ((file-exists-p (concat base ".el.gz")) (concat base ".el.gz"))
          ((file-exists-p base) base)
          (t file))))

(defun artisan-startup-report-visit ()
  "Visit the library of the node on this line.
On a use-package node, visit the init file at its `use-package' form."
  (interactive)
  (let* ((node (car (artisan-startup--node-at-point)))
         (file (plist-get node :file))
         (kind (plist-get node :kind)))
    (cond
     (file (find-file-other-window (artisan-startup--library-source file)))
     ((memq kind '(use-package init config))
      (let ((package (car (last (split-string (plist-get node :name) " " t)
                                (if (eq kind 'use-package) 1 2))))
            (init (expand-file-name "init.el" (plist-get artisan-startup--profile
                                                         :init-directory))))
        (find-file-other-window init)
        (goto-char (point-min))
        (re-search-forward (concat "(use-package[ \t\n]+" (regexp-quote package) "\\_>")
                           nil t)))
     ((eq kind 'phase)
      (message "%s: a phase of start-up; its rows are what ran during it"
               (plist-get node :name)))
     (t (user-error "No library for %s" (plist-get node :name))))))

(defun artisan-startup-report-history ()
  "Show the history of the configuration of the profile shown."
  (interactive)
  (pop-to-buffer
   (progn (artisan-startup-history (plist-get artisan-startup--profile :init-directory))
          "*artisan startup history*")))

(defun artisan-startup-report-set-baseline ()
  "Make the profile shown the baseline of comparisons."
  (interactive)
  (artisan-startup-set-baseline (plist-get artisan-startup--profile :id)))

(defun artisan-startup-report-compare ()
  "Compare the profile shown with the baseline."
  (interactive)
  (artisan-startup-compare nil (plist-get artisan-startup--profile :id)))

(defun artisan-startup-report-rerun ()
  "Profile the same configuration again and show the new report."
  (interactive)
  (let ((p artisan-startup--profile))
    (let ((job (artisan-startup-profile
                :runs (plist-get p :runs)
                :warmup (plist-get p :warmup)
                :init-directory (plist-get p :init-directory)
                :emacs (plist-get p :emacs)
                :ui (plist-get p :ui)
                :settle (plist-get p :settle)
                :env (plist-get p :env))))
      (when (and (consp job) (plist-member job :handle))
        (plist-put job :on-done (lambda (profile) (artisan-startup--profile-done profile t))))
      job)))

;;;; Comparison

(defvar artisan-startup-compare-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "RET") #'artisan-startup-report-visit)
    (define-key map (kbd "n") #'next-line)
    (define-key map (kbd "p") #'previous-line)
    map)
  "Keymap of `artisan-startup-compare-mode'.")

(define-derived-mode artisan-startup-compare-mode special-mode "Startup-Compare"
  "Major mode of start-up comparisons.
\\<artisan-startup-compare-mode-map>\\[artisan-startup-report-visit] visits the library on the line.")

(defconst artisan-startup--delta-columns "%9s %9s %11s %-7s %-10s "
  "Format of the number columns of a comparison row, before its name.")

(defun artisan-startup--delta-row (d)
  "Insert the comparison row of delta D."
  (let* ((status (plist-get d :status))
         (face (pcase status
                 ('regression 'artisan-startup-regression)
                 ('improvement 'artisan-startup-improvement)
                 (_ 'artisan-startup-dim)))
         (name (cond ((plist-get d :moved) (concat (plist-get d :name) " (loaded elsewhere)"))
                     ((not (plist-get d :in-a)) (concat (plist-get d :name) " (new)"))
                     ((not (plist-get d :in-b)) (concat (plist-get d :name) " (gone)"))
                     (t (plist-get d :name))))
         (start (point)))
    (insert (format artisan-startup--delta-columns
                    (artisan-startup--ms (plist-get d :a-ms))
                    (artisan-startup--ms (plist-get d :b-ms))
                    (artisan-startup--signed-ms (plist-get d :delta-ms))
                    (if (< (plist-get d :p) 0.001) "p<0.001"
                      (format "p=%.3f" (plist-get d :p)))
                    (pcase status ('regression "REGRESSION") ('improvement "improved") (_ "")))
            name "\n")
    (add-face-text-property start (point) face)
    (add-text-properties start (point) (list 'artisan-node (list :file (plist-get d :file)
                                                                 :name (plist-get d :name)
                                                                 :kind (plist-get d :kind))))))

;;;###autoload
(defun artisan-startup-compare (&optional a b)
  "Compare the stored start-up profile A, the old one, with B, and show it.
A defaults to the baseline (press b in a report to choose it), B
to the latest profile.  Nodes are compared by exclusive time (new
or vanished ones by inclusive time), without the garbage
collections that ran inside them; a change is flagged only when
it exceeds `artisan-startup-regression-floor' and is significant
across runs (Mann-Whitney test, false discovery rate
`artisan-startup-alpha').  Return the comparison plist."
  (interactive)
  (artisan-module-ensure)
  (let* ((c (condition-case err
                (artisan--startup-compare (artisan-startup-directory) a b
                                          (float artisan-startup-regression-floor)
                                          (float artisan-startup-alpha))
              (artisan-startup-error (user-error "%s" (artisan-startup--error-text err)))))
         (side (lambda (label s)
                 (insert (propertize (format "%-9s" label) 'face 'artisan-startup-heading)
                         (artisan-startup--wrap
                          (format "%s  %s UTC, %s, %s ms, commit %s"
                                  (plist-get s :id) (plist-get s :date)
                                  (artisan-startup--count (plist-get s :runs) "run")
                                  (artisan-startup--ms (plist-get s :total-ms))
                                  (artisan-startup--commit s))
                          69 9)
                         "\n"))))
    (when (or (called-interactively-p 'any) (not noninteractive))
      (with-current-buffer (get-buffer-create "*artisan startup comparison*")
        (let ((inhibit-read-only t))
          (erase-buffer)
          (artisan-startup-compare-mode)
          (insert (propertize "Start-up comparison\n\n" 'face 'artisan-startup-heading))
          (funcall side "Baseline" (plist-get c :a))
          (funcall side "New" (plist-get c :b))
          (let ((total (plist-get c :total)))
            (insert (propertize (format "%-9s" "Total") 'face 'artisan-startup-heading)
                    (propertize (format "%s ms → %s ms (%s)%s\n"
                                        (artisan-startup--ms (plist-get total :a-ms))
                                        (artisan-startup--ms (plist-get total :b-ms))
                                        (artisan-startup--signed-ms (plist-get total :delta-ms))
                                        (pcase (plist-get total :status)
                                          ('regression ", a regression")
                                          ('improvement ", an improvement")
                                          (_ ", no significant change")))
                                'face (pcase (plist-get total :status)
                                        ('regression 'artisan-startup-regression)
                                        ('improvement 'artisan-startup-improvement)
                                        (_ 'default)))))
          (let ((gc (plist-get c :gc)))
            (insert (propertize (format "%-9s" "GC") 'face 'artisan-startup-heading)
                    (format "%s ms → %s ms collecting garbage (%s)%s\n"
                            (artisan-startup--ms (plist-get gc :a-ms))
                            (artisan-startup--ms (plist-get gc :b-ms))
                            (artisan-startup--signed-ms (plist-get gc :delta-ms))
                            (pcase (plist-get gc :status)
                              ('regression ", a regression")
                              ('improvement ", an improvement")
                              (_ "")))))
          (let ((start (point))
                (fill-column 78))
            (insert (format "\nFlagged when larger than %s ms and significant at a false \
discovery rate of %s.  The rows below the phases leave out the garbage \
collections that ran inside them (a collection runs wherever allocation \
crosses the threshold, so it moves when anything before changes): a library \
that got slower and made Emacs collect more shows its own time there, and the \
collections in the GC row above.  Phases and the total include them.\n"
                            (plist-get c :floor-ms) (plist-get c :alpha)))
            (fill-region start (point))
            (dolist (n (plist-get c :notes))
              (setq start (point))
              (insert "Note: " n "\n")
              (let ((fill-prefix "      "))
                (fill-region start (point)))))
          (let ((heading (lambda (title)
                           (insert "\n" (propertize
                                         (concat (format artisan-startup--delta-columns
                                                         "baseline" "new" "change" "" "")
                                                 title "\n")
                                         'face 'artisan-startup-heading)))))
            (funcall heading "Phase")
            (dolist (d (plist-get c :phases)) (artisan-startup--delta-row d))
            (funcall heading "Moved by more than the floor"))
          (if (plist-get c :nodes)
              (dolist (d (plist-get c :nodes)) (artisan-startup--delta-row d))
            (insert "  nothing\n"))
          (goto-char (point-min)))
        (pop-to-buffer (current-buffer))))
    c))

;;;; History

(defconst artisan-startup--spark-chars "▁▂▃▄▅▆▇█"
  "Characters of text sparklines, lowest first.")

(defun artisan-startup-sparkline (values)
  "Return a text sparkline of the numbers VALUES."
  (if (null values)
      ""
    (let* ((lo (apply #'min values))
           (hi (apply #'max values))
           (span (float (max (- hi lo) 1e-9)))
           (n (length artisan-startup--spark-chars)))
      (mapconcat (lambda (v)
                   (string (aref artisan-startup--spark-chars
                                 (min (1- n) (floor (* n (/ (- v lo) span)))))))
                 values ""))))

(defun artisan-startup--svg-chart (points)
  "Return an SVG document (a DOM) charting the totals of history POINTS.
Regressions are red points, improvements green; each point is
labelled with its commit."
  (require 'svg)
  (let* ((w 640) (h 220) (left 60) (bottom 40) (top 15) (right 15)
         (totals (mapcar (lambda (p) (plist-get p :total-ms)) points))
         (lo (* 0.9 (apply #'min totals)))
         (hi (* 1.05 (apply #'max totals)))
         (n (length points))
         (x (lambda (i) (+ left (if (= n 1) (/ (- w left right) 2.0)
                                 (* i (/ (- w left right) (float (1- n))))))))
         (y (lambda (v) (- h bottom (* (- h bottom top) (/ (- v lo) (max (- hi lo) 1e-9))))))
         (svg (svg-create w h))
         (fg (or (face-foreground 'default nil t) "black")))
    (svg-line svg left top left (- h bottom) :stroke fg)
    (svg-line svg left (- h bottom) (- w right) (- h bottom) :stroke fg)
    (dolist (v (list lo hi))
      (svg-text svg (format "%.0f ms" v) :x 2 :y (+ 4 (funcall y v)) :font-size 11 :fill fg))
    (svg-polyline svg (cl-loop for p in points for i from 0
                               collect (cons (funcall x i) (funcall y (plist-get p :total-ms))))
                  :fill "none" :stroke "steelblue" :stroke-width 2)
    (cl-loop for p in points for i from 0
             do (svg-circle svg (funcall x i) (funcall y (plist-get p :total-ms))
                            (if (plist-get p :regression) 6 4)
                            :fill (cond ((plist-get p :regression) "red")
                                        ((plist-get p :improvement) "green")
                                        (t "steelblue")))
             when (or (<= n 12) (zerop (mod i (ceiling n 12))))
             do (svg-text svg (plist-get p :commit) :x (funcall x i) :y (- h 20)
                          :font-size 10 :fill fg :text-anchor "middle"))
    svg))

(defvar artisan-startup-history-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "RET") #'artisan-startup-history-show)
    (define-key map (kbd "b") #'artisan-startup-history-set-baseline)
    (define-key map (kbd "c") #'artisan-startup-history-compare)
    (define-key map (kbd "n") #'next-line)
    (define-key map (kbd "p") #'previous-line)
    map)
  "Keymap of `artisan-startup-history-mode'.")

(define-derived-mode artisan-startup-history-mode special-mode "Startup-History"
  "Major mode of the start-up history.
\\<artisan-startup-history-mode-map>\\[artisan-startup-history-show] shows the profile on the line, \\[artisan-startup-history-set-baseline] makes it the baseline,
\\[artisan-startup-history-compare] compares it with the baseline, \\[revert-buffer] refreshes."
  (setq truncate-lines t))

(defun artisan-startup--point-at-point ()
  "Return the history point on this line, or signal."
  (or (get-text-property (point) 'artisan-point)
      (user-error "No profile on this line")))

(defun artisan-startup-history-show ()
  "Show the report of the profile on this line."
  (interactive)
  (artisan-startup-report (artisan-startup-load (plist-get (artisan-startup--point-at-point) :id))))

(defun artisan-startup-history-set-baseline ()
  "Make the profile on this line the baseline."
  (interactive)
  (artisan-startup-set-baseline (plist-get (artisan-startup--point-at-point) :id))
  (revert-buffer))

(defun artisan-startup-history-compare ()
  "Compare the profile on this line with the baseline."
  (interactive)
  (artisan-startup-compare nil (plist-get (artisan-startup--point-at-point) :id)))

(defconst artisan-startup--history-columns "%1s %-16s %-11s %4s %8s %10s %9s  %s"
  "Format of a row of the history table: within 80 columns.")

(defun artisan-startup--by-configuration (points)
  "Group the history POINTS by configuration directory.
Return a list of (DIRECTORY . POINTS), the configuration profiled
last first, each with its points oldest first."
  (let (groups)
    (dolist (p points)
      (let* ((dir (plist-get p :init-directory))
             (group (assoc dir groups)))
        (if group
            (setcdr group (cons p (cdr group)))
          (push (list dir p) groups))))
    ;; Groups are newest first by their first point; order them by
    ;; their last one.
    (mapcar (lambda (g) (cons (car g) (nreverse (cdr g))))
            (sort groups (lambda (a b)
                           (> (plist-get (cadr a) :unix-time)
                              (plist-get (cadr b) :unix-time)))))))

(defun artisan-startup--history-commit (point)
  "Return the short commit of the history POINT, starred when dirty."
  (let ((git (plist-get point :git)))
    (if git
        (concat (plist-get git :short) (if (plist-get git :dirty) "*" ""))
      "-")))

(defun artisan-startup--insert-configuration (dir points baseline heading)
  "Insert the chart and the table of DIR's history POINTS.
BASELINE is the baseline's id; with HEADING, name DIR first."
  (let* ((charted (cl-remove-if (lambda (p) (plist-get p :incomplete)) points))
         (totals (mapcar (lambda (p) (plist-get p :total-ms)) charted))
         (emacsen (delete-dups
                   (mapcar (lambda (p)
                             (format "Emacs %s, %s" (plist-get p :emacs-version)
                                     (plist-get p :ui)))
                           points))))
    (insert "\n")
    (when heading
      (insert (propertize (format "%s\n" (abbreviate-file-name dir))
                          'face 'artisan-startup-heading)))
    (insert (propertize (format "  %s; %s\n" (string-join emacsen "; ")
                                (artisan-startup--count (length points) "profile"))
                        'face 'artisan-startup-dim))
    ;; Incomplete profiles (hung, stalled, exited by themselves) have
    ;; no start-up time to chart: they are listed only.
    (cond
     ((null charted)
      (insert "  No complete profile to chart.\n"))
     ((and (display-graphic-p) (image-type-available-p 'svg))
      (insert-image (svg-image (artisan-startup--svg-chart charted)))
      (insert "\n"))
     (t
      (insert "  " (artisan-startup-sparkline totals)
              (format "   %s–%s ms\n" (artisan-startup--ms (apply #'min totals))
                      (artisan-startup--ms (apply #'max totals)))
              "  " (mapconcat (lambda (p)
                                (cond ((plist-get p :regression)
                                       (propertize "!" 'face 'artisan-startup-regression))
                                      ((plist-get p :improvement)
                                       (propertize "+" 'face 'artisan-startup-improvement))
                                      (t " ")))
                              charted "")
              "   ! regression, + improvement\n")))
    (insert "\n" (propertize (format artisan-startup--history-columns
                                     "" "Date (UTC)" "Commit" "Runs" "Total ms"
                                     "95% CI" "Change" "")
                             'face 'artisan-startup-heading)
            "\n")
    (dolist (p (reverse points))
      (let ((start (point))
            (ci (plist-get p :total-ci)))
        (insert (string-trim-right
                 (format artisan-startup--history-columns
                         (if (equal (plist-get p :id) baseline) "B" "")
                         (truncate-string-to-width (plist-get p :date) 16)
                         (artisan-startup--history-commit p)
                         (plist-get p :runs)
                         (artisan-startup--ms (plist-get p :total-ms))
                         (if (> (plist-get p :runs) 1)
                             (format "%s–%s" (artisan-startup--ms (car ci))
                                     (artisan-startup--ms (cdr ci)))
                           "")
                         (if (plist-get p :delta-ms)
                             (artisan-startup--signed-ms (plist-get p :delta-ms))
                           "")
                         (cond ((plist-get p :incomplete) "incomplete")
                               ((plist-get p :regression) "REGRESSION")
                               ((plist-get p :improvement) "improved")
                               (t ""))))
                "\n")
        (put-text-property start (point) 'artisan-point p)
        (cond ((plist-get p :incomplete)
               (add-face-text-property start (point) 'artisan-startup-dim))
              ((plist-get p :regression)
               (add-face-text-property start (point) 'artisan-startup-regression))
              ((plist-get p :improvement)
               (add-face-text-property start (point) 'artisan-startup-improvement)))))
    (when (cl-some (lambda (p) (plist-get (plist-get p :git) :dirty)) points)
      (insert (propertize "  * with uncommitted changes\n" 'face 'artisan-startup-dim)))))

;;;###autoload
(defun artisan-startup-history (&optional init-directory)
  "Chart start-up time over the past profiles of INIT-DIRECTORY.
INIT-DIRECTORY defaults to that of the last profile taken or
shown, or `user-emacs-directory' (or all configurations, when it
has no profile); with a prefix argument, all configurations.  In
a graphical Emacs the chart is an SVG image, in a terminal a text
sparkline, one per configuration; below it each profile with its
commit, and regressions (significant slowdowns since the previous
profile of the same configuration, user interface and Emacs)
marked.  Incomplete
profiles (a run hung, stalled or exited by itself) are listed but
neither charted nor compared.
Return the profiles charted, as plists."
  (interactive (list (and current-prefix-arg 'all)))
  (let* ((dir (cond ((eq init-directory 'all) nil)
                    (init-directory)
                    (t (or (plist-get artisan-startup-last-profile :init-directory)
                           user-emacs-directory))))
         (points (artisan-startup-history-entries dir))
         (points (if (or points init-directory)
                     points
                   (setq dir nil)
                   (artisan-startup-history-entries nil)))
         (baseline (artisan-startup-baseline))
         (buffer (get-buffer-create "*artisan startup history*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (artisan-startup-history-mode)
        (setq-local revert-buffer-function
                    (lambda (&rest _) (artisan-startup-history init-directory)))
        (insert (propertize (format "Start-up history of %s\n"
                                    (if dir (abbreviate-file-name dir) "all configurations"))
                            'face 'artisan-startup-heading))
        (if (null points)
            (insert "\nNo profile yet: M-x artisan-startup-profile\n")
          ;; One chart and table per configuration: times of different
          ;; configurations do not belong on one line.
          (dolist (group (artisan-startup--by-configuration points))
            (artisan-startup--insert-configuration (car group) (cdr group)
                                                   baseline (null dir)))
          (insert "\n" (propertize "RET report · b baseline (B) · c compare with baseline · \
g refresh · q quit\n"
                                   'face 'artisan-startup-dim)))
        (goto-char (point-min))))
    (when (called-interactively-p 'any) (pop-to-buffer buffer))
    points))

(provide 'artisan-startup)
;;; artisan-startup.el ends here
