;;; artisan-pause-name.el --- Readable names for functions the monitor sees  -*- lexical-binding: t; -*-

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

;; `artisan-pause-describe-function' names what a timer, a process
;; filter or a profile's frame runs: a symbol by its name, an advised
;; function by what it advises, a lambda by the functions it calls
;; (from its constants when byte-compiled, its body when interpreted),
;; a natively compiled lambda by its library.  Where Emacs versions
;; differ, the code says which.

;;; Code:

(require 'cl-lib)
(require 'nadvice)

(declare-function subr-native-comp-unit "data.c")
(declare-function native-comp-unit-file "data.c")

(defun artisan-pause--references (constants)
  "Return up to three names of functions in CONSTANTS worth naming."
  (let (found)
    (cl-loop for c across constants
             when (and (symbolp c) c (fboundp c)
                       (not (subrp (indirect-function c)))
                       (not (special-form-p c)) (not (macrop c))
                       (not (memq c found)))
             do (push c found)
             until (>= (length found) 3))
    (nreverse found)))

(defun artisan-pause--body-calls (body)
  "Return up to three functions called in the interpreted BODY."
  (let (found)
    (cl-labels ((walk (form)
                  (when (and (consp form) (< (length found) 3))
                    (let ((head (car form)))
                      (when (and (symbolp head) head (fboundp head)
                                 (not (subrp (indirect-function head)))
                                 (not (special-form-p head)) (not (macrop head))
                                 (not (memq head found)))
                        (push head found)))
                    (when (proper-list-p form) (mapc #'walk form)))))
      (walk body))
    (nreverse found)))

(defun artisan-pause-describe-function (function)
  "Return a readable name for FUNCTION: its name, or what a lambda calls."
  (cond
   ((null function) "nil")
   ((symbolp function) (symbol-name function))
   ((advice--p function)
    (artisan-pause-describe-function (advice--cd*r function)))
   ((subrp function)
    (let ((name (subr-name function)))
      ;; A natively compiled lambda is a subr named after its address
      ;; (Emacs 28 and later): name the library it comes from instead.
      (if (and (string-match-p "_anonymous_lambda_[0-9]+\\'" name)
               (fboundp 'subr-native-comp-unit) (fboundp 'native-comp-unit-file))
          (let ((file (ignore-errors (native-comp-unit-file (subr-native-comp-unit function)))))
            (if file
                (format "lambda in %s" (replace-regexp-in-string
                                        "-[0-9a-f]+-[0-9a-f]+\\.eln\\'" ""
                                        (file-name-nondirectory file)))
              "native lambda"))
        name)))
   ((or (stringp function) (vectorp function)) "keyboard macro")
   ((byte-code-function-p function)
    (let ((refs (and (> (length function) 2) (vectorp (aref function 2))
                     (artisan-pause--references (aref function 2)))))
      (if refs (format "lambda calling %s" (mapconcat #'symbol-name refs ", "))
        "lambda")))
   ;; Emacs 30 and later: an interpreted closure is an object whose
   ;; body is its second slot (before, a list starting with `closure').
   ((and (fboundp 'interpreted-function-p) (funcall 'interpreted-function-p function))
    (let ((refs (artisan-pause--body-calls (aref function 1))))
      (if refs (format "lambda calling %s" (mapconcat #'symbol-name refs ", "))
        "lambda")))
   ((memq (car-safe function) '(closure lambda))
    (let ((refs (artisan-pause--body-calls
                 (cdr (if (eq (car function) 'closure) (cddr function) (cdr function))))))
      (if refs (format "lambda calling %s" (mapconcat #'symbol-name refs ", "))
        "lambda")))
   (t (let ((print-length 3) (print-level 2))
        (truncate-string-to-width (format "%S" function) 60 nil nil "…")))))

(provide 'artisan-pause-name)
;;; artisan-pause-name.el ends here
