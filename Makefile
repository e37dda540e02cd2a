# actiond — build, test, demo. `make test` and `make demo` work on a machine that has only Swift:
# they install the Debian packages they need first (idempotent; sudo only when not root).

SWIFT      ?= swift
CONFIG     ?= release
PREFIX     ?= /usr/local
DESTDIR    ?=
BIN        := .build/$(CONFIG)/actiond
APT_PKGS   := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopenblas-dev pkg-config ffmpeg \
              libsqlite3-dev systemd
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Tests run optimised: kernels, flow and decoding are too slow unoptimised to test at real sizes.
TESTFLAGS  := -c $(CONFIG) -Xswiftc -enable-testing

.PHONY: deps build test demo bench-decode models people-model tracker-model clean install uninstall fuzz

deps:
	@missing=""; for p in $(APT_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "make deps: all packages present"; fi

build: deps
	$(SWIFT) build -c $(CONFIG)

test: deps
	$(SWIFT) build $(TESTFLAGS) --build-tests
	ACTIOND_BIN=$(CURDIR)/$(BIN) $(SWIFT) test $(TESTFLAGS) --skip-build

demo: build
	@rm -rf demo-out && mkdir -p demo-out
	$(BIN) synth --out demo-out --seed 7 --clips 2 --seconds 3 --size 320x240 --people 2 --switch
	$(BIN) probe demo-out/s7-c00000.mp4 --count
	$(BIN) frames demo-out/s7-c00000.mp4 --fps 2 --size 160x120 --out demo-out/frames
	$(BIN) flow demo-out/s7-c00000.mp4 --pair 10,11 --out demo-out/flow.npy --png demo-out/flow.png
	$(BIN) testclip demo-out/pattern.mp4 --size 320x240 --fps 25 --seconds 2
	$(BIN) probe demo-out/pattern.mp4 --count --json
	$(BIN) synth --out demo-out/actions --seed 11 --clips 3 --seconds 8 --size 320x240 --switch
	@echo "ground truth of demo-out/actions/s11-c00001:"; grep -o '"end":[0-9.]*,"label":"[a-z_]*","start":[0-9.]*' demo-out/actions/s11-c00001.json
	$(BIN) classify demo-out/actions/s11-c00001.mp4
	$(BIN) classify demo-out/actions/s11-c00001.mp4 --pipeline pipelines/two-stream.yaml
	$(BIN) classify demo-out/actions/s11-c00001.mp4 --pipeline pipelines/cnn-rnn.yaml
	@echo "--- the service in batch mode: the three clips (one person switching actions) as file sources"
	@{ echo "version: 1"; echo "journal: journal.sqlite"; echo "sources:"; \
	   for i in 0 1 2; do echo "  - { id: clip$$i, file: $(CURDIR)/demo-out/actions/s11-c0000$$i.mp4 }"; done; \
	   sed -n '/^models:/,$$p' pipelines/default.yaml | grep -v '^ *#'; echo "sinks:"; \
	   echo "  - jsonl: { path: $(CURDIR)/demo-out/events.jsonl }"; } > demo-out/run.yaml
	$(BIN) run --config demo-out/run.yaml --log-level warning
	@for i in 0 1 2; do echo "s11-c0000$$i ground truth: $$(grep -o '"end":[0-9.]*,"label":"[a-z_]*","start":[0-9.]*' \
	   demo-out/actions/s11-c0000$$i.json | sed 's/"end":\([0-9.]*\),"label":"\([a-z_]*\)","start":\([0-9.]*\)/\2 \3-\1/' | tr '\n' ' ')"; \
	   echo "           actiond:      $$(grep "s11-c0000$$i" demo-out/events.jsonl | grep -o '"label":"[a-z_]*"\|"start":[0-9.]*\|"end":[0-9.]*' \
	   | paste - - - | sed 's/"label":"\([a-z_]*\)"\t"start":\([0-9.]*\)\t"end":\([0-9.]*\)/\1 \2-\3/' | tr '\n' ' ')"; done
	@echo "events: demo-out/events.jsonl ($$(wc -l < demo-out/events.jsonl) lines, docs/output.md)"
	@echo "--- people: boxes and keypoints with the embedded person + pose model, two frames a second (docs/models.md)"
	$(BIN) synth --out demo-out/people --seed 21 --clips 1 --seconds 2 --size 320x240 --busy
	$(BIN) detect demo-out/people/s21-c00000.mp4 --fps 2 --threshold 0.4
	@echo "--- tracks: the same people followed with stable ids (Siamese tracker; the last second, docs/tracking.md)"
	$(BIN) synth --out demo-out/people --seed 8415 --clips 1 --seconds 4 --size 320x240 --busy
	$(BIN) track demo-out/people/s8415-c00000.mp4 | tail -16
	@echo "demo: rendered clips + ground truth, frames, a flow picture are in demo-out/ (demo models: docs/models.md)"

# Long fuzz campaigns (Tests/FuzzTests; `make test` runs them short): FUZZ_ITERATIONS inputs per campaign on seed
# FUZZ_SEED (default: the time). Crashers are saved under fuzz-out/crashes/ with their crash site (tools/fuzz).
FUZZ_ITERATIONS ?= 100000
fuzz: deps
	$(SWIFT) build $(TESTFLAGS) --build-tests
	ACTIOND_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) $(if $(FUZZ_SEED),ACTIOND_FUZZ_SEED=$(FUZZ_SEED)) tools/fuzz

