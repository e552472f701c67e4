"""Models of the dht role."""
