;;; pause-test.el --- Specs for the responsiveness monitor  -*- lexical-binding: t; -*-

;;; Commentary:

;; Real work in this Emacs: timers that sleep, commands run by
;; `execute-kbd-macro' through the command loop (which runs
;; `pre-command-hook' and `post-command-hook' for each of them), `cat'
;; processes with slow filters.  A spec that would hang or kill an
;; Emacs (the watchdog's) runs child Emacs processes.  Every spec
;; starts from a fresh monitor and turns the mode off at the end.

;;; Code:

(require 'artisan-test-helpers)
(require 'artisan-pause)
(require 'artisan-pause-report)
(require 'artisan-pause-health)

(defvar artisan-pause-test--data nil
  "The scratch `artisan-data-directory' of the current spec.")

(defvar artisan-pause-test--log nil
  "Filter output and calls seen by the spec's functions.")

(defun artisan-pause-test--fresh ()
  "Forget the monitor and everything the previous spec left."
  (when artisan-pause-mode (artisan-pause-mode -1))
  (setq artisan-pause--monitor nil
        artisan-pause--hung nil
        artisan-pause--pending-alert nil
        artisan-pause--scan-every 50
        artisan-pause-test--log nil)
  (clrhash artisan-pause--command-ids)
  (clrhash artisan-pause--timer-ids)
  (clrhash artisan-pause--profiles)
  (clrhash artisan-pause--alerted))

(defun artisan-pause-test--run-timers (seconds)
  "Let timers and process output run for SECONDS."
  (let ((end (+ (float-time) seconds)))
    (while (< (float-time) end)
      (accept-process-output nil 0.02))))

