"""Test doubles for the edges we cannot reach from here (an operator's SMS gateway)."""
