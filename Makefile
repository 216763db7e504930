# The two commands a newcomer needs: `make run` (the product) and `make test` (every test).
BENCHMARKS := nlu dialogue matching retrieval voice handoff load throughput fuzz workorders kpis proactive insight inspection   # benchmarks/<name>/run.py, results next to each
.PHONY: run test chat simulate-call $(addprefix bench-,$(BENCHMARKS))
run:
	@scripts/run.sh
test:
	@scripts/test.sh
chat:
	@scripts/with-env.sh '$$APP_PY -m scripts.chat'
# make bench-nlu, bench-matching, bench-retrieval, bench-voice, bench-handoff, bench-load, bench-throughput, bench-fuzz,
# bench-workorders, bench-kpis, bench-proactive, bench-insight, bench-inspection
$(addprefix bench-,$(BENCHMARKS)): bench-%:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.$*.run'
# A simulated phone call against the running product (make run): SCENARIO=outage (speech) or "bill --keys";
# an unscripted one: scripts/with-env.sh '$APP_PY -m voice.testing.simulate talk --caller 13912340001' (lines on stdin)
simulate-call:
	@scripts/with-env.sh '$$APP_PY -m voice.testing.simulate $(or $(SCENARIO),outage)'
