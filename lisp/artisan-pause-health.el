;;; artisan-pause-health.el --- Health of the session: memory, buffers, processes  -*- lexical-binding: t; -*-

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

;; What the pause report shows below its table: resident memory and
;; its growth, the buffers and the largest ones, processes and timers,
;; and what `artisan-gc-monitor-mode' saw of garbage collection.
;; \\[artisan-buffer-cleanup] offers to kill the buffers not shown for
;; `artisan-buffer-cleanup-age' days, listing them first, and never
;; kills a modified buffer or one with a process.

;;; Code:

(require 'artisan)
(require 'cl-lib)

(declare-function artisan--gc-rss-kb "artisan-dyn")
(declare-function artisan-gc-statistics "artisan-gc")
(declare-function artisan-gc-suggestion "artisan-gc")
(defvar artisan-gc--ring)
(defvar artisan-gc--start)

(defcustom artisan-buffer-cleanup-age 3
  "Days a buffer must go unshown before \\[artisan-buffer-cleanup] offers to kill it."
  :type 'number
  :group 'artisan-pause)

(defcustom artisan-buffer-cleanup-keep
  '("\\`\\*scratch\\*\\'" "\\`\\*Messages\\*\\'" "\\`\\*Warnings\\*\\'"
    "\\`\\*server\\*\\'" "\\` ")
  "Regexps of buffer names \\[artisan-buffer-cleanup] never offers to kill."
  :type '(repeat regexp)
  :group 'artisan-pause)

(defun artisan-pause--rss-kb ()
  "Return the resident memory of this Emacs in kilobytes, or nil."
  (and (fboundp 'artisan--gc-rss-kb) (ignore-errors (artisan--gc-rss-kb))))

(defun artisan-pause-health ()
  "Return the health of this session as a plist.
Keys: :rss-kb (resident memory), :rss-growth-kb (since the first
garbage collection `artisan-gc-monitor-mode' saw, when it runs),
:buffers (how many), :largest (the five largest, as (NAME . CHARS)),
:processes (their names), :timers and :idle-timers (how many)."
  (let* ((buffers (buffer-list))
         (sizes (mapcar (lambda (b) (cons (buffer-name b) (buffer-size b))) buffers))
         (rss (artisan-pause--rss-kb))
         (start-rss (and (bound-and-true-p artisan-gc--start)
                         (aref artisan-gc--start 4))))
    (list :rss-kb rss
          :rss-growth-kb (and rss start-rss (- rss start-rss))
          :buffers (length buffers)
          :largest (cl-subseq (cl-sort sizes #'> :key #'cdr) 0 (min 5 (length sizes)))
          :processes (mapcar #'process-name (process-list))
          :timers (length timer-list)
          :idle-timers (length timer-idle-list))))

(defun artisan-pause--size (chars)
  "Format CHARS (a buffer size) for people."
  (cond ((>= chars 1048576) (format "%.1f M" (/ chars 1048576.0)))
        ((>= chars 1024) (format "%.0f k" (/ chars 1024.0)))
        (t (format "%d" chars))))

(defun artisan-pause-health-insert ()
  "Insert the health of this session at point, as the report shows it."
  (let* ((h (artisan-pause-health))
         (row (lambda (label text)
                (insert (propertize (format "  %-20s" label) 'face 'bold) text "\n"))))
    (insert (propertize "Health of this session" 'face 'bold) "\n")
    (funcall row "Resident memory"
             (if (plist-get h :rss-kb)
                 (format "%.0f MB%s" (/ (plist-get h :rss-kb) 1024.0)
                         (if (plist-get h :rss-growth-kb)
                             (format " (%+.0f MB since the monitor started)"
                                     (/ (plist-get h :rss-growth-kb) 1024.0))
                           ""))
               "unknown"))
    (funcall row "Buffers"
             (format "%d; largest %s" (plist-get h :buffers)
                     (mapconcat (lambda (b) (format "%s (%s)" (car b) (artisan-pause--size (cdr b))))
                                (plist-get h :largest) ", ")))
    (let ((procs (plist-get h :processes)))
      (funcall row "Processes"
               (if procs
                   (format "%d: %s" (length procs)
                           (truncate-string-to-width (mapconcat #'identity procs ", ")
                                                     70 nil nil "…"))
                 "none")))
    (funcall row "Timers" (format "%d timers, %d idle timers"
                                  (plist-get h :timers) (plist-get h :idle-timers)))
    (when (and (featurep 'artisan-gc) (bound-and-true-p artisan-gc--ring))
      (let* ((stats (artisan-gc-statistics))
             (suggestion (artisan-gc-suggestion stats)))
        (funcall row "Garbage collection"
                 (format "%d collections, %.2f%% of the time%s"
                         (plist-get stats :count) (* 100 (plist-get stats :share))
                         (if (plist-get stats :p95-ms)
                             (format ", 95%% of pauses under %.0f ms" (plist-get stats :p95-ms))
                           "")))
        (let ((start (point)))
          (insert "  " (cdr suggestion) "\n")
          (let ((fill-prefix "  ")) (fill-region start (point))))))
    (let ((stale (length (artisan-buffer-cleanup-candidates))))
      (when (> stale 0)
        (funcall row "Unshown buffers"
                 (format "%d not shown for %s days (%s to review them)" stale
                         artisan-buffer-cleanup-age
                         (substitute-command-keys "\\[artisan-buffer-cleanup]")))))))

;;;; Cleaning up buffers

(defun artisan-buffer-cleanup-candidates (&optional age)
  "Return the buffers not shown for AGE days (`artisan-buffer-cleanup-age').
Like `clean-buffer-list' of midnight.el, by `buffer-display-time':
a buffer never shown is left alone, and so are buffers shown in a
window now, modified buffers, buffers with a process, and those
matching `artisan-buffer-cleanup-keep'.  Oldest first."
  (let* ((age (or age artisan-buffer-cleanup-age))
         (limit (- (float-time) (* age 86400)))
         (found nil))
    (dolist (b (buffer-list))
      (let ((shown (buffer-local-value 'buffer-display-time b))
            (name (buffer-name b)))
        (when (and shown (< (float-time shown) limit)
                   (not (get-buffer-window b t))
                   (not (buffer-modified-p b))
                   (not (get-buffer-process b))
                   (not (cl-some (lambda (re) (string-match-p re name))
                                 artisan-buffer-cleanup-keep)))
          (push b found))))
    (cl-sort found #'< :key (lambda (b) (float-time (buffer-local-value 'buffer-display-time b))))))

;;;###autoload
(defun artisan-buffer-cleanup (&optional age)
  "Offer to kill the buffers not shown for AGE days, listing them first.
AGE defaults to `artisan-buffer-cleanup-age'; with a prefix argument,
it is asked.  Never offers modified buffers, buffers with a process,
buffers shown now, or those matching `artisan-buffer-cleanup-keep'.
Return the names of the buffers killed."
  (interactive (list (if current-prefix-arg
                         (read-number "Not shown for how many days: " artisan-buffer-cleanup-age)
                       artisan-buffer-cleanup-age)))
  (let* ((age (or age artisan-buffer-cleanup-age))
         (candidates (artisan-buffer-cleanup-candidates age)))
    (if (null candidates)
        (progn (message "No buffer has gone unshown for %s days" age) nil)
      (let ((list (get-buffer-create "*artisan buffer cleanup*")))
        (with-current-buffer list
          (let ((inhibit-read-only t))
            (erase-buffer)
            (special-mode)
            (insert (propertize (format "Buffers not shown for %s days\n\n" age) 'face 'bold)
                    (propertize (format "%-12s %8s  %-30s %s\n" "Last shown" "Size" "Buffer" "File")
                                'face 'bold))
            (dolist (b candidates)
              (insert (format "%-12s %8s  %-30s %s\n"
                              (format-time-string "%F" (buffer-local-value 'buffer-display-time b))
                              (artisan-pause--size (buffer-size b))
                              (truncate-string-to-width (buffer-name b) 30 nil nil "…")
                              (or (buffer-file-name b) ""))))
            (goto-char (point-min))))
        (save-window-excursion
          (pop-to-buffer list)
          (if (y-or-n-p (format "Kill these %d buffers? " (length candidates)))
              (let ((killed nil))
                (dolist (b candidates)
                  (let ((name (buffer-name b)))
                    (when (and (buffer-live-p b) (kill-buffer b))
                      (push name killed))))
                (kill-buffer list)
                (message "Killed %d buffers" (length killed))
                (nreverse killed))
            (message "No buffer killed")
            nil))))))

(provide 'artisan-pause-health)
;;; artisan-pause-health.el ends here
