;;; artisan-module.el --- Find, build, load and check the native module  -*- lexical-binding: t; -*-

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

;; The native module `artisan-dyn' is loaded the first time a command
;; needs it, by `artisan-module-ensure'.  It is looked for, in order:
;;
;;  1. already loaded in this Emacs;
;;  2. in `artisan-module-directory' (by default a folder named after
;;     the package version under `artisan-data-directory', so an upgrade
;;     never overwrites a module a running Emacs has loaded);
;;  3. in the build output of the package's own source tree
;;     (target/release/, for development checkouts).
;;
;; When it is not found, an interactive Emacs offers to build it with
;; \\[artisan-module-build], which runs cargo visibly in a compilation
;; buffer; batch Emacs signals `artisan-module-error' with the exact
;; command to run (or builds synchronously when
;; `artisan-module-auto-build' is t).  Nothing is built while files are
;; byte-compiled or required.

;;; Code:

(require 'artisan)

(declare-function artisan--version "artisan-dyn")
(declare-function artisan--build-info "artisan-dyn")

(defcustom artisan-module-directory nil
  "Directory holding the installed native module, or nil for the default.
The default is a folder named after `artisan-version' under the
\"module\" folder of `artisan-data-directory', so that installing a
new version never overwrites a module that a running Emacs has
loaded."
  :type '(choice (const :tag "Versioned folder under the data directory" nil)
                 directory)
  :group 'artisan)

(defcustom artisan-module-auto-build 'ask
  "What to do when a command needs the native module and it is not built.
`ask' (the default) asks before building in an interactive
session and signals `artisan-module-error' with the command to
run in batch mode.  t builds without asking (synchronously in
batch mode).  nil never builds: it signals the error."
  :type '(choice (const :tag "Ask (interactive), signal (batch)" ask)
                 (const :tag "Build without asking" t)
                 (const :tag "Never build" nil))
  :group 'artisan)

(defcustom artisan-module-cargo "cargo"
  "The cargo program used to build the native module."
  :type 'string
  :group 'artisan)

(defconst artisan-module--lisp-directory
  (file-name-directory (or load-file-name buffer-file-name default-directory))
  "Directory this file was loaded from.")

(defconst artisan-module--build-buffer "*artisan-module-build*"
  "Name of the buffer showing the module build.")

(defvar artisan-module--file nil
  "File the native module was loaded from, or nil if not loaded.")

(defvar artisan-module--version-warned nil
  "Non-nil once the version mismatch warning has been shown.")

(defun artisan-module--check-support ()
  "Signal `artisan-module-error' if this Emacs cannot load modules."
  (unless (and (boundp 'module-file-suffix) module-file-suffix
               (fboundp 'module-load))
    (signal 'artisan-module-error
            (list "This Emacs was built without dynamic module support \
(configure --with-modules); artisan needs it"))))

(defun artisan-module-file-name ()
  "Return the file name of the installed module, without directory."
  (concat "artisan-dyn" (or module-file-suffix ".so")))

(defun artisan-module-install-directory ()
  "Return the directory where the built module is installed.
This is `artisan-module-directory' when set, otherwise a folder
named after `artisan-version' under `artisan-data-directory'."
  (file-name-as-directory
   (expand-file-name
    (or artisan-module-directory
        (artisan-data-file "module" artisan-version)))))

(defun artisan-module--first (predicate list)
  "Return the first element for which PREDICATE holds in LIST.
The loader avoids seq.el, whose loading would cost more than
loading the module itself."
  (catch 'found
    (dolist (x list) (when (funcall predicate x) (throw 'found x)))
    nil))

(defun artisan-module-source-directory ()
  "Return the directory holding the module's Cargo.toml, or nil.
In a checkout it is the parent of the lisp/ folder; in a package
installed from the recipe it is the package folder itself."
  (artisan-module--first
   (lambda (dir) (file-exists-p (expand-file-name "Cargo.toml" dir)))
   (list artisan-module--lisp-directory
         (file-name-as-directory
          (expand-file-name ".." artisan-module--lisp-directory)))))

(defun artisan-module--build-outputs (source)
  "Return the files cargo may produce for the module in SOURCE's tree."
  (let ((dir (expand-file-name "target/release/" source)))
    (mapcar (lambda (name) (expand-file-name name dir))
            '("libartisan_dyn.so" "libartisan_dyn.dylib" "artisan_dyn.dll"))))

(defun artisan-module-locate ()
  "Return the module file `artisan-module-ensure' would load, or nil.
See the Commentary of artisan-module.el for the search order."
  (let ((installed (expand-file-name (artisan-module-file-name)
                                     (artisan-module-install-directory)))
        (source (artisan-module-source-directory)))
    (artisan-module--first
     #'file-exists-p
     (cons installed (and source (artisan-module--build-outputs source))))))

(defun artisan-module--check-version ()
  "Warn once if the loaded module's version differs from `artisan-version'.
Return non-nil when the versions match."
  (let ((native (artisan--version)))
    (or (equal native artisan-version)
        (progn
          (unless artisan-module--version-warned
            (setq artisan-module--version-warned t)
            (display-warning
             'artisan
             (format "The loaded artisan module is version %s, but the Lisp \
package is version %s.  Emacs cannot unload a module: restart Emacs so that \
the module matching the package is loaded (build it with \
`M-x artisan-module-build' if needed).  Loaded from %s."
                     native artisan-version artisan-module--file)
             :warning))
          nil))))

(defun artisan-module--load (file)
  "Load the module FILE and check its version."
  (condition-case err
      (module-load file)
    (error
     (signal 'artisan-module-error
             (list (format "Could not load the artisan module %s: %s.  \
Rebuild it with M-x artisan-module-build"
                           file (error-message-string err))))))
  (setq artisan-module--file file)
  (artisan-module--check-version)
  file)

(defun artisan-module-build-command ()
  "Return the shell command that builds the module, as a string."
  (let ((source (artisan-module-source-directory)))
    (format "cd %s && %s build --release"
            (shell-quote-argument
             (directory-file-name (expand-file-name (or source "."))))
            artisan-module-cargo)))

(defun artisan-module--cargo ()
  "Return the cargo executable, or signal how to get it."
  (or (executable-find artisan-module-cargo)
      (signal 'artisan-module-error
              (list (format "Cannot build the artisan module: `%s' was not \
found.  Install Rust with rustup (https://rustup.rs) or your system's cargo \
package (for example: sudo apt install cargo), then run M-x \
artisan-module-build" artisan-module-cargo)))))

(defun artisan-module--install (output)
  "Copy the build OUTPUT into the install directory and return its name.
The copy is written under a temporary name and renamed, so a
module a running Emacs has mapped is replaced, never overwritten."
  (let* ((dir (artisan-module-install-directory))
         (dest (expand-file-name (artisan-module-file-name) dir))
         (tmp (make-temp-name (concat dest ".tmp"))))
    (make-directory dir t)
    (copy-file output tmp t)
    (rename-file tmp dest t)
    dest))

(defun artisan-module--built-output ()
  "Return the freshest build output of the source tree, or signal."
  (let* ((source (artisan-module-source-directory))
         (found (and source (delq nil (mapcar (lambda (f) (and (file-exists-p f) f))
                                              (artisan-module--build-outputs source))))))
    (or (car (sort found #'file-newer-than-file-p))
        (signal 'artisan-module-error
                (list "The build finished but produced no module file")))))

(defun artisan-module--build-synchronously ()
  "Build, install and load the module, blocking until done."
  (let* ((source (or (artisan-module-source-directory)
                     (signal 'artisan-module-error
                             (list "The module's source (Cargo.toml) is not \
next to the Lisp files; reinstall the package from its recipe"))))
         (cargo (artisan-module--cargo))
         (default-directory source)
         (buffer (get-buffer-create artisan-module--build-buffer)))
    (message "artisan: building the native module: %s"
             (artisan-module-build-command))
    (with-current-buffer buffer (erase-buffer))
    (unless (eq 0 (call-process cargo nil buffer nil "build" "--release"))
      (signal 'artisan-module-error
              (list (format "Building the module failed (%s); output:\n%s"
                            (artisan-module-build-command)
                            (with-current-buffer buffer
                              (buffer-substring-no-properties
                               (max (point-min) (- (point-max) 3000))
                               (point-max)))))))
    (artisan-module--load
     (artisan-module--install (artisan-module--built-output)))))

(defun artisan-module--build-finished (buffer status)
  "Install and load the module after the build in BUFFER ended with STATUS."
  (with-current-buffer buffer
    (remove-hook 'compilation-finish-functions
                 #'artisan-module--build-finished t))
  (if (not (string-prefix-p "finished" status))
      (message "artisan: building the module failed: %s(see %s)"
               status artisan-module--build-buffer)
    (condition-case err
        (if (featurep 'artisan-dyn)
            (message "artisan: module built and installed in %s; restart \
Emacs to use it (a loaded module cannot be replaced)"
                     (artisan-module--install (artisan-module--built-output)))
          (let ((file (artisan-module--load
                       (artisan-module--install (artisan-module--built-output)))))
            (message "artisan: module built and loaded from %s" file)))
      (error (message "artisan: %s" (error-message-string err))))))

;;;###autoload
(defun artisan-module-build ()
  "Build the artisan native module with cargo, install and load it.
The build runs `cargo build --release' in the package's source
tree, visibly, in a compilation buffer; Emacs stays usable.  When
it succeeds the module is copied into
`artisan-module-install-directory' and loaded."
  (interactive)
  (require 'compile)
  (artisan-module--check-support)
  (let* ((source (or (artisan-module-source-directory)
                     (user-error "The module's source (Cargo.toml) is not \
next to the Lisp files; reinstall the package from its recipe")))
         (cargo (condition-case err (artisan-module--cargo)
                  (artisan-module-error (user-error "%s" (cadr err)))))
         (default-directory (file-name-as-directory source))
         (buffer (compilation-start
                  (mapconcat #'shell-quote-argument
                             (list cargo "build" "--release") " ")
                  nil (lambda (_) artisan-module--build-buffer))))
    (with-current-buffer buffer
      (add-hook 'compilation-finish-functions
                #'artisan-module--build-finished nil t))
    buffer))

(defun artisan-module--missing ()
  "Handle a missing module: build it or signal, per `artisan-module-auto-build'."
  (let ((how (format "The artisan native module is not built.  Build it with \
M-x artisan-module-build, or in a shell: %s" (artisan-module-build-command))))
    (cond
     ((bound-and-true-p byte-compile-current-file)
      (signal 'artisan-module-error (list how)))
     ((and noninteractive (eq artisan-module-auto-build t))
      (artisan-module--build-synchronously))
     ((or noninteractive (null artisan-module-auto-build))
      (signal 'artisan-module-error (list how)))
     ((or (eq artisan-module-auto-build t)
          (y-or-n-p "The artisan native module is not built.  \
Build it now with cargo (a few minutes)? "))
      (artisan-module-build)
      (user-error "Building the artisan module in %s; run the command \
again when it has finished" artisan-module--build-buffer))
     (t (user-error "%s" how)))))

;;;###autoload
(defun artisan-module-ensure ()
  "Load the artisan native module, building it first when needed.
Return the file it was loaded from.  Commands call this before
using native functions; see the Commentary of artisan-module.el
for where the module is looked for."
  (if (featurep 'artisan-dyn)
      artisan-module--file
    (artisan-module--check-support)
    (let ((file (artisan-module-locate)))
      (if file
          (artisan-module--load file)
        (artisan-module--missing)))))

;;;###autoload
(defun artisan-module-info ()
  "Show where the artisan native module comes from and how it was built."
  (interactive)
  (let ((loaded (featurep 'artisan-dyn))
        (candidate (ignore-errors (artisan-module-locate))))
    (with-help-window "*artisan module*"
      (princ (format "Lisp package version:  %s\n" artisan-version))
      (princ (format "Emacs:                 %s (module suffix %s)\n"
                     emacs-version (or module-file-suffix "none: no module support")))
      (if (not loaded)
          (princ (format "Module:                not loaded; would load %s\n"
                         (or candidate "nothing: not built (M-x artisan-module-build)")))
        (let ((info (artisan--build-info)))
          (princ (format "Module:                loaded from %s\n" artisan-module--file))
          (princ (format "Module version:        %s%s\n" (plist-get info :version)
                         (if (equal (plist-get info :version) artisan-version) ""
                           "  (MISMATCH: restart Emacs)")))
          (princ (format "Emacs module API:      %s needed (Emacs %s or later); \
this Emacs provides %s\n"
                         (plist-get info :module-api) (plist-get info :module-api)
                         (or (plist-get info :emacs-api) "an unknown one")))
          (princ (format "Build profile:         %s, %s\n"
                         (plist-get info :profile) (plist-get info :target)))))
      (princ (format "Install directory:     %s\n" (artisan-module-install-directory)))
      (princ (format "Source tree:           %s\n"
                     (or (artisan-module-source-directory) "not available")))
      (princ (format "Build command:         %s\n" (artisan-module-build-command))))))

(provide 'artisan-module)
;;; artisan-module.el ends here
