;;; bench-pause.el --- The responsiveness monitor's own cost  -*- lexical-binding: t; -*-

;;; Commentary:

;; - Overhead on real work: a replay of 10,000 interactive commands
;;   (searching with isearch, moving, typing, killing and yanking,
;;   saving) through `execute-kbd-macro' and the command loop, on fresh
;;   copies of Worg's Org files, with `artisan-pause-mode' on and off,
;;   interleaved; the same replay under `profiler-start' (cpu) and under
;;   explain-pause-mode's approach (advice on `call-interactively', a
;;   record and two `current-time' per command: explain-pause-mode
;;   itself is not packaged here, so its approach is reimplemented).
;; - The cost of one recorded command (pre- and post-command hooks),
;;   in a loop.
;; - Timers: 1,000 timer firings, on and off.
;; - A process writing 10 MB through a Lisp filter, on and off.

;;; Code:

(require 'bench)
(require 'artisan-pause)
(require 'artisan-module)
(require 'profiler)
(require 'org)

(defvar artisan-bench-pause-pairs 8
  "Replays with the mode on and off, interleaved.")

(defvar artisan-bench-pause-commands 10000
  "Commands per replay.")

(defconst artisan-bench-pause--text
  "The quick brown fox jumps over the lazy dog. "
  "What the replay types.")

(defun artisan-bench-pause--files ()
  "Return the Worg Org files of the replay: 300 lines or more, under 150 kB.
The first 20 by name: notes people edit, not the 1.2 MB manual."
  (let ((worg (expand-file-name "worg/" (artisan-bench-pause--corpora))))
    (let ((all (cl-remove-if-not
      (lambda (f) (and (< (file-attribute-size (file-attributes f)) 150000)
                       (with-temp-buffer
                         (insert-file-contents f)
                         (>= (count-lines (point-min) (point-max)) 300))))
      (sort (directory-files-recursively worg "\\.org\\'") #'string<))))
      (cl-subseq all 0 (min 20 (length all))))))

(defun artisan-bench-pause--corpora ()
  "Return the shared corpora directory."
  (file-name-as-directory
   (expand-file-name (or (getenv "ARTISAN_CORPORA") "../shared/corpora/") artisan-bench-root)))

(defun artisan-bench-pause--word-at (file fraction)
  "Return a word of 6 letters or more found FRACTION into FILE's text.
Its first occurrence leaves 40 lines or more below it, so that the
moves that follow a search never hit the end of the buffer (which
would end the keyboard macro)."
  (with-temp-buffer
    (insert-file-contents file)
    (let ((case-fold-search t) (word nil) (fraction fraction))
      (while (and (not word) (> fraction 0))
        (goto-char (max (point-min) (floor (* fraction (point-max)))))
        (when (re-search-forward "\\<\\([a-z]\\{6,12\\}\\)\\>" nil t)
          (let ((candidate (match-string 1)))
            (goto-char (point-min))
            (search-forward candidate)
            (when (>= (count-lines (point) (point-max)) 40)
              (setq word candidate))))
        (setq fraction (- fraction 0.05)))
      (or word (error "No word to search for in %s" file)))))

(defun artisan-bench-pause--segment (file)
  "Return (KEYS . COMMANDS), an editing session on FILE as a key vector."
  (let ((keys nil) (commands 0))
    (cl-flet ((add (spec n) (setq keys (append keys (listify-key-sequence (kbd spec)))
                                  commands (+ commands n))))
      (dolist (fraction '(0.25 0.5 0.7))
        (let ((word (artisan-bench-pause--word-at file fraction)))
          (add "M-<" 1)
          (add (concat "C-s " (mapconcat #'string word " ") " RET") (+ 2 (length word)))
          (dotimes (_ 15) (add "C-n" 1))
          (dotimes (_ 8) (add "M-f" 1))
          (dotimes (_ 10) (add "C-p" 1))
          (add "C-e RET" 2)
          (dolist (c (string-to-list artisan-bench-pause--text))
            (setq keys (append keys (list c)) commands (1+ commands)))
          (dotimes (_ 3) (add "M-b" 1))
          (add "C-a C-k C-y" 3)))
      (add "C-x C-s" 1))
    (cons (vconcat keys) commands)))

(defun artisan-bench-pause--prepare (files dir)
  "Copy FILES afresh under DIR and visit them; return their buffers."
  (let ((root (expand-file-name "worg/" (artisan-bench-pause--corpora))))
    (mapcar (lambda (f)
              (let ((copy (expand-file-name (file-relative-name f root) dir)))
                (make-directory (file-name-directory copy) t)
                (copy-file f copy t)
                (set-file-modes copy #o644)
                (with-current-buffer (find-file-noselect copy)
                  ;; Some files start folded (#+STARTUP): unfold, so
                  ;; that lines are as the plan counted them.
                  (when (derived-mode-p 'org-mode)
                    (if (fboundp 'org-fold-show-all) (org-fold-show-all) (org-show-all)))
                  (current-buffer))))
            files)))

(defun artisan-bench-pause--cpu-ms ()
  "Return the CPU time of Emacs' main thread so far, in milliseconds.
From /proc/self/schedstat (nanoseconds on a CPU): unlike wall time,
it does not count the time other processes of a busy machine take."
  (with-temp-buffer
    (insert-file-contents "/proc/self/schedstat")
    (/ (string-to-number (car (split-string (buffer-string)))) 1e6)))

(defvar artisan-bench-pause--last-cpu nil
  "CPU milliseconds of the last replay.")

(defun artisan-bench-pause--replay (plan buffers)
  "Run the segments of PLAN in BUFFERS; return the milliseconds of the macros.
The CPU time of the replay goes to `artisan-bench-pause--last-cpu'."
  (let ((total 0.0)
        (make-backup-files nil) (create-lockfiles nil) (auto-save-default nil)
        (inhibit-message t)
        cpu)
    (garbage-collect)
    (setq cpu (artisan-bench-pause--cpu-ms))
    (cl-loop for (index . keys) in plan
             do (let ((b (nth index buffers)))
                  (switch-to-buffer b)
                  (setq total (+ total (artisan-bench-time-ms
                                        (lambda () (execute-kbd-macro keys)))))))
    (setq artisan-bench-pause--last-cpu (- (artisan-bench-pause--cpu-ms) cpu))
    total))

