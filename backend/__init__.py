"""Utility back end (CIS stand-in): customers, bills, balances, outages and work orders.

Callers use the `CIS` interface in `backend.cis`; `SqlCIS` implements it over SQLAlchemy (SQLite by
default, PostgreSQL by URL). A real customer-information-system adapter replaces `SqlCIS`.
"""
