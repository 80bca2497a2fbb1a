;;; artisan-pause-report.el --- Reports of the responsiveness monitor  -*- lexical-binding: t; -*-

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

;; \\[artisan-pause-report] lists the sources of pauses that
;; `artisan-pause-mode' saw, ranked by the time lost to them, with a
;; chart of pauses over the session and the health of the session
;; (memory, buffers, processes, timers, garbage collection).  RET on a
;; source lists its pauses with their context and the call tree of a
;; profiled one.  \\[artisan-pause-history] shows the last days from
;; the daily summaries.

;;; Code:

(require 'artisan-pause)
(require 'artisan-pause-health)
(require 'tabulated-list)
(require 'cl-lib)

(declare-function artisan--pause-info "artisan-dyn")
(declare-function artisan--pause-history "artisan-dyn")
(declare-function profiler-report-profile-other-window "profiler")
(declare-function profiler-profile-log "profiler")
(declare-function svg-create "svg")
(declare-function svg-rectangle "svg")
(declare-function svg-line "svg")
(declare-function svg-text "svg")
(declare-function svg-image "svg")

(defcustom artisan-pause-history-days 14
  "Days shown by \\[artisan-pause-history]."
  :type 'natnum
  :group 'artisan-pause)

(defconst artisan-pause--spark-chars " ▁▂▃▄▅▆▇█"
  "Characters of a text sparkline, from nothing to the most.")

(defun artisan-pause-sparkline (values)
  "Return a text sparkline of the non-negative numbers VALUES, from zero."
  (let ((hi (float (max 1e-9 (apply #'max 0 values))))
        (n (1- (length artisan-pause--spark-chars))))
    (mapconcat (lambda (v)
                 (string (aref artisan-pause--spark-chars
                               (if (<= v 0) 0 (max 1 (min n (ceiling (* n (/ v hi)))))))))
               values "")))

(defun artisan-pause--svg-bars (values width height &optional label)
  "Return an SVG image of VALUES as bars, WIDTH by HEIGHT, titled LABEL."
  (require 'svg)
  (let* ((svg (svg-create width height))
         (n (max 1 (length values)))
         (hi (float (max 1e-9 (apply #'max 0 values))))
         (top (if label 16 2))
         (bar (/ (float width) n))
         (fg (or (face-foreground 'default nil t) "black")))
    (when label
      (svg-text svg label :x 2 :y 12 :font-size 11 :fill fg))
    (svg-line svg 0 (1- height) width (1- height) :stroke fg)
    (cl-loop for v in values for i from 0
             when (> v 0)
             do (let ((h (max 1 (* (- height top 1) (/ v hi)))))
                  (svg-rectangle svg (* i bar) (- height 1 h) (max 1 (* 0.8 bar)) h
                                 :fill "#d9534f")))
    (svg-image svg :ascent 'center)))

(defun artisan-pause--graphic-p ()
  "Return non-nil when the selected frame can show SVG images."
  (and (display-graphic-p) (image-type-available-p 'svg)))

(defun artisan-pause--bins (events start end)
  "Return pause milliseconds of EVENTS in up to 60 bins from START to END.
Returns (MINUTES-PER-BIN . VALUES)."
  (let* ((span (max 60.0 (- end start)))
         (minutes (cl-find-if (lambda (m) (<= (/ span (* 60 m)) 60)) '(1 5 10 15 30 60 120 240)))
         (minutes (or minutes 480))
         (n (max 1 (ceiling (/ span (* 60.0 minutes)))))
         (bins (make-vector n 0.0)))
    (dolist (e events)
      (let ((i (floor (/ (- (plist-get e :time) start) (* 60.0 minutes)))))
        (when (and (>= i 0) (< i n))
          (aset bins i (+ (aref bins i) (plist-get e :ms))))))
    (cons minutes (append bins nil))))

(defun artisan-pause--duration (seconds)
  "Format SECONDS of wall time, roughly."
  (cond ((< seconds 120) (format "%.0f s" seconds))
        ((< seconds 7200) (format "%.0f min" (/ seconds 60)))
        (t (format "%d h %02d min" (floor seconds 3600) (floor (mod seconds 3600) 60)))))

(defun artisan-pause--ms (ms)
  "Format MS milliseconds for a column, or an empty string for nil."
  (cond ((null ms) "")
        ((>= ms 10000) (format "%.0f s" (/ ms 1000)))
        ((>= ms 1000) (format "%.1f s" (/ ms 1000)))
        ((>= ms 10) (format "%.0f ms" ms))
        (t (format "%.1f ms" ms))))

;;;; The report

(defvar-local artisan-pause-report--sources nil
  "The sources shown, by id (a hash table), for sorting and RET.")

(defun artisan-pause-report--numeric (key)
  "Return a sort predicate comparing the sources' KEY."
  (lambda (a b)
    (let ((sa (gethash (car a) artisan-pause-report--sources))
          (sb (gethash (car b) artisan-pause-report--sources)))
      (< (or (plist-get sa key) 0) (or (plist-get sb key) 0)))))

(defun artisan-pause-report--gc-share (s)
  "Return the share of garbage collection in the pauses of source S."
  (/ (plist-get s :pause-gc-ms) (max 1e-9 (plist-get s :pause-ms))))

(defvar artisan-pause-report-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "RET") #'artisan-pause-report-occurrences)
    (define-key map "s" #'artisan-pause-report-sort)
    (define-key map "x" #'artisan-pause-report-silence)
    (define-key map "H" #'artisan-pause-history)
    (define-key map "k" #'artisan-buffer-cleanup)
    (define-key map [remap tabulated-list-sort] #'artisan-pause-report-sort)
    map)
  "Keymap of `artisan-pause-report-mode'.")