bench-decode: build
	tools/bench-decode

# Renders clips, builds datasets with `actiond dataset`, trains and exports models/default/ (not run in CI;
# about 2 hours on 2 busy CPU cores, ~25 GB of datasets in /tmp/actiond-models). The schedule below is the one
# the committed models were trained with (docs/models.md): a first one-cycle run cut short with --stop-after
# (the run was restarted with fewer epochs to fit the time), then `--init` steps that continue from the
# previous checkpoint with a fresh one-cycle. The venv lives outside the repo; override TRAIN_VENV to reuse one.
TRAIN_VENV ?= $(HOME)/.cache/actiond-train-venv
TRAIN      := $(TRAIN_VENV)/bin/python tools/train/make_models.py --actiond $(BIN) --out models/default \
              --person-train-clips 600
models: build
	@[ -x $(TRAIN_VENV)/bin/python ] || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r tools/train/requirements.txt
	$(TRAIN) --models actions-r2plus1d --train-clips 1200 --epochs 20 --stop-after 2
	$(TRAIN) --models actions-r2plus1d --train-clips 1200 --epochs 10 --lr 2e-3 --init
	$(TRAIN) --models actions-r2plus1d --train-clips 1800 --epochs 6 --lr 7e-4 --init --half
	$(TRAIN) --models actions-cnn-gru --train-clips 1200 --epochs 16 --stop-after 2
	$(TRAIN) --models actions-cnn-gru --train-clips 1200 --epochs 9 --lr 2e-3 --init
	$(TRAIN) --models actions-cnn-gru --train-clips 1800 --epochs 7 --lr 1e-3 --init --half
	$(TRAIN) --models actions-two-stream --train-clips 1200 --every 1 --half --epochs 30 --stop-after 1 --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 1200 --every 1 --half --epochs 10 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 1200 --every 1 --half --epochs 12 --lr 1.5e-3 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 1800 --every 1 --half --epochs 6 --lr 1e-3 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 2400 --every 1 --half --epochs 6 --lr 7e-4 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 3600 --every 1 --half --epochs 6 --lr 5e-4 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 6000 --every 1 --half --epochs 5 --lr 4e-4 --init --flow-preset fast
	$(TRAIN) --models actions-two-stream --train-clips 3600 --every 1 --half --epochs 6 --lr 1e-3 --init --flow-preset medium

# The person + keypoint model (models/default/people-pose.*; docs/models.md): a first run on the rendered world's
# crowds (a performer and 5 people crossing), then one that continues from it on busy scenes (1-6 people at all
# distances, props). About 50 minutes on 2 cores (the script sets OMP_WAIT_POLICY=PASSIVE: spinning OpenMP
# threads were 5-10x slower on a shared 2-core machine).
PEOPLE := $(TRAIN_VENV)/bin/python tools/train/people.py --actiond $(BIN) --batch 16
people-model: build
	@[ -x $(TRAIN_VENV)/bin/python ] || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r tools/train/requirements.txt
	$(PEOPLE) --work /tmp/actiond-people-1 --out /tmp/actiond-people-1/out --train-clips 300 --val-clips 30 \
	    --epochs 10 --synth="--people 6"
	$(PEOPLE) --work /tmp/actiond-people-2 --out models/default --train-clips 400 --val-clips 30 --epochs 5 \
	    --lr 1e-3 --synth=--busy --init /tmp/actiond-people-1/people-best.pt

