;;; artisan-job.el --- Background native jobs with progress and cancellation  -*- lexical-binding: t; -*-

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

;; Long work (indexing, profiling runs) runs on a native worker thread
;; and is handed to Lisp as a job object.  `artisan-job-start' polls it
;; from a timer, shows its progress in the echo area and calls back
;; when it is done, so Emacs stays responsive.  The callbacks run
;; while the user works elsewhere: they may display a buffer, but the
;; selected window stays the one the user types in.  `artisan-job-wait'
;; blocks until it is done (batch mode, or when a caller asks to wait);
;; \\[keyboard-quit] cancels it.  \\[artisan-cancel-jobs] cancels every
;; running job.

;;; Code:

(require 'artisan-module)
(require 'cl-lib)

(declare-function artisan--job-poll "artisan-dyn")
(declare-function artisan--job-wait "artisan-dyn")
(declare-function artisan--job-cancel "artisan-dyn")
(declare-function artisan--job-result "artisan-dyn")

(defcustom artisan-job-poll-interval 0.1
  "Seconds between two polls of a running background job."
  :type 'number
  :group 'artisan)

(defvar artisan-job--running nil
  "Running jobs started with `artisan-job-start', as plists.
Each has :handle (the native job), :description, :timer,
:reporter, :phase, :on-done, :on-error, :quiet and :items.")

(defun artisan-job--items (job)
  "Return what JOB (a plist) calls its work items, or nil to show no count.
A JOB without :items counts \"items\"."
  (if (plist-member job :items) (plist-get job :items) "items"))

(defun artisan-job--report (job state)
  "Update the progress display of JOB (a plist) from its STATE plist.
Return JOB, whose :reporter and :phase may have changed."
  (let ((phase (plist-get state :phase))
        (done (plist-get state :done))
        (total (plist-get state :total)))
    (unless (equal phase (plist-get job :phase))
      (when-let ((old (plist-get job :reporter)))
        (progress-reporter-done old))
      (setq job (plist-put job :phase phase))
      (setq job (plist-put job :reporter
                           (if (> total 0)
                               (make-progress-reporter
                                (format "%s: %s%s..."
                                        (plist-get job :description) phase
                                        (if-let ((items (artisan-job--items job)))
                                            (format " (%d %s)" total items)
                                          ""))
                                0 total nil 5 0.2)
                             (make-progress-reporter
                              (format "%s: %s..." (plist-get job :description) phase)
                              nil nil nil nil 0.2)))))
    (let ((reporter (plist-get job :reporter)))
      (if (> total 0)
          (progress-reporter-update reporter (min done total))
        (progress-reporter-update reporter)))
    job))

(defun artisan-job--call (function value)
  "Call the job callback FUNCTION with VALUE, keeping the selected window.
Callbacks run from a timer, while the user may be typing anywhere,
even in the minibuffer: one that shows a buffer with `pop-to-buffer'
must not take the keyboard from there."
  (save-selected-window
    (funcall function value)))

(defun artisan-job--finish (job)
  "Collect the result of the finished JOB (a plist) and run its callbacks.
Its progress message ends with \"done\" only when the job succeeded."
  (let ((handle (plist-get job :handle))
        (description (plist-get job :description))
        (reporter (plist-get job :reporter)))
    (setq artisan-job--running (delq job artisan-job--running))
    (when-let ((timer (plist-get job :timer)))
      (cancel-timer timer))
    (unwind-protect
        (condition-case err
            (let ((value (artisan--job-result handle)))
              (when reporter
                (progress-reporter-done reporter))
              (when-let ((on-done (plist-get job :on-done)))
                (artisan-job--call on-done value)))
          (artisan-cancelled
           (message "%s: cancelled" description))
          (error
           (if-let ((on-error (plist-get job :on-error)))
               (artisan-job--call on-error err)
             (message "%s failed: %s" description (error-message-string err)))))
      (when-let ((finally (plist-get job :finally)))
        (artisan-job--call finally nil)))))

(defun artisan-job--poll (job)
  "Poll JOB (a plist of `artisan-job--running') from its timer."
  (let ((state (artisan--job-poll (plist-get job :handle))))
    (if (eq (plist-get state :state) 'running)
        ;; `plist-put' on a non-empty plist mutates it in place, so the
        ;; updated reporter lands in the object `artisan-job--running' holds.
        (unless (plist-get job :quiet)
          (artisan-job--report job state))
      (artisan-job--finish job))))

(cl-defun artisan-job-start (handle description &key on-done on-error finally
                                    quiet (items "items"))
  "Follow the native job HANDLE in the background.
DESCRIPTION names it in messages.  When it finishes, call ON-DONE
with its result, or ON-ERROR with the error (by default the error
is shown as a message); a cancelled job calls neither.  FINALLY,
a function of one ignored argument, is called last whatever the
outcome, cancelled included: the place to forget the job.  The
callbacks run from a timer: they may display buffers, but the
selected window is restored after them.  With QUIET, show no
progress.  ITEMS names the job's work items in the progress
message, as in \"indexing (120 items)\"; nil shows no count (when
DESCRIPTION already says it).  Return the job's plist, which
`artisan-job-cancel' accepts."
  (let ((job (list :handle handle :description description
                   :on-done on-done :on-error on-error :finally finally
                   :quiet quiet
                   :items items)))
    (push job artisan-job--running)
    (plist-put job :timer
               (run-with-timer artisan-job-poll-interval artisan-job-poll-interval
                               (lambda ()
                                 (when (memq job artisan-job--running)
                                   (artisan-job--poll job)))))
    job))

(cl-defun artisan-job-wait (handle &optional description &key (items "items"))
  "Block until the native job HANDLE finishes and return its result.
Signal its error if it failed.  DESCRIPTION, when non-nil, shows
progress in the echo area (never in batch mode), ITEMS naming the
work items as in `artisan-job-start'.  Quitting with
\\[keyboard-quit] cancels the job, waits for it to stop, and
re-signals `quit'."
  (let ((job (list :handle handle :description description :items items)))
    (condition-case nil
        (while (not (artisan--job-wait handle (if noninteractive 200 30)))
          (unless noninteractive
            (when description
              (setq job (artisan-job--report job (artisan--job-poll handle))))
            ;; Read input, so that C-g is seen even in graphical sessions.
            (accept-process-output nil 0.01)))
      (quit
       (artisan--job-cancel handle)
       (artisan--job-wait handle 10000)
       (when (plist-get job :reporter)
         (message "%s: cancelled" description))
       (signal 'quit nil)))
    (prog1 (artisan--job-result handle)
      ;; Only once it succeeded: a failure is not "done".
      (when-let ((reporter (plist-get job :reporter)))
        (progress-reporter-done reporter)))))

(defun artisan-job-cancel (job)
  "Ask the running JOB (from `artisan-job-start') to stop."
  (artisan--job-cancel (plist-get job :handle)))

(defun artisan-job-running ()
  "Return the descriptions of the running background jobs."
  (mapcar (lambda (job) (plist-get job :description)) artisan-job--running))

;;;###autoload
(defun artisan-cancel-jobs ()
  "Cancel every running artisan background job."
  (interactive)
  (if (null artisan-job--running)
      (message "No artisan job is running")
    (dolist (job artisan-job--running)
      (artisan-job-cancel job))
    (message "Cancelling %d artisan job(s)..." (length artisan-job--running))))

(provide 'artisan-job)
;;; artisan-job.el ends here