(defun artisan-bench-pause--plan (files)
  "Return the segments ((FILE-INDEX . KEYS) ...) making up the replay, and its commands."
  (let* ((segments (mapcar #'artisan-bench-pause--segment files))
         (plan nil) (commands 0) (i 0))
    (while (< commands artisan-bench-pause-commands)
      (let ((s (nth (% i (length segments)) segments)))
        (push (cons (% i (length segments)) (car s)) plan)
        (setq commands (+ commands (cdr s)) i (1+ i))))
    (cons (nreverse plan) commands)))

;;;; explain-pause-mode's approach, for comparison

(defvar artisan-bench-pause--stats (make-hash-table :test 'eq)
  "Per-command statistics of the emulation: command -> [count total max].")

(defun artisan-bench-pause--explain-advice (call command &rest args)
  "Time COMMAND run by CALL with ARGS as explain-pause-mode does.
A record per command (a vector here: explain-pause-mode's is a
`cl-defstruct'), `current-time' before and after, integer
milliseconds, statistics in a hash table of vectors."
  (let* ((record (vector command nil 0 (current-time) nil)))
    (unwind-protect (apply call command args)
      (let* ((ms (* 1000 (float-time (time-subtract nil (aref record 3)))))
             (stats (or (gethash command artisan-bench-pause--stats)
                        (puthash command (vector 0 0.0 0.0) artisan-bench-pause--stats))))
        (aset record 2 ms)
        (aset record 4 (> ms 40))
        (aset stats 0 (1+ (aref stats 0)))
        (aset stats 1 (+ (aref stats 1) ms))
        (aset stats 2 (max (aref stats 2) ms))))))

;;;; Benchmarks

(artisan-bench-define "pause-replay"
    "Replay of 10,000 commands on Worg with artisan-pause-mode on and off, under the profiler, and explain-pause-mode's approach"
  (artisan-module-ensure)
  (let* ((files (artisan-bench-pause--files))
         (plan+n (artisan-bench-pause--plan files))
         (plan (car plan+n))
         (commands (cdr plan+n))
         (dir (expand-file-name "pause/worg/" artisan-bench-out))
         (artisan-data-directory (expand-file-name "pause/data/" artisan-bench-out))
         (artisan-pause-alert-threshold nil)
         (run (lambda (mode)
                (when (file-directory-p dir) (delete-directory dir t))
                (let ((buffers (artisan-bench-pause--prepare files dir)))
                  (prog1
                      (pcase mode
                        ('off (artisan-bench-pause--replay plan buffers))
                        ('on (artisan-pause-mode 1)
                             (unwind-protect (artisan-bench-pause--replay plan buffers)
                               (artisan-pause-mode -1)))
                        ('profiler (profiler-start 'cpu)
                                   (unwind-protect (artisan-bench-pause--replay plan buffers)
                                     (profiler-stop)))
                        ('explain (advice-add 'call-interactively :around
                                              #'artisan-bench-pause--explain-advice)
                                  (unwind-protect (artisan-bench-pause--replay plan buffers)
                                    (advice-remove 'call-interactively
                                                   #'artisan-bench-pause--explain-advice))))
                    (dolist (b buffers)
                      (with-current-buffer b (set-buffer-modified-p nil))
                      (kill-buffer b))))))
         on off profiler explain pairs cpu-on cpu-off cpu-pairs)
    (message "  %d commands in %d segments on %d files" commands (length plan) (length files))
    (funcall run 'off)                  ; warm-up: loads Org, fills caches
    (funcall run 'on)
    (let ((before (apply #'+ (mapcar (lambda (s) (plist-get s :count)) (artisan-pause-sources)))))
      (dotimes (_ artisan-bench-pause-pairs)
        (let* ((a (funcall run 'off)) (ca artisan-bench-pause--last-cpu)
               (b (funcall run 'on)) (cb artisan-bench-pause--last-cpu))
          (push a off) (push b on) (push (/ b a) pairs)
          (push ca cpu-off) (push cb cpu-on) (push (/ cb ca) cpu-pairs))
        (push (funcall run 'profiler) profiler)
        (push (funcall run 'explain) explain))
      (let* ((recorded (/ (- (apply #'+ (mapcar (lambda (s) (plist-get s :count))
                                                (artisan-pause-sources)))
                             before)
                          (float artisan-bench-pause-pairs)))
             (per-event (mapcar (lambda (d) (/ (* 1000 d) recorded))
                                (cl-mapcar #'- on off))))
        (artisan-bench-add-row :what (format "Replay of %d commands, monitor on" commands)
                               :corpus "Worg (20 Org files)" :samples on
                               :alt "monitor off" :alt-samples off :budget "< 1.02")
        (artisan-bench-add-row :what "… pair by pair (on ÷ off, adjacent replays)"
                               :corpus "Worg" :samples pairs :unit "×" :budget "< 1.02")
        (artisan-bench-add-row :what "… CPU time of Emacs' thread, monitor on"
                               :corpus "Worg" :samples cpu-on
                               :alt "monitor off" :alt-samples cpu-off :budget "< 1.02")
        (artisan-bench-add-row :what "… CPU time pair by pair (on ÷ off)"
                               :corpus "Worg" :samples cpu-pairs :unit "×" :budget "< 1.02")
        (artisan-bench-add-row :what (format "… cost per recorded event (%.0f per replay)" recorded)
                               :corpus "Worg" :samples per-event :unit "µs")
        (artisan-bench-add-row :what "Same replay under (profiler-start 'cpu)"
                               :corpus "Worg" :samples profiler
                               :alt "monitor off" :alt-samples off)
        (artisan-bench-add-row :what "Same replay, explain-pause-mode's approach (emulated)"
                               :corpus "Worg" :samples explain
                               :alt "monitor off" :alt-samples off)))))

(defun artisan-bench-pause--command-loop (n)
  "Run the monitor's pre- and post-command functions N times."
  (let ((real-this-command 'forward-char))
    (dotimes (_ n)
      (artisan-pause--pre-command)
      (artisan-pause--post-command))))

(defun artisan-bench-pause--explain-loop (n)
  "Record N commands as explain-pause-mode's approach does."
  (dotimes (_ n)
    (artisan-bench-pause--explain-advice #'ignore 'forward-char)))

;; The package's Lisp is byte-compiled; so must be what it is compared with.

(artisan-bench-define "pause-event"
    "Cost of one recorded command: the pre- and post-command functions, in a loop"
  (artisan-module-ensure)
  (let* ((artisan-data-directory (expand-file-name "pause/data/" artisan-bench-out))
         (n 10000)
         on alt)
    (artisan-pause-mode 1)
    (unwind-protect
        (dotimes (_ 20)
          (push (/ (* 1000 (artisan-bench-time-ms
                            (lambda () (artisan-bench-pause--command-loop n))))
                   n)
                on)
          (push (/ (* 1000 (artisan-bench-time-ms
                            (lambda () (artisan-bench-pause--explain-loop n))))
                   n)
                alt))
      (artisan-pause-mode -1))
    (artisan-bench-add-row :what "One recorded command (pre- and post-command functions)"
                           :corpus "-" :samples on :unit "µs"
                           :alt "explain-pause-mode's record (emulated)" :alt-samples alt)))

(defun artisan-bench-pause--work ()
  "A timer's small job: about 20 µs of Lisp."
  (let ((s 0)) (dotimes (i 300) (setq s (+ s (* i i)))) s))

(artisan-bench-define "pause-timers"
    "1,000 timer firings with artisan-pause-mode on and off"
  (artisan-module-ensure)
  (let* ((artisan-data-directory (expand-file-name "pause/data/" artisan-bench-out))
         (fired 0)
         (job (lambda () (artisan-bench-pause--work) (setq fired (1+ fired))))
         (fire (lambda ()
                 (setq fired 0)
                 (garbage-collect)
                 (artisan-bench-time-ms
                  (lambda ()
                    ;; A hundred waves of 10 timers due now (a session
                    ;; has a few dozen timers, not a thousand).
                    (dotimes (_ 100)
                      (let ((target (+ fired 10)))
                        (dotimes (_ 10) (run-with-timer 0 nil job))
                        (while (< fired target) (accept-process-output nil 0))))))))
         on off per)
    (funcall fire)
    (dotimes (_ 10)
      (let ((a (funcall fire))
            (b (progn (artisan-pause-mode 1)
                      (unwind-protect (funcall fire) (artisan-pause-mode -1)))))
        (push a off) (push b on) (push (/ (* 1000 (- b a)) 1000) per)))
    (artisan-bench-add-row :what "1,000 timer firings (20 µs jobs), monitor on"
                           :corpus "-" :samples on :alt "monitor off" :alt-samples off)
    (artisan-bench-add-row :what "… cost per timer firing" :corpus "-" :samples per :unit "µs")))

(artisan-bench-define "pause-process"
    "A process writing 10 MB through a Lisp filter, with artisan-pause-mode on and off"
  (artisan-module-ensure)
  (let* ((artisan-data-directory (expand-file-name "pause/data/" artisan-bench-out))
         (file (expand-file-name "pause/10mb.txt" artisan-bench-out))
         (files (artisan-bench-pause--files))
         (run (lambda ()
                (let* ((bytes 0) (calls 0) (done nil)
                       (ms (artisan-bench-time-ms
                            (lambda ()
                              (let ((p (make-process :name "artisan-bench-cat"
                                                     :command (list "cat" file)
                                                     :connection-type 'pipe :noquery t
                                                     :filter (lambda (_p s)
                                                               (setq bytes (+ bytes (string-bytes s))
                                                                     calls (1+ calls)))
                                                     :sentinel (lambda (_p _e) (setq done t)))))
                                ;; Wrapped at once, as the next idle moment would.
                                (when artisan-pause-mode (artisan-pause--scan-processes))
                                (ignore p)
                                (while (not done) (accept-process-output nil 0.05)))))))
                  (list ms bytes calls))))
         on off calls)
    (unless (file-exists-p file)
      (make-directory (file-name-directory file) t)
      (with-temp-file file
        (while (< (buffer-size) (* 10 1024 1024))
          (dolist (f files) (insert-file-contents f) (goto-char (point-max))))))
    (funcall run)
    (dotimes (_ 10)
      (push (car (funcall run)) off)
      (artisan-pause-mode 1)
      (unwind-protect
          (let ((r (funcall run)))
            ;; A scan of the processes wraps the new one at once.
            (push (car r) on)
            (setq calls (nth 2 r))
            (unless (cl-find-if (lambda (s) (string-prefix-p "artisan-bench-cat" (plist-get s :name)))
                                (artisan-pause-sources))
              (error "The filter was not measured")))
        (artisan-pause-mode -1)))
    (artisan-bench-add-row :what (format "cat of 10 MB through a Lisp filter (%d calls), monitor on"
                                         calls)
                           :corpus "Worg text" :samples on :alt "monitor off" :alt-samples off)))

;; The package's Lisp is byte-compiled; so must be what it is compared with.
(dolist (f '(artisan-bench-pause--explain-advice artisan-bench-pause--command-loop
             artisan-bench-pause--explain-loop artisan-bench-pause--replay
             artisan-bench-pause--work))
  (byte-compile f))

(provide 'bench-pause)
;;; bench-pause.el ends here