# The Siamese tracker backbone (models/default/tracker.*; docs/models.md, docs/tracking-eval.md): exemplar/search
# pairs of the same person from 400 busy clips (seed 8101), validation on 40 (8202); at most 42 minutes on 2 cores
# (the learning rate follows whichever of --steps and --minutes runs out first).
SIAMESE := $(TRAIN_VENV)/bin/python tools/train/siamese.py --actiond $(BIN)
tracker-model: build
	@[ -x $(TRAIN_VENV)/bin/python ] || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r tools/train/requirements.txt
	$(SIAMESE) --work /tmp/actiond-siamese --out models/default --train-clips 400 --val-clips 40 \
	    --steps 6000 --minutes 42 --eval-every 400

# `make install` (after `make build`, as your user): the binary, pipelines and models under $(PREFIX), the unit files
# with ExecStart rewritten to $(PREFIX)/bin/actiond, and in $(SYSCONFDIR)/actiond an example config (only if none
# is there) and actiond.env.example. DESTDIR stages everything into a package root. `make uninstall` removes what
# install put, except a config that was changed since; state (/var/lib/actiond) and logs are never touched.
# Walk-through: docs/service.md.
UNITDIR        ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR     ?= /etc
# The service's config: pipelines/service.yaml (sources + sinks) when present, else the default pipeline.
SERVICE_CONFIG ?= $(firstword $(wildcard pipelines/service.yaml) pipelines/default.yaml)
SHAREDIR       := $(PREFIX)/share/actiond
# Paths in the shipped files name /usr/local and ../models/ (relative to pipelines/); installed, they name PREFIX.
REWRITE        := sed -e 's|/usr/local/bin/actiond|$(PREFIX)/bin/actiond|g' \
                      -e 's|/usr/local/share/actiond|$(SHAREDIR)|g' -e 's|\.\./models/|$(SHAREDIR)/models/|g'

install:
	@[ -x $(BIN) ] || { echo "make install: $(BIN) is missing; run 'make build' first (as your user)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHAREDIR)/pipelines $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/actiond
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/actiond
	install -m 0644 pipelines/*.yaml $(DESTDIR)$(SHAREDIR)/pipelines/
	find models -type f | while read -r f; do install -D -m 0644 "$$f" "$(DESTDIR)$(SHAREDIR)/$$f" || exit 1; done
	for unit in actiond.service actiond@.service; do \
	    $(REWRITE) systemd/$$unit > $(DESTDIR)$(UNITDIR)/$$unit && chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit || exit 1; \
	done
	$(REWRITE) systemd/actiond.env.example > $(DESTDIR)$(SYSCONFDIR)/actiond/actiond.env.example
	@conf=$(DESTDIR)$(SYSCONFDIR)/actiond/pipeline.yaml; \
	if [ -e $$conf ]; then echo "make install: keeping the existing $$conf"; \
	else $(REWRITE) $(SERVICE_CONFIG) > $$conf && echo "make install: wrote $$conf from $(SERVICE_CONFIG)"; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/actiond $(DESTDIR)$(UNITDIR)/actiond.service $(DESTDIR)$(UNITDIR)/actiond@.service
	rm -rf $(DESTDIR)$(SHAREDIR)
	rm -f $(DESTDIR)$(SYSCONFDIR)/actiond/actiond.env.example
	@conf=$(DESTDIR)$(SYSCONFDIR)/actiond/pipeline.yaml; \
	if [ -e $$conf ] && $(REWRITE) $(SERVICE_CONFIG) | cmp -s - $$conf; then rm -f $$conf; \
	elif [ -e $$conf ]; then echo "make uninstall: keeping $$conf (changed since install)"; fi
	@rmdir $(DESTDIR)$(SYSCONFDIR)/actiond 2>/dev/null || true

clean:
	rm -rf .build demo-out fuzz-out
