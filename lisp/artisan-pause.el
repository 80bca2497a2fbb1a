;;; artisan-pause.el --- Find out why Emacs paused, as it happens  -*- lexical-binding: t; -*-

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

;; `artisan-pause-mode' measures every piece of work Emacs runs on the
;; user's behalf: interactive commands (from `pre-command-hook' to
;; `post-command-hook', the hooks included), timers and idle timers,
;; process filters and sentinels, redisplay after a command, and, once
;; a command was slow, the functions on the hooks around it one by one.
;; Each occurrence is timed in the native module (no Lisp object is
;; made per occurrence); those longer than `artisan-pause-threshold'
;; are pauses, kept with their context.  \\[artisan-pause-report]
;; shows them.
;;
;; How it hooks in, the same on Emacs 28 and later, with no advice on C
;; primitives:
;; - commands: a function first on `pre-command-hook' and one last on
;;   `post-command-hook', matched by `recursion-depth' (a minibuffer's
;;   commands run one level deeper than the command that reads it);
;; - timers: advice around `timer-event-handler', the Lisp function C
;;   calls, by name, for every timer and idle timer;
;; - process filters and sentinels: `add-function' on each process's
;;   own filter and sentinel (not the default ones, which insert into a
;;   buffer in C), for processes that exist when the mode starts and
;;   those found later, when Emacs is idle or every few dozen events;
;; - hook functions: advice on the named functions found on
;;   `artisan-pause-hooks' when a command was slow;
;; - waits for the user are not work: an idle timer says when Emacs
;;   started waiting for input (in a minibuffer, `read-key'...), and
;;   advice on the Lisp function `sit-for' brackets its wait; redisplay
;;   runs from the end of a command until Emacs waits for input again.
;; Turning the mode off removes every one of these.

;;; Code:

(require 'artisan)
(require 'artisan-pause-name)
(require 'cl-lib)
(require 'nadvice)
(require 'timer)

(declare-function artisan-module-ensure "artisan-module")
(declare-function artisan--pause-new "artisan-dyn")
(declare-function artisan--pause-configure "artisan-dyn")
(declare-function artisan--pause-source "artisan-dyn")
(declare-function artisan--pause-source-info "artisan-dyn")
(declare-function artisan--pause-enter "artisan-dyn")
(declare-function artisan--pause-leave "artisan-dyn")
(declare-function artisan--pause-idle "artisan-dyn")
(declare-function artisan--pause-wait "artisan-dyn")
(declare-function artisan--pause-inject "artisan-dyn")
(declare-function artisan--pause-context "artisan-dyn")
(declare-function artisan--pause-sources "artisan-dyn")
(declare-function artisan--pause-events "artisan-dyn")
(declare-function artisan--pause-info "artisan-dyn")
(declare-function artisan--pause-reset "artisan-dyn")
(declare-function artisan--pause-close "artisan-dyn")
(declare-function artisan--pause-watch "artisan-dyn")
(declare-function artisan--pause-take-stalls "artisan-dyn")
(declare-function artisan--pause-history-save "artisan-dyn")
(declare-function artisan--pause-history-prune "artisan-dyn")
(declare-function profiler-make-profile "profiler")
(declare-function profiler-cpu-start "profiler.c")
(declare-function profiler-cpu-stop "profiler.c")
(declare-function profiler-cpu-log "profiler.c")
(declare-function profiler-cpu-running-p "profiler.c")
(defvar artisan-gc-monitor-mode)
(defvar profiler-sampling-interval)
(defvar profiler-log-size)

(defgroup artisan-pause nil
  "Find out why Emacs paused: the responsiveness monitor."
  :group 'artisan
  :prefix "artisan-pause-")

(defvar artisan-pause--monitor nil
  "The native monitor of this session (a user pointer), or nil.
It outlives `artisan-pause-mode' being turned off, so the report
still shows what it saw.")

(defvar artisan-pause--active nil
  "The monitor while `artisan-pause-mode' is on, else nil.")

