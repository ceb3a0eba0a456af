"""The sandbox: an imitation of the OpenAI Admin API on loopback, for the demo, the tests
and the benchmarks, with a deterministic synthetic organization and its ground truth.

It imports nothing of the product, on purpose: an imitation that shared the client's
vocabulary (its family lists, its record shapes, its parsing) would share its mistakes, and
the tests that compare the pipeline with the sandbox would then prove nothing. It speaks
only the API's own language, from the API's rules (docs/admin-api.md).
"""
