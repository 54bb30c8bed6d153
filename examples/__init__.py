"""Examples: the demo shop with its token backend, a Python customer, a custom assistant."""
