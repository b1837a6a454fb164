# SPDX-License-Identifier: GPL-2.0
# irqpath: the two commands, and the workflow pieces they are made of.
#
#   make          build the trace analyzer: build/analyzer/irqpath, plugin_irqpath.so
#   make lab      the main job: series -> lab kernel -> nested-SVM lab run
#   make check    every test, ending with "N passed, N failed, N skipped"
#   make bench    analyzer vs trace-cmd report on a >= 5M-event recording
#   make overhead IPI throughput: base kernel vs patched, events off and on
#   make install-plugin  the libtraceevent plugin into PLUGIN_DIR
#   make lab-report      irqpath report on the lab's recordings (build/lab/run/*.dat)
#
# Both install what they need with apt-get on a fresh Debian 12 machine.

SHELL := /bin/bash

.PHONY: all analyzer bench install-plugin lab-report lab check overhead base apply export drift check-patches kernel help

all: analyzer

include scripts/analyzer/analyzer.mk

analyzer: $(AN_OUT)/irqpath $(AN_OUT)/plugin_irqpath.so

bench: analyzer $(AN_OUT)/irqpath-gen
	@bash scripts/analyzer/bench.sh

install-plugin: $(AN_OUT)/plugin_irqpath.so
	install -d $(PLUGIN_DIR)
	install -m 644 $< $(PLUGIN_DIR)/

lab-report: analyzer
	$(AN_OUT)/irqpath report --no-progress --json build/lab/report.json \
		--perfetto build/lab/trace.perfetto.json --svg build/lab/latency.svg \
		build/lab/run/*.dat

lab:
	@bash scripts/lab.sh

check:
	@bash scripts/check.sh

# What the tracepoints and stats cost: base vs patched (events off/on).
overhead:
	@bash scripts/lab/overhead.sh

# Workflow pieces (README, "Developing the series").
base:
	@bash scripts/series/base.sh
apply:
	@bash scripts/series/apply.sh
export:
	@bash scripts/series/export.sh
drift:
	@bash scripts/series/check-drift.sh
check-patches:
	@bash scripts/series/check-patches.sh
kernel:
	@IRQPATH_FRAGMENTS="configs/lab.config configs/debug.config configs/lab-series.config" \
		bash scripts/kernel/build.sh build/linux bzImage

help:
	@sed -n 's/^#   //p' Makefile
