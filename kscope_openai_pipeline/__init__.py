"""Kscope OpenAI pipeline."""
