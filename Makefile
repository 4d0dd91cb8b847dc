# The two commands of the README: `make demo` and `make test`. Both set up and build first.
# `make package` builds the Debian packages into $(BUILD)/packages (docs/install.md).
# `make fuzz` builds the fuzz targets (build-fuzz/) and runs each for FUZZ_SECONDS (fuzz/README.md).
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DPython3_EXECUTABLE=/usr/bin/python3
FUZZ_SECONDS ?= 60

.PHONY: setup build demo test test-k8s fuzz package bench bench-quick format clean

setup:
	scripts/setup

build: setup
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	scripts/demo

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

package: build
	packaging/build-debs $(BUILD) $(BUILD)/packages

# Needs root: images (debootstrap) and a real single-node cluster (../shared/tools/k8s-cluster).
test-k8s: build
	scripts/test-k8s

fuzz: setup
	JOBS=$(JOBS) scripts/fuzz --seconds $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'fuzz/*.cc')

clean:
	rm -rf $(BUILD) build-fuzz
