# SPDX-License-Identifier: GPL-2.0
# The trace analyzer (scripts/analyzer/), included by the top-level Makefile.
# Everything it builds goes to build/analyzer/.

AN_SRC    := scripts/analyzer
AN_OUT    := build/analyzer
AN_PKGS   := libtracecmd libtraceevent
AN_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral \
	     -D_GNU_SOURCE $(shell pkg-config --cflags $(AN_PKGS) 2>/dev/null)
AN_LIBS   := $(shell pkg-config --libs $(AN_PKGS) 2>/dev/null) -lm
AN_CORE   := reader chain hist report perfetto svg events
AN_OBJS   := $(AN_CORE:%=$(AN_OUT)/%.o) $(AN_OUT)/main.o
AN_HDRS   := $(AN_SRC)/irqpath.h

$(AN_OUT)/irqpath: $(AN_OBJS)
	$(CC) -o $@ $^ $(AN_LIBS)

$(AN_OUT)/%.o: $(AN_SRC)/%.c $(AN_HDRS) | $(AN_OUT)
	$(CC) $(AN_CFLAGS) -c -o $@ $<

$(AN_OUT):
	@mkdir -p $@

# libtraceevent plugin: print handlers for irqpath's events.
$(AN_OUT)/plugin_irqpath.so: $(AN_SRC)/plugin_irqpath.c | $(AN_OUT)
	$(CC) $(AN_CFLAGS) -fPIC -shared -o $@ $< $(shell pkg-config --libs libtraceevent)

# Bench generator: replays a recording through libtracecmd's output API.
$(AN_OUT)/irqpath-gen: $(AN_SRC)/gen.c | $(AN_OUT)
	$(CC) $(AN_CFLAGS) -o $@ $< $(AN_LIBS)

# ASan+UBSan build of the analyzer, and the libFuzzer target (clang).
AN_CLANG  ?= clang-14
AN_SAN    := -fsanitize=address,undefined -fno-omit-frame-pointer
$(AN_OUT)/irqpath-asan: $(addprefix $(AN_SRC)/,$(AN_CORE:%=%.c) main.c) $(AN_HDRS) | $(AN_OUT)
	$(AN_CLANG) $(AN_CFLAGS) $(AN_SAN) -o $@ $(filter %.c,$^) $(AN_LIBS)
$(AN_OUT)/irqpath-fuzz: $(addprefix $(AN_SRC)/,$(AN_CORE:%=%.c) fuzz.c) $(AN_HDRS) | $(AN_OUT)
	$(AN_CLANG) $(AN_CFLAGS) -DIRQPATH_FUZZ -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
		-o $@ $(filter %.c,$^) $(AN_LIBS)

PLUGIN_DIR ?= $(HOME)/.local/lib/traceevent/plugins

# Unit tests of the chain engine (hand-made event sequences), ASan+UBSan.
$(AN_OUT)/engine_test: $(addprefix $(AN_SRC)/,chain.c hist.c perfetto.c engine_test.c) $(AN_HDRS) | $(AN_OUT)
	$(AN_CLANG) $(AN_CFLAGS) $(AN_SAN) -o $@ $(filter %.c,$^) -lm
