"""The `meshwork` command (docs/cli.md): typer verbs over `client.sdk`, errors as one line."""
