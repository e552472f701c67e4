"""Models of the facilitator role."""
