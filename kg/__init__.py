"""kgpipe: kg."""
