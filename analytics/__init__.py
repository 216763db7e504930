"""The analytics feed: conversation events from the broker into tables for KPI and outage-surge analysis."""
