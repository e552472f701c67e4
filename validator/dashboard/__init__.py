"""The validator's admin charts of what it verified."""
