# pre_delinquency — PGXS build plus the project's front-door targets.
#
#   make            build the extension            make install   install it
#   make demo       set up everything, show a bank  make test      every test suite
#   make bench      benchmarks, side by side with   make format    clang-format the C
#                   the seed's architecture (bench-quick: the smoke run make test does)
#   make test-faults  fault injection against a real Apache Kafka broker
#
# The front-door targets first install missing Debian packages (scripts/deps.sh),
# so they work on a fresh machine where pg_config does not exist yet.

EXTENSION   = pre_delinquency
MODULE_big  = pre_delinquency
OBJS        = src/pre_delinquency.o src/pd_util.o src/schema.o src/features.o \
              src/payments.o src/categories.o \
              src/synthetic.o src/synthetic_model.o src/synthetic_customer.o \
              src/synthetic_random.o src/bulk_writer.o
# scoring, assessment and training over the XGBoost C API
OBJS       += src/xgb_util.o src/model_check.o src/scoring.o src/shap_batch.o src/parallel_features.o src/policy.o src/training.o \
              src/metrics.o
# the streaming pipeline over librdkafka and json-c
OBJS       += src/event_json.o src/json_strict.o src/ingest.o src/ingest_bulk.o src/risk_bulk.o src/ingest_worker.o \
              src/relay_worker.o src/pipeline_stats.o src/partitions.o
# broker credentials kept out of the server log
OBJS       += src/redact.o
DATA        = $(wildcard sql/pre_delinquency--*.sql) $(wildcard models/pre_delinquency_model.json)
DOCS        = README.md

# One regression file per concern; they run against the scratch instance
# (scripts/test.sh passes --use-existing and its port).
REGRESS      = setup schema features edge_cases label synthetic scoring policy privileges security ingest training partitions covering assess_pipeline
REGRESS_OPTS = --outputdir=build/regress \
               --load-extension=$(EXTENSION)
# Concurrency (isolationtester): specs/*.spec, expected/*.out
ISOLATION      = cooldown_race
ISOLATION_OPTS = --outputdir=build/isolation --load-extension=$(EXTENSION)

# no -Isrc: src/features.h would shadow glibc's <features.h>; quoted includes
# find the headers beside each .c file.
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare
# libgomp: XGBoost's OpenMP runtime, whose default team size scoring.c sets
SHLIB_LINK   = -lxgboost -lgomp
SHLIB_LINK  += -lrdkafka -ljson-c
EXTRA_CLEAN = build results regression.diffs regression.out

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && \
               echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all:
	@echo "PostgreSQL server headers are missing: run 'make deps' (or make demo / make test)." >&2
	@exit 1
endif

# PGXS tracks no header dependencies: rebuild every object when a header changes.
$(OBJS): $(wildcard src/*.h)

.PHONY: deps demo test bench bench-quick format scratch-start scratch-stop

deps:
	@scripts/deps.sh

demo: deps
	@scripts/demo.sh

test: deps
	@scripts/test.sh

bench: deps
	@scripts/bench.sh

bench-quick: deps
	@scripts/bench.sh --quick

# Fault injection against a real Apache Kafka (test/faults/run.sh): kill -9
# of the workers, Postgres and broker crashes, a poison corpus.
.PHONY: test-faults
test-faults: deps
	@scripts/test_faults.sh

format:
	clang-format -i src/*.c src/*.h

scratch-start: deps
	@scripts/pg_scratch.sh start

scratch-stop:
	@scripts/pg_scratch.sh stop

# The shipped model: train on a synthetic bank, measure on a bank of another
# seed, write models/pre_delinquency_model.json and models/MODEL_CARD.md.
.PHONY: model
model: deps
	@scripts/train_model.sh

# ---------------------------------------------------------------------------
# Command-line tools (tools/*.c -> bin/, git-ignored): pd_broker (embedded
# broker), pd_simulate (the seed's simulator), pd_topics (Admin API topic
# creation). Plain C clients of librdkafka, json-c and libpq, built by `make`
# beside the extension; `make install` installs nothing of them (PGXS only
# installs what MODULE_big, DATA and DOCS name), `make clean` removes bin/.
# ---------------------------------------------------------------------------
TOOLS        = bin/pd_broker bin/pd_simulate bin/pd_topics
TOOLS_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
               -I$(shell $(PG_CONFIG) --includedir 2>/dev/null)
# COPT: PGXS's extra flags (compile and link), for the tools too (test-asan)
TOOLS_CFLAGS += $(COPT)
TOOLS_COMMON = tools/tool_util.c
TOOLS_SIM    = tools/pd_simulate.c tools/sim_bank.c tools/sim_events.c \
               tools/sim_db.c

.PHONY: tools clean-tools format-tools
all: tools
tools: $(TOOLS)

bin/pd_broker: tools/pd_broker.c $(TOOLS_COMMON) $(wildcard tools/*.h)
	@mkdir -p bin
	$(CC) $(TOOLS_CFLAGS) -o $@ tools/pd_broker.c $(TOOLS_COMMON) -lrdkafka -lm

bin/pd_simulate: $(TOOLS_SIM) $(TOOLS_COMMON) $(wildcard tools/*.h)
	@mkdir -p bin
	$(CC) $(TOOLS_CFLAGS) -o $@ $(TOOLS_SIM) $(TOOLS_COMMON) \
		-lrdkafka -ljson-c -lpq -lm

bin/pd_topics: tools/pd_topics.c $(TOOLS_COMMON) $(wildcard tools/*.h)
	@mkdir -p bin
	$(CC) $(TOOLS_CFLAGS) -o $@ tools/pd_topics.c $(TOOLS_COMMON) -lrdkafka -lm

clean: clean-tools
clean-tools:
	rm -rf bin

format: format-tools
format-tools:
	clang-format -i tools/*.c tools/*.h

# ---------------------------------------------------------------------------
# Hardening: libFuzzer on the event parser (time-boxed: FUZZ_SECONDS, default
# 60), the extension and tools under ASan/UBSan in their own PostgreSQL copy
# (build/asan/, the normal build untouched), and a long streaming run that
# samples the workers' memory (SOAK_SECONDS, SOAK_RATE events/s).
# ---------------------------------------------------------------------------
.PHONY: fuzz test-asan soak
FUZZ_SECONDS ?= 60
fuzz: deps
	@test/fuzz/run.sh $(FUZZ_SECONDS)

test-asan: deps
	@scripts/test_asan.sh

soak: deps
	@scripts/soak.sh
