"""Evaluation mode: suites, per-example rewards, gates and reports."""