(define-derived-mode artisan-pause-report-mode tabulated-list-mode "Pauses"
  "The sources of pauses `artisan-pause-mode' saw, worst first.
\\<artisan-pause-report-mode-map>
\\[artisan-pause-report-occurrences] lists the pauses of the source at point,
\\[artisan-pause-report-sort] sorts by a column, \\[revert-buffer] refreshes,
\\[artisan-pause-report-silence] stops announcing a source,
\\[artisan-pause-history] shows the last days, \\[quit-window] quits."
  (setq tabulated-list-format
        (vector '("Kind" 9 t)
                '("Source" 44 t)
                (list "Pauses" 6 (artisan-pause-report--numeric :pauses) :right-align t)
                (list "Lost" 8 (artisan-pause-report--numeric :pause-ms) :right-align t)
                (list "Runs" 7 (artisan-pause-report--numeric :count) :right-align t)
                (list "Median" 8 (artisan-pause-report--numeric :median-ms) :right-align t)
                (list "p95" 8 (artisan-pause-report--numeric :p95-ms) :right-align t)
                (list "Max" 8 (artisan-pause-report--numeric :max-ms) :right-align t)
                (list "GC" 4 (lambda (a b)
                               (< (artisan-pause-report--gc-share
                                   (gethash (car a) artisan-pause-report--sources))
                                  (artisan-pause-report--gc-share
                                   (gethash (car b) artisan-pause-report--sources))))
                      :right-align t))
        tabulated-list-sort-key '("Lost" . t)
        tabulated-list-padding 1)
  (setq-local revert-buffer-function #'artisan-pause-report--revert)
  (tabulated-list-init-header))

(defun artisan-pause-report--entries (sources)
  "Return the table entries of the SOURCES that paused."
  (cl-loop for s in sources
           when (> (plist-get s :pauses) 0)
           collect (list (plist-get s :id)
                         (vector (symbol-name (plist-get s :kind))
                                 (plist-get s :name)
                                 (number-to-string (plist-get s :pauses))
                                 (artisan-pause--ms (plist-get s :pause-ms))
                                 (number-to-string (plist-get s :count))
                                 (artisan-pause--ms (plist-get s :median-ms))
                                 (artisan-pause--ms (plist-get s :p95-ms))
                                 (artisan-pause--ms (plist-get s :max-ms))
                                 (format "%.0f%%" (* 100 (artisan-pause-report--gc-share s)))))))

(defun artisan-pause-report--preamble (sources events)
  "Insert the summary above the table, from SOURCES and EVENTS."
  (let* ((info (artisan--pause-info artisan-pause--monitor))
         (start (plist-get info :started))
         (now (float-time))
         (paused (cl-remove-if-not (lambda (s) (> (plist-get s :pauses) 0)) sources))
         (count (apply #'+ (mapcar (lambda (s) (plist-get s :pauses)) paused)))
         (lost (apply #'+ (mapcar (lambda (s) (plist-get s :pause-ms)) paused)))
         (gc (apply #'+ (mapcar (lambda (s) (plist-get s :pause-gc-ms)) paused)))
         (runs (apply #'+ (mapcar (lambda (s) (plist-get s :count)) sources))))
    (insert (propertize "Pauses in this session" 'face 'bold)
            (if artisan-pause-mode "" "  (the monitor is off now)") "\n\n")
    (insert (format "Watched for %s since %s: %d pieces of work, %s.\n"
                    (artisan-pause--duration (- now start))
                    (format-time-string "%H:%M" start) runs
                    (if (zerop count)
                        (format "no pause of %s or more yet" (artisan-pause--ms (plist-get info :threshold-ms)))
                      (format "%d pauses of %s or more, %s lost%s" count
                              (artisan-pause--ms (plist-get info :threshold-ms))
                              (artisan-pause--ms lost)
                              (if (> gc 0) (format " (%.0f%% of it collecting garbage)"
                                                   (/ (* 100 gc) (max 1e-9 lost)))
                                "")))))
    (when events
      (pcase-let ((`(,minutes . ,bins) (artisan-pause--bins events start now)))
        (insert (format "Time lost per %d min: " minutes))
        (if (artisan-pause--graphic-p)
            (insert-image (artisan-pause--svg-bars bins (min 600 (* 10 (length bins))) 40))
          (insert (artisan-pause-sparkline bins)))
        (insert "\n")))
    (dolist (h artisan-pause--hung)
      (insert (propertize (format-message "An earlier session was stuck %s in %s `%s' when it \
ended (%s).\n" (artisan-pause--ms (* 1000 (plist-get h :seconds)))
                                          (plist-get h :kind) (plist-get h :name)
                                          (format-time-string "%F %H:%M" (plist-get h :since)))
                          'face 'warning)))
    (insert "\n")))

(defun artisan-pause-report--print ()
  "Print the report in the current buffer, keeping point's row."
  (let* ((sources (artisan-pause-sources))
         (events (artisan-pause-events))
         (id (tabulated-list-get-id))
         (table (make-hash-table :test 'eql)))
    (dolist (s sources) (puthash (plist-get s :id) s table))
    (setq artisan-pause-report--sources table
          tabulated-list-entries (artisan-pause-report--entries sources))
    (tabulated-list-print)
    (let ((inhibit-read-only t))
      (goto-char (point-min))
      (artisan-pause-report--preamble sources events)
      (goto-char (point-max))
      (insert "\n")
      (artisan-pause-health-insert)
      (insert "\n" (propertize (substitute-command-keys "\\<artisan-pause-report-mode-map>\
\\[artisan-pause-report-occurrences] pauses of a source · \\[artisan-pause-report-sort] sort · \
\\[revert-buffer] refresh · \\[artisan-pause-report-silence] silence · \\[artisan-pause-history] \
history · \\[artisan-buffer-cleanup] clean up buffers · \\[quit-window] quit")
                               'face 'shadow)
              "\n"))
    (goto-char (point-min))
    (let ((first nil) (found nil))
      (while (and (not found) (not (eobp)))
        (let ((here (tabulated-list-get-id)))
          (when (and here (not first)) (setq first (point)))
          (if (and id (eql here id)) (setq found (point)) (forward-line 1))))
      (goto-char (or found first (point-min))))))

(defun artisan-pause-report--revert (&rest _)
  "Refresh the report."
  (artisan-pause-report--print))

;;;###autoload
(defun artisan-pause-report ()
  "Show the sources of pauses `artisan-pause-mode' saw, worst first."
  (interactive)
  (unless artisan-pause--monitor
    (user-error "Turn on `artisan-pause-mode' first, and work a while"))
  (let ((buffer (get-buffer-create "*artisan pauses*")))
    (with-current-buffer buffer
      (unless (derived-mode-p 'artisan-pause-report-mode)
        (artisan-pause-report-mode))
      (artisan-pause-report--print))
    (when (called-interactively-p 'any)
      (pop-to-buffer buffer))
    buffer))

(defun artisan-pause-report-sort (column)
  "Sort the report by COLUMN; the same column again reverses the order."
  (interactive
   (list (let ((names (mapcar #'car (append tabulated-list-format nil))))
           (completing-read (format-prompt "Sort by" (car tabulated-list-sort-key))
                            names nil t nil nil (car tabulated-list-sort-key)))))
  (unless (assoc column (append tabulated-list-format nil))
    (user-error "No column %s" column))
  (setq tabulated-list-sort-key
        (cons column (if (equal column (car tabulated-list-sort-key))
                         (not (cdr tabulated-list-sort-key))
                       ;; Numbers start from the largest, names from A.
                       (not (member column '("Kind" "Source"))))))
  (artisan-pause-report--print))

(defun artisan-pause-report--source-at-point ()
  "Return the source plist of the row at point, or signal."
  (let ((id (tabulated-list-get-id)))
    (or (and id (gethash id artisan-pause-report--sources))
        (user-error "No source on this line"))))

(defun artisan-pause-report-silence ()
  "Stop announcing the pauses of the source at point."
  (interactive)
  (let ((s (artisan-pause-report--source-at-point)))
    (artisan-pause-silence (artisan-pause--source-key (plist-get s :kind) (plist-get s :name)))))

;;;; Occurrences of one source

(defun artisan-pause-report-occurrences ()
  "List the pauses of the source at point, with their context."
  (interactive)
  (artisan-pause-occurrences (plist-get (artisan-pause-report--source-at-point) :id)))

(defconst artisan-pause--profile-roots
  '(artisan-pause--timer-handler artisan-pause--filter artisan-pause--sentinel
    artisan-pause--hook-call funcall-interactively)
  "Frames where the measured work begins: the call tree starts below them.")

(defconst artisan-pause--profile-skipped '(apply funcall timer-event-handler)
  "Frames left out of call trees: they only pass the call on.")

(defun artisan-pause--profile-tree (profile)
  "Return (SAMPLES . LINES) drawing the call tree of PROFILE.
The tree starts at the measured work (below the monitor's own
frames), and shows the branches with at least 5% of the samples."
  (require 'profiler)
  (let ((root (list nil 0)) (total 0) (lines nil))
    ;; A node is (ENTRY COUNT . CHILDREN).
    (maphash
     (lambda (backtrace count)
       (let* ((frames (reverse (delq nil (append backtrace nil))))
              (cut (cl-position-if (lambda (f) (memq f artisan-pause--profile-roots)) frames
                                   :from-end t))
              (frames (cl-remove-if (lambda (f) (memq f artisan-pause--profile-skipped))
                                    (if cut (nthcdr (1+ cut) frames) frames)))
              (node root))
         (setq total (+ total count))
         (setcar (cdr root) (+ (cadr root) count))
         (dolist (f frames)
           (let ((child (cl-find f (cddr node) :key #'car :test #'equal)))
             (unless child
               (setq child (list f 0))
               (setcdr (cdr node) (cons child (cddr node))))
             (setcar (cdr child) (+ (cadr child) count))
             (setq node child)))))
     (profiler-profile-log profile))
    (cl-labels ((walk (node depth)
                  (dolist (child (cl-sort (copy-sequence (cddr node)) #'> :key #'cadr))
                    (let ((share (/ (float (cadr child)) (max 1 total))))
                      (when (and (>= share 0.05) (< (length lines) 40))
                        (push (format "%5.1f%% %s%s" (* 100 share) (make-string (* 2 depth) ?\s)
                                      (artisan-pause-describe-function (car child)))
                              lines)
                        (walk child (1+ depth)))))))
      (walk root 0))
    (cons total (nreverse lines))))

(defun artisan-pause-occurrences (id)
  "Show the pauses of the source ID, newest first, with their context."
  (let* ((source (or (cl-find id (artisan-pause-sources) :key (lambda (s) (plist-get s :id)))
                     (user-error "No such source")))
         (events (reverse (cl-remove-if-not (lambda (e) (eql (plist-get e :id) id))
                                            (artisan-pause-events))))
         (profiled (car (cl-sort (cl-remove-if-not (lambda (e) (plist-get e :profile))
                                                   (copy-sequence events))
                                 #'> :key (lambda (e) (plist-get e :ms)))))
         (buffer (get-buffer-create (format "*artisan pause: %s*" (plist-get source :name)))))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (special-mode)
        (setq-local revert-buffer-function (lambda (&rest _) (artisan-pause-occurrences id)))
        (insert (propertize (format-message "%s `%s'" (plist-get source :kind)
                                            (plist-get source :name))
                            'face 'bold)
                "\n\n"
                (format "%d pauses, %s lost (%.0f%% collecting garbage); %d runs in all: \
median %s, 95%% under %s, longest %s.\n"
                        (plist-get source :pauses) (artisan-pause--ms (plist-get source :pause-ms))
                        (* 100 (artisan-pause-report--gc-share source))
                        (plist-get source :count)
                        (artisan-pause--ms (plist-get source :median-ms))
                        (artisan-pause--ms (plist-get source :p95-ms))
                        (artisan-pause--ms (plist-get source :max-ms))))
        (when (< (length events) (plist-get source :pauses))
          (insert (format "The %d most recent are kept (`artisan-pause-ring-size').\n"
                          (length events))))
        (insert "\n" (propertize (format "%-19s %8s %8s  %-24s %-22s %s\n" "When" "Took" "GC"
                                         "Buffer" "Mode" "Keys")
                                 'face 'bold))
        (dolist (e events)
          (insert (format "%-19s %8s %8s  %-24s %-22s %s"
                          (format-time-string "%F %T" (plist-get e :time))
                          (artisan-pause--ms (plist-get e :ms))
                          (artisan-pause--ms (plist-get e :gc-ms))
                          (truncate-string-to-width (or (plist-get e :buffer) "") 24 nil nil "…")
                          (truncate-string-to-width (or (plist-get e :mode) "") 22 nil nil "…")
                          (or (plist-get e :keys) "")))
          (when (plist-get e :waited)
            (insert "  (waited for input, not counted)"))
          (when (plist-get e :profile)
            (insert "  ")
            (let ((profile (plist-get e :profile)))
              (insert-text-button "[profile]"
                                  'action (lambda (_) (require 'profiler)
                                            (profiler-report-profile-other-window profile))
                                  'help-echo "Show its call tree with the profiler")))
          (insert "\n")
          (when (plist-get e :note)
            (insert "    " (plist-get e :note) "\n")))
        (when profiled
          (pcase-let ((`(,samples . ,lines) (artisan-pause--profile-tree (plist-get profiled :profile))))
            (insert "\n" (propertize (format "Call tree of the slowest profiled pause (%s, %s, %d samples)\n"
                                             (format-time-string "%T" (plist-get profiled :time))
                                             (artisan-pause--ms (plist-get profiled :ms)) samples)
                                     'face 'bold))
            (dolist (l lines) (insert l "\n"))))
        (unless profiled
          (insert "\n" (if artisan-pause-profile
                           (format "No profile yet: the next occurrence after %d pauses is profiled."
                                   artisan-pause-profile-after)
                         "Profiles are off (`artisan-pause-profile').")
                  "\n"))
        (insert "\n" (propertize "RET on [profile] its call tree · g refresh · q quit" 'face 'shadow) "\n")
        (goto-char (point-min))))
    (pop-to-buffer buffer)
    buffer))

;;;; History

;;;###autoload
(defun artisan-pause-history (&optional days)
  "Show pauses per day over the last DAYS days (`artisan-pause-history-days').
Each day is what the sessions that ran that day saw, from the
daily summaries under `artisan-data-directory'."
  (interactive (list (if current-prefix-arg (prefix-numeric-value current-prefix-arg)
                       artisan-pause-history-days)))
  (require 'artisan-module)
  (artisan-module-ensure)
  (artisan-pause-save)
  (let* ((days (or days artisan-pause-history-days))
         (summaries (artisan--pause-history (artisan-pause--history-directory) days
                                            (or (car (current-time-zone)) 0) 3))
         (buffer (get-buffer-create "*artisan pause history*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (special-mode)
        (setq-local revert-buffer-function (lambda (&rest _) (artisan-pause-history days)))
        (insert (propertize (format "Pauses over the last %d days" days) 'face 'bold)
                (format " (of %s or more, as measured that day)\n\n"
                        (artisan-pause--ms (float artisan-pause-threshold))))
        (if (null summaries)
            (insert "No history yet: `artisan-pause-mode' saves a summary of each day it runs.\n")
          (when (artisan-pause--graphic-p)
            (insert-image (artisan-pause--svg-bars
                           (mapcar (lambda (d) (/ (plist-get d :pause-ms) 1000.0)) summaries)
                           (min 600 (* 40 (length summaries))) 80 "Seconds lost per day"))
            (insert "\n\n"))
          (insert (propertize (format "%-10s %6s %8s %9s %6s  %-24s  %s\n" "Date" "Pauses" "Lost"
                                      "/1k cmds" "Hours" "Pauses by hour (0-23)" "Worst")
                              'face 'bold))
          (dolist (d summaries)
            (let ((worst (car (plist-get d :sources)))
                  (commands (plist-get d :commands)))
              (insert (format "%-10s %6d %8s %9s %6d  %-24s  %s\n"
                              (plist-get d :date) (plist-get d :pauses)
                              (artisan-pause--ms (plist-get d :pause-ms))
                              (if (> commands 0)
                                  (format "%.1f" (/ (* 1000.0 (plist-get d :pauses)) commands))
                                "-")
                              (plist-get d :active-hours)
                              (artisan-pause-sparkline (plist-get d :hour-pauses))
                              (if worst
                                  (format-message "%s `%s' (%s)" (plist-get worst :kind)
                                                  (plist-get worst :name)
                                                  (artisan-pause--ms (plist-get worst :pause-ms)))
                                "")))))
          (insert "\n/1k cmds: pauses per thousand commands, which compares days of \
different length.\n"))
        (insert "\n" (propertize "g refresh · q quit" 'face 'shadow) "\n")
        (goto-char (point-min))))
    (when (called-interactively-p 'any)
      (pop-to-buffer buffer))
    summaries))

(provide 'artisan-pause-report)
;;; artisan-pause-report.el ends here
