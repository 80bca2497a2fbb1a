;;; module-test.el --- Specs for loading the native module  -*- lexical-binding: t; -*-

;;; Commentary:

;; The package skeleton: cheap `require', lazy loading, the search
;; order, the version handshake, and the error boundary.  Loader specs
;; that need a pristine Emacs run in a child Emacs.

;;; Code:

(require 'artisan-test-helpers)
(require 'artisan)

(defun artisan-test--module-output ()
  "Return the module file the source tree's build produced."
  (expand-file-name "target/release/libartisan_dyn.so" artisan-test-root))

(defun artisan-test--fake-source-tree (tree &optional script)
  "Make TREE a never-built source tree with a fake cargo.
The fake cargo runs SCRIPT, by default: announce its arguments and
\"build\" by copying the real module into TREE's target/release/."
  (copy-directory artisan-test-lisp-dir (expand-file-name "lisp/" tree) nil t t)
  (copy-file (expand-file-name "Cargo.toml" artisan-test-root) tree)
  (let ((cargo (expand-file-name "fake-cargo" tree)))
    (artisan-test-write-file
     cargo
     (concat "#!/bin/sh\n"
             (or script
                 (format "echo \"fake cargo: $*\"\nmkdir -p target/release\ncp %s target/release/\n"
                         (shell-quote-argument (artisan-test--module-output))))))
    (set-file-modes cargo #o755)))

(describe "Requiring artisan"
  (it "defines its commands and loads no native code"
    (let ((result (artisan-test-child
                   '(progn
                      (require 'artisan)
                      (princ (format "dyn=%S module-el=%S ensure=%S build=%S"
                                     (featurep 'artisan-dyn)
                                     (featurep 'artisan-module)
                                     (fboundp 'artisan-module-ensure)
                                     (commandp 'artisan-module-build)))))))
      (expect (car result) :to-equal 0)
      (expect (cdr result) :to-match "dyn=nil module-el=nil ensure=t build=t"))))

(describe "artisan-module-ensure"
  (it "loads the module from the source tree's build output"
    (artisan-test-with-temp-dir data
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,data)
                        (require 'artisan-module)
                        (let ((file (artisan-module-ensure)))
                          (princ (format "file=%s dyn=%S native=%s lisp=%s"
                                         file (featurep 'artisan-dyn)
                                         (artisan--version) artisan-version)))))))
        (expect (car result) :to-equal 0)
        (expect (cdr result) :to-match
                (regexp-quote (format "file=%s dyn=t" (artisan-test--module-output))))
        (expect (cdr result) :to-match "native=\\([0-9.]+\\) lisp=\\1"))))

  (it "prefers the installed module in the versioned folder"
    (artisan-test-with-temp-dir data
      (let* ((dir (expand-file-name "module/0.1.0/" data))
             (installed (expand-file-name "artisan-dyn.so" dir)))
        (make-directory dir t)
        (copy-file (artisan-test--module-output) installed)
        (let ((result (artisan-test-child
                       `(progn
                          (setq artisan-data-directory ,data)
                          (require 'artisan-module)
                          (princ (format "install-dir=%s file=%s"
                                         (artisan-module-install-directory)
                                         (artisan-module-ensure)))))))
          (expect (car result) :to-equal 0)
          (expect (cdr result) :to-match
                  (regexp-quote (format "install-dir=%s file=%s" dir installed)))))))

  (it "warns once, explaining the restart, when the versions differ"
    (artisan-test-with-temp-dir data
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,data)
                        (require 'artisan-module)
                        (setq artisan-version "0.0.0-fake")
                        (artisan-module-ensure)
                        ;; A second check must not warn again.
                        (artisan-module--check-version)
                        (with-current-buffer "*Warnings*"
                          (princ (format "WARNINGS[%s]" (buffer-string))))))))
        (expect (car result) :to-equal 0)
        (expect (cdr result) :to-match "loaded artisan module is version [0-9.]+, but the Lisp package is version 0\\.0\\.0-fake")
        (expect (cdr result) :to-match "restart Emacs")
        (let ((warnings (and (string-match "WARNINGS\\[\\(\\(?:.\\|\n\\)*\\)\\]" (cdr result))
                             (match-string 1 (cdr result)))))
          (expect (artisan-test-count-matches "but the Lisp package" warnings) :to-equal 1)))))

  (it "signals artisan-module-error with the exact build command in batch"
    (artisan-test-with-temp-dir tree
      ;; A source tree that was never built: Lisp files and Cargo.toml only.
      (copy-directory artisan-test-lisp-dir (expand-file-name "lisp/" tree) nil t t)
      (copy-file (expand-file-name "Cargo.toml" artisan-test-root) tree)
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,(expand-file-name "data/" tree))
                        (require 'artisan-module)
                        (condition-case err
                            (artisan-module-ensure)
                          (artisan-module-error
                           (princ (format "conditions=%S message=%s"
                                          (get (car err) 'error-conditions)
                                          (cadr err)))))
                        (princ (format " dyn=%S" (featurep 'artisan-dyn))))
                     "-L" (expand-file-name "lisp/" tree))))
        (expect (car result) :to-equal 0)
        (expect (cdr result) :to-match "conditions=(artisan-module-error artisan-error error)")
        (expect (cdr result) :to-match
                (regexp-quote (format "cd %s && cargo build --release"
                                      (directory-file-name tree))))
        (expect (cdr result) :to-match "M-x artisan-module-build")
        (expect (cdr result) :to-match "dyn=nil"))))

  (it "builds with cargo in a compilation buffer, installs into the versioned folder and loads"
    (artisan-test-with-temp-dir tree
      (artisan-test--fake-source-tree tree)
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,(expand-file-name "data/" tree)
                              artisan-module-cargo ,(expand-file-name "fake-cargo" tree))
                        (require 'artisan-module)
                        (let ((buffer (artisan-module-build)))
                          (while (get-buffer-process buffer)
                            (accept-process-output nil 0.05))
                          ;; Let the finish hook run.
                          (accept-process-output nil 0.2)
                          (princ (format "buffer=%s\ncontent=%s\nloaded=%S file=%s version=%s"
                                         (buffer-name buffer)
                                         (with-current-buffer buffer (buffer-string))
                                         (featurep 'artisan-dyn) artisan-module--file
                                         (and (fboundp 'artisan--version) (artisan--version))))))
                     "-L" (expand-file-name "lisp/" tree))))
        (expect (car result) :to-equal 0)
        (expect (cdr result) :to-match "buffer=\\*artisan-module-build\\*")
        (expect (cdr result) :to-match "fake cargo: build --release")
        (expect (cdr result) :to-match "finished")
        (expect (cdr result) :to-match "loaded=t")
        (expect (cdr result) :to-match
                (regexp-quote (format "file=%sdata/module/%s/artisan-dyn.so" tree artisan-version)))
        (expect (file-exists-p (format "%sdata/module/%s/artisan-dyn.so" tree artisan-version))
                :to-be-truthy))))

  (it "builds synchronously in batch when artisan-module-auto-build is t"
    (artisan-test-with-temp-dir tree
      (artisan-test--fake-source-tree tree)
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,(expand-file-name "data/" tree)
                              artisan-module-cargo ,(expand-file-name "fake-cargo" tree)
                              artisan-module-auto-build t)
                        (require 'artisan-module)
                        (princ (format "file=%s loaded=%S" (artisan-module-ensure)
                                       (featurep 'artisan-dyn))))
                     "-L" (expand-file-name "lisp/" tree))))
        (expect (car result) :to-equal 0)
        (expect (cdr result) :to-match (regexp-quote (format "file=%sdata/module/" tree)))
        (expect (cdr result) :to-match "loaded=t"))))

  (it "reports a failed build with cargo's output"
    (artisan-test-with-temp-dir tree
      (artisan-test--fake-source-tree tree "echo 'error[E0425]: cannot find value' >&2; exit 101")
      (let ((result (artisan-test-child
                     `(progn
                        (setq artisan-data-directory ,(expand-file-name "data/" tree)
                              artisan-module-cargo ,(expand-file-name "fake-cargo" tree)
                              artisan-module-auto-build t)
                        (require 'artisan-module)
                        (condition-case err (artisan-module-ensure)
                          (artisan-module-error (princ (cadr err)))))
                     "-L" (expand-file-name "lisp/" tree))))
        (expect (cdr result) :to-match "Building the module failed")
        (expect (cdr result) :to-match "cannot find value"))))

  (it "says how to get cargo when it is missing"
    (require 'artisan-module)
    (let ((artisan-module-cargo "no-such-cargo-artisan"))
      (expect (artisan-module--cargo) :to-throw 'artisan-module-error)
      (expect (condition-case err (artisan-module--cargo)
                (artisan-module-error (cadr err)))
              :to-match "rustup")))

  (it "refuses clearly when Emacs has no module support"
    (require 'artisan-module)
    (let ((module-file-suffix nil))
      (expect (condition-case err (artisan-module--check-support)
                (artisan-module-error (cadr err)))
              :to-match "without dynamic module support"))))

(describe "The native error boundary"
  (before-all (artisan-test-ensure-module))

  (it "turns a Rust error into an artisan-error child with its message"
    (let ((err (condition-case e (artisan--test-error "the index is on fire")
                 (artisan-error e))))
      (expect (car err) :to-be 'artisan-native-error)
      (expect (cadr err) :to-equal "the index is on fire")
      (expect (memq 'artisan-error (get (car err) 'error-conditions)) :to-be-truthy)))

  (it "reports a wrong argument type as wrong-type-argument"
    (expect (artisan--test-string-bytes 42) :to-throw 'wrong-type-argument)
    (expect (artisan--test-string-bytes "héllo") :to-equal 6))

  (it "passes Lisp signals and throws through unchanged"
    (let ((err (condition-case e
                   (artisan--test-funcall (lambda () (signal 'file-missing '("gone" "x"))))
                 (error e))))
      (expect err :to-equal '(file-missing "gone" "x")))
    (expect (catch 'artisan-tag
              (artisan--test-funcall (lambda () (throw 'artisan-tag 42))))
            :to-equal 42))

  (it "turns a panic into an artisan-error signal and Emacs keeps running"
    (let ((result (artisan-test-child
                   '(progn
                      (require 'artisan-module)
                      (artisan-module-ensure)
                      (dotimes (i 3)
                        (condition-case err (artisan--test-panic (format "kaboom %d" i))
                          (artisan-error
                           (princ (format "[%s: %s]\n" (car err) (cadr err))))))
                      (princ (format "still-running=%d" (+ 1 2)))))))
      (expect (car result) :to-equal 0)
      (expect (cdr result) :to-match "\\[artisan-native-error: Internal error in the artisan module (please report it): kaboom 2")
      (expect (cdr result) :to-match "still-running=3")
      ;; The panic message is not dumped on Emacs' terminal.
      (expect (cdr result) :not :to-match "panicked at"))))

(describe "artisan-module-info"
  (before-all (artisan-test-ensure-module))

  (it "shows the path, versions, module API and build profile"
    (save-window-excursion (artisan-module-info))
    (with-current-buffer "*artisan module*"
      (expect (buffer-string) :to-match
              (regexp-quote (format "loaded from %s" artisan-module--file)))
      (expect (buffer-string) :to-match (format "Module version: +%s\n"
                                                (regexp-quote artisan-version)))
      (expect (buffer-string) :to-match
              "Emacs module API: +28 needed (Emacs 28 or later); this Emacs provides 28\n")
      (expect (buffer-string) :not :to-match "bytes")
      (expect (buffer-string) :to-match "Build profile: +\\(release\\|debug\\), "))))

(describe "artisan-data-file"
  (it "joins components under the data directory"
    (let ((artisan-data-directory "/tmp/artisan-data"))
      (expect (artisan-data-file "module" "0.1.0")
              :to-equal "/tmp/artisan-data/module/0.1.0"))))

;;; module-test.el ends here
