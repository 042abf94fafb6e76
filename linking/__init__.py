"""kgpipe: linking."""
