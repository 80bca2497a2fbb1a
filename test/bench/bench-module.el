;;; bench-module.el --- Cost of requiring artisan and loading its module  -*- lexical-binding: t; -*-

;;; Commentary:

;; Each sample is a fresh `emacs -Q --batch', as at a real start-up.

;;; Code:

(require 'bench)

(defvar artisan-bench-module-runs 30
  "Fresh Emacs processes per measurement.")

(artisan-bench-define "require"
    "(require 'artisan) in a fresh emacs -Q --batch, against emacs -Q --batch alone"
  (let ((lisp (expand-file-name "lisp" artisan-bench-root))
        in-process with without)
    (dotimes (_ artisan-bench-module-runs)
      ;; Whole processes, interleaved so drift hits both alike.
      (push (artisan-bench-time-ms
             (lambda () (call-process (artisan-bench-emacs) nil nil nil
                                      "-Q" "--batch" "-L" lisp
                                      "--eval" "(require 'artisan)")))
            with)
      (push (artisan-bench-time-ms
             (lambda () (call-process (artisan-bench-emacs) nil nil nil
                                      "-Q" "--batch" "--eval" "nil")))
            without)
      (push (artisan-bench-child-number
             '(let ((start (current-time)))
                (require 'artisan)
                (princ (format "ARTISAN-BENCH=%f"
                               (* 1000 (float-time (time-subtract (current-time) start)))))))
            in-process))
    (artisan-bench-add-row :what "(require 'artisan), inside Emacs"
                           :corpus "-" :samples in-process :budget "< 5 ms")
    (artisan-bench-add-row :what "emacs -Q --batch + (require 'artisan), whole process"
                           :corpus "-" :samples with
                           :alt "emacs -Q --batch alone" :alt-samples without
                           :note "difference is the cost of requiring")))

(artisan-bench-define "module-load"
    "Loading the native module with artisan-module-ensure in a fresh Emacs"
  (let (samples)
    (dotimes (_ artisan-bench-module-runs)
      (let ((data (make-temp-file "artisan-bench-" t)))
        (unwind-protect
            (push (artisan-bench-child-number
                   `(progn
                      (setq artisan-data-directory ,data)
                      (require 'artisan-module)
                      (let ((start (current-time)))
                        (artisan-module-ensure)
                        (princ (format "ARTISAN-BENCH=%f"
                                       (* 1000 (float-time
                                                (time-subtract (current-time) start))))))))
                  samples)
          (delete-directory data t))))
    (artisan-bench-add-row :what "Load the native module (artisan-module-ensure)"
                           :corpus "-" :samples samples :budget "< 20 ms")))

(provide 'bench-module)
;;; bench-module.el ends here
