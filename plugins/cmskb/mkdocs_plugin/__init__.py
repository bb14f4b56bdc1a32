"""The MkDocs adapter: a thin plugin over the content layer (cmskb.content)."""
