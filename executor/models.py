"""Models of the executor role."""