(defun artisan-pause--configure ()
  "Pass the current settings to the live monitor, if any."
  (when artisan-pause--monitor
    (artisan--pause-configure artisan-pause--monitor
                              (float artisan-pause-threshold)
                              (if (and artisan-pause-profile (fboundp 'profiler-cpu-start))
                                  artisan-pause-profile-after
                                0)
                              (or (car (current-time-zone)) 0))))

(defun artisan-pause--set (symbol value)
  "Set SYMBOL to VALUE and tell the live monitor."
  (set-default symbol value)
  (artisan-pause--configure))

(defcustom artisan-pause-threshold 50
  "Work taking at least this many milliseconds is a pause.
Humans notice latency from about 40 ms; pauses are recorded with
their context and shown by \\[artisan-pause-report].  Setting it
with `customize-set-variable' takes effect at once; with `setq',
when the mode is next turned on."
  :type 'number
  :set #'artisan-pause--set
  :initialize #'custom-initialize-default)

(defcustom artisan-pause-alert-threshold 500
  "Pauses at least this many milliseconds long are announced.
The echo area says so (never while the minibuffer is active, and
never over another message), at most once per source every
`artisan-pause-alert-interval' seconds.  nil announces nothing."
  :type '(choice (number :tag "Milliseconds") (const :tag "Never" nil)))

(defcustom artisan-pause-alert-interval 600
  "Seconds before a source that was announced may be announced again."
  :type 'number)

(defcustom artisan-pause-silenced nil
  "Sources never announced, as strings \"KIND NAME\" (\"timer my-sync\").
\\[artisan-pause-silence] adds one for this session; set it in your
init file to keep it."
  :type '(repeat string))

(defcustom artisan-pause-profile t
  "Non-nil means profile the next occurrence of something that was slow.
From the `artisan-pause-profile-after'th pause of a source on, the
occurrence after each of its pauses runs under the CPU profiler
\(`profiler-cpu-start'), until a profiled one is a pause; the report
then shows its call tree.  So the profiler runs at most once per
pause.  Nothing is profiled while you run the profiler yourself."
  :type 'boolean
  :set #'artisan-pause--set
  :initialize #'custom-initialize-default)

(defcustom artisan-pause-profile-after 2
  "Pauses of one source before its next occurrence is profiled."
  :type 'natnum
  :set #'artisan-pause--set
  :initialize #'custom-initialize-default)

(defcustom artisan-pause-ring-size 1000
  "How many pauses the monitor keeps with their context.
Statistics per source cover every occurrence, whatever this is.
Read when the session's monitor is made (the first time the mode
is turned on)."
  :type 'natnum)

(defcustom artisan-pause-hooks
  '(pre-command-hook post-command-hook after-change-functions
    window-configuration-change-hook post-gc-hook)
  "Hooks whose functions are measured one by one once a command was slow.
The first time a command is a pause (slow in its own code, not
only collecting garbage), the named functions on these hooks
\(their global value and the value in the command's buffer) are
measured from then on, so the report names the slow one."
  :type '(repeat variable))

(defcustom artisan-pause-stall-seconds 5
  "Busy this many seconds, Emacs is stuck: the watchdog writes it down.
A thread of the native module, outside Emacs' own, notices and keeps a
file naming the work under `artisan-data-directory' until Emacs
responds again.  When Emacs is killed while stuck, the next
`artisan-pause-mode' says what hung.  nil starts no watchdog."
  :type '(choice (number :tag "Seconds") (const :tag "No watchdog" nil)))

(defcustom artisan-pause-history-keep 90
  "Days of daily summaries kept under `artisan-data-directory'."
  :type 'natnum)

(defcustom artisan-pause-save-interval 600
  "Seconds between two saves of today's summary (and when Emacs exits)."
  :type 'number)

(defvar artisan-pause--command-ids (make-hash-table :test 'eq :weakness 'key)
  "Source ids of commands, by command.")

(defvar artisan-pause--timer-ids (make-hash-table :test 'eq :weakness 'key)
  "Source ids of timer functions, by function.")

(defvar artisan-pause--processes (make-hash-table :test 'eq :weakness 'key)
  "Processes whose filter or sentinel is measured.
Each maps to (FILTER-ID . SENTINEL-ID), or t until they are named.")

(defvar artisan-pause--advised nil
  "Hook functions measured one by one: (FUNCTION ADVICE . HOOKS).")

(defvar artisan-pause--profiles (make-hash-table :test 'eql)
  "Captured profiles, by pause sequence number.")

(defvar artisan-pause--alerted (make-hash-table :test 'eql)
  "When each source was last announced (`float-time'), by source id.")

(defvar artisan-pause--pending-alert nil
  "An announcement waiting for a free echo area.")

(defvar artisan-pause--profiling nil
  "Non-nil while the monitor's own profile runs.")

(defvar artisan-pause--idle-timer nil
  "The idle timer that tells the monitor Emacs waits for input.")

(defvar artisan-pause--save-timer nil
  "The timer that saves today's summary.")

(defvar artisan-pause--countdown 0
  "Events until the next look for new processes.")

(defvar artisan-pause--scan-every 50
  "Events between two looks for new processes (also looked for when idle).")

(defvar artisan-pause--session nil
  "This session's name in the history: PID and start time.")

(defvar artisan-pause--started-gc nil
  "Non-nil when `artisan-pause-mode' turned `artisan-gc-monitor-mode' on.")

(defvar artisan-pause--hung nil
  "Hangs of earlier sessions found when the mode started, as plists.")

(defconst artisan-pause--own-functions
  '(artisan-pause--pre-command artisan-pause--post-command artisan-pause--save
    artisan-pause--idle-beat artisan-pause--save-timer-function artisan-gc--record)
  "Functions of the monitor itself, never measured.")

;;;; Naming

(defun artisan-pause--register (table object kind name)
  "In TABLE, map OBJECT to the source KIND NAME, registered; return its id."
  (let ((id (artisan--pause-source artisan-pause--monitor kind name)))
    (when (> (hash-table-count table) 10000)
      (clrhash table))
    (puthash object id table)
    id))

(defun artisan-pause--command-id (command)
  "Return the source id of COMMAND."
  (or (gethash command artisan-pause--command-ids)
      (artisan-pause--register artisan-pause--command-ids command "command"
                               (artisan-pause-describe-function command))))

(defun artisan-pause--timer-id (timer function)
  "Return the source id of TIMER, which runs FUNCTION."
  (or (gethash function artisan-pause--timer-ids)
      (artisan-pause--register
       artisan-pause--timer-ids function "timer"
       (concat (artisan-pause-describe-function function)
               (if (timer--idle-delay timer) " (idle)" "")))))

(defun artisan-pause--process-name (process)
  "Return the name of PROCESS without the <N> that makes it unique."
  (replace-regexp-in-string "<[0-9]+>\\'" "" (process-name process)))

;;;; Measuring

(defun artisan-pause--pre-command ()
  "Tell the monitor a command begins (first on `pre-command-hook')."
  (let ((mon artisan-pause--active))
    (when (and mon (artisan--pause-enter mon (artisan-pause--command-id real-this-command)
                                         gc-elapsed (recursion-depth)))
      (artisan-pause--profile-start))))

(defun artisan-pause--post-command ()
  "Tell the monitor a command ended (last on `post-command-hook')."
  (let ((mon artisan-pause--active))
    (when mon
      (let ((r (artisan--pause-leave mon 0 gc-elapsed (recursion-depth)
                                     (not (or executing-kbd-macro noninteractive)))))
        (when r (artisan-pause--act r)))
      (when (<= (setq artisan-pause--countdown (1- artisan-pause--countdown)) 0)
        (artisan-pause--scan-processes))
      (when artisan-pause--pending-alert
        (artisan-pause--show-alert)))))

(defun artisan-pause--after (kind)
  "Tell the monitor the innermost work of KIND (a code) ended."
  (let ((mon artisan-pause--active))
    (when mon
      (let ((r (artisan--pause-leave mon kind gc-elapsed 0 nil)))
        (when r (artisan-pause--act r))))))

(defun artisan-pause--timer-handler (handler timer)
  "Run HANDLER (`timer-event-handler') on TIMER, measured."
  (let ((mon artisan-pause--active)
        (function (timer--function timer)))
    (if (or (null mon) (memq function artisan-pause--own-functions))
        (funcall handler timer)
      (when (artisan--pause-enter mon (artisan-pause--timer-id timer function) gc-elapsed 0)
        (artisan-pause--profile-start))
      (unwind-protect (funcall handler timer)
        (artisan-pause--after 1)
        (when (<= (setq artisan-pause--countdown (1- artisan-pause--countdown)) 0)
          (artisan-pause--scan-processes))))))

(defun artisan-pause--process-ids (process)
  "Return (FILTER-ID . SENTINEL-ID) of PROCESS, registering them."
  (let ((ids (gethash process artisan-pause--processes)))
    (if (consp ids) ids
      (let* ((name (artisan-pause--process-name process))
             (describe (lambda (f) (artisan-pause-describe-function
                                    (if (advice--p f) (advice--cd*r f) f))))
             (ids (cons (artisan--pause-source
                         artisan-pause--monitor "filter"
                         (format "%s (%s)" name (funcall describe (process-filter process))))
                        (artisan--pause-source
                         artisan-pause--monitor "sentinel"
                         (format "%s (%s)" name (funcall describe (process-sentinel process)))))))
        (puthash process ids artisan-pause--processes)
        ids))))

(defun artisan-pause--filter (filter process output)
  "Run FILTER on PROCESS and OUTPUT, measured."
  (let ((mon artisan-pause--active))
    (if (null mon)
        (funcall filter process output)
      (when (artisan--pause-enter mon (car (artisan-pause--process-ids process)) gc-elapsed 0)
        (artisan-pause--profile-start))
      (unwind-protect (funcall filter process output)
        (artisan-pause--after 2)))))

(defun artisan-pause--sentinel (sentinel process event)
  "Run SENTINEL on PROCESS and EVENT, measured."
  (let ((mon artisan-pause--active))
    (if (null mon)
        (funcall sentinel process event)
      (when (artisan--pause-enter mon (cdr (artisan-pause--process-ids process)) gc-elapsed 0)
        (artisan-pause--profile-start))
      (unwind-protect (funcall sentinel process event)
        (artisan-pause--after 3)))))

(defun artisan-pause--wrap-process (process)
  "Measure the filter and sentinel of PROCESS, unless they are the defaults."
  (let ((filter (process-filter process))
        (sentinel (process-sentinel process))
        (wrapped nil))
    (unless (or (null filter) (eq filter 'internal-default-process-filter)
                (advice-function-member-p #'artisan-pause--filter filter))
      (add-function :around (process-filter process) #'artisan-pause--filter)
      (setq wrapped t))
    (unless (or (null sentinel) (eq sentinel 'internal-default-process-sentinel)
                (advice-function-member-p #'artisan-pause--sentinel sentinel))
      (add-function :around (process-sentinel process) #'artisan-pause--sentinel)
      (setq wrapped t))
    (when wrapped
      ;; A new filter or sentinel: name it again.
      (puthash process t artisan-pause--processes))))

(defun artisan-pause--scan-processes ()
  "Measure the filters and sentinels of processes not measured yet."
  (setq artisan-pause--countdown artisan-pause--scan-every)
  (when artisan-pause--active
    (dolist (p (process-list))
      (artisan-pause--wrap-process p))))

(defun artisan-pause--unwrap-processes ()
  "Remove the monitor from every process filter and sentinel."
  (maphash (lambda (p _)
             (remove-function (process-filter p) #'artisan-pause--filter)
             (remove-function (process-sentinel p) #'artisan-pause--sentinel))
           artisan-pause--processes)
  (clrhash artisan-pause--processes))

(defun artisan-pause--sit-for (sit-for &rest args)
  "Call SIT-FOR with ARGS; the wait is not the caller's work."
  (let ((mon artisan-pause--active))
    (if (null mon)
        (apply sit-for args)
      (artisan--pause-wait mon t)
      (unwind-protect (apply sit-for args)
        (when artisan-pause--active
          (artisan--pause-wait artisan-pause--active nil))))))

(defun artisan-pause--idle-beat ()
  "Tell the monitor Emacs waits for input (from an idle timer)."
  (let ((mon artisan-pause--active))
    (when mon
      (let* ((idle (current-idle-time))
             (r (artisan--pause-idle mon (if idle (float-time idle) 0.0) gc-elapsed)))
        (when r (artisan-pause--act r)))
      (artisan-pause--scan-processes)
      (when artisan-pause--pending-alert
        (artisan-pause--show-alert)))))

;;;; Hook functions

(defun artisan-pause--hook-functions (hook)
  "Return the functions on HOOK, globally and in the current buffer."
  (let ((fns nil))
    (dolist (value (list (and (local-variable-p hook) (symbol-value hook))
                         (default-value hook)))
      (dolist (f (if (functionp value) (list value) value))
        (unless (or (eq f t) (memq f fns))
          (push f fns))))
    (nreverse fns)))

(defun artisan-pause--hook-call (id function args)
  "As the hook function source ID, call FUNCTION with ARGS, measured."
  (let ((mon artisan-pause--active))
    (if (null mon)
        (apply function args)
      (when (artisan--pause-enter mon id gc-elapsed 0)
        (artisan-pause--profile-start))
      (unwind-protect (apply function args)
        (artisan-pause--after 4)))))

(defun artisan-pause--hook-advice (id)
  "Return an advice measuring a hook function as source ID."
  (lambda (function &rest args)
    (artisan-pause--hook-call id function args)))

(defun artisan-pause--instrument-hooks ()
  "Measure the named functions on `artisan-pause-hooks' one by one."
  (dolist (hook artisan-pause-hooks)
    (when (boundp hook)
      (dolist (f (artisan-pause--hook-functions hook))
        (let ((entry (assq f artisan-pause--advised)))
          (cond
           (entry (unless (memq hook (cddr entry))
                    (setcdr (cdr entry) (append (cddr entry) (list hook)))))
           ((and (symbolp f) f (fboundp f)
                 (not (memq f artisan-pause--own-functions))
                 (not (special-form-p f)) (not (macrop f))
                 (not (subrp (indirect-function f))))
            (let ((advice (artisan-pause--hook-advice
                           (artisan--pause-source artisan-pause--monitor "hook"
                                                  (format "%s → %s" hook f)))))
              (advice-add f :around advice '((depth . -100)))
              (push (cons f (cons advice (list hook))) artisan-pause--advised)))))))))

(defun artisan-pause--uninstrument-hooks ()
  "Remove the monitor from every hook function it measures."
  (dolist (entry artisan-pause--advised)
    (advice-remove (car entry) (cadr entry)))
  (setq artisan-pause--advised nil))

;;;; Pauses, profiles, alerts

(defun artisan-pause--profile-start ()
  "Start the CPU profiler for the occurrence that begins, if it is free."
  (when (and (fboundp 'profiler-cpu-start) (not artisan-pause--profiling)
             (not (profiler-cpu-running-p)))
    (require 'profiler)
    (condition-case nil
        ;; A smaller log than the profiler's default (10,000 entries)
        ;; makes starting it cheap: one occurrence needs few.
        (let ((profiler-log-size 1000))
          (profiler-cpu-start profiler-sampling-interval)
          (setq artisan-pause--profiling t))
      (error nil))))

(defun artisan-pause--profile-stop ()
  "Stop the monitor's profile; return it, or nil."
  (when artisan-pause--profiling
    (setq artisan-pause--profiling nil)
    (let ((log (ignore-errors (profiler-cpu-log))))
      (ignore-errors (profiler-cpu-stop))
      (when log
        (profiler-make-profile :type 'cpu :timestamp (current-time) :log log)))))

(defun artisan-pause--source-key (kind name)
  "Return the key of source KIND NAME in `artisan-pause-silenced'."
  (format "%s %s" kind name))

(defun artisan-pause--act (r)
  "Act on R, what the monitor returned when a pause or a profile ended."
  (pcase-let ((`(,seq ,kind ,id ,ms ,gc-ms ,_pauses ,profiled ,capture) r))
    (when profiled
      (let ((profile (artisan-pause--profile-stop)))
        (when (and capture seq profile)
          (puthash seq profile artisan-pause--profiles))))
    (when (and seq artisan-pause--monitor)
      (artisan--pause-context
       artisan-pause--monitor seq (buffer-name) (symbol-name major-mode)
       (if (eq kind 0) (key-description (this-command-keys-vector)) "")
       "")
      ;; A pause that is mostly garbage collection says nothing about
      ;; the hooks: only one slow in its own code has them measured.
      (when (and (eq kind 0) (>= (- ms gc-ms) artisan-pause-threshold))
        (artisan-pause--instrument-hooks))
      (artisan-pause--maybe-alert id ms gc-ms))))

(defun artisan-pause--format-ms (ms)
  "Format the duration MS (milliseconds) for people."
  (if (>= ms 1000) (format "%.1f s" (/ ms 1000.0)) (format "%.0f ms" ms)))

(defun artisan-pause--maybe-alert (id ms gc-ms)
  "Announce the pause of source ID (MS long, GC-MS collecting) if due."
  (when (and artisan-pause-alert-threshold (>= ms artisan-pause-alert-threshold))
    (pcase-let* ((`(,kind ,name) (artisan--pause-source-info artisan-pause--monitor id))
                 (now (float-time))
                 (last (gethash id artisan-pause--alerted)))
      (unless (or (member (artisan-pause--source-key kind name) artisan-pause-silenced)
                  (and last (< (- now last) artisan-pause-alert-interval)))
        (puthash id now artisan-pause--alerted)
        (setq artisan-pause--pending-alert
              (list (format-message "Emacs paused %s in %s `%s'%s (%s for details)"
                                    (artisan-pause--format-ms ms) kind name
                                    (if (>= gc-ms (* 0.5 ms))
                                        (format ", %.0f%% collecting garbage" (/ (* 100 gc-ms) ms))
                                      "")
                                    (substitute-command-keys "\\[artisan-pause-report]"))
                    now))
        (artisan-pause--show-alert)))))

(defun artisan-pause--show-alert ()
  "Show the pending announcement if the echo area is free."
  (pcase-let ((`(,text ,when) artisan-pause--pending-alert))
    (cond
     ((null text))
     ((> (- (float-time) when) 30)
      (setq artisan-pause--pending-alert nil))
     ((and (not (active-minibuffer-window)) (not (current-message)))
      (setq artisan-pause--pending-alert nil)
      (message "%s" text)))))

;;;; History and hangs of earlier sessions

(defun artisan-pause-directory ()
  "Return the directory of the monitor's files, under `artisan-data-directory'."
  (artisan-data-file "pause"))

(defun artisan-pause--history-directory ()
  "Return the directory of the daily summaries."
  (artisan-data-file "pause" "history"))

(defun artisan-pause-save ()
  "Save this session's daily summary under `artisan-data-directory'."
  (when (and artisan-pause--monitor artisan-pause--session)
    (condition-case err
        (artisan--pause-history-save artisan-pause--monitor
                                     (artisan-pause--history-directory)
                                     artisan-pause--session)
      (artisan-error (message "artisan: cannot save the pause history: %s"
                              (error-message-string err))
                     nil))))

(defun artisan-pause--save-timer-function ()
  "Save the summary (from a timer)."
  (artisan-pause-save))

(defun artisan-pause--take-hangs ()
  "Record the hangs the watchdog wrote down for sessions now gone."
  (let ((stalls (ignore-errors (artisan--pause-take-stalls (artisan-pause-directory)))))
    (dolist (s stalls)
      (let* ((kind (plist-get s :kind))
             (name (plist-get s :name))
             (id (artisan--pause-source artisan-pause--monitor (symbol-name kind) name))
             (ms (* 1000 (plist-get s :seconds)))
             (r (artisan--pause-inject artisan-pause--monitor id ms 0.0 (plist-get s :since))))
        (when (car r)
          (artisan--pause-context
           artisan-pause--monitor (car r) "" "" ""
           (format "An earlier session (process %d) was stuck here for at least %s \
and ended while stuck%s." (plist-get s :pid) (artisan-pause--format-ms ms)
                   (if (and (equal (plist-get s :outer-name) name)
                            (eq (plist-get s :outer-kind) kind))
                       ""
                     (format ", inside %s `%s'" (plist-get s :outer-kind)
                             (plist-get s :outer-name))))))
        (push s artisan-pause--hung)))
    (when stalls
      (let ((s (car (last stalls))))
        (message "%s" (format-message "artisan: an earlier Emacs was stuck %s in %s `%s' \
when it ended (%s)" (artisan-pause--format-ms (* 1000 (plist-get s :seconds)))
                                      (plist-get s :kind) (plist-get s :name)
                                      (substitute-command-keys "\\[artisan-pause-report]")))))
    stalls))

;;;; The mode

(defun artisan-pause--ensure-monitor ()
  "Create the native monitor of this session if needed; return it."
  (artisan-module-ensure)
  (unless artisan-pause--monitor
    (setq artisan-pause--monitor
          (artisan--pause-new (float artisan-pause-threshold) artisan-pause-ring-size
                              0 (or (car (current-time-zone)) 0))
          artisan-pause--session
          (format "%s-%d" (format-time-string "%Y%m%dT%H%M%S") (emacs-pid))))
  (artisan-pause--configure)
  artisan-pause--monitor)

(defun artisan-pause--start ()
  "Install everything the monitor needs."
  (let ((mon (artisan-pause--ensure-monitor)))
    (setq artisan-pause--active mon
          artisan-pause--countdown 0)
    (add-hook 'pre-command-hook #'artisan-pause--pre-command -100)
    (add-hook 'post-command-hook #'artisan-pause--post-command 100)
    (add-hook 'kill-emacs-hook #'artisan-pause-save)
    (advice-add 'timer-event-handler :around #'artisan-pause--timer-handler)
    (advice-add 'sit-for :around #'artisan-pause--sit-for)
    (setq artisan-pause--idle-timer
          (run-with-idle-timer 0.005 t #'artisan-pause--idle-beat))
    (when (and artisan-pause-save-interval (> artisan-pause-save-interval 0))
      (setq artisan-pause--save-timer
            (run-with-timer artisan-pause-save-interval artisan-pause-save-interval
                            #'artisan-pause--save-timer-function)))
    (artisan-pause--scan-processes)
    (unless (bound-and-true-p artisan-gc-monitor-mode)
      (require 'artisan-gc)
      (artisan-gc-monitor-mode 1)
      (setq artisan-pause--started-gc t))
    (let ((dir (artisan-pause-directory)))
      (ignore-errors
        (artisan--pause-history-prune (artisan-pause--history-directory)
                                      artisan-pause-history-keep
                                      (or (car (current-time-zone)) 0)))
      (artisan-pause--take-hangs)
      (when artisan-pause-stall-seconds
        (make-directory dir t)
        (artisan--pause-watch mon (expand-file-name (format "stall-%d.json" (emacs-pid)) dir)
                              (float artisan-pause-stall-seconds)
                              artisan-pause--session)))))

(defun artisan-pause--stop ()
  "Remove everything the monitor installed."
  (setq artisan-pause--active nil)
  (remove-hook 'pre-command-hook #'artisan-pause--pre-command)
  (remove-hook 'post-command-hook #'artisan-pause--post-command)
  (remove-hook 'kill-emacs-hook #'artisan-pause-save)
  (advice-remove 'timer-event-handler #'artisan-pause--timer-handler)
  (advice-remove 'sit-for #'artisan-pause--sit-for)
  (when artisan-pause--idle-timer
    (cancel-timer artisan-pause--idle-timer)
    (setq artisan-pause--idle-timer nil))
  (when artisan-pause--save-timer
    (cancel-timer artisan-pause--save-timer)
    (setq artisan-pause--save-timer nil))
  (artisan-pause--unwrap-processes)
  (artisan-pause--uninstrument-hooks)
  (artisan-pause--profile-stop)
  (when artisan-pause--started-gc
    (setq artisan-pause--started-gc nil)
    (when (fboundp 'artisan-gc-monitor-mode)
      (artisan-gc-monitor-mode -1)))
  (when artisan-pause--monitor
    (artisan--pause-close artisan-pause--monitor)
    (artisan-pause-save)))

;;;###autoload
(define-minor-mode artisan-pause-mode
  "Find out why Emacs paused, as it happens, at almost no cost.
Measures interactive commands, timers, process filters and
sentinels, redisplay, and the hook functions around slow
commands; work longer than `artisan-pause-threshold' is a pause,
kept with its context.  \\[artisan-pause-report] shows them,
\\[artisan-pause-history] how the last days went.  Long pauses are
announced in the echo area (`artisan-pause-alert-threshold').
Turning the mode off removes every hook, advice and timer it
installed; what it measured stays for the report."
  :global t
  :group 'artisan-pause
  (artisan-pause--stop)
  (when artisan-pause-mode
    (condition-case err
        (artisan-pause--start)
      (error
       (artisan-pause--stop)
       (setq artisan-pause-mode nil)
       (signal (car err) (cdr err))))))

;;;; Lisp API

(defun artisan-pause-sources ()
  "Return every source the monitor saw, worst first, as plists.
Keys: :kind (`command', `timer', `filter', `sentinel', `hook' or
`redisplay'), :name, :count (occurrences), :total-ms, :max-ms,
:median-ms, :p95-ms and :gc-ms (over every occurrence), :pauses,
:pause-ms and :pause-gc-ms (over its pauses), and :id.  Times are
exclusive: a timer running while a command waits is the timer's.
Worst first means most time lost to pauses, then most time."
  (and artisan-pause--monitor (artisan--pause-sources artisan-pause--monitor)))

(defun artisan-pause-events (&optional since)
  "Return the pauses the monitor keeps, oldest first, as plists.
With SINCE (a time value), only those that began then or later.
Keys: :seq, :kind, :name, :id, :time (`float-time' it began),
:ms, :gc-ms, :waited (it waited for input, which is left out of
:ms), :buffer, :mode, :keys (for commands), :note, and :profile
\(a `profiler' profile of it, when one was captured)."
  (when artisan-pause--monitor
    (mapcar (lambda (e)
              (let ((profile (gethash (plist-get e :seq) artisan-pause--profiles)))
                (if profile (append e (list :profile profile)) e)))
            (artisan--pause-events artisan-pause--monitor
                                   (if since (float-time since) 0.0)))))

(defun artisan-pause-reset ()
  "Forget what the monitor measured in this session."
  (interactive)
  (when artisan-pause--monitor
    (artisan--pause-reset artisan-pause--monitor)
    (clrhash artisan-pause--profiles)
    (clrhash artisan-pause--alerted)
    (setq artisan-pause--hung nil)))

(defun artisan-pause-silence (source)
  "Never announce pauses of SOURCE (\"KIND NAME\") again in this session.
Interactively, choose among the sources that paused, the last one
announced first.  To keep it, add it to `artisan-pause-silenced'."
  (interactive
   (let* ((sources (cl-remove-if-not (lambda (s) (> (plist-get s :pauses) 0))
                                     (artisan-pause-sources)))
          (keys (mapcar (lambda (s) (artisan-pause--source-key (plist-get s :kind)
                                                               (plist-get s :name)))
                        sources))
          (last (car (cl-sort (let (l) (maphash (lambda (id at) (push (cons id at) l))
                                                artisan-pause--alerted)
                                l)
                              #'> :key #'cdr)))
          (default (and last (let ((s (cl-find (car last) sources
                                               :key (lambda (s) (plist-get s :id)))))
                               (and s (artisan-pause--source-key (plist-get s :kind)
                                                                 (plist-get s :name)))))))
     (unless keys (user-error "No source has paused yet"))
     (list (completing-read (format-prompt "Silence" default) keys nil t nil nil default))))
  (unless (and (stringp source) (string-match-p "\\`[a-z]+ ." source))
    (user-error "Not a source: %S (expected \"KIND NAME\")" source))
  (add-to-list 'artisan-pause-silenced source)
  (message "Pauses of %s will not be announced (set `artisan-pause-silenced' to keep it)"
           source))

(provide 'artisan-pause)
;;; artisan-pause.el ends here
