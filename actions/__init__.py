"""Custom actions of the anti-fraud assistant, one module per feature."""
