"""One module per command: each wires manifest, client, core and renderers; none holds business logic."""
