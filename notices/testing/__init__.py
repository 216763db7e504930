"""Fake gateways (SMS, WeChat, Twilio) for the notice tests and benchmark."""
