"""Anti-fraud assistant: shared logic, NLU components and input channels."""
