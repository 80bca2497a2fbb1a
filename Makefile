# emacs-artisan: build, run, test, lint and benchmark.
#
#   make          build the native module and byte-compile the Lisp
#   make run      start Emacs with artisan on the bundled example notes
#                 (or NOTES=~/notes); EMACS=emacs runs in your terminal
#   make test     cargo test + the buttercup specs
#   make lint     clippy, rustfmt, byte-compile (warnings are errors),
#                 checkdoc, package-lint
#   make bench    benchmarks, printed as a table (see README.org)
#
# test, run, lint and bench install what they miss through apt-get when
# run as root on Debian/Ubuntu, and otherwise print the command to run.

EMACS ?= emacs
CARGO ?= cargo
NOTES ?=
# Regexp selecting spec files (test/*-test.el) or benchmarks to run.
TESTS ?=
BENCH ?=
export EMACS CARGO

LISP_FILES := $(filter-out %-autoloads.el,$(wildcard lisp/*.el))
BATCH := $(EMACS) --batch -L lisp

.PHONY: all module compile run test test-rust test-lisp lint bench clean \
	deps-run deps-test deps-lint deps-bench

all: module compile

module:
	$(CARGO) build --release

# Compile every file from scratch so no stale .elc is picked up.
compile:
	@rm -f lisp/*.elc
	$(BATCH) --eval '(setq byte-compile-error-on-warn $(if $(STRICT),t,nil))' \
	  -f batch-byte-compile $(LISP_FILES)

# Explicit targets: make skips pattern rules for .PHONY targets.
deps-run deps-test deps-lint deps-bench:
	@test/ensure-deps $(@:deps-%=%)

run: deps-run all
	ARTISAN_NOTES='$(NOTES)' $(EMACS) -Q -L lisp -l test/run-init.el

test: deps-test module compile test-rust test-lisp

test-rust:
	$(CARGO) test --release

test-lisp:
	ARTISAN_TESTS='$(TESTS)' $(BATCH) -L test -l test/run-tests.el

lint: deps-lint
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(MAKE) --no-print-directory compile STRICT=1
	$(BATCH) -L test -l test/lint.el $(LISP_FILES)

bench: deps-bench all
	ARTISAN_BENCH='$(BENCH)' $(BATCH) -L test -L test/bench -l test/bench/bench.el \
	  -f artisan-bench-run-all

clean:
	$(CARGO) clean
	rm -f lisp/*.elc
	rm -rf .run test/bench/out
