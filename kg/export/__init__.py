"""kgpipe: kg export."""
