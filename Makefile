# The two README commands and the usual targets. meson + ninja do the build;
# this file only strings the steps together.
#
#   make                      build everything (the guest kernel once per machine)
#   make check                set the machine up, build, run every test
#   make demo                 set the machine up, build, run a process in a VM
#   make install PREFIX=DIR   install binaries, guest kernel and initrd under DIR

BUILD ?= build
PREFIX ?= /usr/local
MESON_OPTS ?=
export HYPER_CACHE_DIR ?= /var/cache/hyper

.PHONY: all build kernel setup check demo install bench clean

all: build kernel

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

kernel:
	@scripts/build-kernel.sh >/dev/null

setup:
	scripts/setup.sh

check: setup all
	tests/run.sh $(BUILD)

demo: setup all
	scripts/demo.sh $(BUILD)

bench: all
	bench/run-all.sh $(BUILD)

install: $(BUILD)/build.ninja kernel
	meson configure $(BUILD) -Dprefix=$(abspath $(PREFIX))
	ninja -C $(BUILD)
	meson install -C $(BUILD) --quiet
	install -D -m 0644 "$$(scripts/build-kernel.sh)/vmlinux" $(abspath $(PREFIX))/share/hyper/vmlinux

clean:
	rm -rf $(BUILD)
