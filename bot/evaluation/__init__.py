"""Measurements shared by the tests, the benchmark and the command-line tools in scripts/.

nlu: the held-out split; external: outside text (../shared/eval/dev.jsonl); operating_points:
the verdict's calibration and thresholds chosen on it; redaction: leaks and hidden evidence.
"""
