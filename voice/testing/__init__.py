"""Twilio's side of phone calls, played locally, for the tests, the benchmarks and `make simulate-call`: the fake
Twilio (signed webhooks, the Media Streams websocket), a simulated caller and its scenarios. The product never
imports this package (tests/test_import_graph.py)."""
