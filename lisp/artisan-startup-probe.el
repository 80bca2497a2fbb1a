;;; artisan-startup-probe.el --- Probe loaded into Emacs processes being profiled  -*- lexical-binding: t; -*-

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

;; `artisan-startup-profile' starts the user's Emacs as child processes
;; with EMACSLOADPATH=DIR: where DIR/subdirs.el loads this file.
;; `normal-top-level' loads every subdirs.el of the initial `load-path'
;; before `command-line' runs, so the probe is active before
;; early-init.el, on Emacs 28 as on later versions, while the
;; configuration keeps its real home and `user-emacs-directory'.  The
;; probe first restores the environment (so processes the configuration
;; starts are not probed), then records, with the artisan module's
;; native recorder (monotonic clock, no Lisp allocation per timestamp):
;;
;; - every load, including those `require' and autoloads trigger from C:
;;   a variable watcher on `load-file-name', which `load' binds around
;;   each file, sees each load begin and end, whoever called it; a
;;   function at the end of `after-load-functions' adds the
;;   `eval-after-load' forms that run after it;
;; - the phases, from advice on `startup--load-user-init-file', a
;;   watcher on `after-init-time' and functions at the ends of the
;;   start-up hooks; `package-activate-all' is timed as a call;
;; - use-package :init and :config sections, when use-package computes
;;   statistics (the probe turns them on before init is read);
;; - `gcs-done', `gc-elapsed' and `gc-cons-threshold' at every event.
;;
;; Deferred native compilation is turned off in the child (the profiler
;; kills the child once start-up settled, so no compilation would ever
;; finish); libraries that have native code already use it.
;;
;; After `window-setup-hook', the first redisplay and an optional
;; settle delay, it writes facts about the session (packages, which
;; libraries hooks, modes, timers and the init files' calls use, ...)
;; and exits without running `kill-emacs-hook'.  A configuration that
;; calls `kill-emacs' itself before that gets an `exit' mark and the
;; same facts, from a function on `kill-emacs-hook'.  Processes the
;; configuration starts keep ARTISAN_STARTUP_RUN in their environment,
;; which tells the profiler what to kill once the child is gone.  When the module cannot be loaded it
;; records with `float-time' instead.  In a process not started by the
;; profiler this file does nothing.

;;; Code:

(declare-function artisan--probe-now "artisan-dyn")
(declare-function artisan--probe-open "artisan-dyn")
(declare-function artisan--probe-enter "artisan-dyn")
(declare-function artisan--probe-leave "artisan-dyn")
(declare-function artisan--probe-loaded "artisan-dyn")
(declare-function artisan--probe-mark "artisan-dyn")
(declare-function artisan--probe-meta "artisan-dyn")
(declare-function artisan--probe-overhead "artisan-dyn")
(declare-function artisan--probe-close "artisan-dyn")
(declare-function artisan--probe-scratch "artisan-dyn")
(declare-function server-force-stop "server")
(declare-function package-desc-version "package")
(declare-function package-version-join "package")
(declare-function advice--p "nadvice")
(declare-function advice--symbol-function "nadvice")
(declare-function json-encode "json")

(defvar use-package-compute-statistics)
(defvar package-activated-list)
(defvar package-alist)
(defvar package-quickstart)
(defvar server-process)
(defvar artisan-module--file)

(defvar artisan-startup-probe--recorder nil
  "The native recorder, or nil when recording with the Lisp clock.")

(defvar artisan-startup-probe--active nil
  "Non-nil while the probe records.")

(defvar artisan-startup-probe--out nil
  "The file the events go to.")

(defvar artisan-startup-probe--events nil
  "Events recorded with the Lisp clock, newest first.")

(defvar artisan-startup-probe--stack nil
  "One entry per active binding of `load-file-name', innermost first.
Each is nil for a binding that is not recorded, or the value of
`artisan-startup-probe--signals' when its load began.")

(defvar artisan-startup-probe--signals 0
  "Number of signals raised since the probe started.")

(defvar artisan-startup-probe--last-signal nil
  "The last signal raised, as (ERROR-SYMBOL . DATA).")

(defvar artisan-startup-probe--counts (make-vector 4 0)
  "Events recorded: loads, after-loads, marks, use-package sections.")

(defvar artisan-startup-probe--settle 0
  "Seconds to keep watching after the first redisplay.")

(defvar artisan-startup-probe--stall 3
  "Seconds of idleness before start-up counts as stalled.")

(defvar artisan-startup-probe--timers nil
  "Timers the probe started.")

(defvar artisan-startup-probe--stall-timer nil
  "The idle timer that detects a start-up waiting for input.")

(defvar artisan-startup-probe--mode nil
  "How the probe works: `record', or `bare' (only exit once settled).")

(defvar artisan-startup-probe--state nil
  "Progress of the exit: nil, `armed', `redisplayed' or `settled'.")

(defvar artisan-startup-probe--notes nil
  "Facts noted while starting, as (KEY . VALUE).")

(defvar artisan-startup-probe--setup-ns 0
  "Nanoseconds the probe took to install itself.")

(defvar artisan-startup-probe--init-directory nil
  "The configuration directory to use instead of the default, or nil.")

(defvar artisan-startup-probe--native-compile nil
  "Non-nil to leave deferred native compilation on in this Emacs.")

;;;; Recording

(defun artisan-startup-probe--lisp-now ()
  "Return `float-time' in nanoseconds."
  (truncate (* (float-time) 1e9)))

(defun artisan-startup-probe--enter (kind name via)
  "Record that a KIND node named NAME began, caused by VIA."
  (if artisan-startup-probe--recorder
      (artisan--probe-enter artisan-startup-probe--recorder kind name via
                            gcs-done gc-elapsed)
    (push (list "enter" (artisan-startup-probe--lisp-now) kind name via
                gcs-done gc-elapsed)
          artisan-startup-probe--events)))

(defun artisan-startup-probe--leave (kind status)
  "Record that the innermost KIND node ended with STATUS.
STATUS is t, nil (a load that found no file) or an error message."
  (if artisan-startup-probe--recorder
      (artisan--probe-leave artisan-startup-probe--recorder kind status
                            (and (stringp status) status)
                            gcs-done gc-elapsed)
    (push (list "leave" (artisan-startup-probe--lisp-now) kind status
                gcs-done gc-elapsed)
          artisan-startup-probe--events)))

(defun artisan-startup-probe--mark (phase)
  "Record the phase boundary PHASE."
  (when artisan-startup-probe--active
    (aset artisan-startup-probe--counts 2
          (1+ (aref artisan-startup-probe--counts 2)))
    (if artisan-startup-probe--recorder
        (artisan--probe-mark artisan-startup-probe--recorder phase
                             gcs-done gc-elapsed gc-cons-threshold)
      (push (list "mark" (artisan-startup-probe--lisp-now) phase
                  gcs-done gc-elapsed gc-cons-threshold)
            artisan-startup-probe--events))))

(defun artisan-startup-probe--meta (key value)
  "Record the fact KEY with VALUE."
  (if artisan-startup-probe--recorder
      (artisan--probe-meta artisan-startup-probe--recorder key value)
    (push (list "meta" key value) artisan-startup-probe--events)))

;;;; Loads

(defun artisan-startup-probe--via ()
  "Return what started the load being bound, as a string."
  (let* ((frame (backtrace-frame 1 #'artisan-startup-probe--watch))
         (fun (cadr frame)))
    (when (eq fun 'load-with-code-conversion)
      (setq fun (cadr (backtrace-frame 2 #'artisan-startup-probe--watch))))
    (cond ((eq fun 'load) "load")
          ((eq fun 'require) "require")
          ((eq fun 'autoload-do-load) "autoload")
          ((and fun (symbolp fun)) (concat "autoload " (symbol-name fun)))
          (t ""))))

(defun artisan-startup-probe--watch (_symbol newval operation _where)
  "Watch `load-file-name': a `let' of it to NEWVAL begins a load.
OPERATION `unlet' ends it."
  (cond
   ((eq operation 'let)
    (if (and artisan-startup-probe--active (stringp newval))
        (progn
          (push artisan-startup-probe--signals artisan-startup-probe--stack)
          (aset artisan-startup-probe--counts 0
                (1+ (aref artisan-startup-probe--counts 0)))
          (artisan-startup-probe--enter "load" newval
                                        (artisan-startup-probe--via)))
      (push nil artisan-startup-probe--stack)))
   ((eq operation 'unlet)
    (let ((entry (car artisan-startup-probe--stack)))
      (setq artisan-startup-probe--stack (cdr artisan-startup-probe--stack))
      (when (and entry artisan-startup-probe--active)
        (artisan-startup-probe--leave
         "load"
         (if (and (/= entry artisan-startup-probe--signals)
                  artisan-startup-probe--last-signal)
             (error-message-string artisan-startup-probe--last-signal)
           t)))))))

(defvar artisan-startup-probe--pending-advice nil
  "Advice to add once its function is defined: (FUNCTION . ADVICE) pairs.")

(defun artisan-startup-probe--add-pending-advice ()
  "Add the pending advice whose functions are now defined."
  (dolist (pending artisan-startup-probe--pending-advice)
    (when (and (fboundp (car pending))
               (not (autoloadp (symbol-function (car pending)))))
      (advice-add (car pending) (cadr pending) (cddr pending))
      (setq artisan-startup-probe--pending-advice
            (delq pending artisan-startup-probe--pending-advice)))))

(defun artisan-startup-probe--advise (function how advice)
  "Advise FUNCTION, HOW with ADVICE, now or once FUNCTION is defined.
Advice around an autoload would time the call twice."
  (push (cons function (cons how advice)) artisan-startup-probe--pending-advice)
  (artisan-startup-probe--add-pending-advice))

(defun artisan-startup-probe--loaded (file)
  "Record that FILE and the `eval-after-load' forms run after it are done.
On `after-load-functions', last."
  (when artisan-startup-probe--pending-advice
    (artisan-startup-probe--add-pending-advice))
  (when artisan-startup-probe--active
    (aset artisan-startup-probe--counts 1
          (1+ (aref artisan-startup-probe--counts 1)))
    (if artisan-startup-probe--recorder
        (artisan--probe-loaded artisan-startup-probe--recorder file gcs-done gc-elapsed)
      (push (list "loaded" (artisan-startup-probe--lisp-now) file gcs-done gc-elapsed)
            artisan-startup-probe--events))))

(defun artisan-startup-probe--signal (error-symbol data)
  "Remember the signal ERROR-SYMBOL with DATA, to report failed loads."
  (setq artisan-startup-probe--signals (1+ artisan-startup-probe--signals)
        artisan-startup-probe--last-signal (cons error-symbol data)))

(defun artisan-startup-probe--call (name function &rest args)
  "As a `call' node named NAME, call FUNCTION with ARGS."
  (if (not artisan-startup-probe--active)
      (apply function args)
    (artisan-startup-probe--enter "call" name "")
    (unwind-protect (apply function args)
      (artisan-startup-probe--leave "call" t))))

(defun artisan-startup-probe--package-activate-all (function &rest args)
  "Time FUNCTION, `package-activate-all', with ARGS."
  (apply #'artisan-startup-probe--call "package-activate-all" function args))

(defun artisan-startup-probe--package-initialize (function &rest args)
  "Time FUNCTION, `package-initialize', with ARGS."
  (apply #'artisan-startup-probe--call "package-initialize" function args))

(defun artisan-startup-probe--use-package (keyword name after)
  "Record that section KEYWORD of package NAME starts (AFTER nil) or ends."
  (when artisan-startup-probe--active
    (let ((kind (cdr (assq keyword '((:use-package . "use-package")
                                     (:init . "init")
                                     (:config . "config"))))))
      (when kind
        (aset artisan-startup-probe--counts 3
              (1+ (aref artisan-startup-probe--counts 3)))
        (if after
            (artisan-startup-probe--leave kind t)
          (artisan-startup-probe--enter kind (format "%s" name) ""))))))

;;;; Phases

(defun artisan-startup-probe--init-file (function &rest args)
  "Run FUNCTION, `startup--load-user-init-file', with ARGS, marking phases.
Its third argument is non-nil for init.el and nil for early-init.el."
  (let ((early (not (nth 2 args))))
    (when (and early (not artisan-startup-probe--native-compile))
      ;; Deferred native compilation would start compiling every library
      ;; that has no native code yet, in processes the profiler kills
      ;; with the child: every run would pay for starting it, none would
      ;; finish.  The profile measures start-up as it is once compilation
      ;; is done.  (Set here: `command-line' resets it before early-init.)
      (dolist (var '(native-comp-deferred-compilation native-comp-jit-compilation))
        (when (boundp var) (set var nil))))
    (artisan-startup-probe--mark (if early "early-init" "init"))
    (when (and artisan-startup-probe--init-directory (not early))
      ;; Profiling another configuration: skip ~/.emacs, so that its
      ;; init.el is the one loaded.
      (setq args (cons #'ignore (cdr args))))
    (unwind-protect (apply function args)
      (when early (artisan-startup-probe--mark "early-init-done")))))

(defun artisan-startup-probe--before-init ()
  "Mark the start of `before-init-hook'."
  (artisan-startup-probe--mark "before-init"))

(defun artisan-startup-probe--after-init-time (_symbol newval _operation _where)
  "Mark the start of `after-init-hook' when `after-init-time' gets NEWVAL."
  (when newval (artisan-startup-probe--mark "after-init")))

(defun artisan-startup-probe--after-init-done ()
  "Mark the end of `after-init-hook'."
  (artisan-startup-probe--mark "after-init-done"))

(defun artisan-startup-probe--emacs-startup ()
  "Mark the start of `emacs-startup-hook'."
  (artisan-startup-probe--mark "emacs-startup"))

(defun artisan-startup-probe--window-setup ()
  "Mark the start of `window-setup-hook'."
  (artisan-startup-probe--mark "window-setup"))

(defun artisan-startup-probe--window-setup-done ()
  "Mark the end of `window-setup-hook' and wait for the first redisplay."
  (artisan-startup-probe--mark "window-setup-done")
  (artisan-startup-probe--arm))

(defun artisan-startup-probe--arm ()
  "Wait for the first redisplay, then settle."
  (unless artisan-startup-probe--state
    (setq artisan-startup-probe--state 'armed)
    (if (daemonp)
        (push (run-with-timer 0 nil #'artisan-startup-probe--redisplayed)
              artisan-startup-probe--timers)
      (add-hook 'pre-redisplay-functions #'artisan-startup-probe--pre-redisplay))
    ;; Should no redisplay come, go on anyway.
    (push (run-with-timer 2 nil #'artisan-startup-probe--redisplayed)
          artisan-startup-probe--timers)))

(defun artisan-startup-probe--pre-redisplay (&rest _)
  "Note the first redisplay; its end is when a 0-delay timer runs."
  (remove-hook 'pre-redisplay-functions #'artisan-startup-probe--pre-redisplay)
  (push (run-with-timer 0 nil #'artisan-startup-probe--redisplayed)
        artisan-startup-probe--timers))

(defun artisan-startup-probe--redisplayed ()
  "Mark the end of the first redisplay and settle."
  (when (eq artisan-startup-probe--state 'armed)
    (setq artisan-startup-probe--state 'redisplayed)
    (when artisan-startup-probe--stall-timer
      (cancel-timer artisan-startup-probe--stall-timer))
    (artisan-startup-probe--mark "redisplay-done")
    (if (> artisan-startup-probe--settle 0)
        (push (run-with-timer artisan-startup-probe--settle nil
                              #'artisan-startup-probe--settled)
              artisan-startup-probe--timers)
      (artisan-startup-probe--settled))))

(defun artisan-startup-probe--stalled ()
  "Start-up has been idle too long: note why, and finish."
  (unless (eq artisan-startup-probe--state 'settled)
    (let ((prompt (minibuffer-prompt))
          (msg (current-message)))
      (push (cons "stalled"
                  (format "Start-up stopped for %s s before it settled%s"
                          artisan-startup-probe--stall
                          (cond (prompt (format ", waiting for an answer to %S"
                                                (substring-no-properties prompt)))
                                ((get-buffer "*Backtrace*")
                                 ", in the debugger (`debug-on-error' is on)")
                                (msg (format "; last message: %S"
                                             (substring-no-properties msg)))
                                (t ""))))
            artisan-startup-probe--notes))
    (artisan-startup-probe--settled)))

(defun artisan-startup-probe--command-error (function)
  "Return a `command-error-function' that notes errors, then calls FUNCTION."
  (lambda (data context caller)
    (unless (eq artisan-startup-probe--state 'settled)
      (push (cons "command-error" (error-message-string data))
            artisan-startup-probe--notes)
      ;; Start-up was cut short: finish after the next redisplay.
      (artisan-startup-probe--arm))
    (when function (funcall function data context caller))))

;;;; Facts

(defun artisan-startup-probe--name (function)
  "Return a printable name for FUNCTION."
  (if (symbolp function) (symbol-name function) "<lambda>"))

(defun artisan-startup-probe--hook-functions (hook)
  "Return the names of the functions on HOOK's global value."
  (let ((value (and (boundp hook) (default-value hook)))
        names)
    (if (functionp value)
        (list (artisan-startup-probe--name value))
      (while (consp value)
        (unless (eq (car value) t)
          (push (artisan-startup-probe--name (car value)) names))
        (setq value (cdr value)))
      (nreverse names))))

(defun artisan-startup-probe--config-forms ()
  "Return the forms of the configuration's init files, read as source.
A compiled init file is read from its source next to it."
  (let (forms seen)
    (dolist (file (list early-init-file user-init-file
                        (and (boundp 'custom-file) custom-file)))
      (when (stringp file)
        (let ((source (cond ((string-suffix-p ".el" file) file)
                            ((string-suffix-p ".elc" file) (substring file 0 -1)))))
          (when (and source (not (member source seen)) (file-readable-p source))
            (push source seen)
            (with-temp-buffer
              (insert-file-contents source)
              (goto-char (point-min))
              ;; Up to the end, or to what does not read.
              (condition-case nil
                  (while t (push (read (current-buffer)) forms))
                (error nil)))))))
    forms))

(defconst artisan-startup-probe--after-load-forms
  (list 'eval-after-load 'with-eval-after-load)
  "Forms whose body runs only once a library is loaded.")

(defconst artisan-startup-probe--use-package-code
  '(:init :preface :if :when :unless)
  "The `use-package' keywords whose values run while it is evaluated.
The others name commands, hooks and keys (autoloads), or run once
the package is loaded (:config).")

(defun artisan-startup-probe--quoted (data refs)
  "Note every symbol in the quoted DATA in REFS (up to 10000 conses)."
  (let ((stack (list data))
        (n 0))
    (while (and stack (< n 10000))
      (let ((x (pop stack)))
        (cond ((consp x)
               (setq n (1+ n))
               (push (cdr x) stack)
               (push (car x) stack))
              ((and x (symbolp x))
               (puthash x t refs)))))))

(defun artisan-startup-probe--calls (form table depth &optional refs)
  "Note the symbols FORM calls (or expands) when evaluated, in TABLE.
Quoted data and function references (`function') are not calls;
the bodies of `with-eval-after-load' and `eval-after-load' and the
:config of `use-package' run only once their package is loaded.
Function bodies and lambdas count, as they may run at start-up:
a package is called deferrable only when nothing could call it.
DEPTH bounds the recursion.  With REFS, a hash table, note there
too every symbol FORM calls, quotes or names as a function where
it runs: the functions it may put on a hook, a timer or an advice."
  (when (and (consp form) (< depth 200))
    (let ((head (car form)))
      (cond
       ((eq head 'quote)
        (when refs (artisan-startup-probe--quoted (car-safe (cdr form)) refs)))
       ((eq head 'function)
        (when refs
          (let ((f (car-safe (cdr form))))
            (if (symbolp f)
                (puthash f t refs)
              ;; #'(lambda ...): its body calls what it calls.
              (artisan-startup-probe--calls f refs (1+ depth) refs)))))
       ((memq head artisan-startup-probe--after-load-forms)
        (puthash head t table)
        (when refs (puthash head t refs))
        (artisan-startup-probe--calls (car-safe (cdr form)) table (1+ depth) refs))
       (t
        (if (symbolp head)
            (progn (puthash head t table)
                   (when refs (puthash head t refs)))
          (artisan-startup-probe--calls head table (1+ depth) refs))
        (let ((args (cdr form))
              (code (not (eq head 'use-package)))
              (n 0))
          (while (and (consp args) (< n 10000))
            (let ((arg (car args)))
              (if (and (eq head 'use-package) (keywordp arg))
                  (setq code (memq arg artisan-startup-probe--use-package-code))
                (when code
                  (artisan-startup-probe--calls arg table (1+ depth) refs))))
            (setq args (cdr args) n (1+ n)))))))))

(defun artisan-startup-probe--usage (files)
  "Return (USAGE DEPS) for the start-up libraries FILES, a hash table.
USAGE lists (FILE REASON) for each library that start-up used:
the init files call (or expand) its functions or macros, one of
its modes is enabled, or the init files put one of its functions
on a hook, a timer or an advice.  What a library puts on hooks,
timers and advices by itself, when it loads (its own hooks, an
advice on `yank'), is no use of it: deferred, it would set that up
when it loads.  DEPS lists (FILE PROVIDES REQUIRES) from
`load-history'."
  (let ((owner (make-hash-table :test 'eq))
        (reasons (make-hash-table :test 'equal))
        (calls (make-hash-table :test 'eq))
        (refs (make-hash-table :test 'eq))
        deps)
    (dolist (entry load-history)
      (when (and (stringp (car entry)) (gethash (car entry) files))
        (let (provides requires)
          (dolist (item (cdr entry))
            (when (consp item)
              (cond ((eq (car item) 'defun)
                     (puthash (cdr item) (car entry) owner))
                    ((eq (car item) 'provide) (push (symbol-name (cdr item)) provides))
                    ((eq (car item) 'require) (push (symbol-name (cdr item)) requires)))))
          (push (list (car entry) provides requires) deps))))
    (let ((note (lambda (function why)
                  (let ((file (and (symbolp function) (gethash function owner))))
                    (when (and file (not (gethash file reasons)))
                      (puthash file (format "%s: %s" why function) reasons)))))
          ;; A hook, timer or advice function counts when the init
          ;; files name it: they put it there.
          (named (lambda (function why)
                   (when (and (symbolp function) (gethash function refs))
                     (let ((file (gethash function owner)))
                       (when (and file (not (gethash file reasons)))
                         (puthash file (format "%s (set by the init files): %s"
                                               why function)
                                  reasons)))))))
      ;; What the init files call (or expand) needs its library then.
      (dolist (form (artisan-startup-probe--config-forms))
        (artisan-startup-probe--calls form calls 0 refs))
      (maphash (lambda (function _)
                 (when (gethash function owner)
                   (funcall note function (if (macrop function)
                                              "macro used by the init files"
                                            "called by the init files"))))
               calls)
      (mapatoms
       (lambda (symbol)
         (when (and (boundp symbol)
                    (string-match-p "-\\(?:hooks?\\|functions\\)\\'" (symbol-name symbol)))
           (let ((value (default-value symbol)))
             (if (functionp value)
                 (funcall named value symbol)
               (while (consp value)
                 (funcall named (car value) symbol)
                 (setq value (cdr value))))))
         (when (and (fboundp symbol) (advice--p (advice--symbol-function symbol)))
           (advice-mapc (lambda (function _props)
                          (funcall named function (format "advice on %s" symbol)))
                        symbol))))
      ;; An enabled mode is in use, whoever enabled it.
      (dolist (mode (bound-and-true-p global-minor-modes))
        (funcall note mode "enabled mode"))
      (dolist (buffer (buffer-list))
        (with-current-buffer buffer
          (funcall note major-mode (format "major mode of %s" (buffer-name)))
          (dolist (mode (bound-and-true-p local-minor-modes))
            (funcall note mode (format "mode enabled in %s" (buffer-name))))))
      (dolist (timer (append timer-list timer-idle-list))
        (funcall named (timer--function timer) "timer"))
      (when (functionp initial-buffer-choice)
        (funcall note initial-buffer-choice 'initial-buffer-choice)))
    (let (usage)
      (maphash (lambda (file reason) (push (list file reason) usage)) reasons)
      (list usage deps))))

(defun artisan-startup-probe--loaded-files ()
  "Return a hash table of the files loaded while the probe recorded."
  (let ((files (make-hash-table :test 'equal))
        (done 0)
        (total (+ (aref artisan-startup-probe--counts 0) 1)))
    ;; `load-history' lists the newest first: the start-up loads are
    ;; its first entries.
    (let ((tail load-history))
      (while (and tail (< done total))
        (when (stringp (caar tail))
          (puthash (caar tail) t files))
        (setq done (1+ done) tail (cdr tail))))
    files))

(defun artisan-startup-probe--packages ()
  "Return the activated packages as \"NAME VERSION\" strings."
  (when (and (featurep 'package) (boundp 'package-activated-list))
    (delq nil
          (mapcar (lambda (name)
                    (let ((desc (cadr (assq name package-alist))))
                      (and desc
                           (format "%s %s" name
                                   (package-version-join (package-desc-version desc))))))
                  package-activated-list))))

(defun artisan-startup-probe--calibrate-1 (n)
  "Return the cost of N passes over each recording path, in nanoseconds.
The result is (LOAD LOADED MARK): one load's watcher calls, one
`after-load-functions' call and one phase mark."
  (let ((artisan-startup-probe--stack nil)
        (artisan-startup-probe--active t))
    (let ((t0 (artisan--probe-now)))
      (dotimes (_ n)
        (artisan-startup-probe--watch 'load-file-name "/artisan-calibration" 'let nil)
        (artisan-startup-probe--watch 'load-file-name nil 'set nil)
        (artisan-startup-probe--watch 'load-file-name nil 'unlet nil))
      (let ((t1 (artisan--probe-now)))
        (dotimes (_ n) (artisan-startup-probe--loaded "/artisan-calibration"))
        (let ((t2 (artisan--probe-now)))
          (dotimes (_ n) (artisan-startup-probe--mark "calibration"))
          (let ((t3 (artisan--probe-now)))
            (list (/ (- t1 t0) n) (/ (- t2 t1) n) (/ (- t3 t2) n))))))))

(defun artisan-startup-probe--calibrate ()
  "Return the Lisp-side cost of recording, in nanoseconds per event.
The result is (LOAD LOADED MARK), the least of five rounds: on a
busy machine a round can be interrupted, and the least is the cost
of the code itself."
  ;; A recorder of its own, which keeps nothing: the calibration's
  ;; events must not join the start-up's (which may still have loads
  ;; open, when start-up stalled inside one).
  (let* ((artisan-startup-probe--recorder (artisan--probe-scratch))
         (rounds (unwind-protect
                     (mapcar (lambda (_) (artisan-startup-probe--calibrate-1 40))
                             (make-list 5 nil))
                   (artisan--probe-close artisan-startup-probe--recorder))))
    (list (apply #'min (mapcar #'car rounds))
          (apply #'min (mapcar #'cadr rounds))
          (apply #'min (mapcar #'caddr rounds)))))

(defun artisan-startup-probe--emacs-meta ()
  "Record which Emacs this is: its version and native compilation.
Recorded as soon as the probe starts, so that a run that never
settles (killed, stalled) says it too."
  (artisan-startup-probe--meta "emacs-version" emacs-version)
  (artisan-startup-probe--meta "native-comp"
                               (and (fboundp 'native-comp-available-p)
                                    (native-comp-available-p)
                                    t)))

(defun artisan-startup-probe--facts ()
  "Record the facts about this session that hints need."
  (let ((files (artisan-startup-probe--loaded-files)))
    (artisan-startup-probe--emacs-meta)
    (artisan-startup-probe--meta "user-init-file" user-init-file)
    (artisan-startup-probe--meta "early-init-file" early-init-file)
    (artisan-startup-probe--meta "custom-file" custom-file)
    (artisan-startup-probe--meta "user-emacs-directory" user-emacs-directory)
    (artisan-startup-probe--meta "emacs-directories"
                                 (list (file-name-as-directory
                                        (expand-file-name "../lisp" data-directory))
                                       (file-name-as-directory data-directory)))
    (artisan-startup-probe--meta "init-file-had-error" init-file-had-error)
    (artisan-startup-probe--meta "gc-cons-threshold" gc-cons-threshold)
    (artisan-startup-probe--meta "gc-cons-percentage" gc-cons-percentage)
    (artisan-startup-probe--meta "package-quickstart"
                                 (and (bound-and-true-p package-quickstart) t))
    (artisan-startup-probe--meta "packages" (artisan-startup-probe--packages))
    (artisan-startup-probe--meta
     "hooks" (mapcar (lambda (hook)
                       (cons (symbol-name hook)
                             (artisan-startup-probe--hook-functions hook)))
                     '(after-init-hook emacs-startup-hook window-setup-hook)))
    (artisan-startup-probe--meta "ui" (cond ((daemonp) "daemon")
                                            ((display-graphic-p) "gui")
                                            (t "tty")))
    (let ((usage (artisan-startup-probe--usage files)))
      (artisan-startup-probe--meta "usage" (car usage))
      (artisan-startup-probe--meta "deps" (cadr usage)))
    (dolist (note artisan-startup-probe--notes)
      (artisan-startup-probe--meta (car note) (cdr note)))
    (when artisan-startup-probe--recorder
      (let* ((counts (copy-sequence artisan-startup-probe--counts))
             (costs (artisan-startup-probe--calibrate)))
        (artisan-startup-probe--meta "calibration-ns" costs)
        (artisan-startup-probe--meta
         "overhead-ns"
         (+ artisan-startup-probe--setup-ns
            (* (aref counts 0) (nth 0 costs))
            (* (aref counts 1) (nth 1 costs))
            (* (+ (aref counts 2) (* 2 (aref counts 3))) (nth 2 costs))))))))

;;;; Finishing

(defun artisan-startup-probe--write-lisp-events ()
  "Write the events recorded with the Lisp clock to the output file."
  (require 'json)
  (let ((coding-system-for-write 'utf-8-unix))
    (with-temp-file artisan-startup-probe--out
      (dolist (event (reverse artisan-startup-probe--events))
        (let ((kind (car event)))
          (insert
           (json-encode
            (cond
             ((equal kind "start")
              `((e . "start") (t . ,(nth 1 event)) (clock . "realtime")
                (pid . ,(emacs-pid)) (first_lisp . ,(nth 2 event))))
             ((equal kind "enter")
              `((e . "enter") (t . ,(nth 1 event)) (kind . ,(nth 2 event))
                (name . ,(nth 3 event)) (via . ,(nth 4 event))
                (gc . ,(nth 5 event)) (gcs . ,(float (nth 6 event)))))
             ((equal kind "loaded")
              `((e . "loaded") (t . ,(nth 1 event)) (path . ,(nth 2 event))
                (gc . ,(nth 3 event)) (gcs . ,(float (nth 4 event)))))
             ((equal kind "leave")
              (let ((status (nth 3 event)))
                `((e . "leave") (t . ,(nth 1 event)) (kind . ,(nth 2 event))
                  (found . ,(if status t :json-false))
                  (err . ,(and (stringp status) status))
                  (gc . ,(nth 4 event)) (gcs . ,(float (nth 5 event))))))
             ((equal kind "mark")
              `((e . "mark") (t . ,(nth 1 event)) (phase . ,(nth 2 event))
                (gc . ,(nth 3 event)) (gcs . ,(float (nth 4 event)))
                (threshold . ,(nth 5 event))))
             ((equal kind "meta")
              `((e . "meta") (key . ,(nth 1 event))
                (value . ,(let ((v (nth 2 event)))
                            (cond ((eq v t) t)
                                  ((null v) :json-null)
                                  ((and (consp v) (not (proper-list-p v)))
                                   (list (car v) (cdr v)))
                                  (t v))))))
             (t `((e . "end") (t . ,(nth 1 event)) (overhead_ns . 0))))))
          (insert "\n"))))))

(defun artisan-startup-probe--settled ()
  "Start-up has settled: write everything down and exit."
  (if (eq artisan-startup-probe--mode 'bare)
      (artisan-startup-probe--bare-settled)
    (artisan-startup-probe--record-settled)))

(defun artisan-startup-probe--finish (mark)
  "Mark MARK, stop recording, and write the events and facts down."
  (setq artisan-startup-probe--state 'settled)
  (dolist (timer artisan-startup-probe--timers) (cancel-timer timer))
  (artisan-startup-probe--mark mark)
  (setq artisan-startup-probe--active nil)
  (condition-case err
      (artisan-startup-probe--facts)
    (error (artisan-startup-probe--meta
            "facts-error" (error-message-string err))))
  (if artisan-startup-probe--recorder
      (ignore-errors (artisan--probe-close artisan-startup-probe--recorder))
    (push (list "end" (artisan-startup-probe--lisp-now))
          artisan-startup-probe--events)
    (ignore-errors (artisan-startup-probe--write-lisp-events))))

(defun artisan-startup-probe--record-settled ()
  "Settled while recording: write the events and facts, and exit."
  (unless (eq artisan-startup-probe--state 'settled)
    (artisan-startup-probe--finish "settled")
    (artisan-startup-probe--exit)))

(defun artisan-startup-probe--kill-emacs ()
  "On `kill-emacs-hook': the configuration exits by itself.
Before start-up settled, mark the exit and write everything down
\(the recorder's last 100 ms would be lost otherwise).  The probe's
own exit binds `kill-emacs-hook' to nil and never gets here."
  (unless (eq artisan-startup-probe--state 'settled)
    (if (eq artisan-startup-probe--mode 'bare)
        (artisan-startup-probe--bare-write "exit")
      (artisan-startup-probe--finish "exit"))))

(defun artisan-startup-probe--exit ()
  "Exit this Emacs without saving anything.
A server the configuration started is stopped first, so that it
leaves no socket behind; `kill-emacs-hook' does not run, so that
nothing (desktop, recentf, savehist) is written."
  (when (and (boundp 'server-process) server-process (fboundp 'server-force-stop))
    (ignore-errors (server-force-stop)))
  (let ((kill-emacs-hook nil))
    (kill-emacs 0)))

;;;; Bare mode

(defun artisan-startup-probe--bare-write (mark)
  "Write the time of MARK (`settled' or `exit'), without recording."
  (setq artisan-startup-probe--state 'settled)
  (let ((now (artisan-startup-probe--lisp-now))
        (coding-system-for-write 'utf-8-unix))
    (with-temp-file artisan-startup-probe--out
      (insert (format "{\"e\":\"start\",\"t\":%d,\"clock\":\"realtime\",\"pid\":%d,\"first_lisp\":%d}\n"
                      now (emacs-pid) now)
              (format "{\"e\":\"mark\",\"t\":%d,\"phase\":%S,\"gc\":%d,\"gcs\":%f}\n"
                      now mark gcs-done gc-elapsed)))))

(defun artisan-startup-probe--bare-settled ()
  "Settled without recording: write the settled time and exit."
  (unless (eq artisan-startup-probe--state 'settled)
    (artisan-startup-probe--bare-write "settled")
    (artisan-startup-probe--exit)))

;;;; Installation

(defun artisan-startup-probe--clean-environment (environment loadpath)
  "Return ENVIRONMENT without the probe's variables.
EMACSLOADPATH gets its original value LOADPATH back (none if nil)."
  (let (out)
    (dolist (entry environment (nreverse out))
      (cond ((string-prefix-p "ARTISAN_PROBE_" entry))
            ((string-prefix-p "EMACSLOADPATH=" entry)
             (when loadpath (push (concat "EMACSLOADPATH=" loadpath) out)))
            (t (push entry out))))))

(defun artisan-startup-probe--install (mode)
  "Install the probe in MODE, `record' or `bare'."
  (let* ((loadpath (getenv "ARTISAN_PROBE_LOADPATH"))
         (probe-dir (car (split-string (or (getenv "EMACSLOADPATH") "") ":")))
         (init-dir (getenv "ARTISAN_PROBE_INIT_DIR")))
    (setq artisan-startup-probe--out (getenv "ARTISAN_PROBE_OUT")
          artisan-startup-probe--settle
          (string-to-number (or (getenv "ARTISAN_PROBE_SETTLE") "0"))
          artisan-startup-probe--stall
          (max 0.1 (string-to-number (or (getenv "ARTISAN_PROBE_STALL") "3"))))
    ;; Processes the configuration starts must not be probed.
    (setq process-environment
          (artisan-startup-probe--clean-environment process-environment loadpath)
          initial-environment
          (artisan-startup-probe--clean-environment initial-environment loadpath))
    (setq load-path (delete probe-dir load-path))
    (setq artisan-startup-probe--native-compile
          (equal (getenv "ARTISAN_PROBE_NATIVE_COMPILE") "1"))
    ;; Profiling a configuration other than the one this Emacs found by
    ;; itself (Emacs 28 has no --init-directory): point
    ;; `user-emacs-directory' there, early-init.el and init.el follow.
    (when (and init-dir (not (string= init-dir ""))
               (not (file-equal-p init-dir user-emacs-directory)))
      (setq artisan-startup-probe--init-directory init-dir
            user-emacs-directory (file-name-as-directory init-dir)))
    (when (eq mode 'record)
      (add-variable-watcher 'load-file-name #'artisan-startup-probe--watch)
      (add-hook 'after-load-functions #'artisan-startup-probe--loaded 100)
      (unless signal-hook-function
        (setq signal-hook-function #'artisan-startup-probe--signal))
      (artisan-startup-probe--advise 'package-activate-all :around
                                     #'artisan-startup-probe--package-activate-all)
      (artisan-startup-probe--advise 'package-initialize :around
                                     #'artisan-startup-probe--package-initialize)
      (add-variable-watcher 'after-init-time #'artisan-startup-probe--after-init-time)
      (add-hook 'before-init-hook #'artisan-startup-probe--before-init -100)
      (add-hook 'after-init-hook #'artisan-startup-probe--after-init-done 100)
      (add-hook 'emacs-startup-hook #'artisan-startup-probe--emacs-startup -100)
      (add-hook 'window-setup-hook #'artisan-startup-probe--window-setup -100)
      ;; use-package reports its sections when it computes statistics.
      (unless (boundp 'use-package-compute-statistics)
        (setq use-package-compute-statistics t))
      (artisan-startup-probe--advise 'use-package-statistics-gather :before
                                     #'artisan-startup-probe--use-package)
      (setq command-error-function
            (artisan-startup-probe--command-error command-error-function))
      (setq artisan-startup-probe--active t))
    (when (eq mode 'bare)
      (setq command-error-function
            (let ((previous command-error-function))
              (lambda (data context caller)
                (artisan-startup-probe--arm)
                (when previous (funcall previous data context caller))))))
    (advice-add 'startup--load-user-init-file :around #'artisan-startup-probe--init-file)
    (add-hook 'kill-emacs-hook #'artisan-startup-probe--kill-emacs -100)
    (add-hook 'window-setup-hook #'artisan-startup-probe--window-setup-done 100)
    (setq artisan-startup-probe--stall-timer
          (run-with-idle-timer artisan-startup-probe--stall nil
                               #'artisan-startup-probe--stalled))
    (push artisan-startup-probe--stall-timer artisan-startup-probe--timers)))

(defun artisan-startup-probe--open-recorder (start)
  "Open the recorder; START is `float-time' when the probe began.
Return nil if the recorder could not be opened natively, after
falling back to the Lisp clock; return `taken' if the output file
exists (this Emacs was not started by the profiler)."
  (let ((module (getenv "ARTISAN_PROBE_MODULE")))
    (condition-case err
        (progn
          (unless (and module (fboundp 'module-load))
            (error "No module to load"))
          (unless (featurep 'artisan-dyn) (module-load module))
          (setq artisan-module--file module)
          (let ((now (artisan--probe-now)))
            (setq artisan-startup-probe--recorder
                  (artisan--probe-open artisan-startup-probe--out
                                       (- now (truncate (* 1e9 (- (float-time) start)))))))
          ;; Known at once, in case the run never settles.
          (ignore-errors (artisan-startup-probe--emacs-meta)))
      (error
       (if (file-exists-p artisan-startup-probe--out)
           'taken
         (push (cons "clock-note"
                     (format "The probe recorded with the Lisp clock (float-time): \
the native module could not be loaded in the child (%s)" (error-message-string err)))
               artisan-startup-probe--notes)
         (push (list "start" (truncate (* start 1e9)) (truncate (* start 1e9)))
               artisan-startup-probe--events)
         (artisan-startup-probe--emacs-meta)
         nil)))))

(defun artisan-startup-probe--start ()
  "Start probing this Emacs, as the profiler's environment says."
  (let ((start (float-time))
        (mode (if (equal (getenv "ARTISAN_PROBE_MODE") "bare") 'bare 'record)))
    (setq artisan-startup-probe--out (getenv "ARTISAN_PROBE_OUT")
          artisan-startup-probe--mode mode)
    (if (eq mode 'bare)
        (artisan-startup-probe--install 'bare)
      (unless (eq (artisan-startup-probe--open-recorder start) 'taken)
        (artisan-startup-probe--install 'record)
        (setq artisan-startup-probe--setup-ns
              (truncate (* 1e9 (- (float-time) start))))))))

;; Run only in an Emacs the profiler started, while it starts.
(when (and (getenv "ARTISAN_PROBE_OUT")
           (not noninteractive)
           (null after-init-time)
           (null artisan-startup-probe--out))
  (condition-case err
      (artisan-startup-probe--start)
    (error (message "artisan start-up probe: %s" (error-message-string err)))))

(provide 'artisan-startup-probe)
;;; artisan-startup-probe.el ends here
