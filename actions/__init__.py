"""Rasa SDK action server: forms, answers, fallback and handoff. Run: python -m rasa_sdk --actions actions"""

from actions import answers, dialogue, followups, handoff, session, submit, survey, withdraw  # noqa: F401  (registers the actions)
from actions.forms import account, catalog_forms, outage, progress, readback, reports  # noqa: F401
from backend.pii import install_log_masking

install_log_masking()  # the action server's logs never carry full phone, ID or account numbers
