;;; bench-graph.el --- Link graph: build, candidates, backlinks, export, org-roam  -*- lexical-binding: t; -*-

;;; Commentary:

;; On generated org-roam-style collections (test/bench/gen-corpus.py,
;; cached under test/bench/out/corpora/): the link graph's share of a
;; full index, loading it in a new session, listing nodes and node
;; candidates, backlinks of random nodes, one saved note, and exporting
;; the whole graph.  Where org-roam is installed, the same run measures
;; org-roam on the 1k collection: `org-roam-db-sync' on a fresh
;; database, `org-roam-node-read--completions' and `org-roam-backlinks-get'.
;;
;; Sizes: $ARTISAN_BENCH_GRAPH_SIZES (default "1000 10000"); add 100000
;; to measure the 100k collection (about 400 MB, generated once).

;;; Code:

(require 'bench)
(require 'artisan-graph)
(require 'package)

(declare-function artisan--graph-stats "artisan-dyn")
(declare-function artisan--graph-build "artisan-dyn")

(defvar artisan-bench-graph-runs 10
  "Samples for the quick measurements.")

(defun artisan-bench-graph--sizes ()
  "Return the collection sizes to measure."
  (let ((env (getenv "ARTISAN_BENCH_GRAPH_SIZES")))
    (if (and env (not (string-blank-p env)))
        (mapcar #'string-to-number (split-string env "[ ,]+" t))
      '(1000 10000))))

(defun artisan-bench-graph--label (n)
  "Return the corpus label of the N-note collection."
  (if (>= n 1000) (format "generated %dk" (/ n 1000)) (format "generated %d" n)))

(defun artisan-bench-graph--corpus (n)
  "Return the directory of the generated N-note collection, generating it once.
The collection is the one the knowledge benchmark uses too; its
files are read once so that timings start from a warm page cache."
  (let ((dir (artisan-bench-generated-corpus n)))
    (artisan-bench-warm dir)
    dir))

(defun artisan-bench-graph--use (corpus data)
  "Point artisan at CORPUS with its index in DATA, in a new session's state."
  (setq artisan-data-directory data
        artisan-knowledge-roots (list corpus)
        artisan-knowledge-exclude nil
        artisan-knowledge--index nil
        artisan-graph--candidates nil)
  (garbage-collect))

(defun artisan-bench-graph--samples (runs function)
  "Call FUNCTION RUNS times, collecting garbage before each; return the ms."
  (let (samples)
    (dotimes (_ runs)
      (garbage-collect)
      (push (artisan-bench-time-ms function) samples))
    (nreverse samples)))

(defun artisan-bench-graph--packages-form ()
  "Return a form activating this Emacs's packages in a child `emacs -Q'."
  `(progn
     (require 'package)
     (setq package-directory-list
           ',(seq-uniq (append package-directory-list
                               (seq-filter #'file-directory-p
                                           '("/usr/share/emacs/site-lisp/elpa")))))
     (setq package-user-dir ,package-user-dir)
     (package-initialize)))

(defun artisan-bench-graph--org-roam (corpus)
  "Measure org-roam on CORPUS in a child Emacs.
Return a plist (:sync MS :completions SAMPLES :backlinks SAMPLES
:nodes N), or nil when org-roam is not installed."
  (let* ((db-dir (make-temp-file "artisan-bench-roam-" t))
         (out (unwind-protect
                  (with-temp-buffer
                    (call-process
                     (artisan-bench-emacs) nil t nil "-Q" "--batch" "--eval"
                     (prin1-to-string
                      `(progn
                         ,(artisan-bench-graph--packages-form)
                         (if (not (locate-library "org-roam"))
                             (princ "ROAM-MISSING\n")
                           (require 'org-roam)
                           (setq org-roam-directory ,(directory-file-name corpus)
                                 org-roam-db-location ,(expand-file-name "roam.db" db-dir)
                                 org-roam-verbose nil)
                           (let ((start (current-time)))
                             (let ((inhibit-message t)) (org-roam-db-sync))
                             (princ (format "SYNC=%f\n" (* 1000 (float-time (time-subtract nil start))))))
                           (dotimes (_ 3)
                             (garbage-collect)
                             (let ((start (current-time)))
                               (org-roam-node-read--completions)
                               (princ (format "CANDIDATES=%f\n"
                                              (* 1000 (float-time (time-subtract nil start)))))))
                           (let ((nodes (vconcat (org-roam-node-list))))
                             (princ (format "NODES=%d\n" (length nodes)))
                             (random "artisan")
                             (dotimes (_ 300)
                               (let ((node (aref nodes (random (length nodes))))
                                     (start (current-time)))
                                 (org-roam-backlinks-get node)
                                 (princ (format "BACKLINKS=%f\n"
                                                (* 1000 (float-time (time-subtract nil start))))))))))))
                    (buffer-string))
                (delete-directory db-dir t)))
         (numbers (lambda (key)
                    (let ((start 0) values)
                      (while (string-match (format "^%s=\\([0-9.]+\\)$" key) out start)
                        (push (string-to-number (match-string 1 out)) values)
                        (setq start (match-end 0)))
                      (nreverse values)))))
    (cond ((string-match-p "ROAM-MISSING" out) nil)
          ((not (string-match-p "^SYNC=" out))
           (message "  org-roam failed: %s" (substring out 0 (min 2000 (length out))))
           nil)
          (t (list :sync (car (funcall numbers "SYNC"))
                   :completions (funcall numbers "CANDIDATES")
                   :backlinks (funcall numbers "BACKLINKS")
                   :nodes (car (funcall numbers "NODES")))))))

(defun artisan-bench-graph--json-route (nodes)
  "Return NODES (plists) as the JSON string a JSON route would hand over."
  (json-serialize
   (vconcat (mapcar (lambda (n)
                      (let (out)
                        (while n
                          (push (car n) out)
                          (push (let ((v (cadr n)))
                                  (if (and (listp v) (memq (car n) '(:aliases :tags :outline)))
                                      (vconcat v)
                                    v))
                                out)
                          (setq n (cddr n)))
                        (nreverse out)))
                    nodes))
   :null-object nil))

(defun artisan-bench-graph--size (n roam)
  "Measure the graph on the N-note collection; ROAM is org-roam's numbers (1k)."
  (let* ((corpus (artisan-bench-graph--corpus n))
         (label (artisan-bench-graph--label n))
         (data (expand-file-name (format "graph-data-%d/" n) artisan-bench-out))
         (big (>= n 100000))
         (runs (if big 1 artisan-bench-graph-runs)))
    ;; Full index from scratch: the graph is built in the same job.
    (let (full graph)
      (dotimes (_ (if big 1 3))
        (when (file-exists-p data) (delete-directory data t))
        (artisan-bench-graph--use corpus data)
        (let ((stats (artisan-index-update t)))
          (push (* 1000 (plist-get stats :seconds)) full)
          (push (* 1000 (plist-get stats :graph-seconds)) graph)))
      (artisan-bench-add-row :what "Full index, link graph included" :corpus label
                             :samples full
                             :alt (and roam "org-roam-db-sync, fresh db")
                             :alt-samples (and roam (list (plist-get roam :sync)))
                             :budget (and (= n 10000) "< 2 s"))
      (artisan-bench-add-row :what "… of which building the link graph" :corpus label
                             :samples graph :alt "the whole full index" :alt-samples full
                             :note "ratio = the graph's share"))
    ;; A new session: the graph is loaded from the notes stored in the index.
    (let (loads)
      (dotimes (_ (if big 1 3))
        (artisan-bench-graph--use corpus data)
        (let ((index (artisan-knowledge-index)))
          (push (artisan-bench-time-ms
                 (lambda () (artisan-job-wait (artisan--graph-build index))))
                loads)))
      (artisan-bench-add-row :what "Load the link graph in a new session" :corpus label
                             :samples loads))
    (let* ((index (artisan-graph-index))
           (stats (artisan--graph-stats index))
           (corpus-label (format "%s (%d nodes)" label (plist-get stats :nodes)))
           (nodes nil))
      ;; Nodes into Lisp, and candidates for the node picker.
      (let ((samples (artisan-bench-graph--samples runs (lambda () (setq nodes (artisan-nodes)))))
            (json (artisan-bench-graph--json-route nodes)))
        (artisan-bench-add-row
         :what "(artisan-nodes): every node as a plist" :corpus corpus-label :samples samples
         :alt "json-parse-string of the same (JSON route)"
         :alt-samples (artisan-bench-graph--samples
                       (max 3 (/ runs 2))
                       (lambda ()
                         (artisan-graph--with-big-gc
                           (json-parse-string json :object-type 'plist :array-type 'list
                                              :null-object nil :false-object nil))))
         :budget "< 100 ms"))
      (artisan-bench-add-row
       :what "Node candidates for artisan-find-node (uncached)" :corpus corpus-label
       :samples (artisan-bench-graph--samples
                 runs (lambda ()
                        (setq artisan-graph--candidates nil)
                        (artisan-graph--candidates index)))
       :alt (and roam "org-roam-node-read--completions")
       :alt-samples (and roam (plist-get roam :completions))
       :budget "< 100 ms")
      ;; Backlinks of random nodes, timed one by one from Lisp.
      (let* ((keys (vconcat (mapcar (lambda (n) (plist-get n :key)) nodes)))
             (samples nil))
        (setq nodes nil)
        (random "artisan")
        (garbage-collect)
        (dotimes (_ (if big 1000 500))
          (let ((key (aref keys (random (length keys)))))
            (push (artisan-bench-time-ms (lambda () (artisan-backlinks key))) samples)))
        (artisan-bench-add-row :what "(artisan-backlinks NODE), random nodes" :corpus corpus-label
                               :samples samples
                               :alt (and roam "org-roam-backlinks-get")
                               :alt-samples (and roam (plist-get roam :backlinks))
                               :budget "< 1 ms"))
      ;; One saved note: reindexed, its edges replaced.
      (let* ((manifest (json-parse-string
                        (with-temp-buffer
                          (insert-file-contents (expand-file-name "manifest.json" corpus))
                          (buffer-string))
                        :object-type 'plist :array-type 'list))
             (notes (plist-get manifest :notes))
             (first (car notes))
             (other (nth (/ (length notes) 2) notes))
             (file (expand-file-name (plist-get first :path) corpus))
             (original (with-temp-buffer (insert-file-contents file) (buffer-string)))
             (whole nil) (graph nil))
        (unwind-protect
            (dotimes (i (if big 5 artisan-bench-graph-runs))
              (with-temp-file file
                (insert original
                        (format "\nEdit %d links [[id:%s][%s]].\n" i
                                (plist-get other :id) (plist-get other :title))))
              (set-file-times file (time-add nil (1+ i)))
              (let (stats)
                (push (artisan-bench-time-ms
                       (lambda () (setq stats (artisan-knowledge-reindex-file file t))))
                      whole)
                (push (* 1000 (plist-get stats :graph-seconds)) graph)))
          (with-temp-file file (insert original))
          (artisan-knowledge-reindex-file file t))
        (artisan-bench-add-row :what "Re-index one saved note, link graph included"
                               :corpus corpus-label :samples whole :budget "< 20 ms")
        (artisan-bench-add-row :what "… of which updating the link graph"
                               :corpus corpus-label :samples graph
                               :alt "the whole re-index" :alt-samples whole))
      ;; Export.
      (let ((file (make-temp-file "artisan-bench-graph-")))
        (unwind-protect
            (progn
              (artisan-bench-add-row
               :what "Export the whole graph as DOT" :corpus corpus-label
               :samples (artisan-bench-graph--samples
                         (if big 1 3) (lambda () (artisan-graph-export 'dot file))))
              (artisan-bench-add-row
               :what "Export the whole graph as JSON, with contexts" :corpus corpus-label
               :samples (artisan-bench-graph--samples
                         (if big 1 3) (lambda () (artisan-graph-export 'json file)))
               :note (format "%.0f MB" (/ (file-attribute-size (file-attributes file)) 1e6))))
          (delete-file file))))))

(artisan-bench-define "graph"
    "Link graph: share of a full index, loading, nodes, candidates, backlinks, updates, export; org-roam on 1k"
  (let ((roam (progn
                (message "  org-roam on the 1k collection (db sync, completions, backlinks)...")
                (artisan-bench-graph--org-roam (artisan-bench-graph--corpus 1000)))))
    (unless roam
      (message "  org-roam is not installed: no org-roam comparison (apt-get install elpa-org-roam)"))
    (dolist (n (artisan-bench-graph--sizes))
      (message "  %d notes..." n)
      (artisan-bench-graph--size n (and (= n 1000) roam)))))

(provide 'bench-graph)
;;; bench-graph.el ends here