(defun artisan-pause-test--source (name)
  "Return the source plist named NAME."
  (cl-find name (artisan-pause-sources) :key (lambda (s) (plist-get s :name)) :test #'equal))

(defun artisan-pause-test--events (name)
  "Return the pauses of the source named NAME."
  (cl-remove-if-not (lambda (e) (equal (plist-get e :name) name)) (artisan-pause-events)))

(defmacro artisan-pause-test--with-keys (bindings &rest body)
  "Run BODY with the global BINDINGS ((KEY . COMMAND) ...), then remove them."
  (declare (indent 1))
  `(let ((old (mapcar (lambda (b) (cons (car b) (lookup-key global-map (car b)))) ,bindings)))
     (unwind-protect
         (progn (dolist (b ,bindings) (define-key global-map (car b) (cdr b)))
                ,@body)
       (dolist (b old) (define-key global-map (car b) (cdr b))))))

(defun artisan-pause-test--sleepy-timer ()
  "A timer function that sleeps 200 ms."
  (sleep-for 0.2))

(defun artisan-pause-test--quick-timer ()
  "A timer function that does next to nothing."
  (push 'quick artisan-pause-test--log))

(defun artisan-pause-test--failing-timer ()
  "A timer function that sleeps 100 ms, then signals."
  (sleep-for 0.1)
  (error "Artisan test timer failed"))

(defun artisan-pause-test--busy (seconds)
  "Keep the CPU busy for SECONDS, calling a named function."
  (let ((end (+ (float-time) seconds)))
    (while (< (float-time) end)
      (artisan-pause-test--spin))))

(defun artisan-pause-test--spin ()
  "Some work for the profiler to see."
  (let ((s 0)) (dotimes (i 2000) (setq s (+ s (* i i)))) s))

(defun artisan-pause-test--busy-timer ()
  "A timer function that computes for 150 ms (over 50 even if it collects)."
  (artisan-pause-test--busy 0.15))

(defun artisan-pause-test--fast-command ()
  "A command that does next to nothing."
  (interactive)
  (push 'fast artisan-pause-test--log))

(defun artisan-pause-test--slow-command ()
  "A command that takes 80 ms."
  (interactive)
  (sleep-for 0.08))

(defun artisan-pause-test--waiting-command ()
  "A command that waits 300 ms in `sit-for', then works 60 ms."
  (interactive)
  (sit-for 0.3)
  (sleep-for 0.06))

(defun artisan-pause-test--slow-hook ()
  "A `post-command-hook' function that is slow after the test's command."
  (when (eq this-command 'artisan-pause-test--fast-command)
    (sleep-for 0.1)))

(defun artisan-pause-test--slow-filter (_process output)
  "A process filter that takes 100 ms per OUTPUT."
  (push output artisan-pause-test--log)
  (sleep-for 0.1))

(defun artisan-pause-test--failing-filter (_process _output)
  "A process filter that sleeps 80 ms, then signals."
  (sleep-for 0.08)
  (error "Artisan test filter failed"))

(defun artisan-pause-test--start-cat (name filter)
  "Start a `cat' process NAME with FILTER."
  (make-process :name name :command '("cat") :filter filter
                :connection-type 'pipe :noquery t))

(defun artisan-pause-test--cat-command ()
  "A command that starts a cat with a slow filter."
  (interactive)
  (artisan-pause-test--start-cat "artisan-test-cat-2" #'artisan-pause-test--slow-filter))

(defun artisan-pause-test--snapshot (&optional process function)
  "Return what the monitor must leave as it found it.
PROCESS's filter and sentinel and FUNCTION's definition included."
  (list :pre (default-value 'pre-command-hook)
        :post (default-value 'post-command-hook)
        :after-change (default-value 'after-change-functions)
        :window (default-value 'window-configuration-change-hook)
        :gc post-gc-hook
        :kill kill-emacs-hook
        :timers (copy-sequence timer-list)
        :idle-timers (copy-sequence timer-idle-list)
        :handler (symbol-function 'timer-event-handler)
        :sit-for (symbol-function 'sit-for)
        :function (and function (symbol-function function))
        :filter (and process (process-filter process))
        :sentinel (and process (process-sentinel process))))

(defun artisan-pause-test--differences (a b)
  "Return the keys of snapshots A and B whose objects differ.
Timers of A missing from B may only be one-shot timers that fired
meanwhile (other specs leave some); B may hold no timer A lacks."
  (cl-loop for (key value) on a by #'cddr
           for other = (plist-get b key)
           unless (cond
                   ((memq key '(:timers :idle-timers))
                    (and (cl-every (lambda (tm) (memq tm value)) other)
                         (cl-every (lambda (tm) (or (memq tm other)
                                                    (and (not (timer--repeat-delay tm))
                                                         (not (timer--idle-delay tm)))))
                                   value)))
                   ((listp value)
                    (and (= (length value) (length other))
                         (cl-every #'eq value other)))
                   (t (eq value other)))
           collect key))

(defun artisan-pause-test--same-p (a b)
  "Return non-nil when snapshots A and B hold the same objects."
  (null (artisan-pause-test--differences a b)))

(describe "artisan-pause-mode"
  :var (hooked)
  (before-all (artisan-test-ensure-module))
  (before-each
    (artisan-pause-test--fresh)
    (setq artisan-pause-test--data (make-temp-file "artisan-pause-" t)
          artisan-data-directory artisan-pause-test--data
          hooked nil))
  (after-each
    (when artisan-pause-mode (artisan-pause-mode -1))
    (remove-hook 'post-command-hook #'artisan-pause-test--slow-hook)
    (dolist (p (process-list))
      (when (string-prefix-p "artisan-test-" (process-name p))
        (delete-process p)))
    (delete-directory artisan-pause-test--data t))

  (it "attributes a timer that sleeps 200 ms to its function"
    (artisan-pause-mode 1)
    (run-with-timer 0 nil #'artisan-pause-test--sleepy-timer)
    (run-with-timer 0 nil #'artisan-pause-test--quick-timer)
    (artisan-pause-test--run-timers 0.5)
    (let ((s (artisan-pause-test--source "artisan-pause-test--sleepy-timer"))
          (quick (artisan-pause-test--source "artisan-pause-test--quick-timer")))
      (expect (plist-get s :kind) :to-be 'timer)
      (expect (plist-get s :count) :to-equal 1)
      (expect (plist-get s :pauses) :to-equal 1)
      (expect (plist-get s :max-ms) :to-be-weakly-greater-than 195)
      (expect (plist-get s :max-ms) :to-be-less-than 600)
      (expect (car (artisan-pause-sources)) :to-equal s)
      (expect (plist-get quick :count) :to-equal 1)
      (expect (plist-get quick :pauses) :to-equal 0)
      (let ((events (artisan-pause-events)))
        (expect (length events) :to-equal 1)
        (expect (plist-get (car events) :name) :to-equal "artisan-pause-test--sleepy-timer")
        (expect (plist-get (car events) :kind) :to-be 'timer)
        (expect (plist-get (car events) :time) :to-be-weakly-greater-than (- (float-time) 5))
        ;; SINCE filters.
        (expect (artisan-pause-events (time-add nil 10)) :to-be nil))))

  (it "describes a lambda by the functions it calls"
    (artisan-pause-mode 1)
    (run-with-timer 0 nil (lambda () (artisan-pause-test--sleepy-timer)))
    (artisan-pause-test--run-timers 0.4)
    (expect (plist-get (car (artisan-pause-events)) :name)
            :to-equal "lambda calling artisan-pause-test--sleepy-timer"))

  (it "times commands through the command loop, and a fast one leaves nothing in the report"
    (artisan-pause-mode 1)
    (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--fast-command))
      (execute-kbd-macro (make-vector 20 'f9)))
    (expect (length artisan-pause-test--log) :to-equal 20)
    (let ((s (artisan-pause-test--source "artisan-pause-test--fast-command")))
      (expect (plist-get s :kind) :to-be 'command)
      (expect (plist-get s :count) :to-equal 20)
      (expect (plist-get s :pauses) :to-equal 0)
      (expect (plist-get s :max-ms) :to-be-less-than 50))
    (expect (artisan-pause-events) :to-be nil)
    (with-current-buffer (artisan-pause-report)
      (expect tabulated-list-entries :to-be nil)
      (expect (buffer-string) :to-match "no pause of 50 ms or more yet")
      (expect (buffer-string) :not :to-match "artisan-pause-test--fast-command")))

  (it "records a slow command with its keys, buffer and mode"
    (artisan-pause-mode 1)
    (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--slow-command))
      (with-temp-buffer
        (switch-to-buffer (current-buffer))
        (emacs-lisp-mode)
        (rename-buffer "artisan pause test buffer" t)
        (execute-kbd-macro [f9])))
    (let ((e (car (artisan-pause-test--events "artisan-pause-test--slow-command"))))
      (expect (plist-get e :ms) :to-be-weakly-greater-than 75)
      (expect (plist-get e :keys) :to-equal "<f9>")
      (expect (plist-get e :mode) :to-equal "emacs-lisp-mode")
      (expect (plist-get e :buffer) :to-match "artisan pause test buffer")))

  (it "leaves out the time a command waits in sit-for"
    (artisan-pause-mode 1)
    (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--waiting-command))
      (execute-kbd-macro [f9]))
    (let ((e (car (artisan-pause-test--events "artisan-pause-test--waiting-command"))))
      (expect (plist-get e :waited) :to-be t)
      (expect (plist-get e :ms) :to-be-weakly-greater-than 55)
      (expect (plist-get e :ms) :to-be-less-than 250)))

  (it "names a slow post-command-hook function once a command was slow"
    (artisan-pause-mode 1)
    (add-hook 'post-command-hook #'artisan-pause-test--slow-hook)
    (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--fast-command))
      ;; The first run is slow as a whole; from then on the hook's
      ;; functions are measured one by one.
      (execute-kbd-macro [f9])
      (expect (length (artisan-pause-test--events "artisan-pause-test--fast-command"))
              :to-equal 1)
      (execute-kbd-macro [f9 f9]))
    (let ((hook (artisan-pause-test--source
                 "post-command-hook → artisan-pause-test--slow-hook"))
          (command (artisan-pause-test--source "artisan-pause-test--fast-command")))
      (expect (plist-get hook :kind) :to-be 'hook)
      (expect (plist-get hook :pauses) :to-equal 2)
      (expect (plist-get hook :max-ms) :to-be-weakly-greater-than 95)
      ;; The command itself is fast once its hook is counted apart.
      (expect (plist-get command :count) :to-equal 3)
      (expect (plist-get command :pauses) :to-equal 1)
      (with-current-buffer (artisan-pause-report)
        (expect (buffer-string) :to-match
                "hook +post-command-hook → artisan-pause-test--slow-hook +2 "))))

  (it "names a slow process filter by its process, a real cat"
    (setq artisan-pause--scan-every 1)
    ;; One process exists before the mode starts, one is started by a command.
    (let ((before (artisan-pause-test--start-cat "artisan-test-cat" #'artisan-pause-test--slow-filter)))
      (artisan-pause-mode 1)
      (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--cat-command))
        (execute-kbd-macro [f9]))
      (let ((after (get-process "artisan-test-cat-2")))
        ;; One after the other: a filter sleeping while the other's
        ;; output arrives would run it inside, and not count that time.
        (process-send-string before "hello\n")
        (artisan-pause-test--run-timers 0.3)
        (process-send-string after "world\n")
        (artisan-pause-test--run-timers 0.3)
        (expect (sort (copy-sequence artisan-pause-test--log) #'string<)
                :to-equal '("hello\n" "world\n"))
        (dolist (name '("artisan-test-cat (artisan-pause-test--slow-filter)"
                        "artisan-test-cat-2 (artisan-pause-test--slow-filter)"))
          (let ((s (artisan-pause-test--source name)))
            (expect (plist-get s :kind) :to-be 'filter)
            (expect (plist-get s :pauses) :to-equal 1)
            (expect (plist-get s :max-ms) :to-be-weakly-greater-than 95))))))

  (it "restores every hook, advice, timer and filter when turned off"
    (let* ((proc (artisan-pause-test--start-cat "artisan-test-cat" #'artisan-pause-test--slow-filter))
           (_ (add-hook 'post-command-hook #'artisan-pause-test--slow-hook))
           (before (artisan-pause-test--snapshot proc 'artisan-pause-test--slow-hook)))
      (artisan-pause-mode 1)
      (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--fast-command))
        (execute-kbd-macro [f9 f9]))
      (process-send-string proc "x\n")
      (artisan-pause-test--run-timers 0.3)
      (let ((during (artisan-pause-test--snapshot proc 'artisan-pause-test--slow-hook)))
        ;; It did hook in everywhere the snapshot looks.
        (expect (artisan-pause-test--same-p before during) :to-be nil)
        (expect (advice-member-p #'artisan-pause--timer-handler 'timer-event-handler) :to-be-truthy)
        (expect (advice-function-member-p #'artisan-pause--filter (process-filter proc))
                :to-be-truthy)
        (expect (plist-get (artisan-pause-test--source
                            "post-command-hook → artisan-pause-test--slow-hook")
                           :count)
                :to-equal 1))
      (artisan-pause-mode -1)
      (expect (artisan-pause-test--differences
               before (artisan-pause-test--snapshot proc 'artisan-pause-test--slow-hook))
              :to-be nil)
      (expect (process-filter proc) :to-be #'artisan-pause-test--slow-filter)
      ;; What it measured stays for the report.
      (expect (artisan-pause-test--source "artisan-test-cat (artisan-pause-test--slow-filter)")
              :to-be-truthy)))

  (it "restores everything when it is toggled from inside a running timer"
    (let ((before (artisan-pause-test--snapshot)))
      (artisan-pause-mode 1)
      (run-with-timer 0 nil (lambda () (sleep-for 0.06) (artisan-pause-mode -1)
                              (push 'off artisan-pause-test--log)))
      (artisan-pause-test--run-timers 0.3)
      (expect artisan-pause-test--log :to-equal '(off))
      (expect artisan-pause-mode :to-be nil)
      (expect (artisan-pause-test--differences before (artisan-pause-test--snapshot)) :to-be nil)
      ;; On from a timer, then off from another while a third sleeps.
      (run-with-timer 0 nil (lambda () (artisan-pause-mode 1)))
      (run-with-timer 0.05 nil #'artisan-pause-test--sleepy-timer)
      (run-with-timer 0.1 nil (lambda () (artisan-pause-mode -1)))
      (artisan-pause-test--run-timers 0.6)
      (expect artisan-pause-mode :to-be nil)
      (expect (artisan-pause-test--differences before (artisan-pause-test--snapshot)) :to-be nil)))

  (it "records a timer that signals, and the error still reaches the user"
    (artisan-pause-mode 1)
    (let ((debug-on-error nil)
          (start (with-current-buffer (messages-buffer) (point-max))))
      (run-with-timer 0 nil #'artisan-pause-test--failing-timer)
      (artisan-pause-test--run-timers 0.4)
      (expect (with-current-buffer (messages-buffer) (buffer-substring start (point-max)))
              :to-match "Error running timer .artisan-pause-test--failing-timer.: (error \"Artisan test timer failed\")"))
    (let ((s (artisan-pause-test--source "artisan-pause-test--failing-timer")))
      (expect (plist-get s :pauses) :to-equal 1)
      (expect (plist-get s :max-ms) :to-be-weakly-greater-than 95)))

  (it "records a filter that signals, and the error still reaches the user"
    ;; In batch mode an error in a process filter ends Emacs (after
    ;; printing it and running `kill-emacs-hook'), so a child shows it.
    (let ((out (artisan-test-child
                `(progn
                   (setq artisan-data-directory ,artisan-pause-test--data
                         ;; As an interactive Emacs: the error is caught
                         ;; and shown, not a backtrace.
                         backtrace-on-error-noninteractive nil)
                   (require 'artisan-pause)
                   (defun artisan-test-failing-filter (_p _o)
                     (sleep-for 0.08)
                     (error "Artisan test filter failed"))
                   (artisan-pause-mode 1)
                   (add-hook 'kill-emacs-hook
                             (lambda ()
                               (let ((s (car (artisan-pause-sources))))
                                 (princ (format "SOURCE %s %s %d %.0f\n" (plist-get s :kind)
                                                (plist-get s :name) (plist-get s :pauses)
                                                (plist-get s :max-ms))))))
                   (let ((p (make-process :name "artisan-test-cat" :command '("cat")
                                          :filter #'artisan-test-failing-filter
                                          :connection-type 'pipe)))
                     (artisan-pause--scan-processes)
                     (process-send-string p "x\n")
                     (accept-process-output p 2))))))
      (expect (cdr out) :to-match "error in process filter: Artisan test filter failed")
      (expect (cdr out) :to-match
              "SOURCE filter artisan-test-cat (artisan-test-failing-filter) 1 \\([89][0-9]\\|[1-9][0-9][0-9]\\)")))

  (it "records a command that signals, and the error still reaches its caller"
    (artisan-pause-mode 1)
    (artisan-pause-test--with-keys
        '(([f9] . artisan-pause-test--failing-command))
      (expect (execute-kbd-macro [f9]) :to-throw 'error '("Artisan test command failed"))
      ;; The command loop runs `post-command-hook' when it starts again
      ;; after an error; so does the next macro.
      (execute-kbd-macro []))
    (let ((s (artisan-pause-test--source "artisan-pause-test--failing-command")))
      (expect (plist-get s :pauses) :to-equal 1)
      (expect (plist-get s :max-ms) :to-be-weakly-greater-than 55)))

  (it "profiles the next occurrence of a source that paused twice"
    (assume (fboundp 'profiler-cpu-start) "this Emacs has no profiler")
    (artisan-pause-mode 1)
    (dotimes (_ 4)
      (run-with-timer 0 nil #'artisan-pause-test--busy-timer)
      (artisan-pause-test--run-timers 0.2))
    (let* ((events (artisan-pause-test--events "artisan-pause-test--busy-timer"))
           (profiled (cl-remove-if-not (lambda (e) (plist-get e :profile)) events)))
      (expect (length events) :to-equal 4)
      ;; Not the first two; then one, and no more once captured.
      (expect (length profiled) :to-equal 1)
      (expect (plist-get (car profiled) :seq) :to-be-greater-than (plist-get (nth 1 events) :seq))
      (expect (mapconcat #'identity (cdr (artisan-pause--profile-tree (plist-get (car profiled) :profile))) "\n")
              :to-match "artisan-pause-test--\\(busy\\|spin\\)")
      (expect (profiler-cpu-running-p) :to-be nil)
      (let ((buffer (artisan-pause-occurrences
                     (plist-get (car events) :id))))
        (with-current-buffer buffer
          (expect (buffer-string) :to-match "Call tree of the slowest profiled pause")
          (expect (buffer-string) :to-match "\\[profile\\]"))
        (kill-buffer buffer))))

  (it "announces a pause once per source per interval, never during the minibuffer"
    (let ((artisan-pause-alert-threshold 100)
          (artisan-pause-alert-interval 0.8)
          (shown nil))
      (cl-letf* ((real-message (symbol-function 'message))
                 ((symbol-function 'message)
                  (lambda (format &rest args)
                    (let ((text (apply #'format-message format args)))
                      (when (string-prefix-p "Emacs paused" text) (push text shown))
                      (apply real-message format args)))))
        (artisan-pause-mode 1)
        (dotimes (_ 2)
          (run-with-timer 0 nil #'artisan-pause-test--sleepy-timer)
          (artisan-pause-test--run-timers 0.25))
        (expect (length shown) :to-equal 1)
        (expect (car shown) :to-match
                "\\`Emacs paused [0-9]+ ms in timer .artisan-pause-test--sleepy-timer. (M-x artisan-pause-report for details)")
        ;; Another source has its own interval.
        (run-with-timer 0 nil #'artisan-pause-test--failing-timer)
        (let ((debug-on-error nil)) (artisan-pause-test--run-timers 0.2))
        (expect (length shown) :to-equal 2)
        ;; After the interval, again; but not while a minibuffer is active.
        (artisan-pause-test--run-timers 0.5)
        (cl-letf (((symbol-function 'active-minibuffer-window) (lambda () t)))
          (run-with-timer 0 nil #'artisan-pause-test--sleepy-timer)
          (artisan-pause-test--run-timers 0.25))
        (expect (length shown) :to-equal 2)
        (expect artisan-pause--pending-alert :to-be-truthy)
        ;; Shown once the minibuffer is gone, at the next piece of work.
        (run-with-timer 0 nil #'artisan-pause-test--quick-timer)
        (artisan-pause-test--with-keys '(([f9] . artisan-pause-test--fast-command))
          (execute-kbd-macro [f9]))
        (expect (length shown) :to-equal 3)
        ;; A silenced source is never announced.
        (artisan-pause-silence "timer artisan-pause-test--sleepy-timer")
        (artisan-pause-test--run-timers 0.9)
        (run-with-timer 0 nil #'artisan-pause-test--sleepy-timer)
        (artisan-pause-test--run-timers 0.25)
        (expect (length shown) :to-equal 3)
        (setq artisan-pause-silenced nil)))))

(defun artisan-pause-test--failing-command ()
  "A command that takes 60 ms, then signals."
  (interactive)
  (sleep-for 0.06)
  (error "Artisan test command failed"))

(describe "artisan-pause-report"
  (before-all (artisan-test-ensure-module))
  (before-each
    (artisan-pause-test--fresh)
    (setq artisan-data-directory (make-temp-file "artisan-pause-" t))
    (artisan-pause--ensure-monitor))
  (after-each
    (delete-directory artisan-data-directory t))

  (it "ranks known pauses by time lost, with their statistics"
    (let* ((mon artisan-pause--monitor)
           (sync (artisan--pause-source mon "timer" "my-sync"))
           (hook (artisan--pause-source mon "hook" "post-command-hook → my-modeline"))
           (insert (artisan--pause-source mon "command" "self-insert-command"))
           (now (float-time)))
      (artisan--pause-inject mon sync 100.0 0.0 (- now 30))
      (artisan--pause-inject mon sync 300.0 0.0 (- now 20))
      (artisan--pause-inject mon sync 200.0 100.0 (- now 10))
      (artisan--pause-inject mon hook 180.0 0.0 now)
      (dotimes (_ 10) (artisan--pause-inject mon insert 1.0 0.0 now))
      (with-current-buffer (artisan-pause-report)
        (let ((text (buffer-string)))
          (expect (length tabulated-list-entries) :to-equal 2)
          (expect text :to-match
                  "^ timer +my-sync +3 +600 ms +3 +200 ms +300 ms +300 ms +17%$")
          (expect text :to-match
                  "^ hook +post-command-hook → my-modeline +1 +180 ms +1 +180 ms +180 ms +180 ms +0%$")
          (expect (string-match-p "my-sync" text)
                  :to-be-less-than (string-match-p "my-modeline" text))
          (expect text :not :to-match "self-insert-command")
          (expect text :to-match "4 pauses of 50 ms or more, 780 ms lost (13% of it collecting garbage)")
          (expect text :to-match "Health of this session")
          (expect text :to-match "Buffers +[0-9]+; largest"))
        ;; s sorts by a column; the same column again reverses.
        (artisan-pause-report-sort "Kind")
        (expect (string-match-p "my-modeline" (buffer-string))
                :to-be-less-than (string-match-p "my-sync" (buffer-string)))
        (artisan-pause-report-sort "Kind")
        (expect (string-match-p "my-sync" (buffer-string))
                :to-be-less-than (string-match-p "my-modeline" (buffer-string)))
        ;; g refreshes: a new pause shows up.
        (artisan--pause-inject mon insert 90.0 0.0 now)
        (revert-buffer)
        (expect (length tabulated-list-entries) :to-equal 3)
        ;; RET lists the pauses of the source at point, newest first.
        (goto-char (point-min))
        (re-search-forward "my-sync")
        (let ((occurrences (artisan-pause-report-occurrences)))
          (with-current-buffer occurrences
            (let ((text (buffer-string)))
              (expect text :to-match "3 pauses, 600 ms lost (17% collecting garbage); 3 runs in all: median 200 ms")
              (expect (artisan-test-count-matches "^[0-9-]+ [0-9:]+ +[0-9]+ ms" text) :to-equal 3)
              (expect (string-match-p " 200 ms +100 ms" text)
                      :to-be-less-than (string-match-p " 100 ms +0.0 ms" text))))
          (kill-buffer occurrences)))
      (kill-buffer "*artisan pauses*")))

  (it "says when there is nothing to report, and refuses without a monitor"
    (setq artisan-pause--monitor nil)
    (expect (artisan-pause-report) :to-throw 'user-error)
    (expect (artisan-pause-sources) :to-be nil)
    (expect (artisan-pause-events) :to-be nil)))

(describe "artisan-pause-history"
  (before-all (artisan-test-ensure-module))
  (before-each
    (artisan-pause-test--fresh)
    (setq artisan-data-directory (make-temp-file "artisan-pause-" t))
    (artisan-pause--ensure-monitor))
  (after-each
    (delete-directory artisan-data-directory t))

  (it "saves a daily summary and reads it back, merging sessions"
    (let* ((mon artisan-pause--monitor)
           (sync (artisan--pause-source mon "timer" "my-sync"))
           (now (float-time)))
      (artisan--pause-inject mon sync 400.0 0.0 now)
      (artisan--pause-inject mon sync 100.0 0.0 now)
      (expect (artisan-pause-save) :to-equal 1)
      (let ((files (directory-files-recursively (artisan-data-file "pause" "history") "\\.json\\'")))
        (expect (length files) :to-equal 1)
        (expect (car files) :to-match (format-time-string "/%Y-%m-%d/")))
      ;; Another session the same day.
      (let ((artisan-pause--monitor (artisan--pause-new 50.0 100 0 (car (current-time-zone))))
            (artisan-pause--session "other-session"))
        (artisan--pause-inject artisan-pause--monitor
                               (artisan--pause-source artisan-pause--monitor "command" "org-agenda")
                               700.0 0.0 now)
        (artisan-pause-save))
      (let* ((days (artisan-pause-history 7))
             (today (car (last days))))
        (expect (plist-get today :date) :to-equal (format-time-string "%F"))
        (expect (plist-get today :sessions) :to-equal 2)
        (expect (plist-get today :pauses) :to-equal 3)
        (expect (plist-get today :pause-ms) :to-be-close-to 1200 0.01)
        (expect (apply #'+ (plist-get today :hour-pauses)) :to-equal 3)
        (expect (nth (decoded-time-hour (decode-time now)) (plist-get today :hour-pauses))
                :to-equal 3)
        (expect (plist-get (car (plist-get today :sources)) :name) :to-equal "org-agenda")
        (expect (plist-get (cadr (plist-get today :sources)) :pause-ms) :to-be-close-to 500 0.01)
        (with-current-buffer "*artisan pause history*"
          (expect (buffer-string) :to-match
                  (concat (format-time-string "%F") " +3 +1.2 s .*command .org-agenda. (700 ms)"))
          (kill-buffer)))))

  (it "shows an empty history plainly"
    (expect (artisan-pause-history 3) :to-be nil)
    (with-current-buffer "*artisan pause history*"
      (expect (buffer-string) :to-match "No history yet")
      (kill-buffer))))

(describe "artisan-pause watchdog"
  (before-all (artisan-test-ensure-module))

  (it "names a stall while it lasts, and tells the next session what hung"
    (artisan-test-with-temp-dir data
      (let* ((form `(progn
                      (setq artisan-data-directory ,data
                            artisan-pause-stall-seconds 0.3)
                      (require 'artisan-pause)
                      (defun artisan-test-stuck-timer () (sleep-for 30))
                      (artisan-pause-mode 1)
                      (run-with-timer 0 nil #'artisan-test-stuck-timer)
                      (princ "started\n")
                      (sleep-for 60)))
             (child (make-process :name "artisan-test-stuck"
                                  :command (list (artisan-test-emacs) "-Q" "--batch"
                                                 "-L" artisan-test-lisp-dir
                                                 "--eval" (prin1-to-string form))
                                  :buffer (generate-new-buffer " *artisan-test-stuck*")
                                  :noquery t))
             (file (expand-file-name (format "pause/stall-%d.json" (process-id child)) data))
             (deadline (+ (float-time) 20)))
        (unwind-protect
            (progn
              (while (and (not (file-exists-p file)) (< (float-time) deadline)
                          (process-live-p child))
                (accept-process-output child 0.1))
              (expect (file-exists-p file) :to-be t)
              (let ((stall (with-temp-buffer (insert-file-contents file)
                                             (json-parse-buffer :object-type 'plist))))
                (expect (plist-get stall :kind) :to-equal "timer")
                (expect (plist-get stall :name) :to-equal "artisan-test-stuck-timer"))
              ;; Kill it while stuck: the file stays behind.
              (signal-process child 'KILL)
              (while (process-live-p child) (accept-process-output child 0.05))
              (expect (file-exists-p file) :to-be t))
          (when (process-live-p child) (delete-process child))
          (kill-buffer (process-buffer child)))
        (let ((out (artisan-test-child
                    `(progn
                       (setq artisan-data-directory ,data)
                       (require 'artisan-pause)
                       (artisan-pause-mode 1)
                       (let ((e (car (artisan-pause-events))))
                         (princ (format "HUNG %s %s %.1f\n%s\n" (plist-get e :kind)
                                        (plist-get e :name) (/ (plist-get e :ms) 1000)
                                        (plist-get e :note))))))))
          (expect (car out) :to-equal 0)
          (expect (cdr out) :to-match "HUNG timer artisan-test-stuck-timer [0-9.]+")
          (expect (cdr out) :to-match "An earlier session (process [0-9]+) was stuck here")
          (expect (cdr out) :to-match "artisan: an earlier Emacs was stuck")
          ;; It is reported once.
          (expect (file-exists-p file) :to-be nil))))))

(describe "artisan-pause-mode in an interactive Emacs"
  (before-all (artisan-test-ensure-module))

  (it "measures redisplay apart from the commands: a slow mode line is named there"
    (assume (executable-find "script") "script(1) is not installed")
    (artisan-test-with-temp-dir dir
      (let* ((out (expand-file-name "result.el" dir))
             (init (artisan-test-write-file
                    (expand-file-name "init.el" dir)
                    (prin1-to-string
                     `(progn
                        (setq artisan-data-directory ,dir
                              native-comp-deferred-compilation nil)
                        (add-to-list 'load-path ,artisan-test-lisp-dir)
                        (require 'artisan-pause)
                        ;; A mode line that takes 100 ms to compute, and
                        ;; changes with the column, so every insertion
                        ;; redisplays it.
                        (setq-default mode-line-format
                                      '("%c " (:eval (progn (sleep-for 0.1) "slow-mode-line"))))
                        (artisan-pause-mode 1)
                        (global-set-key
                         (kbd "C-c q")
                         (lambda () (interactive)
                           (with-temp-file ,out
                             (let ((print-length nil) (print-level nil))
                               (prin1 (artisan-pause-sources) (current-buffer))))
                           (kill-emacs 0)))))))
             (process-environment (append '("TERM=vt100" "LC_ALL=C.UTF-8") process-environment))
             (child (make-process
                     :name "artisan-test-tty"
                     :command (list "script" "-qfec"
                                    (format "%s -nw -Q -l %s" (artisan-test-emacs)
                                            (shell-quote-argument init))
                                    "/dev/null")
                     :buffer (generate-new-buffer " *artisan-test-tty*")
                     :connection-type 'pty :noquery t)))
        (unwind-protect
            (progn
              ;; Type only once Emacs shows its mode line: keys typed
              ;; ahead run without redisplay in between.
              (let ((deadline (+ (float-time) 20)))
                (while (and (< (float-time) deadline)
                            (not (with-current-buffer (process-buffer child)
                                   (save-excursion
                                     (goto-char (point-min))
                                     (search-forward "slow-mode-line" nil t)))))
                  (accept-process-output child 0.1)))
              (accept-process-output child 1.0)
              (dolist (key '("a" "b" "c" "d"))
                (process-send-string child key)
                (accept-process-output child 0.6))
              (process-send-string child "\C-cq")
              (let ((deadline (+ (float-time) 15)))
                (while (and (process-live-p child) (< (float-time) deadline))
                  (accept-process-output child 0.2)))
              (expect (file-exists-p out) :to-be t)
              (let* ((sources (with-temp-buffer (insert-file-contents out) (read (current-buffer))))
                     (find (lambda (name) (cl-find name sources :key (lambda (s) (plist-get s :name))
                                                   :test #'equal)))
                     (redisplay (funcall find "redisplay"))
                     (insert (funcall find "self-insert-command")))
                (expect (plist-get redisplay :kind) :to-be 'redisplay)
                (expect (plist-get redisplay :pauses) :to-be-weakly-greater-than 3)
                (expect (plist-get redisplay :max-ms) :to-be-weakly-greater-than 95)
                (expect (plist-get insert :count) :to-equal 4)
                (expect (plist-get insert :pauses) :to-equal 0)
                (expect (plist-get insert :max-ms) :to-be-less-than 50)))
          (when (process-live-p child) (delete-process child))
          (kill-buffer (process-buffer child)))))))

(describe "artisan-pause-health and artisan-buffer-cleanup"
  (it "shows memory, buffers, processes and timers"
    (artisan-test-ensure-module)
    (let ((h (artisan-pause-health))
          (proc (artisan-pause-test--start-cat "artisan-test-cat" nil)))
      (unwind-protect
          (let ((h2 (artisan-pause-health)))
            (expect (plist-get h :rss-kb) :to-be-greater-than 1000)
            (expect (plist-get h :buffers) :to-equal (length (buffer-list)))
            (expect (length (plist-get h :largest)) :to-be-weakly-less-than 5)
            (expect (member "artisan-test-cat" (plist-get h2 :processes)) :to-be-truthy)
            (expect (plist-get h2 :timers) :to-equal (length timer-list)))
        (delete-process proc))))

  (it "lists buffers not shown for days, and kills only those, never modified or process buffers"
    (let* ((old (current-time))
           (days-ago (time-subtract nil (* 5 86400)))
           (stale (generate-new-buffer "artisan-test-stale"))
           (modified (generate-new-buffer "artisan-test-modified"))
           (busy (generate-new-buffer "artisan-test-busy"))
           (fresh (generate-new-buffer "artisan-test-fresh"))
           (never (generate-new-buffer "artisan-test-never"))
           (proc nil))
      (ignore old)
      (unwind-protect
          (progn
            (dolist (b (list stale modified busy))
              (with-current-buffer b (setq buffer-display-time days-ago)))
            (with-current-buffer fresh (setq buffer-display-time (current-time)))
            (with-current-buffer modified (insert "unsaved") (set-buffer-modified-p t))
            (setq proc (make-process :name "artisan-test-cat" :command '("cat")
                                     :buffer busy :noquery t))
            (let ((candidates (cl-remove-if-not
                               (lambda (b) (string-prefix-p "artisan-test-" (buffer-name b)))
                               (artisan-buffer-cleanup-candidates))))
              (expect candidates :to-equal (list stale)))
            ;; Only the listed buffers are killed, after asking.
            (let ((artisan-buffer-cleanup-keep (cons "\\`[^a]" artisan-buffer-cleanup-keep))
                  (asked nil))
              (cl-letf (((symbol-function 'y-or-n-p)
                         (lambda (prompt)
                           (setq asked (list prompt
                                             (with-current-buffer "*artisan buffer cleanup*"
                                               (buffer-string))))
                           t)))
                (expect (artisan-buffer-cleanup) :to-equal '("artisan-test-stale"))
                (expect (car asked) :to-match "Kill these 1 buffers")
                (expect (cadr asked) :to-match "artisan-test-stale")
                (expect (cadr asked) :not :to-match "artisan-test-modified")))
            (expect (buffer-live-p stale) :to-be nil)
            (expect (buffer-live-p modified) :to-be t)
            (expect (buffer-live-p busy) :to-be t)
            ;; Declining kills nothing.
            (with-current-buffer fresh (setq buffer-display-time days-ago))
            (cl-letf (((symbol-function 'y-or-n-p) (lambda (_) nil)))
              (let ((artisan-buffer-cleanup-keep (cons "\\`[^a]" artisan-buffer-cleanup-keep)))
                (expect (artisan-buffer-cleanup) :to-be nil)))
            (expect (buffer-live-p fresh) :to-be t))
        (when proc (delete-process proc))
        (dolist (b (list stale modified busy fresh never))
          (when (buffer-live-p b)
            (with-current-buffer b (set-buffer-modified-p nil))
            (kill-buffer b)))))))

;;; pause-test.el ends here
