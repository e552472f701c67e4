"""Models of the validator role."""
