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

(defmacro artisan-test--collecting-messages (var &rest body)
  "Run BODY with the messages it shows collected in VAR, newest first."
  (declare (indent 1))
  `(let ((,var nil))
     (cl-letf* ((real (symbol-function 'message))
                ((symbol-function 'message)
                 (lambda (format &rest args)
                   (when format (push (apply #'format-message format args) ,var))
                   (apply real format args))))
       ,@body)))

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

  (it "says cancelled, not done, when the wait is quit"
    (artisan-test--collecting-messages shown
      (let ((job (artisan--test-job 100000 1 nil))
            (noninteractive nil)
            (timer (run-with-timer 0.3 nil (lambda () (setq quit-flag t)))))
        (unwind-protect
            (condition-case nil (artisan-job-wait job "Counting") (quit nil))
          (cancel-timer timer))
        (expect (car shown) :to-equal "Counting: cancelled")
        (expect (cl-remove-if-not (lambda (m) (string-match-p "done\\'" m)) shown)
                :to-be nil))))

  (it "rejects what is not a job"
    (expect (artisan--job-poll "not a job") :to-throw 'wrong-type-argument)))

(describe "artisan-job-start"
  (before-all (artisan-test-ensure-module))

  (it "shows the number of items, unless asked not to"
    (artisan-test--collecting-messages shown
      (let ((noninteractive nil) (done 0))
        (artisan-job-start (artisan--test-job 40 10 nil) "Counting"
                           :on-done (lambda (_) (cl-incf done)))
        (artisan-job-start (artisan--test-job 40 10 nil) "Runs (3 + 1)" :items nil
                           :on-done (lambda (_) (cl-incf done)))
        (artisan-test--spin-until (lambda () (= done 2))))
      (expect (cl-find-if (lambda (m) (string-prefix-p "Counting: counting (40 items)..." m))
                          shown)
              :to-be-truthy)
      (expect (cl-find-if (lambda (m) (string-prefix-p "Runs (3 + 1): counting..." m)) shown)
              :to-be-truthy)))

  (it "does not say done when a job is cancelled"
    (artisan-test--collecting-messages shown
      (let* ((noninteractive nil)
             (job (artisan-job-start (artisan--test-job 100000 1 nil) "Long")))
        ;; Its progress is showing.
        (artisan-test--spin-until (lambda () (plist-get job :reporter)))
        (artisan-cancel-jobs)
        (artisan-test--spin-until (lambda () (null artisan-job--running))))
      (expect (car shown) :to-equal "Long: cancelled")
      (expect (cl-find-if (lambda (m) (string-match-p "done\\'" m)) shown) :to-be nil)))

  (it "keeps the selected window when a callback shows a buffer"
    (let* ((window (selected-window))
           (buffer (get-buffer-create " *artisan job result*"))
           (shown nil))
      (unwind-protect
          (progn
            (artisan-job-start (artisan--test-job 2 1 nil) "Showing"
                               :on-done (lambda (_)
                                          (pop-to-buffer buffer)
                                          (setq shown t)))
            (artisan-test--spin-until (lambda () shown))
            (expect (selected-window) :to-be window)
            (expect (get-buffer-window buffer) :to-be-truthy))
        (delete-other-windows window)
        (kill-buffer buffer))))

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
      (expect (plist-get (artisan--job-poll handle) :state) :to-be 'cancelled)))

  (it "calls the final callback whatever the outcome, cancelled included"
    (let ((ends nil))
      (artisan-job-start (artisan--test-job 1 1 nil) "Quick"
                         :on-done #'ignore :finally (lambda (_) (push 'done ends)))
      (artisan-job-start (artisan--test-job 1 1 t) "Failing"
                         :on-error #'ignore :finally (lambda (_) (push 'failed ends)))
      (artisan-test--spin-until (lambda () (= (length ends) 2)))
      (artisan-job-start (artisan--test-job 100000 1 nil) "Long"
                         :finally (lambda (_) (push 'cancelled ends)))
      (artisan-cancel-jobs)
      (artisan-test--spin-until (lambda () (memq 'cancelled ends)))
      (expect (sort (mapcar #'symbol-name ends) #'string<)
              :to-equal '("cancelled" "done" "failed")))))

;;; job-test.el ends here
