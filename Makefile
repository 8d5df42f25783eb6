# freight — top-level build.
#
# One shared library, freight.so, holds the extension (extension/*.c) and its background workers
# (workers/*.c); it is built with PGXS.  The install script extension/freight--$(EXTVERSION).sql is
# assembled from extension/sql/*.sql in name order, so each feature keeps its SQL in its own file.
# The HTTP daemon lives in contrib/api and has its own Makefile.
#
# The two commands that matter: `make run` and `make check` (see README.md).  Both start with
# `make deps`, which installs what a fresh Debian 12 machine lacks.

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
EXTVERSION = 0.1

MODULE_big = freight
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c workers/*.c)))
PGFILEDESC = "freight - freight logistics inside PostgreSQL"
MODULEDIR  = extension
DATA       = extension/freight.control
DATA_built = extension/freight--$(EXTVERSION).sql
PG_CPPFLAGS = -I$(srcdir)/extension -I$(srcdir)/workers
SHLIB_LINK = -lssl -lcrypto -lcurl -lm
EXTRA_CLEAN = test/unit/*.bin

# The driver targets only run scripts and sub-makes; they are defined alone, without PGXS
# (whose own `check` rule would clash, and which is missing until `make deps` has run).
DRIVER_GOALS = deps run stop clean-run check bench
ifneq ($(filter $(DRIVER_GOALS),$(MAKECMDGOALS)),)

deps:
	@sh contrib/local/deps.sh

# Each of these re-runs make after `deps`, so the PGXS rules are loaded on a fresh machine.
run: deps
	$(MAKE) -s --no-print-directory install
	@sh contrib/local/run.sh

stop:
	@sh contrib/local/stop.sh

clean-run: stop
	rm -rf .freight

check: deps
	$(MAKE) -s --no-print-directory install
	@sh test/run_all.sh

bench: deps
	$(MAKE) -s --no-print-directory install
	@sh bench/run_all.sh

else ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
else
all:
	@echo "PostgreSQL 15 development files are missing: run 'make deps' first" >&2; exit 1
endif

# PGXS does not track headers, and a stale object built against an old struct layout crashes
# at run time: rebuild every object when any header of the library changes.
$(OBJS): $(wildcard extension/*.h workers/*.h)

extension/freight--$(EXTVERSION).sql: $(sort $(wildcard extension/sql/*.sql))
	cat $^ > $@

.PHONY: deps api run stop clean-run check bench clean-api

all: api

api:
	$(MAKE) -C contrib/api

clean: clean-api
clean-api:
	$(MAKE) -C contrib/api clean
