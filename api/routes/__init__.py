"""HTTP routes, one module per area; thin: parse, call the assistant, save, map to a schema."""
