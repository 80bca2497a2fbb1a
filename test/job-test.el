;;; job-test.el --- Specs for background native jobs  -*- lexical-binding: t; -*-

;;; Commentary:

;; Jobs run on native threads; Lisp polls, waits, cancels and collects.

;;; Code:

(require 'artisan-test-helpers)
(require 'artisan-job)

(defun artisan-test--spin-until (predicate &optional seconds)
  "Run timers until PREDICATE is non-nil or SECONDS (default 10) pass."
  (let ((deadline (+ (float-time) (or seconds 10))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (funcall predicate)))

(describe "artisan-job-wait"
  (before-all (artisan-test-ensure-module))

  (it "returns the job's result after it has counted to the end"
    (let ((job (artisan--test-job 5 2 nil)))
      (expect (artisan-job-wait job) :to-equal 5)
      (let ((state (artisan--job-poll job)))
        (expect (plist-get state :state) :to-be 'done)
        (expect (plist-get state :done) :to-equal 5)
        (expect (plist-get state :total) :to-equal 5)
        (expect (plist-get state :phase) :to-equal "counting"))))

  (it "signals the job's own error when it fails"
    (let ((err (condition-case e (artisan-job-wait (artisan--test-job 2 1 t))
                 (artisan-error e))))
      (expect (car err) :to-be 'artisan-index-error)
      (expect (cadr err) :to-equal "the test job failed as asked")))

  (it "refuses to hand out a result twice"
    (let ((job (artisan--test-job 1 0 nil)))
      (expect (artisan-job-wait job) :to-equal 1)
      (expect (condition-case e (artisan--job-result job) (artisan-error (cadr e)))
              :to-match "already collected")))

  (it "signals when the result of a running job is asked for"
    (let ((job (artisan--test-job 1000 5 nil)))
      (unwind-protect
          (expect (condition-case e (artisan--job-result job) (artisan-error (cadr e)))
                  :to-match "still running")
        (artisan--job-cancel job))))

  (it "cancels the job when the wait is quit"
    (let ((job (artisan--test-job 100000 1 nil))
          (noninteractive nil)
          (timer (run-with-timer 0.2 nil (lambda () (setq quit-flag t)))))
      (unwind-protect
          (expect (condition-case nil (progn (artisan-job-wait job) 'finished)
                    (quit 'quit))
                  :to-be 'quit)
        (cancel-timer timer))
      (let ((state (artisan--job-poll job)))
        (expect (plist-get state :state) :to-be 'cancelled)
        (expect (plist-get state :done) :to-be-less-than 100000))))

  (it "rejects what is not a job"
    (expect (artisan--job-poll "not a job") :to-throw 'wrong-type-argument)))

(describe "artisan-job-start"
  (before-all (artisan-test-ensure-module))

  (it "polls from a timer and calls back with the result"
    (let* ((result nil)
           (job (artisan-job-start (artisan--test-job 10 5 nil) "Counting"
                                   :on-done (lambda (v) (setq result v)))))
      (expect (member "Counting" (artisan-job-running)) :to-be-truthy)
      (expect (artisan-test--spin-until (lambda () result)) :to-equal 10)
      (expect (memq job artisan-job--running) :to-be nil)))

  (it "calls the error callback when the job fails"
    (let ((failure nil))
      (artisan-job-start (artisan--test-job 1 1 t) "Failing"
                         :on-error (lambda (e) (setq failure e)))
      (artisan-test--spin-until (lambda () failure))
      (expect (car failure) :to-be 'artisan-index-error)))

  (it "stops a job cancelled with artisan-cancel-jobs, without calling back"
    (let* ((called nil)
           (handle (artisan--test-job 100000 1 nil)))
      (artisan-job-start handle "Long" :on-done (lambda (_) (setq called t)))
      (artisan-cancel-jobs)
      (expect (artisan-test--spin-until (lambda () (null artisan-job--running)))
              :to-be-truthy)
      (expect called :to-be nil)
      (expect (plist-get (artisan--job-poll handle) :state) :to-be 'cancelled))))

;;; job-test.el ends here
