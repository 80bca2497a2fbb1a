;;; artisan-gc.el --- Watch garbage collection in the running session  -*- lexical-binding: t; -*-

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

;; \\[artisan-gc-monitor-mode] records every garbage collection of the
;; running session from `post-gc-hook': when it ended, how long it
;; paused Emacs, how much was allocated since the previous one, and
;; the resident memory.  Each record is a small vector in a ring of
;; `artisan-gc-monitor-size' entries, so watching costs a few
;; microseconds per collection.  \\[artisan-gc-report] shows pause
;; statistics, the share of time spent collecting, and a suggestion for
;; `gc-cons-threshold' based on what it saw.

;;; Code:

(require 'artisan)
(require 'cl-lib)

(declare-function artisan--gc-rss-kb "artisan-dyn")
(declare-function artisan-module-ensure "artisan-module")
(declare-function artisan-startup-sparkline "artisan-startup")

(defcustom artisan-gc-monitor-size 10000
  "How many garbage collections the monitor remembers."
  :type 'natnum
  :group 'artisan)

(defvar artisan-gc--ring nil
  "Records of the collections seen, a vector used as a ring.
Each record is [TIME GC-ELAPSED ALLOCATED RSS THRESHOLD]: when the
collection ended (`float-time'), `gc-elapsed' at that moment (which
Emacs updates only after `post-gc-hook', so it counts the earlier
collections), bytes allocated since the previous record, resident
memory in kilobytes (or nil) and `gc-cons-threshold'.")

(defvar artisan-gc--seen 0
  "Collections recorded since the monitor started.")

(defvar artisan-gc--start nil
  "When the monitor started: [TIME GC-ELAPSED GCS-DONE COUNTS RSS].")

(defvar artisan-gc--counts nil
  "`memory-use-counts' at the previous record.")

(defvar artisan-gc--stop nil
  "When the monitor stopped: [TIME GC-ELAPSED], or nil while it runs.
Collections after it are not recorded, so neither the pause of
the last record nor the observed time may count them.")

(defun artisan-gc--bytes (counts)
  "Return the bytes that the allocation COUNTS stand for.
COUNTS is from `memory-use-counts': conses, floats, vector cells,
symbols, string characters, intervals, strings."
  (cl-loop for n in counts
           for size in '(16 16 8 48 1 56 32)
           sum (* n size)))

(defun artisan-gc--rss ()
  "Return the resident memory in kilobytes, or nil."
  (and (fboundp 'artisan--gc-rss-kb) (ignore-errors (artisan--gc-rss-kb))))

(defun artisan-gc--record ()
  "Record the collection that just ended (on `post-gc-hook')."
  (let ((counts (memory-use-counts)))
    (aset artisan-gc--ring (% artisan-gc--seen (length artisan-gc--ring))
          (vector (float-time) gc-elapsed
                  (if artisan-gc--counts
                      (artisan-gc--bytes (cl-mapcar #'- counts artisan-gc--counts))
                    0)
                  (artisan-gc--rss) gc-cons-threshold))
    (setq artisan-gc--counts counts
          artisan-gc--seen (1+ artisan-gc--seen))))

;;;###autoload
(define-minor-mode artisan-gc-monitor-mode
  "Record every garbage collection of this session, cheaply.
See \\[artisan-gc-report] for what it saw."
  :global t
  :group 'artisan
  (remove-hook 'post-gc-hook #'artisan-gc--record)
  (when (and (not artisan-gc-monitor-mode) artisan-gc--ring (not artisan-gc--stop))
    (setq artisan-gc--stop (vector (float-time) gc-elapsed)))
  (when artisan-gc-monitor-mode
    (ignore-errors (artisan-module-ensure))
    (setq artisan-gc--ring (make-vector (max 10 artisan-gc-monitor-size) nil)
          artisan-gc--stop nil
          artisan-gc--seen 0
          artisan-gc--counts (memory-use-counts)
          artisan-gc--start (vector (float-time) gc-elapsed gcs-done
                                    artisan-gc--counts (artisan-gc--rss)))
    (add-hook 'post-gc-hook #'artisan-gc--record)))

(defun artisan-gc-records ()
  "Return the recorded collections, oldest first, as plists.
Keys: :time (when it ended), :pause-ms, :allocated (bytes since the
previous one), :rss-kb, :threshold and :explicit.  A collection is
explicit when less was allocated since the previous one than
`gc-cons-threshold': Emacs did not start it, a call of
`garbage-collect' did.  (The first record, whose allocation counts
from when the monitor started, is never called explicit.)"
  (when artisan-gc--ring
    (let* ((size (length artisan-gc--ring))
           (n (min artisan-gc--seen size))
           (first (if (> artisan-gc--seen size) (% artisan-gc--seen size) 0))
           (records (cl-loop for i below n
                             collect (aref artisan-gc--ring (% (+ first i) size)))))
      ;; A record's `gc-elapsed' excludes its own pause: the next record
      ;; (or, for the last one, the value now or when the monitor
      ;; stopped) includes it.
      (cl-loop with last = (if artisan-gc--stop (aref artisan-gc--stop 1) gc-elapsed)
               for (r next) on records
               for i from (- artisan-gc--seen n)
               collect (list :time (aref r 0)
                             :pause-ms (* 1000 (max 0.0 (- (if next (aref next 1) last)
                                                           (aref r 1))))
                             :allocated (aref r 2)
                             :rss-kb (aref r 3)
                             :threshold (aref r 4)
                             ;; Emacs collects only once the threshold
                             ;; is crossed; 10% of slack for the estimate.
                             :explicit (and (> i 0) (< (aref r 2) (* 0.9 (aref r 4)))))))))

(defun artisan-gc--quantile (sorted q)
  "Return from the numbers SORTED (ascending) their quantile Q."
  (when sorted
    (nth (min (1- (length sorted)) (floor (* q (length sorted)))) sorted)))

(defun artisan-gc-statistics (&optional records now)
  "Return statistics of RECORDS (default: what the monitor saw) as a plist.
NOW is the end of the observation window (default: now, or when
the monitor stopped).  Keys:
:count, :explicit (how many of them `garbage-collect' calls
started), :seconds (observed), :pause-ms (total), :share (of the
time spent collecting), :median-ms, :p95-ms, :max-ms, :per-minute,
:allocated (median bytes between collections), :rss-growth-kb,
:threshold and :percentage.  All but :count, :explicit and
:seconds leave out the explicit collections: they say how the
threshold works, which explicit calls bypass."
  (let* ((all (or records (artisan-gc-records)))
         (records (cl-remove-if (lambda (r) (plist-get r :explicit)) all))
         (start (if artisan-gc--start (aref artisan-gc--start 0)
                  (plist-get (car all) :time)))
         (end (or now (and artisan-gc--stop (aref artisan-gc--stop 0)) (float-time)))
         (seconds (max 1e-3 (- end (or start end))))
         (pauses (sort (mapcar (lambda (r) (plist-get r :pause-ms)) records) #'<))
         (total (apply #'+ pauses))
         (allocated (sort (mapcar (lambda (r) (plist-get r :allocated)) records) #'<))
         (rss (delq nil (mapcar (lambda (r) (plist-get r :rss-kb)) records))))
    (list :count (length all)
          :explicit (- (length all) (length records))
          :seconds seconds
          :pause-ms total
          :share (/ total (* 1000 seconds))
          :median-ms (artisan-gc--quantile pauses 0.5)
          :p95-ms (artisan-gc--quantile pauses 0.95)
          :max-ms (car (last pauses))
          :per-minute (/ (* 60 (length all)) seconds)
          :allocated (artisan-gc--quantile allocated 0.5)
          :rss-growth-kb (and (cdr rss) (- (car (last rss)) (car rss)))
          :threshold gc-cons-threshold
          :percentage gc-cons-percentage)))

(defun artisan-gc--megabytes (bytes)
  "Format BYTES in megabytes, as start-up reports do too."
  (let ((mb (/ bytes 1048576.0)))
    (format (if (< mb 10) "%.1f MB" "%.0f MB") mb)))

(defun artisan-gc-suggestion (stats)
  "Return (THRESHOLD . EXPLANATION) for the statistics STATS.
THRESHOLD is a suggested `gc-cons-threshold', or nil to keep it.
The reasoning: a collection's pause grows with the live heap,
hardly with the threshold, while how often Emacs collects falls
as the threshold rises.  So when collecting takes a noticeable
share of the time, a higher threshold cuts it, whatever the
pauses; when pauses are long but rare, a lower threshold does not
make them shorter unless it is far above the default, and the heap
is what grew.  The threshold in force is the larger of
`gc-cons-threshold' and what `gc-cons-percentage' of the heap
allows, so the median allocation between collections stands for
it when larger."
  (let* ((explicit (or (plist-get stats :explicit) 0))
         (n (- (plist-get stats :count) explicit))
         (seconds (plist-get stats :seconds))
         (share (plist-get stats :share))
         (p95 (or (plist-get stats :p95-ms) 0))
         (threshold (max (plist-get stats :threshold)
                         (or (plist-get stats :allocated) 0)))
         (mb #'artisan-gc--megabytes)
         (limit (* 256 1048576)))
    (cond
     ;; A few collections in a few seconds say little about a session
     ;; (start-up, or one command, may be all they saw).
     ((or (< n 5) (and (< n 20) seconds (< seconds 30)))
      (cons nil (format "Not enough data yet: %d collection%s%s%s.  Leave the monitor \
on for a while of normal work (%d collections, or %d seconds with %d), then look \
again." n (if (= n 1) "" "s")
                        (if seconds (format " in %.0f s" seconds) "")
                        (if (> explicit 0)
                            (format ", besides %d started by calls of \
`garbage-collect' (left out)" explicit)
                          "")
                        20 30 5)))
     ;; Collecting costs a share of the time worth cutting: fewer
     ;; collections.  With long pauses only when the share is large,
     ;; since each pause then stays as long.
     ((and (> share 0.02) (or (<= p95 100) (> share 0.1)))
      (let ((suggested (min limit
                            (* 1048576 (ceiling (/ (* threshold (/ share 0.01)) 1048576.0)))))
            (pauses (if (<= p95 50)
                        (format "in short pauses (95%% under %.0f ms)" p95)
                      (format "in long pauses (95%% under %.0f ms: the live heap is \
large)" p95))))
        (if (<= suggested threshold)
            (cons nil (format "Emacs spends %.1f%% of the time collecting garbage %s, \
but the threshold is already %s.  Collecting during idle time (as gcmh does) \
hides the pauses better than a higher threshold." (* 100 share) pauses
                              (funcall mb threshold)))
          (cons suggested
                (format "Emacs spends %.1f%% of the time collecting garbage, %s.  \
Collecting less often is the remedy: (setq gc-cons-threshold %d) (%s) should \
bring it %s, with pauses about as long." (* 100 share) pauses suggested
                        (funcall mb suggested)
                        (if (< suggested limit) "near 1%"
                          (format "down to about %.1f%%"
                                  (* 100 share (/ threshold (float suggested))))))))))
     ((> p95 100)
      (if (> threshold (* 16 1048576))
          (cons (* 16 1048576)
                (format "Pauses are long (95%% under %.0f ms) and the threshold is high \
(%s): each collection has a lot of garbage to sweep.  A threshold of 16 MB \
makes them shorter and more frequent." p95 (funcall mb threshold)))
        (cons nil (format "Pauses are long (95%% under %.0f ms) although the threshold is \
moderate (%s): the live heap is large.  Collecting during idle time (as \
gcmh does) hides them better than any threshold." p95 (funcall mb threshold)))))
     (t
      (cons nil (format "Collection costs %.1f%% of the time with pauses of about %.0f ms: \
the current threshold (%s) suits this session." (* 100 share)
                        (or (plist-get stats :median-ms) 0) (funcall mb threshold)))))))

;;;###autoload
(defun artisan-gc-report ()
  "Show what `artisan-gc-monitor-mode' saw: pauses, time share, a suggestion."
  (interactive)
  (unless artisan-gc--ring
    (user-error "Turn on `artisan-gc-monitor-mode' first, and work a while"))
  (require 'artisan-startup)
  (let* ((records (artisan-gc-records))
         (stats (artisan-gc-statistics records))
         (suggestion (artisan-gc-suggestion stats))
         (buffer (get-buffer-create "*artisan gc*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (special-mode)
        (setq-local revert-buffer-function (lambda (&rest _) (artisan-gc-report)))
        (insert (propertize "Garbage collection in this session\n\n" 'face 'bold))
        (let ((row (lambda (label fmt &rest args)
                     (insert (propertize (format "%-22s" label) 'face 'bold)
                             (apply #'format fmt args) "\n"))))
          (funcall row "Watched for" "%.0f s%s" (plist-get stats :seconds)
                   (if artisan-gc-monitor-mode "" " (monitor now off)"))
          (funcall row "Collections" "%d (%.1f per minute)%s"
                   (plist-get stats :count) (plist-get stats :per-minute)
                   (let ((explicit (plist-get stats :explicit)))
                     (if (> explicit 0)
                         (format ", %d of them by calls of `garbage-collect', \
left out below" explicit)
                       "")))
          (funcall row "Time collecting" "%.0f ms, %.2f%% of the time"
                   (plist-get stats :pause-ms) (* 100 (plist-get stats :share)))
          (when (plist-get stats :median-ms)
            (funcall row "Pauses" "median %.1f ms, 95%% %.1f ms, longest %.1f ms"
                     (plist-get stats :median-ms) (plist-get stats :p95-ms)
                     (plist-get stats :max-ms))
            (funcall row "Allocated between" "%.1f MB (median)"
                     (/ (plist-get stats :allocated) 1048576.0))
            (funcall row "Pause over time" "%s"
                     (artisan-startup-sparkline
                      (mapcar (lambda (r) (plist-get r :pause-ms)) (last records 60)))))
          (when (plist-get stats :rss-growth-kb)
            (funcall row "Resident memory" "%+.1f MB since the first collection"
                     (/ (plist-get stats :rss-growth-kb) 1024.0)))
          (funcall row "gc-cons-threshold" "%d (%s), gc-cons-percentage %s"
                   (plist-get stats :threshold)
                   (artisan-gc--megabytes (plist-get stats :threshold))
                   (plist-get stats :percentage)))
        (insert "\n" (propertize "Suggestion\n" 'face 'bold))
        (let ((start (point)))
          (insert (cdr suggestion) "\n")
          (fill-region start (point)))
        (insert "\n" (propertize "g refresh · q quit\n" 'face 'shadow))
        (goto-char (point-min))))
    (when (called-interactively-p 'any) (pop-to-buffer buffer))
    (list :statistics stats :suggestion suggestion)))

(provide 'artisan-gc)
;;; artisan-gc.el ends here
