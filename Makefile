# The two commands of the README: `make test` and `make book`.  Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.14.1 torchvision==0.29.1
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-kernels book check-book clean-book notebooks

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[book,test]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# the tests with numeric tolerances again on ATen's portable kernels: no tolerance may fit one CPU's
# vector extensions (tests/conftest.py names them; the plumbing tests run once, in `make test`)
test-kernels: $(STAMP)
	ATEN_CPU_CAPABILITY=default $(PY) -m pytest -q -m "numerics and not notebooks and not processes"

book: $(STAMP)
	$(PY) book/build.py --profile cpu

# the built book in headless Chromium, as a reader sees it: book/check_site.py
check-book: $(STAMP)
	$(PY) book/check_site.py _build/html --screenshots _build/screenshots

clean-book:
	rm -rf _build book/_generated

# after editing a chapter (notebooks/<name>.md or its .ipynb): bring its pair up to date
notebooks: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/*.md
