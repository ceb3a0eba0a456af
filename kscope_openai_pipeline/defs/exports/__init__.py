"""The exports: openai.costs as FOCUS 1.2 files for FinOps tools."""
