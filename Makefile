# The two commands of the README: `make demo` and `make test`. Both set up and build first.
# `make package` builds the Debian packages into $(BUILD)/packages (docs/install.md).
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DPython3_EXECUTABLE=/usr/bin/python3

.PHONY: setup build demo test package bench bench-quick format clean

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

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc')

clean:
	rm -rf $(BUILD)
