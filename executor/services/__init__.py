"""Writes to the executor app's tables (HackSoft services)."""
