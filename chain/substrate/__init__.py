"""Substrate plumbing shared by the subtensor and Hypertensor backends (substrate-interface 1.8.1)."""
