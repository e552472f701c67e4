"""Hypertensor (pallet `Network`): subnets, subnet nodes, their peer ids, classification and stake."""
