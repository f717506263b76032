"""Execution: worker processes and the primitive programs that run inside them."""
