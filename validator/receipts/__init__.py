"""Pulling every miner's receipts and verifying them (stored by validator/services/receipts.py)."""
