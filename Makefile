# The two commands a newcomer needs: `make run` (the product) and `make test` (every test).
.PHONY: run test chat bench-nlu bench-matching bench-voice bench-handoff bench-load bench-fuzz simulate-call
run:
	@scripts/run.sh
test:
	@scripts/test.sh
chat:
	@scripts/with-env.sh '$$APP_PY -m scripts.chat'
bench-nlu:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.nlu.run'
bench-matching:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.matching.run'
bench-voice:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.voice.run'
bench-handoff:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.handoff.run'
bench-load:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.load.run'
bench-fuzz:
	@scripts/with-env.sh '$$APP_PY -m benchmarks.fuzz.run'
# A simulated phone call against the running product (make run): SCENARIO=outage (speech) or "bill --keys"
simulate-call:
	@scripts/with-env.sh '$$APP_PY -m voice.simulate $(or $(SCENARIO),outage)'
