# Thin wrapper over CMake + CTest. Every target installs what it needs first
# (scripts/deps.sh is idempotent and fast when nothing is missing).
#   make            build (build/)
#   make test       build and run every test (SANITIZE=1: ASan+UBSan in build-san/)
#   make run        build and start the demo: echo app + wasmgate with the emoji filter (scripts/demo.sh)
#   make bench      build and run the benchmarks
#   make fuzz       build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make spec       run the official spec testsuite (SPEC_SRC=path to a WebAssembly/testsuite checkout)
#   make wasi-testsuite  run the official WASI testsuite (WASI_TESTSUITE=path to a wasi-testsuite prod/testsuite-base tree)

SANITIZE ?= 0
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
ifeq ($(SANITIZE),1)
BUILD ?= build-san
CMAKE_ARGS += -DWG_SANITIZE=ON
else
BUILD ?= build
endif
WASMGATE := $(BUILD)/cli/wasmgate

.PHONY: all build deps test run bench fuzz spec wasi-testsuite clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: build
	scripts/demo.sh $(BUILD)

bench: build
	bench/run.sh $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DWG_FUZZ=ON -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

spec: build
	tests/spec/run.sh $(WASMGATE) $(SPEC_SRC)

# The official WASI testsuite (WASI_TESTSUITE=a WebAssembly/wasi-testsuite
# checkout of branch prod/testsuite-base; docs/wasi.md).
wasi-testsuite: build
	tests/wasi/testsuite/run.py $(WASI_TESTSUITE) $(WASMGATE)

clean:
	rm -rf build build-san build-fuzz
