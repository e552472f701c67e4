"""Meshwork's client side: the typed SDK for the facilitator's REST API (`client.sdk`) and the
`meshwork` command built on it (`client.cli`). It speaks HTTP only: no Django, no app imports
(import-linter holds it to that), so it can be shipped and used on its own."""
