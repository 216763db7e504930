"""The back end: one database, its models (models.py) and migrations (migrations/), and what lives in it.

cis/             the customer information system stand-in behind its adapter interface (`CIS`)
contact_centre/  agents and logins, the escalation queue, continuation codes and channel bindings
identity.py      who proved which account in which conversation
__main__.py      the set-up: migrate, seed the synthetic CIS data, demo console logins (not in production)
"""
