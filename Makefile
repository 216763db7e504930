# The two commands a newcomer needs: `make run` (the product) and `make test` (every test).
.PHONY: run test chat bench-nlu bench-matching
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
