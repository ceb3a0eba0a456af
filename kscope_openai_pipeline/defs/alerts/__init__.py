"""Alerts: the findings asset with its checks, the delivery job and the sensors that start it."""
