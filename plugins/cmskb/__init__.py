"""CMSKIT support knowledge base: content layer, MkDocs adapter and plan finder."""
